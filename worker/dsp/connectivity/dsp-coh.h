/* Coherency of trial-averaged cross spectra, C_ij = S_ij / sqrt(S_ii S_jj), and the outputs the
 * reference offers for it: abs (the default), pow (|C|^2), complex, real, imag, angle. */
#ifndef ND_DSP_COH_H
#define ND_DSP_COH_H

#include <stddef.h>

enum dsp_coh_output {
	DSP_COH_ABS,
	DSP_COH_POW,
	DSP_COH_COMPLEX, /* complex64: interleaved (re, im) float pairs */
	DSP_COH_REAL,
	DSP_COH_IMAG,
	DSP_COH_ANGLE,
};

/* "abs", "pow", "complex" (also "fourier"), "real", "imag", "angle". */
int dsp_coh_output_parse(const char *name, enum dsp_coh_output *out, char **cause);
const char *dsp_coh_output_name(enum dsp_coh_output o);

/* Coherency of full row-major cross-spectral matrices (dsp-csd.h layout, nfreq × nchan × nchan
 * complex doubles) into out as float32 (two per value for complex), same layout. */
void dsp_coh_compute(const double *csd, size_t nfreq, size_t nchan, enum dsp_coh_output output,
		     float *out);

#endif
