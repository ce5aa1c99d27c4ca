/* The parameter helpers the trial ops share. */
#ifndef ND_OP_TRIAL_PARAM_H
#define ND_OP_TRIAL_PARAM_H

#include <jansson.h>
#include <stddef.h>

#include "worker/ops/spec/op-def.h"
#include "worker/ops/spec/op-run.h"
#include "worker/ops/trial/data/trial-run.h"

/* polyremoval: null or "none" → -1, 0, 1. */
int op_trial_param_poly(const json_t *step, const char *path, const char *key, int def, int *out,
			char **cause);
/* A kernel's cause, prefixed "path." when it starts with a parameter name, else "path: ". */
int op_trial_param_wrap(char **cause, int rc, const char *path);
/* The step's path "steps[i]" from its "index" (at run time). */
void op_trial_param_path(const json_t *step, char *buf, size_t len);
/* A step that needs time series after freqanalysis made spectra: the error. */
int op_trial_param_need_analog(const struct trial_run *t, const char *path, const char *op,
			       char **cause);

/* Apply one step to t (data transformed only when t->loaded). `path` is "steps[i]". */
typedef int (*op_trial_apply_fn)(struct trial_run *t, const json_t *step, const char *path,
				 char **cause);

/* A trial op: its op_def (first member: the registry hands out &def) and the apply that both its
 * run and the submit-time check (op_trial_plan) use; apply is NULL for write_spy. */
struct op_trial {
	struct op_def def;
	op_trial_apply_fn apply;
};

/* The def.run of the trial ops with an apply: the step's path from its index, an error naming
 * the op when the task holds no trial data, and the op's apply on the step without the index the
 * graph builder added. */
int op_trial_param_run(struct op_run *run, const json_t *step, char **cause);

/* A trial op of unit tasks with an apply: it runs through op_trial_param_run. */
#define OP_TRIAL_DEF(name_, summary_, validate_, apply_)                                           \
	{                                                                                          \
		.def = {.name = (name_),                                                           \
			.kind = OP_UNIT,                                                           \
			.summary = (summary_),                                                     \
			.validate = (validate_),                                                   \
			.run = op_trial_param_run},                                                \
		.apply = (apply_),                                                                 \
	}

#endif
