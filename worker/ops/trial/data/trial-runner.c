/* The runner of the trial input formats: before a unit task's steps it reads the task's block of
 * trials × channels (and the whole layout), or in staged mode the block the stage before wrote;
 * after them it writes the task's part. */
#include "worker/ops/trial/data/trial-runner.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/paths.h"
#include "common/xmalloc.h"
#include "worker/ops/trial/data/trial-input.h"
#include "worker/ops/trial/data/trial-run.h"
#include "worker/ops/trial/data/trial-save.h"

static int
trial_runner_begin(struct op_run *run, char **cause)
{
	struct trial_run *t = xcalloc(1, sizeof *t);
	const struct task_stage *st = &run->spec.stage;
	struct trial_input *in = NULL;
	size_t total = 0;
	void *buf;
	int rc;

	run->trial = t;
	t->cancel = run->cancel;
	if (st->kind != OP_UNIT)
		return 0; /* the final task reads the parts, not the input */
	rc = trial_run_slice(&st->grid, run->spec.index, &t->trial0, &t->ntr, &t->chan0, &t->nch,
			     cause);
	if (rc == 0 && (st->workdir == NULL || *st->workdir == '\0'))
		rc = error_set(cause, -EINVAL, "the task has no work directory for its output");
	if (rc == 0)
		rc = paths_mkdirs(st->workdir, 0700, cause);
	if (rc == 0 && st->index > 0) {
		/* Staged mode: the unit stage before this one wrote this block. */
		rc = trial_save_load_stage(t, st->workdir, st->index - 1, run->spec.index, cause);
		t->loaded = rc == 0;
		return rc;
	}
	if (rc == 0)
		rc = trial_input_open(st->input, 0, &in, cause);
	if (rc != 0)
		return rc;
	trial_layout_copy(&t->lay, trial_input_layout(in));
	if (t->lay.ntrials < t->trial0 + t->ntr || t->lay.nchan < t->chan0 + t->nch) {
		trial_input_close(in);
		return error_set(cause, -EINVAL,
				 "the input has changed since it was submitted "
				 "(%zu trials × %zu channels)",
				 t->lay.ntrials, t->lay.nchan);
	}
	t->off = xcalloc(t->ntr + 1, sizeof *t->off);
	for (size_t i = 0; i < t->ntr; i++) {
		t->off[i] = total;
		total += t->lay.len[t->trial0 + i] * t->nch;
	}
	t->dtype = trial_input_dtype(in);
	buf = xreallocarray(NULL, total + 1,
			    t->dtype == DSP_TRIAL_F32 ? sizeof(float) : sizeof(double));
	rc = trial_input_read(in, t->trial0, t->ntr, t->chan0, t->nch, buf, cause);
	trial_input_close(in);
	t->data = buf;
	t->kind = TRIAL_RUN_ANALOG;
	t->loaded = true;
	return rc;
}

static int
trial_runner_end(struct op_run *run, int rc, char **cause)
{
	struct trial_run *t = run->trial;
	int stage = run->spec.stage.index;

	if (rc == 0 && t != NULL && t->loaded && t->spec.pending != NULL)
		rc = t->spec.compute(t, cause); /* lazy spectra nobody took: compute them now */
	if (rc == 0 && t != NULL && t->loaded)
		/* fused: the one unit stage, whose rows go straight into the output */
		rc = trial_save_unit(t, run->spec.stage.workdir, stage, run->spec.index,
				     run->spec.stage.staged ? NULL : run->spec.stage.output, cause);
	trial_run_free(t);
	run->trial = NULL;
	return rc;
}

const struct task_format trial_runner_format_spy = {
    .format = "spy", .begin = trial_runner_begin, .end = trial_runner_end};
const struct task_format trial_runner_format_synth = {
    .format = "synth", .begin = trial_runner_begin, .end = trial_runner_end};
const struct task_format trial_runner_format_edf = {.format = "edf",
						    .begin = trial_runner_begin,
						    .end = trial_runner_end,
						    .match = trial_input_claims};