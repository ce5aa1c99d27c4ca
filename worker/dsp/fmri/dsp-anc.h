/* Adaptive noise cancellation (ANC) of residual artifacts on one channel: least-squares FIR
 * high-pass design, LMS adaptive filter, the gain check and subtraction. Thread-safe. */
#ifndef ND_DSP_ANC_H
#define ND_DSP_ANC_H

#include <stddef.h>
#include <stdint.h>

#include "worker/dsp/core/dsp-filter.h"

struct dsp_anc_params {
	size_t order;     /* LMS order N (N + 1 taps); 0: the artifact length */
	double hp;        /* adaptation high-pass cut-off in Hz; use dsp_anc_cutoff() */
	double mu_factor; /* μ = mu_factor / (N·var(ref)); default 0.05 */
	double max_gain;  /* skip when max|y| / max|x| exceeds this; default 50 */
};

struct dsp_anc_result {
	int skipped;  /* 1: the channel was left unchanged (see gain, or a zero reference) */
	double alpha; /* scale applied to the reference */
	double mu;    /* LMS step size */
	double gain;  /* max|y| / max|x| on the window */
	size_t ntaps; /* length of the adaptation high-pass */
};

/* Defaults: order 0 (= len), hp 6 Hz, mu_factor 0.05, max_gain 50. */
void dsp_anc_params_init(struct dsp_anc_params *p);

/* The adaptation cut-off: max(0.75·slices_per_second, 0.5) Hz. */
double dsp_anc_cutoff(double slices_per_second);
/* The high-pass length: odd(round(1.2·fs / (0.85·fc))), at least 3. */
size_t dsp_anc_hp_length(double fs, double fc);

/* Least-squares linear-phase FIR like scipy.signal.firls(numtaps, bands, desired) with unit
 * weights: bands[0..2·nbands) are band edges normalised to Nyquist = 1, desired the gains at
 * them. Writes numtaps (odd) coefficients to h. Returns 0 or -EINVAL. */
int dsp_anc_firls(size_t numtaps, const double *bands, const double *desired, size_t nbands,
		  double *h, char **cause);
/* The adaptation high-pass at fc: firls with stop edge 0.85·fc and pass edge fc. On success
 * f owns the taps (release with dsp_filter_fini) and can be applied with dsp_filter_apply. */
int dsp_anc_hp_design(struct dsp_filter *f, double fs, double fc, char **cause);

/* LMS with order + 1 taps starting from zero weights: for i >= order,
 * y[i] = Σ_j w[j]·ref[i - order + j], w[j] += 2·mu·(d[i] - y[i])·ref[i - order + j];
 * y[i] = 0 before. No ownership is transferred. */
void dsp_anc_lms(const double *ref, const double *d, size_t n, size_t order, double mu, double *y);

/* Correct x[0..n) (rate fs) in place on the window [min(T) - len, max(T) + len), using ref (the
 * channel's estimated noise, n samples) as the reference. The subtracted signal is added to
 * noise (may be NULL, may alias ref). A skipped channel is not an error: res->skipped is set and
 * it is logged. Returns 0 or -EINVAL (cause names the parameter). res may be NULL. */
int dsp_anc_apply(double *x, size_t n, double fs, const double *ref, const int64_t *trig,
		  size_t ntrig, size_t len, const struct dsp_anc_params *p, double *noise,
		  struct dsp_anc_result *res, char **cause);

#endif
