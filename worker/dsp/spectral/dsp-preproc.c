/* The preprocessing pipeline per trial: detrend, filter (Butterworth sosfilt / sosfiltfilt or
 * windowed-sinc FIR), zscore, then rectify or a Hilbert output; plus the Hilbert kernel. */
#include "worker/dsp/spectral/dsp-preproc.h"

#include <complex.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/names.h"
#include "common/xmalloc.h"
#include "worker/dsp/core/dsp-butter.h"
#include "worker/dsp/core/fft-plan.h"

struct dsp_preproc {
	struct dsp_preproc_params p;
	double *sos; /* but: nsec x 6 */
	size_t nsec;
	double *kernel; /* firws: len taps (minimum phase for onepass-minphase) */
	size_t len;
};

static const char *const dsp_preproc_hilbert_names[] = {
    [DSP_PREPROC_HILBERT_NONE] = "none",       [DSP_PREPROC_HILBERT_ABS] = "abs",
    [DSP_PREPROC_HILBERT_COMPLEX] = "complex", [DSP_PREPROC_HILBERT_REAL] = "real",
    [DSP_PREPROC_HILBERT_IMAG] = "imag",       [DSP_PREPROC_HILBERT_ABSREAL] = "absreal",
    [DSP_PREPROC_HILBERT_ABSIMAG] = "absimag", [DSP_PREPROC_HILBERT_ANGLE] = "angle",
};

void
dsp_preproc_params_init(struct dsp_preproc_params *p, double fs)
{
	memset(p, 0, sizeof *p);
	p->fs = fs;
	p->filter_class = DSP_PREPROC_NOFILTER;
	p->direction = DSP_FIRWS_TWOPASS;
	p->window = DSP_TAPER_HAMMING;
	p->polyremoval = -1;
}

int
dsp_preproc_hilbert_parse(const char *name, enum dsp_preproc_hilbert *out, char **cause)
{
	int k = names_find(name, dsp_preproc_hilbert_names, NAMES_COUNT(dsp_preproc_hilbert_names));

	if (k < 0)
		return error_set(cause, -EINVAL,
				 "hilbert: unknown output '%s' (abs, complex, real, imag, "
				 "absreal, absimag, angle)",
				 name != NULL ? name : "(null)");
	*out = (enum dsp_preproc_hilbert)k;
	return 0;
}

int
dsp_preproc_new(const struct dsp_preproc_params *p, size_t shortest_trial, struct dsp_preproc **out,
		char **cause)
{
	struct dsp_preproc *pp;
	size_t order;
	int rc = 0;

	*out = NULL;
	if (!(p->fs > 0) || !isfinite(p->fs))
		return error_set(cause, -EINVAL, "samplerate must be positive");
	if (p->polyremoval < -1 || p->polyremoval > 1)
		return error_set(cause, -EINVAL, "polyremoval must be none, 0 or 1, not %d",
				 p->polyremoval);
	if (p->rectify && p->hilbert != DSP_PREPROC_HILBERT_NONE)
		return error_set(cause, -EINVAL, "rectify and hilbert are mutually exclusive");
	if ((size_t)p->hilbert > DSP_PREPROC_HILBERT_ANGLE)
		return error_set(cause, -EINVAL, "hilbert: unknown output");
	if ((size_t)p->direction > DSP_FIRWS_ONEPASS_MINPHASE)
		return error_set(cause, -EINVAL, "direction: unknown");
	if (p->filter_class == DSP_PREPROC_BUT && p->direction == DSP_FIRWS_ONEPASS_MINPHASE)
		return error_set(cause, -EINVAL,
				 "direction onepass-minphase needs filter_class "
				 "firws");
	if ((size_t)p->filter_class > DSP_PREPROC_FIRWS)
		return error_set(cause, -EINVAL, "filter_class: unknown");
	pp = xcalloc(1, sizeof *pp);
	pp->p = *p;
	if (p->filter_class == DSP_PREPROC_BUT) {
		order = p->order ? p->order : 4;
		rc = dsp_butter_design(order > 64 ? 65 : (int)order, p->filter_type, p->freq, p->fs,
				       &pp->sos, &pp->nsec, cause);
	} else if (p->filter_class == DSP_PREPROC_FIRWS) {
		order = p->order ? p->order : dsp_firws_default_order(shortest_trial);
		rc = dsp_firws_design(p->filter_type, p->freq, p->fs, order, p->window, &pp->kernel,
				      cause);
		pp->len = order + 1;
		if (rc == 0 && p->direction == DSP_FIRWS_ONEPASS_MINPHASE)
			dsp_firws_minphase(pp->kernel, pp->len, pp->kernel);
	}
	if (rc != 0) {
		dsp_preproc_free(pp);
		return rc;
	}
	*out = pp;
	return 0;
}

void
dsp_preproc_free(struct dsp_preproc *pp)
{
	if (pp == NULL)
		return;
	free(pp->sos);
	free(pp->kernel);
	free(pp);
}

