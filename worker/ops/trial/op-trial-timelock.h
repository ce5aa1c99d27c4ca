/* The timelockanalysis op: average, variance and covariance over time-locked trials
 * (op-trial-timelock.c). */
#ifndef ND_OP_TRIAL_TIMELOCK_H
#define ND_OP_TRIAL_TIMELOCK_H

#include <jansson.h>

#include "worker/ops/spec/op-def.h"
#include "worker/ops/trial/data/trial-run.h"
#include "worker/ops/trial/op-trial-param.h"

extern const struct op_trial op_trial_timelockanalysis;

/* Apply one timelockanalysis step to t (statistics computed only when t->loaded). `path` is
 * "steps[i]". */
int op_trial_timelock_apply(struct trial_run *t, const json_t *step, const char *path,
			    char **cause);

#endif
