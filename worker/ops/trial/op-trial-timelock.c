/* timelockanalysis as a trial step, with the reference's keywords: the trials (trials, "all" or
 * a list) cut to a common latency window (latency, default 'maxperiod'; trials that do not cover
 * it are dropped, as selectdata does), then their average and variance over trials per sample
 * and channel and, with covariance, the channels' covariance over each trial's samples (ddof,
 * default n − 1), averaged or kept per trial (keeptrials). The output is a TimeLockData
 * container: the time-locked trials as `data`, and `avg`, `var`, `cov`. */
#include "worker/ops/trial/op-trial-timelock.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/xmalloc.h"
#include "worker/ops/trial/op-trial-param.h"
#include "worker/ops/trial/op-trial.h"
#include "worker/ops/trial/data/trial-timelock.h"

static const char *const op_trial_timelock_keys[] = {"latency",  "covariance", "ddof",
					       "trials",   "keeptrials", NULL};

struct op_trial_timelock {
	bool covariance, keeptrials;
	int ddof; /* -1: None */
};

static int
op_trial_timelock_parse(const json_t *step, const char *path, struct op_trial_timelock *p, char **cause)
{
	const json_t *ddof = json_object_get(step, "ddof"), *tr = json_object_get(step, "trials");

	if (op_param_keys(step, path, op_trial_timelock_keys, cause) != 0 ||
	    op_param_bool(step, path, "covariance", false, &p->covariance, cause) != 0 ||
	    op_param_bool(step, path, "keeptrials", false, &p->keeptrials, cause) != 0)
		return -EINVAL;
	p->ddof = -1;
	if (ddof != NULL && !json_is_null(ddof)) {
		if (!json_is_integer(ddof) || json_integer_value(ddof) < 0 ||
		    json_integer_value(ddof) > 1000000)
			return error_set(cause, -EINVAL,
					 "%s.ddof: invalid value; expected positive integer value",
					 path);
		p->ddof = (int)json_integer_value(ddof);
	}
	if (tr != NULL && !json_is_array(tr) &&
	    !(json_is_string(tr) && strcmp(json_string_value(tr), "all") == 0))
		return error_set(cause, -EINVAL, "%s.trials: expected 'all' or a list of trials",
				 path);
	return 0;
}

static int
op_trial_timelock_validate(const json_t *step, const char *path, char **cause)
{
	struct op_trial_timelock p;

	return op_trial_timelock_parse(step, path, &p, cause);
}

/* The trials left must share their length and offset (a time-locked set). */
static int
op_trial_timelock_locked(const struct trial_layout *lay, const char *path, char **cause)
{
	for (size_t t = 1; t < lay->ntrials; t++)
		if (lay->len[t] != lay->len[0] || lay->offset[t] != lay->offset[0])
			return error_set(cause, -EINVAL,
					 "%s.latency: invalid value; expected trialdefinition with "
					 "equally sized trials and common offsets (trial %zu: %zu "
					 "samples from %g, trial 0: %zu from %g)",
					 path, t, lay->len[t], lay->offset[t], lay->len[0],
					 lay->offset[0]);
	return 0;
}

int
op_trial_timelock_apply(struct trial_run *t, const json_t *step, const char *path, char **cause)
{
	struct op_trial_timelock p;
	struct trial_timelock *s;
	json_t *sel;
	int rc;

	if ((rc = op_trial_param_need_analog(t, path, "timelockanalysis", cause)) != 0 ||
	    (rc = op_trial_timelock_parse(step, path, &p, cause)) != 0)
		return rc;
	/* trials and latency: the selection selectdata makes, errors under this step's path */
	sel = json_pack("{s:O?, s:O}", "trials", json_object_get(step, "trials"), "latency",
			json_object_get(step, "latency") != NULL ? json_object_get(step, "latency")
								 : json_string("maxperiod"));
	rc = op_trial_select_apply(t, sel, path, cause);
	json_decref(sel);
	if (rc == 0)
		rc = op_trial_timelock_locked(&t->lay, path, cause);
	if (rc != 0)
		return rc;
	json_object_del(t->cfg, "selectdata");
	s = xcalloc(1, sizeof *s);
	trial_timelock_init(s, t->lay.len[0], t->nch, p.covariance, p.keeptrials, p.ddof, t->ntr);
	for (size_t i = 0; t->loaded && i < t->ntr && rc == 0; i++) {
		struct dsp_trial x;
		if ((rc = trial_run_cancelled(t, cause)) != 0)
			break;
		trial_run_view(t, i, &x);
		if ((rc = trial_timelock_add(s, &x, cause)) != 0)
			op_trial_param_wrap(cause, rc, path);
	}
	if (rc != 0) {
		trial_timelock_fini(s);
		free(s);
		return rc;
	}
	t->all_channels |= p.covariance; /* covariance is between channels */
	trial_timelock_fini(t->tl);
	free(t->tl);
	t->tl = s;
	t->kind = TRIAL_RUN_TIMELOCK;
	trial_run_log_step(t, step);
	return 0;
}

const struct op_trial op_trial_timelockanalysis = OP_TRIAL_DEF(
    "timelockanalysis", "average, variance and covariance over time-locked trials (TimeLockData)",
    op_trial_timelock_validate, op_trial_timelock_apply);
