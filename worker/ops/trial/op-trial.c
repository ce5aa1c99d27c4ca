/* The trial op table, the final op write_spy (stitch the unit tasks' parts into the output .spy
 * container, or merge their trial sums into the average), and the submit-time check of a trial
 * pipeline against its input's layout. */
#include "worker/ops/trial/op-trial.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/xmalloc.h"
#include "worker/ops/trial/op-trial-param.h"
#include "worker/ops/trial/data/trial-save.h"

extern const struct op_def *const op_trial_table[];

/* The trial op named `name`, or NULL. */
static const struct op_trial *
op_trial_find(const char *name)
{
	for (size_t i = 0; name != NULL && op_trial_table[i] != NULL; i++)
		if (strcmp(op_trial_table[i]->name, name) == 0)
			return (const struct op_trial *)op_trial_table[i];
	return NULL;
}

int
op_trial_plan(const json_t *steps, const struct trial_layout *lay,
	      struct op_trial_plan_info *info, char **cause)
{
	struct trial_run t = {0};
	size_t i, ntrial_steps = 0, hold = 0;
	json_t *step;
	int rc = 0;

	trial_layout_copy(&t.lay, lay);
	json_array_foreach(steps, i, step)
	{
		const char *name = json_string_value(json_object_get(step, "op"));
		const struct op_trial *o = op_trial_find(name);
		char path[32];

		hold = t.values_per_trial > hold ? t.values_per_trial : hold;
		/* the user's position (a "select" became a step before its host) */
		if (json_object_get(step, "index") != NULL)
			op_trial_param_path(step, path, sizeof path);
		else
			snprintf(path, sizeof path, "steps[%zu]", i);
		if (o != NULL && o->apply != NULL) {
			rc = o->apply(&t, step, path, cause);
			ntrial_steps++;
		} else if (strcmp(name, "write_spy") == 0 && i + 1 != json_array_size(steps)) {
			rc = error_set(cause, -EINVAL, "%s.op: write_spy must be the last step",
				       path);
		} else if (strcmp(name, "write_spy") != 0) {
			rc = error_set(cause, -EINVAL,
				       "%s.op: '%s' does not work on trials "
				       "(freqanalysis, preprocessing, resampledata, "
				       "connectivityanalysis, selectdata, timelockanalysis, "
				       "write_spy)",
				       path, name);
		}
		if (rc != 0)
			break;
	}
	if (rc == 0 && ntrial_steps == 0)
		rc = error_set(cause, -EINVAL,
			       "steps: a trial pipeline needs freqanalysis, "
			       "preprocessing, resampledata, connectivityanalysis or "
			       "timelockanalysis");
	if (rc == 0 && info != NULL) {
		size_t in = (size_t)trial_layout_meanlen(lay) * lay->nchan;
		hold = t.values_per_trial > hold ? t.values_per_trial : hold;
		info->values_staged = hold > in ? hold : in;
		info->values_fused = t.values_per_trial > in ? t.values_per_trial : in;
		info->all_channels = t.all_channels;
		info->all_trials = t.all_trials;
		info->needs_fused = t.needs_fused;
	}
	trial_run_clear(&t);
	return rc;
}

int
op_trial_output(const json_t *out, const char **path, char **cause)
{
	const char *format = json_string_value(json_object_get(out, "format"));

	*path = json_string_value(json_object_get(out, "path"));
	if (!json_is_object(out) || *path == NULL)
		return error_set(cause, -EINVAL,
				 "output.path: required, the .spy container to write (or -o)");
	if (format != NULL && strcmp(format, "spy") != 0)
		return error_set(cause, -EINVAL,
				 "output.format: trial results are written as \"spy\", not \"%s\"",
				 format);
	return 0;
}

static int
op_trial_save_validate(const json_t *step, const char *path, char **cause)
{
	return op_param_keys(step, path, NULL, cause);
}

static int
op_trial_save_run(struct op_run *run, const json_t *step, char **cause)
{
	const struct task_grid *g = &run->spec.stage.grid;
	const json_t *out = run->spec.stage.output;
	int stage = run->spec.stage.index;
	uint32_t nc = g->channels, nt = g->trials, cpt = g->chan_per_task, tpt = g->trials_per_task;
	const char *path;
	json_t *result = NULL;
	int rc;

	if ((rc = op_trial_output(out, &path, cause)) != 0)
		return rc;
	if (stage < 1 || nc < 1 || nt < 1 || cpt < 1 || tpt < 1)
		return error_set(cause, -EINVAL, "write_spy: no unit stage before it");
	rc = trial_save_final(run->spec.stage.workdir, stage - 1,
			      ((nc + cpt - 1) / cpt) * ((nt + tpt - 1) / tpt), path,
			      &result, cause);
	if (rc == 0) {
		json_decref(run->result);
		run->result = result;
	}
	return rc;
}

const struct op_trial op_trial_write_spy = {
    .def =
	{
	    .name = "write_spy",
	    .kind = OP_REDUCE,
	    .summary = "write the trial results as a .spy container (added after the last step "
		       "when missing)",
	    .validate = op_trial_save_validate,
	    .run = op_trial_save_run,
	},
};

bool
op_trial_is_trial_op(const struct op_def *op)
{
	for (size_t i = 0; op_trial_table[i] != NULL; i++)
		if (op_trial_table[i] == op)
			return true;
	return false;
}

/* Every entry is the def of a struct op_trial (op_trial_find relies on it). */
const struct op_def *const op_trial_table[] = {
    &op_trial_freqanalysis.def, &op_trial_preprocessing.def,
    &op_trial_resampledata.def, &op_trial_connectivityanalysis.def,
    &op_trial_selectdata.def,   &op_trial_timelockanalysis.def,
    &op_trial_write_spy.def,    NULL,
};