bool
dsp_preproc_is_complex(const struct dsp_preproc *pp)
{
	return pp->p.hilbert == DSP_PREPROC_HILBERT_COMPLEX;
}

void
dsp_preproc_hilbert(const double *x, size_t n, double *re, double *im)
{
	fftw_complex *a = fft_alloc_complex(n), *b = fft_alloc_complex(n);

	for (size_t i = 0; i < n; i++)
		a[i] = x[i];
	fft_c2c(n, -1, a, b);
	/* h: 1 at DC (and Nyquist for even n), 2 for positive, 0 for negative frequencies. */
	for (size_t i = 1; i < n; i++) {
		if (2 * i < n)
			b[i] *= 2;
		else if (2 * i > n)
			b[i] = 0;
	}
	fft_c2c(n, 1, b, a);
	for (size_t i = 0; i < n; i++) {
		re[i] = creal(a[i]) / (double)n;
		im[i] = cimag(a[i]) / (double)n;
	}
	fft_free(a);
	fft_free(b);
}

void
dsp_preproc_zscore(double *x, size_t n)
{
	double mean = 0, var = 0, sd;

	if (n == 0)
		return;
	for (size_t i = 0; i < n; i++)
		mean += x[i];
	mean /= (double)n;
	for (size_t i = 0; i < n; i++)
		var += (x[i] - mean) * (x[i] - mean);
	sd = sqrt(var / (double)n);
	if (sd == 0)
		return;
	for (size_t i = 0; i < n; i++)
		x[i] = (x[i] - mean) / sd;
}

/* The Hilbert output of one column into out[i * stride] (two floats for complex). */
static void
dsp_preproc_hilbert_out(enum dsp_preproc_hilbert h, const double *x, size_t n, double *re,
			double *im, float *out, size_t stride)
{
	dsp_preproc_hilbert(x, n, re, im);
	for (size_t i = 0; i < n; i++) {
		float *o = out + i * stride;
		switch (h) {
		case DSP_PREPROC_HILBERT_ABS:
			o[0] = (float)hypot(re[i], im[i]);
			break;
		case DSP_PREPROC_HILBERT_COMPLEX:
			o[0] = (float)re[i];
			o[1] = (float)im[i];
			break;
		case DSP_PREPROC_HILBERT_REAL:
			o[0] = (float)re[i];
			break;
		case DSP_PREPROC_HILBERT_IMAG:
			o[0] = (float)im[i];
			break;
		case DSP_PREPROC_HILBERT_ABSREAL:
			o[0] = (float)fabs(re[i]);
			break;
		case DSP_PREPROC_HILBERT_ABSIMAG:
			o[0] = (float)fabs(im[i]);
			break;
		case DSP_PREPROC_HILBERT_ANGLE:
			o[0] = (float)atan2(im[i], re[i]);
			break;
		case DSP_PREPROC_HILBERT_NONE:
			break;
		}
	}
}

int
dsp_preproc_trial(const struct dsp_preproc *pp, const struct dsp_trial *x, float *out, char **cause)
{
	const struct dsp_preproc_params *p = &pp->p;
	size_t n = x->nsamp, nc = x->nchan;
	double *cols, *re, *im;
	int rc = 0;

	if (n == 0)
		return error_set(cause, -EINVAL, "trial has no samples");
	cols = xmalloc(n * nc * sizeof *cols);
	dsp_trial_to_columns(x, cols);
	for (size_t c = 0; c < nc; c++)
		dsp_trial_polyremoval(cols + c * n, n, p->polyremoval, NULL);
	if (p->filter_class == DSP_PREPROC_BUT) {
		for (size_t c = 0; c < nc && rc == 0; c++) {
			if (p->direction == DSP_FIRWS_TWOPASS)
				rc = dsp_butter_sosfiltfilt(pp->sos, pp->nsec, cols + c * n, n,
							    cause);
			else
				dsp_butter_sosfilt(pp->sos, pp->nsec, cols + c * n, n, NULL);
		}
	} else if (p->filter_class == DSP_PREPROC_FIRWS) {
		dsp_firws_apply(pp->kernel, pp->len, p->direction, cols, n, nc);
	}
	if (rc != 0) {
		free(cols);
		return rc;
	}
	for (size_t c = 0; c < nc; c++) {
		double *col = cols + c * n;
		if (p->zscore)
			dsp_preproc_zscore(col, n);
		if (p->rectify)
			for (size_t i = 0; i < n; i++)
				col[i] = fabs(col[i]);
	}
	if (p->hilbert == DSP_PREPROC_HILBERT_NONE) {
		dsp_trial_from_columns(cols, n, nc, out, nc);
	} else {
		size_t cw = dsp_preproc_is_complex(pp) ? 2 : 1;
		re = xmalloc(n * sizeof *re);
		im = xmalloc(n * sizeof *im);
		for (size_t c = 0; c < nc; c++)
			dsp_preproc_hilbert_out(p->hilbert, cols + c * n, n, re, im, out + c * cw,
						nc * cw);
		free(re);
		free(im);
	}
	free(cols);
	return 0;
}
