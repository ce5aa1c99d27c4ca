/* The artifact epochs of a recording pipeline (its trigger state) at one working rate: where
 * each artifact starts, how long it is, and which step produced them, so a task adopts an
 * upstream state only when it is newer than its own. */
#ifndef ND_REC_EPOCHS_H
#define ND_REC_EPOCHS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "worker/ops/spec/op-run.h"

struct rec_epochs {
	long step;      /* -1: none yet */
	double fs;      /* rate the samples refer to */
	double fs0;     /* rate of the recording (search radii are in its samples) */
	double offset;  /* artifact-to-trigger offset, seconds */
	int64_t *t;     /* trigger samples (templates and windows) */
	int64_t *t_sub; /* realigned triggers for AAS subtraction, or NULL (= t) */
	size_t n;
	size_t L; /* artifact length, samples at fs */
	size_t slices_per_volume;
	int volume_gaps;
};

void rec_epochs_fini(struct rec_epochs *t);
json_t *rec_epochs_to_json(const struct rec_epochs *t);
int rec_epochs_from_json(const json_t *j, struct rec_epochs *t, char **cause);
/* Adopt the newest upstream state (from run->deps) produced by a step with index <= `step`
 * when it is newer than *t. 0, or -EINVAL when the adopted state's rate does not match fs. */
int rec_epochs_sync(const struct op_run *run, long step, double fs, struct rec_epochs *t,
		    char **cause);
/* Scale a state after resampling from t->fs to fs_new (triggers truncated, L rounded). */
void rec_epochs_rescale(struct rec_epochs *t, double fs_new, long step);
/* After a step `step` moved the triggers t: drop the realigned ones (t_sub) and mark the step. */
void rec_epochs_moved(struct rec_epochs *t, long step);
/* Samples of an offset: trunc(offset·fs). */
long rec_epochs_s0(const struct rec_epochs *t);

#endif
