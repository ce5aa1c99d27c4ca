/* Missing slice triggers found in the data. The marks give the grid: the slice spacing, the
 * interval across a volume boundary and the slices per volume (when the marks repeat at one
 * period); a gap in the train that is a whole number of steps on that grid has its missing
 * triggers at the expected positions, each kept where the artifact is there: the template (the
 * average of the nearest epochs) correlates with the data within the search radius at a
 * threshold (after the reference toolbox's MissingTriggerDetector and, for the count on the
 * grid, its MissingTriggerCompleter). Each is placed at the best correlation within a radius
 * the marks support (0 when the correlation cannot place a known mark better than the grid,
 * as with a readout near the Nyquist frequency). Gaps off the grid are walked from both ends,
 * and the ends of the train outward. Thread-safe. */
#ifndef ND_DSP_TRIGGER_FILL_H
#define ND_DSP_TRIGGER_FILL_H

#include <stddef.h>
#include <stdint.h>

struct dsp_trigger_fill_params {
	double min_corr;        /* Pearson correlation with the template to accept (0.9) */
	double search;          /* search radius, fraction of the slice spacing (0.1) */
	size_t template_epochs; /* nearest triggers averaged for the template (8) */
	int edges;              /* also look before the first and after the last trigger (1) */
};

struct dsp_trigger_fill_result {
	int64_t *t; /* the completed train, sorted */
	size_t n;
	int64_t *added; /* the triggers found, sorted */
	size_t n_added;
	double spacing;   /* slice spacing used, samples */
	double boundary;  /* the interval across a volume boundary, samples (0: none found) */
	size_t slices;    /* slices per volume (0: not known) */
	size_t radius;    /* placement radius around the expected position, samples */
	double threshold; /* the correlation that shows the artifact is there */
};

/* Defaults: 0.9, 0.1, 8 epochs, edges on. */
void dsp_trigger_fill_params_init(struct dsp_trigger_fill_params *p);

/* Complete the trigger train t[0..nt) (sorted, at least 3) of channel x[0..n): epochs are
 * x[t + s0 : t + s0 + L], L the floor of the slice spacing (the mean of the spacings within 3
 * samples of their median). An interval over 1.5 slice spacings that is not a volume boundary
 * is a gap. On
 * success res owns its arrays (dsp_trigger_fill_result_fini). Returns 0 or -EINVAL. */
int dsp_trigger_fill(const double *x, size_t n, const int64_t *t, size_t nt, long s0,
		     const struct dsp_trigger_fill_params *p, struct dsp_trigger_fill_result *res,
		     char **cause);
/* Accepts a zeroed or finished result. */
void dsp_trigger_fill_result_fini(struct dsp_trigger_fill_result *res);

#endif
