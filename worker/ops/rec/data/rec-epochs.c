/* The artifact epochs of a recording pipeline (its trigger state): their inline-result JSON form,
 * adopting the newest upstream state from a task's dependencies, rescaling after resampling. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/xmalloc.h"
#include "worker/dsp/fmri/dsp-trigger.h"
#include "worker/ops/rec/data/rec-epochs.h"

void
rec_epochs_fini(struct rec_epochs *t)
{
	free(t->t);
	free(t->t_sub);
	memset(t, 0, sizeof *t);
	t->step = -1;
}

static json_t *
rec_epochs_array(const int64_t *t, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_integer(t[i]));
	return a;
}

json_t *
rec_epochs_to_json(const struct rec_epochs *t)
{
	json_t *j =
	    json_pack("{s:I, s:f, s:f, s:f, s:I, s:I, s:I, s:b, s:o}", "step", (json_int_t)t->step,
		      "fs", t->fs, "fs0", t->fs0, "offset", t->offset, "count", (json_int_t)t->n,
		      "L", (json_int_t)t->L, "slices_per_volume", (json_int_t)t->slices_per_volume,
		      "volume_gaps", t->volume_gaps, "samples", rec_epochs_array(t->t, t->n));

	if (t->t_sub != NULL)
		json_object_set_new(j, "subtract_at", rec_epochs_array(t->t_sub, t->n));
	return j;
}

static int
rec_epochs_read_array(const json_t *a, size_t n, int64_t **out, char **cause)
{
	size_t i;
	json_t *v;

	if (!json_is_array(a) || json_array_size(a) != n)
		return error_set(cause, -EINVAL, "trigger state: bad sample array");
	*out = xmalloc((n > 0 ? n : 1) * sizeof **out);
	json_array_foreach(a, i, v)(*out)[i] = (int64_t)json_integer_value(v);
	return 0;
}

int
rec_epochs_from_json(const json_t *j, struct rec_epochs *t, char **cause)
{
	rec_epochs_fini(t);
	if (!json_is_object(j))
		return error_set(cause, -EINVAL, "trigger state: not an object");
	t->step = (long)json_integer_value(json_object_get(j, "step"));
	t->fs = json_number_value(json_object_get(j, "fs"));
	t->fs0 = json_number_value(json_object_get(j, "fs0"));
	t->offset = json_number_value(json_object_get(j, "offset"));
	t->n = (size_t)json_integer_value(json_object_get(j, "count"));
	t->L = (size_t)json_integer_value(json_object_get(j, "L"));
	t->slices_per_volume = (size_t)json_integer_value(json_object_get(j, "slices_per_volume"));
	t->volume_gaps = json_is_true(json_object_get(j, "volume_gaps"));
	if (rec_epochs_read_array(json_object_get(j, "samples"), t->n, &t->t, cause) != 0)
		return -EINVAL;
	if (json_object_get(j, "subtract_at") != NULL &&
	    rec_epochs_read_array(json_object_get(j, "subtract_at"), t->n, &t->t_sub, cause) != 0)
		return -EINVAL;
	return 0;
}

int
rec_epochs_sync(const struct op_run *run, long step, double fs, struct rec_epochs *t, char **cause)
{
	const json_t *best = NULL, *v;
	const char *key;
	long best_step = t->step;

	json_object_foreach((json_t *)run->deps, key, v)
	{
		const json_t *tr = json_object_get(v, "triggers");
		long s;

		if (!json_is_object(tr))
			continue;
		s = (long)json_integer_value(json_object_get(tr, "step"));
		if (s <= step && s > best_step) {
			best = tr;
			best_step = s;
		}
	}
	if (best == NULL)
		return 0;
	if (rec_epochs_from_json(best, t, cause) != 0)
		return -EINVAL;
	if (fs > 0 && fabs(t->fs - fs) > 1e-9 * fs)
		return error_set(
		    cause, -EINVAL,
		    "the triggers from step %ld are at %g Hz but this channel is at %g Hz",
		    best_step, t->fs, fs);
	return 0;
}

void
rec_epochs_rescale(struct rec_epochs *t, double fs_new, long step)
{
	double ratio;

	if (t->step < 0 || t->fs <= 0)
		return;
	ratio = fs_new / t->fs;
	dsp_trigger_scale(t->t, t->n, ratio);
	if (t->t_sub != NULL)
		dsp_trigger_scale(t->t_sub, t->n, ratio);
	t->L = (size_t)llround((double)t->L * ratio);
	t->fs = fs_new;
	t->step = step;
}

long
rec_epochs_s0(const struct rec_epochs *t)
{
	return (long)trunc(t->offset * t->fs);
}

void
rec_epochs_moved(struct rec_epochs *t, long step)
{
	free(t->t_sub);
	t->t_sub = NULL;
	t->step = step;
}
