/* The trial ops (freqanalysis, preprocessing, resampledata, write_spy) and what they share.
 * Each op's apply function validates its step against the layout (the rate and trial lengths
 * known at run time, or at submit), updates the layout, and, when the task holds data,
 * transforms it; `run` is apply on the task's data, the submit check is apply on the layout. */
#ifndef ND_OP_TRIAL_H
#define ND_OP_TRIAL_H

#include <jansson.h>
#include <stdbool.h>

#include "worker/ops/spec/op-def.h"
#include "worker/ops/spec/op-param.h"
#include "worker/ops/spec/op-run.h"
#include "worker/ops/trial/trial-run.h"

extern const struct op_def op_trial_freqanalysis;
extern const struct op_def op_trial_preprocessing;
extern const struct op_def op_trial_resampledata;
extern const struct op_def op_trial_write_spy;

/* Apply one step to t (data transformed only when t->loaded). `path` is "steps[i]". */
typedef int (*op_trial_apply_fn)(struct trial_run *t, const json_t *step, const char *path,
				 char **cause);
int op_trial_freq_apply(struct trial_run *t, const json_t *step, const char *path, char **cause);
int op_trial_preproc_apply(struct trial_run *t, const json_t *step, const char *path, char **cause);
int op_trial_resample_apply(struct trial_run *t, const json_t *step, const char *path,
			    char **cause);

/* Check every trial step of `steps` against the input's layout without data (at submit): the
 * parameters that need the rate or the trial lengths. Errors name steps[i].param. */
int op_trial_plan(const json_t *steps, const struct trial_layout *lay, char **cause);

#endif
