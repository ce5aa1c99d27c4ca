/* What a recording pipeline corrects: pick_channels and drop_channels (unit steps that mark
 * each channel corrected or passed through), crop (global: the part of the recording the
 * triggers are taken from), and paste_window (unit: outside the processing window, the crop or
 * the acquisition window, each channel is the input again). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/log.h"
#include "common/xmalloc.h"
#include "worker/dsp/fmri/dsp-trigger.h"
#include "worker/ops/rec/op-rec.h"

static int
op_rec_channels_parse_list(const json_t *step, const char *path, struct op_rec_pick_params *p,
			   char **cause)
{
	static const char *const keys[] = {"channels", NULL};
	const json_t *a = json_object_get(step, "channels"), *v;
	size_t i;

	if (op_param_keys(step, path, keys, cause) != 0)
		return -EINVAL;
	if (json_is_string(a)) {
		p->labels[p->n++] = json_string_value(a);
		return 0;
	}
	if (!json_is_array(a) || json_array_size(a) == 0 || json_array_size(a) > OP_REC_PICK_MAX)
		return error_set(cause, -EINVAL,
				 "%s.channels: required, a label or an array of 1 to %d labels",
				 path, OP_REC_PICK_MAX);
	json_array_foreach(a, i, v)
	{
		if (!json_is_string(v))
			return error_set(cause, -EINVAL, "%s.channels[%zu]: must be a label", path,
					 i);
		p->labels[p->n++] = json_string_value(v);
	}
	return 0;
}

static int
op_rec_channels_parse_pick(const json_t *step, const char *path, void *params, char **cause)
{
	struct op_rec_pick_params *p = params;

	p->drop = false;
	return op_rec_channels_parse_list(step, path, p, cause);
}

static int
op_rec_channels_parse_drop(const json_t *step, const char *path, void *params, char **cause)
{
	struct op_rec_pick_params *p = params;

	p->drop = true;
	return op_rec_channels_parse_list(step, path, p, cause);
}

/* Every listed label must name a channel of the input. */
static int
op_rec_channels_check(const struct op_run *run, const struct op_rec_pick_params *p,
		      const json_t *step, char **cause)
{
	const struct io_rec_header *h = run->rec->hdr;

	for (size_t i = 0; i < p->n; i++)
		if (io_rec_channel_find(h, p->labels[i]) < 0)
			return error_set(cause, -EINVAL,
					 "steps[%ld].channels: no channel '%s' in %s",
					 op_rec_step_index(step), p->labels[i], h->path);
	return 0;
}

static int
op_rec_channels_run_pick(struct op_run *run, struct rec_chan *c, const json_t *step, char **cause)
{
	const struct op_rec_pick_params *p = run->params;
	bool listed = false;
	int rc;

	if ((rc = op_rec_channels_check(run, p, step, cause)) != 0)
		return rc;
	for (size_t i = 0; i < p->n && !listed; i++)
		listed = strcmp(p->labels[i], c->label) == 0;
	c->corrected = p->drop ? c->corrected && !listed : listed;
	return 0;
}

static int
op_rec_channels_parse_crop(const json_t *step, const char *path, void *params, char **cause)
{
	static const char *const keys[] = {"tmin", "tmax", NULL};
	struct op_rec_crop_params *p = params;

	if (op_param_keys(step, path, keys, cause) != 0 ||
	    op_param_number(step, path, "tmin", 0, 0, 1e9, 0, &p->tmin, cause) != 0 ||
	    op_param_number(step, path, "tmax", 0, 0, 1e9, 0, &p->tmax, cause) != 0)
		return -EINVAL;
	if (p->tmax > 0 && p->tmax <= p->tmin)
		return error_set(cause, -EINVAL, "%s.tmax: %g s is not after tmin %g s", path,
				 p->tmax, p->tmin);
	if (p->tmin == 0 && p->tmax == 0)
		return error_set(cause, -EINVAL, "%s: give tmin, tmax or both (seconds)", path);
	return 0;
}

int
op_rec_crop_epochs(const json_t *crop, struct rec_epochs *e, char **cause)
{
	double tmin = json_number_value(json_object_get(crop, "tmin"));
	double tmax = json_number_value(json_object_get(crop, "tmax"));
	int64_t a = (int64_t)ceil(tmin * e->fs),
		b = tmax > 0 ? (int64_t)floor(tmax * e->fs) : INT64_MAX;
	long s0 = rec_epochs_s0(e);
	struct dsp_trigger_info info;
	size_t m = 0;

	for (size_t i = 0; i < e->n; i++)
		if (e->t[i] + s0 >= a && e->t[i] + s0 + (int64_t)e->L <= b) {
			if (e->t_sub != NULL)
				e->t_sub[m] = e->t_sub[i];
			e->t[m++] = e->t[i];
		}
	if (m < 2)
		return error_set(cause, -EINVAL,
				 "crop [%g, %g) s keeps %zu of the %zu triggers: at least 2 are "
				 "needed",
				 tmin, tmax, m, e->n);
	e->n = m;
	if (dsp_trigger_analyze(e->t, e->n, &info, cause) != 0)
		return -EINVAL;
	e->L = info.artifact_len;
	e->slices_per_volume = info.slices_per_volume;
	e->volume_gaps = info.volume_gaps;
	return 0;
}

