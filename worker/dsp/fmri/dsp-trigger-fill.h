/* Missing slice triggers found in the data: where the spacing of a trigger train leaves room
 * for one or more slices, and before the first and after the last trigger, the artifact is
 * looked for one slice spacing on from the neighbouring trigger by cross-correlation with the
 * average of the nearest epochs, and accepted where its Pearson correlation with that template
 * reaches a threshold (after the reference toolbox's MissingTriggerDetector; searching from
 * both sides of a gap also completes runs that cross a volume boundary). Thread-safe. */
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
	double spacing; /* slice spacing used, samples */
};

/* Defaults: 0.9, 0.1, 8 epochs, edges on. */
void dsp_trigger_fill_params_init(struct dsp_trigger_fill_params *p);

/* Complete the trigger train t[0..nt) (sorted, at least 3) of channel x[0..n): epochs are
 * x[t + s0 : t + s0 + L], L the floor of the slice spacing (the mean of the spacings within 3
 * samples of their median). A spacing over 1.5 slice spacings is searched from both ends. On
 * success res owns its arrays (dsp_trigger_fill_result_fini). Returns 0 or -EINVAL. */
int dsp_trigger_fill(const double *x, size_t n, const int64_t *t, size_t nt, long s0,
		     const struct dsp_trigger_fill_params *p, struct dsp_trigger_fill_result *res,
		     char **cause);
/* Accepts a zeroed or finished result. */
void dsp_trigger_fill_result_fini(struct dsp_trigger_fill_result *res);

#endif
