/* The trial ops (freqanalysis, preprocessing, resampledata, selectdata, timelockanalysis: their
 * own headers; write_spy here), their table and the submit-time check of a trial pipeline. Each
 * op's apply function validates its step against the layout (the rate and trial lengths known at
 * run time, or at submit), updates the layout, and, when the task holds data, transforms it;
 * `run` is apply on the task's data, the submit check is apply on the layout. */
#ifndef ND_OP_TRIAL_H
#define ND_OP_TRIAL_H

#include <jansson.h>
#include <stdbool.h>

#include "worker/ops/spec/op-def.h"
#include "worker/ops/spec/op-param.h"
#include "worker/ops/spec/op-run.h"
#include "worker/ops/trial/op-trial-param.h"
#include "worker/ops/trial/op-trial-freq.h"
#include "worker/ops/trial/op-trial-preproc.h"
#include "worker/ops/trial/op-trial-select.h"
#include "worker/ops/trial/op-trial-timelock.h"
#include "worker/ops/trial/data/trial-run.h"

extern const struct op_trial op_trial_connectivityanalysis;
extern const struct op_trial op_trial_write_spy;

int op_trial_conn_apply(struct trial_run *t, const json_t *step, const char *path, char **cause);

/* What a trial pipeline asks of the task grid (op_trial_plan). */
struct op_trial_plan_info {
	/* values a task holds per trial (all channels, input included): after the last step
	 * (fused mode, where a step may consume what the one before kept), and the largest
	 * after any step (staged mode, where each stage keeps its output) */
	size_t values_fused, values_staged;
	bool all_channels; /* a step needs every channel of a trial in one task */
	bool all_trials;   /* a step needs every trial in one task */
	bool needs_fused;  /* a step takes spectra that only a fused task can hand over */
};

/* Check every trial step of `steps` against the input's layout without data (at submit): the
 * parameters that need the rate or the trial lengths. Errors name steps[i].param. `info` (may
 * be NULL) gets what the steps need of the grid. */
int op_trial_plan(const json_t *steps, const struct trial_layout *lay,
		  struct op_trial_plan_info *info, char **cause);

/* A trial pipeline's output object: a path, format "spy" if given. Returns 0 with *path (owned
 * by out), or -EINVAL. */
int op_trial_output(const json_t *out, const char **path, char **cause);
/* Whether `op` is one of the trial ops (works on trial inputs only). */
bool op_trial_is_trial_op(const struct op_def *op);

#endif
