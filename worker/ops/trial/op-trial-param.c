/* The parameter helpers the trial ops share: polyremoval, the step's path, the wrapping of a
 * kernel's cause under the step's path, and the check that a step has time series to work on. */
#include "worker/ops/trial/op-trial-param.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/error.h"

int
op_trial_param_poly(const json_t *step, const char *path, const char *key, int def, int *out,
		    char **cause)
{
	json_t *v = json_object_get(step, key);

	if (v == NULL)
		*out = def;
	else if (json_is_null(v) ||
		 (json_is_string(v) && strcmp(json_string_value(v), "none") == 0))
		*out = -1;
	else if (json_is_integer(v) && json_integer_value(v) >= 0 && json_integer_value(v) <= 1)
		*out = (int)json_integer_value(v);
	else
		return error_set(cause, -EINVAL,
				 "%s.%s: must be null (none), 0 (demean) or 1 "
				 "(linear detrend)",
				 path, key);
	return 0;
}

int
op_trial_param_wrap(char **cause, int rc, const char *path)
{
	static const char *const params[] = {
	    "foilim",    "foi",        "pad",         "tapsmofrq",   "nTaper",       "taper",
	    "output",    "keeptapers", "polyremoval", "freq",        "order",        "window",
	    "direction", "hilbert",    "rectify",     "filter_type", "filter_class", "resamplefs",
	    "lpfreq",    "method",     "t_ftimwin",   "toi",         "wavelet",      "width",
	    "order_max", "order_min",  "c_1",         "adaptive",    "keeptrials",   NULL,
	};
	const char *c = cause != NULL && *cause != NULL ? *cause : "";

	for (const char *const *p = params; *p != NULL; p++) {
		size_t n = strlen(*p);
		if (strncmp(c, *p, n) == 0 && (c[n] == ' ' || c[n] == ':'))
			return error_wrap(cause, rc, "%s.", path);
	}
	return error_wrap(cause, rc, "%s: ", path);
}

void
op_trial_param_path(const json_t *step, char *buf, size_t len)
{
	snprintf(buf, len, "steps[%lld]%s",
		 (long long)json_integer_value(json_object_get(step, "index")),
		 json_is_true(json_object_get(step, "_select_of")) ? ".select" : "");
}

int
op_trial_param_need_analog(const struct trial_run *t, const char *path, const char *op,
			   char **cause)
{
	if (t->kind != TRIAL_RUN_ANALOG)
		return error_set(cause, -EINVAL, "%s: %s works on time series and cannot follow %s",
				 path, op,
				 t->kind == TRIAL_RUN_CROSS	 ? "connectivityanalysis"
				 : t->kind == TRIAL_RUN_TIMELOCK ? "timelockanalysis"
								 : "freqanalysis");
	return 0;
}

int
op_trial_param_run(struct op_run *run, const json_t *step, char **cause)
{
	const struct op_trial *o = (const struct op_trial *)run->op;
	const char *op = o->def.name;
	char path[32];
	json_t *params;
	int rc;

	op_trial_param_path(step, path, sizeof path);
	if (run->trial == NULL || !run->trial->loaded)
		return error_set(cause, -EINVAL,
				 "%s: %s needs a trial input (spy, synth, or edf with trials)",
				 path, op);
	params = json_copy((json_t *)step);
	json_object_del(params, "index");
	rc = o->apply(run->trial, params, path, cause);
	json_decref(params);
	return rc;
}
