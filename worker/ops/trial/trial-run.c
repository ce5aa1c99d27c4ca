/* The runner of the trial input formats: before a unit task's steps it reads the task's block of
 * trials × channels (and the whole layout); after them it writes the task's part. Also the small
 * helpers the trial ops share: views of local trials, the step log, the HDF5 lock. */
#include "worker/ops/trial/trial-run.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/paths.h"
#include "common/xmalloc.h"
#include "worker/ops/trial/trial-input.h"

static pthread_mutex_t trial_run_h5_mutex = PTHREAD_MUTEX_INITIALIZER;

void
trial_run_h5_lock(void)
{
	pthread_mutex_lock(&trial_run_h5_mutex);
}

void
trial_run_h5_unlock(void)
{
	pthread_mutex_unlock(&trial_run_h5_mutex);
}

void
trial_layout_fini(struct trial_layout *lay)
{
	for (size_t c = 0; lay->channel != NULL && c < lay->nchan; c++)
		free(lay->channel[c]);
	free(lay->channel);
	free(lay->len);
	free(lay->offset);
	free(lay->extra);
	memset(lay, 0, sizeof *lay);
}

void
trial_layout_copy(struct trial_layout *dst, const struct trial_layout *src)
{
	*dst = *src;
	dst->len = xreallocarray(NULL, src->ntrials + 1, sizeof *dst->len);
	memcpy(dst->len, src->len, src->ntrials * sizeof *dst->len);
	dst->offset = xreallocarray(NULL, src->ntrials + 1, sizeof *dst->offset);
	memcpy(dst->offset, src->offset, src->ntrials * sizeof *dst->offset);
	dst->extra = xreallocarray(NULL, src->ntrials * src->nextra + 1, sizeof *dst->extra);
	if (src->ntrials * src->nextra > 0) /* extra may be NULL when there are no extra columns */
		memcpy(dst->extra, src->extra, src->ntrials * src->nextra * sizeof *dst->extra);
	dst->channel = xcalloc(src->nchan, sizeof *dst->channel);
	for (size_t c = 0; c < src->nchan; c++)
		dst->channel[c] = xstrdup(src->channel[c]);
}

size_t
trial_layout_minlen(const struct trial_layout *lay)
{
	size_t m = lay->ntrials > 0 ? lay->len[0] : 0;

	for (size_t t = 1; t < lay->ntrials; t++)
		if (lay->len[t] < m)
			m = lay->len[t];
	return m;
}

size_t
trial_layout_maxlen(const struct trial_layout *lay)
{
	size_t m = 0;

	for (size_t t = 0; t < lay->ntrials; t++)
		if (lay->len[t] > m)
			m = lay->len[t];
	return m;
}

double
trial_layout_meanlen(const struct trial_layout *lay)
{
	double sum = 0;

	for (size_t t = 0; t < lay->ntrials; t++)
		sum += (double)lay->len[t];
	return lay->ntrials > 0 ? sum / (double)lay->ntrials : 0;
}

void
trial_run_view(const struct trial_run *t, size_t i, struct dsp_trial *x)
{
	size_t esz = t->dtype == DSP_TRIAL_F32 ? sizeof(float) : sizeof(double);

	x->data = (const char *)t->data + t->off[i] * esz;
	x->dtype = t->dtype;
	x->nsamp = t->lay.len[t->trial0 + i];
	x->nchan = t->nch;
	x->ld = 0;
}

int
trial_run_cancelled(const struct trial_run *t, char **cause)
{
	if (t->cancel != NULL && atomic_load(t->cancel) != 0)
		return error_set(cause, -ECANCELED, "cancelled");
	return 0;
}

void
trial_run_set_f32(struct trial_run *t, float *data, size_t *off)
{
	free(t->data);
	free(t->off);
	t->data = data;
	t->off = off;
	t->dtype = DSP_TRIAL_F32;
}

void
trial_run_log_step(struct trial_run *t, const json_t *step)
{
	json_t *params = json_deep_copy(step);
	const char *op = json_string_value(json_object_get(step, "op"));

	json_object_del(params, "op");
	json_object_del(params, "index");
	if (t->cfg == NULL)
		t->cfg = json_object();
	json_object_set_new(t->cfg, op != NULL ? op : "?", params);
}

