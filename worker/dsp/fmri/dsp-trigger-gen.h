/* Slice triggers from volume triggers: the slice spacing and the number of slices per volume
 * estimated from the periodicity of the gradient artifact inside the volumes (or given), and
 * the slice triggers they place after each volume trigger, as the reference toolbox's slice
 * trigger generator does with a given count. Thread-safe. */
#ifndef ND_DSP_TRIGGER_GEN_H
#define ND_DSP_TRIGGER_GEN_H

#include <stddef.h>
#include <stdint.h>

struct dsp_trigger_gen_params {
	size_t slices;     /* slices per volume; 0: count the artifact's repetitions */
	double spacing;    /* slice spacing in samples; <= 0: from the artifact's periodicity */
	double min_corr;   /* Pearson correlation a repeated slice artifact reaches (0.8) */
	double min_period; /* shortest slice spacing looked for, s (0.015) */
};

struct dsp_trigger_gen_result {
	int volumes;    /* 1: the triggers mark volumes (the artifact repeats inside them) */
	size_t slices;  /* slices per volume */
	double spacing; /* slice spacing, samples (fractional) */
	double corr;    /* correlation of the average volume with itself one spacing later */
};

/* Defaults: both estimated, min_corr 0.8, 15 ms. */
void dsp_trigger_gen_params_init(struct dsp_trigger_gen_params *p);

/* Look at the average of the intervals after the volume candidates v[0..nv) (sorted, at least
 * 2) of channel x (rate fs): its normalised autocorrelation over lags from min_period to half
 * the shortest interval. The first local maximum reaching 0.9 of the largest is the slice
 * spacing, refined to a fraction of a sample at its multiples; the slices are the repetitions
 * of the first slice's window that correlate with it at min_corr or more. res->volumes is 0
 * (and the triggers are slice triggers already) when the best lag correlates under min_corr or
 * when fewer than 2 slices repeat. Returns 0 or -EINVAL. */
int dsp_trigger_gen_estimate(const double *x, size_t n, double fs, const int64_t *v, size_t nv,
			     const struct dsp_trigger_gen_params *p,
			     struct dsp_trigger_gen_result *res, char **cause);

/* Slice triggers v[i] + round(s·spacing), s < slices, for every volume (those past n are left
 * out). On success *out (sorted, *nout values) is owned by the caller. Returns 0 or -EINVAL
 * when a volume's slices would run into the next volume. */
int dsp_trigger_gen_slices(const int64_t *v, size_t nv, size_t slices, double spacing, size_t n,
			   int64_t **out, size_t *nout, char **cause);

/* Normalised autocorrelation of a[0..n) at lags lo..hi (r[l - lo]): the Pearson correlation of
 * a[0 .. n − l) with a[l .. n) (for tests and the estimate). */
void dsp_trigger_gen_autocorr(const double *a, size_t n, size_t lo, size_t hi, double *r);

#endif
