/* freqanalysis methods wavelet (Morlet, Paul, DOG) and superlet (multiplicative and fractional
 * adaptive): the reference's sampled, normalised kernels (dsp-cwt.c) and the transforms of trials
 * by FFT convolution with them, after detrending the whole trial and trimming it to a toi list
 * (dsp-cwt-conv.c). */
#ifndef ND_DSP_CWT_H
#define ND_DSP_CWT_H

#include <stdbool.h>
#include <stddef.h>

#include "worker/dsp/core/dsp-trial.h"
#include "worker/dsp/spectral/dsp-tfr.h"

enum dsp_cwt_family {
	DSP_CWT_MORLET, /* complete Morlet, w0 = 6 */
	DSP_CWT_PAUL,   /* order m */
	DSP_CWT_DOG,    /* derivative of Gaussian, order m (real) */
	DSP_CWT_SUPERLET,
};

struct dsp_cwt_params {
	double fs;
	enum dsp_cwt_family family;
	int order;         /* Paul (>= 4), DOG (>= 1) */
	const double *foi; /* frequencies (Hz, > 0); copied by dsp_cwt_new */
	size_t nfoi;
	enum dsp_tfr_toi toi_kind; /* all or list */
	const double *toi;         /* equidistant times (s); copied */
	size_t ntoi;
	int polyremoval; /* whole trial: -1 none, 0 demean (default), 1 linear */
	enum dsp_mtmfft_output output;
	int order_min, order_max, c_1; /* superlet */
	bool adaptive;                 /* superlet: fractional adaptive orders */
};

struct dsp_cwt;

void dsp_cwt_params_init(struct dsp_cwt_params *p, double fs);
/* The frequencies the reference picks when none are given: scales 2^(j/4) from the scale of
 * period 2/fs up to the shortest trial (minlen samples), low frequencies first. *out (caller
 * frees) gets *n values. */
void dsp_cwt_default_foi(enum dsp_cwt_family family, int order, double fs, size_t minlen,
			 double **out, size_t *n);
int dsp_cwt_new(const struct dsp_cwt_params *p, struct dsp_cwt **out, char **cause);
void dsp_cwt_free(struct dsp_cwt *m);

size_t dsp_cwt_nfreq(const struct dsp_cwt *m);
/* The freq attribute: 1 / fourier_period(scale) per frequency (as given, or sorted low to high
 * for the adaptive superlet). */
const double *dsp_cwt_freqs(const struct dsp_cwt *m);
/* Output rows of a trial of nsamp samples (ntoi for a list). */
size_t dsp_cwt_ntime(const struct dsp_cwt *m, size_t nsamp);

/* dsp-cwt-conv.c. One trial starting at `offset` samples: out[(time * nfreq + f) * nchan + c]
 * (x2 for fourier), doubles, overwritten. *wk: scratch and kernel spectra kept across calls
 * (NULL at first; dsp_cwt_conv_work_free). m is read-only. */
struct dsp_cwt_conv_work;
int dsp_cwt_conv_trial(const struct dsp_cwt *m, const struct dsp_trial *x, double offset,
		       double *out, struct dsp_cwt_conv_work **wk, char **cause);
void dsp_cwt_conv_work_free(struct dsp_cwt_conv_work *w);

/* The sampled kernel of frequency index f (superlet: with `cycles`) into taps[0..*ntaps)
 * (complex, interleaved); room for dsp_cwt_kernel_len taps. For tests and the transform. */
size_t dsp_cwt_kernel_len(const struct dsp_cwt *m, size_t f, int cycles);
void dsp_cwt_kernel(const struct dsp_cwt *m, size_t f, int cycles, double *taps, size_t *ntaps);
/* Factors of frequency index f: the superlet's (cycles, exponent) pairs (one (0, 1) pair for a
 * wavelet); returns the count, writes at most max. */
size_t dsp_cwt_factors(const struct dsp_cwt *m, size_t f, int *cycles, double *expo, size_t max);

/* The kernels (frequency index, cycles, exponent, taps) and the parameters, for the transform. */
size_t dsp_cwt_nkern(const struct dsp_cwt *m);
void dsp_cwt_kern(const struct dsp_cwt *m, size_t k, size_t *f, int *cycles, double *expo,
		  size_t *ntaps);
const struct dsp_cwt_params *dsp_cwt_params(const struct dsp_cwt *m);

#endif
