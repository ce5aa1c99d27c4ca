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
	/* Normalised LMS: the step follows the reference's power in the filter's window,
	 * mu_factor·2 / (eps + Σ ref²) (the same step as LMS where the power is its mean). */
	int normalised;
	/* Keep the output only where it brings the slice harmonics nearer the artifact-free
	 * data's level (dsp_anc_judge), judging up to `band` Hz. */
	int judge;
	double band;
};

/* How an output was judged: the mean over the slice harmonics (±0.5 Hz, up to the band) of
 * |10·log10(P / P_ref)| (each read against the bands beside it) before and after, the change
 * of the in-band power away from the harmonics (signal), dB; the power at the harmonics above
 * what the artifact-free data predict there before, and the output's power in [1, band] Hz,
 * as RMS µV: an output may not take more than that excess. */
struct dsp_anc_judgement {
	double before_db, after_db, off_db, excess_uv, output_uv;
	size_t harmonics;
	int accept;
};

struct dsp_anc_result {
	int skipped;  /* 1: the channel was left unchanged (see gain, judgement, or no reference) */
	double alpha; /* scale applied to the reference */
	double mu;    /* LMS step size (normalised: the NLMS step) */
	double gain;  /* max|y| / max|x| on the window */
	size_t ntaps; /* length of the adaptation high-pass */
	double removed_uv;               /* RMS of what was subtracted on the window, µV */
	struct dsp_anc_judgement judged; /* when params.judge (harmonics 0: not judged) */
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
/* The same normalised: w[j] += mu·e·ref[i - order + j] / (eps + Σ_j ref[i - order + j]²). */
void dsp_anc_nlms(const double *ref, const double *d, size_t n, size_t order, double mu,
		  double eps, double *y);

/* Judge subtracting y (wl samples from ws) from x[0..n) (rate fs, triggers trig, artifact
 * length len): accept when the slice harmonics after are nearer the reference data's (outside
 * the scan) than before and the power away from them falls by at most 1 dB. Without enough
 * reference data (1 s) or harmonics below the band, j->harmonics is 0 and nothing is
 * accepted. Returns 0 or -EINVAL. */
int dsp_anc_judge(const double *x, size_t n, double fs, const int64_t *trig, size_t ntrig,
		  size_t len, size_t ws, const double *y, size_t wl, double band,
		  struct dsp_anc_judgement *j, char **cause);

/* Correct x[0..n) (rate fs) in place on the window [min(T) - len, max(T) + len), using ref (the
 * channel's estimated noise, n samples) as the reference. The subtracted signal is added to
 * noise (may be NULL, may alias ref). A skipped channel is not an error: res->skipped is set and
 * it is logged. Returns 0 or -EINVAL (cause names the parameter). res may be NULL. */
int dsp_anc_apply(double *x, size_t n, double fs, const double *ref, const int64_t *trig,
		  size_t ntrig, size_t len, const struct dsp_anc_params *p, double *noise,
		  struct dsp_anc_result *res, char **cause);

#endif
