/* Trial inputs at submit: open the input once (checking the .spy checksum, the EDF epochs), count
 * its units (channels × trials), pick the task grid when the pipeline leaves it open, check the
 * steps against the input's rate and trial lengths, and add the final write_spy step when the
 * pipeline has none. So a bad parameter or input is refused before any task runs. */
#include <errno.h>
#include <string.h>

#include "common/error.h"
#include "common/xmalloc.h"
#include "scheduler/graph/graph-input.h"
#include "scheduler/graph/graph.h"
#include "worker/ops/trial/op-trial.h"
#include "worker/ops/trial/data/trial-input.h"

/* Values (samples × channels) a unit task should hold by default: large enough that the task's
 * fixed costs (dispatch, opening the input, writing a part) are small against its compute, small
 * enough that a few tasks per worker balance the load. */
#define GRAPH_TRIALS_TASK_VALUES (1u << 21)

int
graph_input_trials_open(const json_t *input, struct trial_input **in, uint32_t *nchan,
			uint32_t *ntrial, char **cause)
{
	const struct trial_layout *lay;
	int rc;

	rc = trial_input_open(input, TRIAL_INPUT_VERIFY, in, cause);
	if (rc != 0)
		return rc;
	lay = trial_input_layout(*in);
	if (lay->ntrials > 100000000 || lay->nchan > 100000)
		return error_set(cause, -EINVAL, "input: %zu trials × %zu channels is too many",
				 lay->ntrials, lay->nchan);
	*nchan = (uint32_t)lay->nchan;
	*ntrial = (uint32_t)lay->ntrials;
	return 0;
}

/* Default grid: all channels per task, and trials per task so a task holds about
 * GRAPH_TRIALS_TASK_VALUES values of its input block or of what the steps keep per trial
 * (g->cpt, g->tpt 0: not set by the pipeline). Cross-channel steps need every channel of a
 * trial in one task. */
static int
graph_input_trials_grid(struct graph *g, const struct trial_layout *lay,
			const struct op_trial_plan_info *info, char **cause)
{
	uint64_t per_trial;

	size_t values = g->staged ? info->values_staged : info->values_fused;

	if (g->staged && info->needs_fused)
		return error_set(cause, -EINVAL,
				 "execution.mode: a connectivityanalysis step on freqanalysis "
				 "spectra runs fused with it; use mode \"fused\"");
	if (info->all_trials && g->tpt != 0 && g->tpt < g->ntrial)
		return error_set(cause, -EINVAL,
				 "execution.trials_per_task: %u, but a selection of trials out of "
				 "order (or repeated) needs every trial in one task (leave "
				 "trials_per_task out)",
				 g->tpt);
	if (info->all_trials)
		g->tpt = g->ntrial;
	if (info->all_channels && g->cpt != 0 && g->cpt < g->nchan)
		return error_set(cause, -EINVAL,
				 "execution.chan_per_task: %u, but a step needs every channel "
				 "of a trial in one task (leave chan_per_task out, or make it %u)",
				 g->cpt, g->nchan);
	if (g->cpt == 0 || g->cpt > g->nchan)
		g->cpt = g->nchan;
	if (g->tpt != 0)
		return 0;
	/* values per trial for all channels, scaled to the task's channel group */
	per_trial = (uint64_t)values * g->cpt / (lay->nchan > 0 ? lay->nchan : 1);
	per_trial = per_trial > 0 ? per_trial : 1;
	g->tpt = (uint32_t)(GRAPH_TRIALS_TASK_VALUES / per_trial);
	if (g->tpt < 1)
		g->tpt = 1;
	if (g->tpt > g->ntrial)
		g->tpt = g->ntrial;
	return 0;
}

/* A step's "select" becomes a selectdata step before it (the reference's select keyword). Every
 * step first gets its index in the user's list, so errors keep naming the user's steps; the new
 * step is validated here, its errors under "steps[i].select". */
static int
graph_input_trials_select(json_t *steps, char **cause)
{
	size_t i;
	json_t *step;

	json_array_foreach(steps, i, step)
	{
		if (json_object_get(step, "index") == NULL)
			json_object_set_new(step, "index", json_integer((json_int_t)i));
	}
	for (i = 0; i < json_array_size(steps); i++) {
		json_t *host = json_array_get(steps, i), *sel = json_object_get(host, "select");
		json_int_t idx = json_integer_value(json_object_get(host, "index"));
		char path[48];
		json_t *sstep;

		if (sel == NULL)
			continue;
		snprintf(path, sizeof path, "steps[%lld].select", (long long)idx);
		if (json_is_string(sel) && strcmp(json_string_value(sel), "all") == 0) {
			json_object_del(host, "select");
			continue;
		}
		if (!json_is_object(sel) || json_object_get(sel, "op") != NULL)
			return error_set(cause, -EINVAL,
					 "%s: must be an object of selection keywords (trials, "
					 "channel, latency, frequency) or \"all\"",
					 path);
		sstep = json_deep_copy(sel);
		json_object_set_new(sstep, "op", json_string("selectdata"));
		if (op_def_check(&op_trial_selectdata.def, sstep, path, cause) != 0) {
			json_decref(sstep);
			return -EINVAL;
		}
		json_object_set_new(sstep, "index", json_integer(idx));
		json_object_set_new(sstep, "_select_of", json_true());
		json_object_del(host, "select");
		json_array_insert_new(steps, i, sstep);
		i++;
	}
	return 0;
}

int
graph_input_trials_prepare(struct graph *g, json_t *root, struct trial_input *in, char **cause)
{
	const struct trial_layout *lay = trial_input_layout(in);
	json_t *steps = json_object_get(root, "steps"), *out = json_object_get(root, "output");
	json_t *last = json_array_get(steps, json_array_size(steps) - 1);
	const char *opath;
	const char *ipath =
	    json_string_value(json_object_get(json_object_get(root, "input"), "path"));
	int rc;

	if ((rc = op_trial_output(out, &opath, cause)) != 0)
		return rc;
	if (ipath != NULL && strcmp(ipath, opath) == 0)
		return error_set(cause, -EINVAL,
				 "output.path: the output would overwrite the input "
				 "%s",
				 ipath);
	struct op_trial_plan_info info;

	if ((rc = graph_input_trials_select(steps, cause)) != 0 ||
	    (rc = op_trial_plan(steps, lay, &info, cause)) != 0 ||
	    (rc = graph_input_trials_grid(g, lay, &info, cause)) != 0)
		return rc;
	if (strcmp(json_string_value(json_object_get(last, "op")), "write_spy") != 0)
		json_array_append_new(steps, json_pack("{s:s}", "op", "write_spy"));
	return 0;
}

int
graph_input_trials_reject(const json_t *steps, char **cause)
{
	size_t i;
	json_t *step;

	json_array_foreach(steps, i, step)
	{
		if (json_object_get(step, "select") != NULL)
			return error_set(cause, -EINVAL,
					 "steps[%zu].select: selections work on trial inputs (spy, "
					 "synth, or edf with \"trials\")",
					 i);
		const struct op_def *op =
		    op_registry_find(json_string_value(json_object_get(step, "op")));
		if (op_trial_is_trial_op(op))
			return error_set(cause, -EINVAL,
					 "steps[%zu].op: %s works on trials; the input must be "
					 "spy, synth, or edf with \"trials\"",
					 i, op->name);
	}
	return 0;
}
