/* A trial task's data and the small helpers the trial ops share on it: views of local trials,
 * the replacement of the samples, the step log, cancellation, the task's slice of the grid, and
 * the HDF5 lock every .spy call holds. */
#include "worker/ops/trial/data/trial-run.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "worker/ops/trial/data/trial-cross.h"
#include "worker/ops/trial/data/trial-timelock.h"

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
trial_run_slice(const struct task_grid *g, uint32_t index, size_t *trial0, size_t *ntr,
		size_t *chan0, size_t *nch, char **cause)
{
	uint64_t nc = g->channels, nt = g->trials, cpt = g->chan_per_task, tpt = g->trials_per_task;

	if (nc == 0 || nt == 0 || cpt == 0 || tpt == 0 || g->shape_c == 0 || g->shape_t == 0 ||
	    (uint64_t)index >= (uint64_t)g->shape_c * g->shape_t)
		return error_set(cause, -EINVAL, "task %u: the stage's grid is not a unit grid",
				 index);
	*chan0 = (size_t)(index / g->shape_t * cpt);
	*trial0 = (size_t)(index % g->shape_t * tpt);
	*nch = (size_t)(cpt < nc - *chan0 ? cpt : nc - *chan0);
	*ntr = (size_t)(tpt < nt - *trial0 ? tpt : nt - *trial0);
	return 0;
}

void
trial_run_free(struct trial_run *t)
{
	if (t == NULL)
		return;
	trial_run_clear(t);
	free(t);
}

void
trial_run_clear(struct trial_run *t)
{
	trial_layout_fini(&t->lay);
	free(t->data);
	free(t->off);
	free(t->spec.freqs);
	free(t->spec.taper);
	free(t->spec.trl);
	free(t->spec.out);
	if (t->spec.has_acc)
		dsp_mtmfft_accum_fini(&t->spec.acc);
	dsp_mtmfft_free(t->spec.pending);
	trial_cross_free(t->cross);
	trial_timelock_fini(t->tl);
	free(t->tl);
	json_decref(t->cfg);
	memset(t, 0, sizeof *t);
}
