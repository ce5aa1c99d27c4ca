/* The preprocessing and resampledata ops (op-trial-preproc.c). */
#ifndef ND_OP_TRIAL_PREPROC_H
#define ND_OP_TRIAL_PREPROC_H

#include <jansson.h>

#include "worker/ops/spec/op-def.h"
#include "worker/ops/trial/data/trial-run.h"
#include "worker/ops/trial/op-trial-param.h"

extern const struct op_trial op_trial_preprocessing;
extern const struct op_trial op_trial_resampledata;

/* Apply one step to t (data transformed only when t->loaded). `path` is "steps[i]". */
int op_trial_preproc_apply(struct trial_run *t, const json_t *step, const char *path, char **cause);
int op_trial_resample_apply(struct trial_run *t, const json_t *step, const char *path,
			    char **cause);

#endif
