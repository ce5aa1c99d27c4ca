/* Pulse (ballistocardiogram) artifact correction on one channel, locked to the heart beats:
 * beat epochs centred a fixed delay after each R peak, averaged artifact subtraction over the
 * neighbouring beats (Allen et al. 1998), and the optimal basis set (Niazy et al. 2005) with the
 * number of components chosen from the data. Thread-safe. */
#ifndef ND_DSP_PULSE_H
#define ND_DSP_PULSE_H

#include <stddef.h>
#include <stdint.h>

/* Beat epochs: epoch k spans [centre − half, centre + half]; beat k corrects only its segment
 * [lo, hi), from half way after the previous centre to half way before the next one (capped at
 * the epoch), so the segments tile the beats without overlapping. */
struct dsp_pulse_beats {
	size_t n, half, n_samples;
	int64_t *centre, *lo, *hi;
	unsigned char *full; /* 1: the whole epoch lies inside the data */
	double rr_median;    /* samples */
};

/* Epochs of the R peaks r[0..nr) (sorted, samples at rate fs) for a channel of ns samples:
 * centre = r + round(delay·fs) (Allen et al. 1998: the artifact follows the R peak by 0.21 s),
 * half = round(0.75 · median RR) (FMRIB's pulse-artifact window: 1.5 median RR long). Beats
 * whose epoch misses the data are left out. Needs 3 beats; returns 0 or -EINVAL. On success
 * *b owns its arrays (dsp_pulse_beats_fini). */
int dsp_pulse_beats_make(const int64_t *r, size_t nr, double fs, double delay, size_t ns,
			 struct dsp_pulse_beats *b, char **cause);
/* Accepts a zeroed or finished struct. */
void dsp_pulse_beats_fini(struct dsp_pulse_beats *b);

/* The weight of beat k's fitted artifact at sample i, for a smooth overlap-add: 1 inside its
 * segment far from the neighbours, a raised-cosine cross-fade with the neighbour over the part
 * both epochs cover (at most a quarter of the interval on each side of the mid-point), 0
 * outside. The weights of neighbouring beats add up to 1 wherever their epochs overlap. */
double dsp_pulse_weight(const struct dsp_pulse_beats *b, size_t k, int64_t i);

/* out[0..2·half] = x[centre − half ..] (minus the mean of its samples inside the data when
 * `demean`); samples outside are 0. Returns how many lie inside. */
size_t dsp_pulse_epoch(const double *x, size_t n, const struct dsp_pulse_beats *b, size_t k,
		       int demean, double *out);

/* Called once per beat, in order, with the beat's averaged template (2·half + 1 values, owned by
 * the caller of dsp_pulse_templates_each, valid during the call). Returns 0 or -errno to stop. */
typedef int (*dsp_pulse_template_cb)(void *arg, size_t k, const double *tpl, char **cause);

/* The template of beat k: the mean of the epochs (de-meaned when `demean`) of the `window` whole
 * epochs nearest to k in beat order (k's own included, the window shifted inwards at the ends;
 * 0: every whole epoch). x is read only. Returns 0, -EINVAL (no whole epoch) or what cb
 * returned. */
int dsp_pulse_templates_each(const double *x, size_t n, const struct dsp_pulse_beats *b,
			     size_t window, int demean, dsp_pulse_template_cb cb, void *arg,
			     char **cause);

/* Averaged artifact subtraction: x[lo_k, hi_k) −= template k (window beats, 21 by default, of
 * de-meaned epochs, as FMRIB's mean method) for every beat. Returns 0 or -EINVAL. */
int dsp_pulse_aas(double *x, size_t n, const struct dsp_pulse_beats *b, size_t window,
		  char **cause);

struct dsp_pulse_obs_params {
	long n_components;     /* components kept; < 0: chosen from the data (below) */
	size_t window;         /* beats per template (0: all, the mean effect of Niazy et al.) */
	size_t max_components; /* ceiling of the choice (8) */
	size_t null_draws;     /* random-position epoch sets of the null (8) */
	size_t max_beats;      /* beats in the decomposition, evenly spaced (400) */
	uint64_t seed;         /* of the null's random positions */
};

struct dsp_pulse_obs_result {
	size_t k;           /* principal components fitted */
	int skipped;        /* 1: no beat-locked artifact above the null; channel left alone */
	double locked;      /* energy of the mean beat epoch over the largest null mean's */
	double removed_rms; /* RMS of what was subtracted over the corrected segments, volts */
};

/* Defaults: chosen components, the mean of all beats as template, at most 8 components, 8 null
 * draws, 400 beats. */
void dsp_pulse_obs_params_init(struct dsp_pulse_obs_params *p);

/* Optimal basis set: per beat, least-squares fit of [1, t, its template (of the epochs as they
 * are: the line absorbs each epoch's offset and drift), k principal components of the beats'
 * residual epochs, made orthogonal to the template] to its epoch, subtracting the template and
 * component parts with
 * raised-cosine cross-fades between neighbouring beats (dsp_pulse_weight). The channel is skipped
 * when its mean beat epoch has less energy than the mean of as many epochs at random positions (no
 * beat-locked artifact). With n_components < 0, the components are the leading principal directions
 * of the residual epochs along which the beats vary more (mean square `at`) than epochs at random
 * positions of the same signal (`nul`; null_draws sets; parallel analysis, Horn 1965): locked
 * variation stands out, background EEG and alpha do not; each beat's coefficient on such a
 * component is shrunk by its Wiener gain 1 − nul/at, so the background it carries is mostly left
 * out of the fit. Given components are fitted at full weight. res may be NULL. Returns 0 or
 * -EINVAL. */
int dsp_pulse_obs(double *x, size_t n, const struct dsp_pulse_beats *b,
		  const struct dsp_pulse_obs_params *p, struct dsp_pulse_obs_result *res,
		  char **cause);

#endif