static int
op_rec_channels_run_crop(struct op_run *run, const json_t *step, char **cause)
{
	const struct op_rec_crop_params *p = run->params;
	struct rec_task *r = run->rec;
	json_t *crop = json_pack("{s:I, s:f, s:f}", "step", (json_int_t)op_rec_step_index(step),
				 "tmin", p->tmin, "tmax", p->tmax);
	int rc = 0;

	if (r->epochs.step >= 0) {
		if ((rc = op_rec_crop_epochs(crop, &r->epochs, cause)) != 0) {
			json_decref(crop);
			return error_wrap(cause, rc, "steps[%ld]: ", op_rec_step_index(step));
		}
		r->epochs.step = op_rec_step_index(step);
		op_rec_result_set(run, "triggers", rec_epochs_to_json(&r->epochs));
	}
	op_rec_result_set(run, "crop", crop);
	return 0;
}

static int
op_rec_channels_parse_paste(const json_t *step, const char *path, void *params, char **cause)
{
	static const char *const keys[] = {"margin", "fade", NULL};
	struct op_rec_paste_params *p = params;

	if (op_param_keys(step, path, keys, cause) != 0 ||
	    op_param_number(step, path, "margin", 0, 0, 3600, 0.1, &p->margin, cause) != 0 ||
	    op_param_number(step, path, "fade", 0, 0, 3600, 0.5, &p->fade, cause) != 0)
		return -EINVAL;
	return 0;
}

/* The processing window [*a, *b) in samples of c: the crop, else from the first artifact's start
 * to the last one's end, widened by the margin; 0 when there is neither. */
static int
op_rec_channels_window(const struct op_run *run, const struct rec_chan *c, const json_t *step,
		       int64_t *a, int64_t *b)
{
	const struct op_rec_paste_params *p = run->params;
	const json_t *crop = op_rec_dep_newest(run, "crop", op_rec_step_index(step));
	const struct rec_epochs *e = &c->epochs;
	int64_t m = (int64_t)llround(p->margin * c->fs), lo = INT64_MAX, hi = INT64_MIN;

	if (crop != NULL) {
		double tmax = json_number_value(json_object_get(crop, "tmax"));

		*a = (int64_t)llround(json_number_value(json_object_get(crop, "tmin")) * c->fs);
		*b = tmax > 0 ? (int64_t)llround(tmax * c->fs) : (int64_t)c->n;
		return 1;
	}
	if (e->step < 0 || e->n == 0)
		return 0;
	for (size_t i = 0; i < e->n; i++) {
		lo = e->t[i] < lo ? e->t[i] : lo;
		hi = e->t[i] > hi ? e->t[i] : hi;
	}
	*a = lo + rec_epochs_s0(e) - m;
	*b = hi + rec_epochs_s0(e) + (int64_t)e->L + m;
	return 1;
}

/* x[i] becomes raw[i] outside [a, b), with raised-cosine cross-fades of f samples outside the
 * window's edges (x keeps its value at the edge, raw takes over f samples further out). */
static void
op_rec_channels_blend(double *x, const double *raw, size_t n, int64_t a, int64_t b, int64_t f)
{
	for (size_t j = 0; j < n; j++) {
		int64_t i = (int64_t)j, d = i < a ? a - i : i >= b ? i - b + 1 : 0;
		double w;

		if (d == 0)
			continue;
		w = d >= f ? 0 : 0.5 + 0.5 * cos(M_PI * (double)d / (double)f);
		x[j] = w * x[j] + (1 - w) * raw[j];
	}
}

static int
op_rec_channels_run_paste(struct op_run *run, struct rec_chan *c, const json_t *step, char **cause)
{
	const struct op_rec_paste_params *p = run->params;
	const struct io_rec_channel *ic = &run->rec->hdr->channels[c->index];
	int64_t a, b;
	double *raw;
	size_t nraw;
	int rc;

	if (fabs(ic->rate - c->fs) > 1e-9 * ic->rate)
		return error_set(cause, -EINVAL,
				 "steps[%ld]: paste_window needs the channel at the input's rate "
				 "(%g Hz), it is at %g Hz here",
				 op_rec_step_index(step), ic->rate, c->fs);
	if (!op_rec_channels_window(run, c, step, &a, &b)) {
		log_debug("paste_window: channel %s has no triggers and there is no crop",
			  c->label);
		return 0;
	}
	if ((rc = io_rec_read_channel(run->rec->in, c->index, &raw, &nraw, cause)) != 0)
		return rc;
	op_rec_channels_blend(c->x, raw, c->n < nraw ? c->n : nraw, a, b,
			      (int64_t)llround(p->fade * c->fs));
	free(raw);
	return 0;
}

const struct op_rec op_rec_pick_channels = {
    .def = OP_REC_DEF("pick_channels", OP_UNIT,
		      "correct only the channels listed in `channels`; the others pass through",
		      struct op_rec_pick_params, op_rec_channels_parse_pick),
    .flags = OP_REC_ALL_CHANNELS,
    .chan = op_rec_channels_run_pick,
};
const struct op_rec op_rec_drop_channels = {
    .def = OP_REC_DEF("drop_channels", OP_UNIT,
		      "pass the channels listed in `channels` through uncorrected",
		      struct op_rec_pick_params, op_rec_channels_parse_drop),
    .flags = OP_REC_ALL_CHANNELS,
    .chan = op_rec_channels_run_pick,
};
const struct op_rec op_rec_crop = {
    .def = OP_REC_DEF("crop", OP_GLOBAL,
		      "correct [`tmin`, `tmax`) s only: triggers outside are left out and "
		      "paste_window restores the rest",
		      struct op_rec_crop_params, op_rec_channels_parse_crop),
    .task = op_rec_channels_run_crop,
};
const struct op_rec op_rec_paste_window = {
    .def = OP_REC_DEF("paste_window", OP_UNIT,
		      "outside the crop or the acquisition window (`margin` s wider) the channel "
		      "is the input again (`fade` s cross-fades)",
		      struct op_rec_paste_params, op_rec_channels_parse_paste),
    .chan = op_rec_channels_run_paste,
};
