/* Working-rate steps in windows (op-rec-window.h): which steps run in windows and when, and
 * the run of them from the upsample, each step after the other over the windows. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/timeutil.h"
#include "worker/ops/rec/op-rec-window.h"

extern const struct op_rec op_rec_align_slices, op_rec_align_subsample, op_rec_aas_realign,
    op_rec_aas;

/* Step `s` of the stage: its op among those that run in windows (NULL: another op, or the
 * downsample), and its parameters (the caller frees them). */
static const struct op_rec *
op_rec_window_op(const json_t *s, void **params)
{
	static const struct op_rec *const ops[] = {&op_rec_align_slices, &op_rec_align_subsample,
						   &op_rec_aas_realign, &op_rec_aas};
	const char *name = json_string_value(json_object_get(s, "op"));
	char *cause = NULL;

	*params = NULL;
	for (size_t i = 0; name != NULL && i < sizeof ops / sizeof *ops; i++) {
		if (strcmp(name, ops[i]->def.name) != 0)
			continue;
		if (op_def_parse(&ops[i]->def, s, "step", params, &cause) != 0) {
			free(cause);
			return NULL;
		}
		return ops[i];
	}
	return NULL;
}

static bool
op_rec_window_is_down(const json_t *s)
{
	const char *name = json_string_value(json_object_get(s, "op"));

	return name != NULL && strcmp(name, "downsample") == 0;
}

/* The position of the last step of the windowed run from the upsample at `pos` (factor k), or
 * 0 when the steps there do not all run in windows. */
static size_t
op_rec_window_end(const struct op_run *run, size_t pos, long long k)
{
	const json_t *steps = run->spec.stage.steps;
	size_t n = json_array_size(steps), i;
	int aas = 0;

	for (i = pos + 1; i < n; i++) {
		const json_t *s = json_array_get(steps, i);
		void *params;
		const struct op_rec *op = op_rec_window_op(s, &params);
		int end = op_rec_window_is_down(s), ok = op != NULL;

		if (end) /* validated by the scheduler: a whole number, 1 when absent */
			ok = json_integer_value(json_object_get(s, "factor")) == k;
		if (aas && !end)
			ok = 0; /* aas hands its output over at the recorded rate */
		if (op == &op_rec_aas)
			ok = ok && ((const struct op_rec_aas_params *)params)->rp_file == NULL, aas = 1;
		free(params);
		if (!ok)
			return 0;
		if (end)
			return aas ? i : 0;
	}
	/* To the end of the stage: only a run-once stage, whose result is its trigger state. */
	return run->spec.stage.kind == OP_RUN_ONCE && !aas && n > pos + 1 ? n - 1 : 0;
}

static int
op_rec_window_init(struct op_rec_win *W, const struct rec_chan *c, unsigned k, size_t budget,
		   char **cause)
{
	size_t e;
	int rc;

	*W = (struct op_rec_win){.x0 = c->x, .n0 = c->n, .k = k, .n = c->n * k, .budget = budget};
	W->up = (struct dsp_resample_block_params){
	    .n = c->n, .up = k, .down = 1, .margin = (size_t)(OP_REC_WINDOW_UP_MARGIN_S * c->fs)};
	W->up_block = op_rec_win_block(W->up.margin, 1, 3) * k;
	e = budget < W->n ? budget : W->n;
	if ((rc = op_rec_win_load(W, 0, (int64_t)e, cause)) != 0)
		return rc;
	W->first = W->w[0];
	if ((rc = op_rec_win_load(W, (int64_t)(W->n - e), (int64_t)W->n, cause)) != 0)
		return rc;
	W->last = W->w[W->b - W->a - 1];
	return 0;
}

/* One step of the windowed run. */
static int
op_rec_window_step(struct op_run *run, struct rec_chan *c, struct op_rec_win *W,
		   const json_t *s, const json_t *down, double fs, char **cause)
{
	void *params;
	const struct op_rec *op = op_rec_window_op(s, &params);
	const char *name = op->def.name;
	long idx = op_rec_step_index(s);
	double t0 = time_mono_s();
	size_t hwm = rec_task_hwm_kb();
	const void *saved = run->params;
	int rc;

	if ((rc = rec_epochs_sync(run, idx, fs, &c->epochs, cause)) == 0 && c->epochs.step < 0)
		rc = error_set(cause, -EINVAL, "no triggers: put a detect_triggers step before %s",
			       name);
	run->params = params;
	if (rc == 0 && op == &op_rec_align_slices)
		rc = op_rec_window_slices(run, c, W, s, cause);
	else if (rc == 0 && op == &op_rec_align_subsample)
		rc = op_rec_window_subsample(run, c, W, s, cause);
	else if (rc == 0 && op == &op_rec_aas_realign)
		rc = op_rec_window_realign(run, c, W, s, cause);
	else if (rc == 0 && op == &op_rec_aas)
		rc = op_rec_window_aas(run, c, W, s, params, fs, cause);
	run->params = saved;
	free(params);
	if (rc == 0 && op == &op_rec_aas && down != NULL) {
		/* Done with the aas: its output is at the recorded rate already. */
		long di = op_rec_step_index(down);

		if ((rc = rec_epochs_sync(run, di, fs, &c->epochs, cause)) == 0)
			rec_epochs_rescale(&c->epochs, c->fs, di);
	}
	if (rc != 0)
		return error_wrap(cause, rc, "%s (in windows): ", name);
	rec_task_time(run, name, time_mono_s() - t0);
	run->rec->window_s += time_mono_s() - t0;
	rec_task_peak(run, name, hwm);
	return 0;
}

int
op_rec_window_run(struct op_run *run, struct rec_chan *c, const json_t *step,
		  const struct op_rec_rate_params *p, char **cause)
{
	const json_t *steps = run->spec.stage.steps, *s, *down;
	size_t pos = 0, end, i, budget = (size_t)(p->window_mb * 1048576.0 / sizeof(double));
	double fs = c->fs * (double)p->factor;
	struct op_rec_win W;
	int rc = 0;

	if (!(p->window_mb > 0) || p->factor < 2 || c->noise != NULL || c->pending.ctx != NULL ||
	    c->n == 0 || (double)c->n * (double)p->factor <= 4.0 * (double)budget)
		return 0;
	json_array_foreach(steps, i, s) if (s == step) pos = i;
	if (json_array_get(steps, pos) != step || (end = op_rec_window_end(run, pos, p->factor)) == 0)
		return 0;
	down = op_rec_window_is_down(json_array_get(steps, end)) ? json_array_get(steps, end) : NULL;
	if ((rc = op_rec_window_init(&W, c, (unsigned)p->factor, budget, cause)) != 0)
		goto out;
	rec_epochs_rescale(&c->epochs, fs, op_rec_step_index(step));
	for (i = pos + 1; i <= end && rc == 0; i++) {
		s = json_array_get(steps, i);
		if (s != down)
			rc = op_rec_window_step(run, c, &W, s, down, fs, cause);
	}
	if (rc == 0)
		run->rec->window_through = op_rec_step_index(json_array_get(steps, end));
out:
	free(W.w);
	return rc == 0 ? 1 : rc;
}

