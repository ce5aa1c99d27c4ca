/* The layout of a trial data set: every trial's length and offset, channels, rate. Small (a few
 * numbers per trial), so every task and the submit check hold all of it and compute the same
 * output shape. */
#ifndef ND_TRIAL_LAYOUT_H
#define ND_TRIAL_LAYOUT_H

#include <stddef.h>

struct trial_layout {
	double fs;
	size_t ntrials;
	size_t nchan;
	size_t *len;    /* samples of each trial */
	double *offset; /* each trial's offset in samples (time of its first sample × fs) */
	size_t nextra;  /* extra trialdefinition columns after start, stop, offset */
	double *extra;  /* ntrials × nextra */
	char **channel; /* nchan labels */
};

void trial_layout_fini(struct trial_layout *lay);
void trial_layout_copy(struct trial_layout *dst, const struct trial_layout *src);
/* Shortest and longest trial. */
size_t trial_layout_minlen(const struct trial_layout *lay);
size_t trial_layout_maxlen(const struct trial_layout *lay);
/* Mean trial length (the reference's multitaper NW and K come from it). */
double trial_layout_meanlen(const struct trial_layout *lay);

#endif
