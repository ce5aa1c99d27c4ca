/* The selectdata op: trials, channels, latency and frequency of a trial pipeline's data, as a
 * step and as any trial step's select keyword (op-trial-select.c). */
#ifndef ND_OP_TRIAL_SELECT_H
#define ND_OP_TRIAL_SELECT_H

#include <jansson.h>

#include "worker/ops/spec/op-def.h"
#include "worker/ops/trial/data/trial-run.h"
#include "worker/ops/trial/op-trial-param.h"

extern const struct op_trial op_trial_selectdata;

/* Apply one selectdata step (or a step's select keyword) to t (data cut only when t->loaded).
 * `path` is "steps[i]" or "steps[i].select". */
int op_trial_select_apply(struct trial_run *t, const json_t *step, const char *path,
			  char **cause);

#endif
