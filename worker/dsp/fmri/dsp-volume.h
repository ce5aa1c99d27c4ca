/* Volume-transition artifact correction (FACET's RARemoveVolumeArtifact, Glaser et al. 2013):
 * at each volume gap of a slice-trigger train, the last slice before and the first slice after
 * the gap differ from their neighbours by the transition artifact; that difference, weighted by
 * a logistic ramp towards the gap, is subtracted from both, and the gap between them is
 * interpolated linearly. Thread-safe. */
#ifndef ND_DSP_VOLUME_H
#define ND_DSP_VOLUME_H

#include <stddef.h>
#include <stdint.h>

struct dsp_volume_params {
	size_t templates; /* neighbouring slices averaged on each side (5) */
	double position;  /* logistic mid-point inside the epoch, fraction (0.8) */
	double slope;     /* logistic slope (20) */
	int interpolate;  /* 1: replace the gap by a line between the corrected slices */
};

struct dsp_volume_result {
	size_t gaps;         /* volume gaps in the train */
	size_t corrected;    /* of them, with both boundary slices corrected */
	size_t interpolated; /* of them, with samples between the slices interpolated */
};

/* Defaults: 5 slices, 0.8, 20, interpolation on. */
void dsp_volume_params_init(struct dsp_volume_params *p);

/* The gaps: spacings over the middle of the smallest and largest spacing, when those differ by
 * more than 3 samples. The epoch of trigger i is x[t[i] − pre : + L] with pre = clamp(−s0, 0,
 * L − 1). A gap whose boundary slices or their `templates` neighbours leave the train or the
 * data is skipped. x is corrected in place; res may be NULL. Returns 0 or -EINVAL. */
int dsp_volume_correct(double *x, size_t n, const int64_t *t, size_t nt, size_t L, long s0,
		       const struct dsp_volume_params *p, struct dsp_volume_result *res,
		       char **cause);

#endif