int
trial_run_slice(const json_t *grid, uint32_t index, size_t *trial0, size_t *ntr, size_t *chan0,
		size_t *nch, char **cause)
{
	json_int_t nc = json_integer_value(json_object_get(grid, "channels"));
	json_int_t nt = json_integer_value(json_object_get(grid, "trials"));
	json_int_t cpt = json_integer_value(json_object_get(grid, "chan_per_task"));
	json_int_t tpt = json_integer_value(json_object_get(grid, "trials_per_task"));
	json_t *shape = json_object_get(grid, "shape");
	json_int_t sc = json_integer_value(json_array_get(shape, 0));
	json_int_t st = json_integer_value(json_array_get(shape, 1));

	if (nc <= 0 || nt <= 0 || cpt <= 0 || tpt <= 0 || sc <= 0 || st <= 0 ||
	    (json_int_t)index >= sc * st)
		return error_set(cause, -EINVAL, "task %u: the stage's grid is not a unit grid",
				 index);
	*chan0 = (size_t)((json_int_t)index / st * cpt);
	*trial0 = (size_t)((json_int_t)index % st * tpt);
	*nch = (size_t)(cpt < nc - (json_int_t)*chan0 ? cpt : nc - (json_int_t)*chan0);
	*ntr = (size_t)(tpt < nt - (json_int_t)*trial0 ? tpt : nt - (json_int_t)*trial0);
	return 0;
}

static int
trial_run_begin(struct op_run *run, char **cause)
{
	struct trial_run *t = xcalloc(1, sizeof *t);
	const char *kind = json_string_value(json_object_get(run->stage, "kind"));
	struct trial_input *in = NULL;
	size_t total = 0;
	void *buf;
	int rc;

	run->trial = t;
	t->cancel = run->cancel;
	if (kind == NULL || strcmp(kind, "unit") != 0)
		return 0; /* the final task reads the parts, not the input */
	rc = trial_run_slice(json_object_get(run->stage, "grid"), run->index, &t->trial0, &t->ntr,
			     &t->chan0, &t->nch, cause);
	if (rc == 0 && (run->workdir == NULL || *run->workdir == '\0'))
		rc = error_set(cause, -EINVAL, "the task has no work directory for its output");
	if (rc == 0)
		rc = paths_mkdirs(run->workdir, 0700, cause);
	if (rc == 0 && json_integer_value(json_object_get(run->stage, "stage")) > 0) {
		/* Staged mode: the unit stage before this one wrote this block. */
		rc = trial_save_load_stage(
		    t, run->workdir,
		    (int)json_integer_value(json_object_get(run->stage, "stage")) - 1, run->index,
		    cause);
		t->loaded = rc == 0;
		return rc;
	}
	if (rc == 0)
		rc = trial_input_open(json_object_get(run->stage, "input"), 0, &in, cause);
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

static void
trial_run_free(struct trial_run *t)
{
	if (t == NULL)
		return;
	trial_layout_fini(&t->lay);
	free(t->data);
	free(t->off);
	free(t->spec.freqs);
	free(t->spec.taper);
	free(t->spec.out);
	if (t->spec.has_acc)
		dsp_mtmfft_accum_fini(&t->spec.acc);
	json_decref(t->cfg);
	free(t);
}

static int
trial_run_end(struct op_run *run, int rc, char **cause)
{
	struct trial_run *t = run->trial;
	int stage = (int)json_integer_value(json_object_get(run->stage, "stage"));

	if (rc == 0 && t != NULL && t->loaded)
		rc = trial_save_unit(t, run->workdir, stage, run->index, cause);
	trial_run_free(t);
	run->trial = NULL;
	return rc;
}

const struct task_format trial_run_format_spy = {
    .format = "spy", .begin = trial_run_begin, .end = trial_run_end};
const struct task_format trial_run_format_synth = {
    .format = "synth", .begin = trial_run_begin, .end = trial_run_end};
const struct task_format trial_run_format_edf = {
    .format = "edf", .begin = trial_run_begin, .end = trial_run_end, .match = trial_input_claims};
