/* Coherency: each cross spectrum over the square root of the product of its auto spectra, then
 * the requested part of it. */
#include "worker/dsp/connectivity/dsp-coh.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#include "common/error.h"
#include "common/names.h"

static const char *const dsp_coh_output_names[] = {
    [DSP_COH_ABS] = "abs",   [DSP_COH_POW] = "pow",   [DSP_COH_COMPLEX] = "complex",
    [DSP_COH_REAL] = "real", [DSP_COH_IMAG] = "imag", [DSP_COH_ANGLE] = "angle",
};

int
dsp_coh_output_parse(const char *name, enum dsp_coh_output *out, char **cause)
{
	int k = names_find(name, dsp_coh_output_names, NAMES_COUNT(dsp_coh_output_names));

	if (name != NULL && strcmp(name, "fourier") == 0)
		k = DSP_COH_COMPLEX;
	if (k < 0)
		return error_set(cause, -EINVAL,
				 "output: '%s' is not one of ('abs', 'pow', 'complex', 'fourier', "
				 "'angle', 'real', 'imag')",
				 name != NULL ? name : "(null)");
	*out = (enum dsp_coh_output)k;
	return 0;
}

const char *
dsp_coh_output_name(enum dsp_coh_output o)
{
	return (size_t)o < sizeof dsp_coh_output_names / sizeof dsp_coh_output_names[0]
		   ? dsp_coh_output_names[o]
		   : "?";
}

void
dsp_coh_compute(const double *csd, size_t nfreq, size_t nchan, enum dsp_coh_output output,
		float *out)
{
	size_t cw = output == DSP_COH_COMPLEX ? 2 : 1;

	for (size_t f = 0; f < nfreq; f++) {
		const double *s = csd + 2 * f * nchan * nchan;
		float *o = out + cw * f * nchan * nchan;
		for (size_t i = 0; i < nchan; i++)
			for (size_t j = 0; j < nchan; j++) {
				double d = sqrt(s[2 * (i * nchan + i)] * s[2 * (j * nchan + j)]);
				double re = s[2 * (i * nchan + j)] / d;
				double im = s[2 * (i * nchan + j) + 1] / d;
				float *v = o + cw * (i * nchan + j);
				switch (output) {
				case DSP_COH_ABS:
					v[0] = (float)hypot(re, im);
					break;
				case DSP_COH_POW:
					v[0] = (float)(re * re + im * im);
					break;
				case DSP_COH_COMPLEX:
					v[0] = (float)re;
					v[1] = (float)im;
					break;
				case DSP_COH_REAL:
					v[0] = (float)re;
					break;
				case DSP_COH_IMAG:
					v[0] = (float)im;
					break;
				case DSP_COH_ANGLE:
					v[0] = (float)atan2(im, re);
					break;
				}
			}
	}
}
