/* The run-once aligners in windows (op-rec-window.h): align_slices and align_subsample
 * cross-correlate each epoch with the reference epoch, which is read once; aas_realign builds
 * each epoch's template from the epochs around it, so its windows carry the template's epochs
 * either side. Each computes, epoch by epoch, what the whole-channel step computes. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/xmalloc.h"
#include "worker/dsp/core/dsp-xcorr.h"
#include "worker/dsp/fmri/dsp-aas.h"
#include "worker/dsp/fmri/dsp-trigger.h"
#include "worker/ops/rec/op-rec-window.h"

static int
op_rec_window_ref(const struct op_run *run, const struct rec_chan *c, const json_t *step,
		  size_t *ref, char **cause)
{
	const struct op_rec_align_params *p = run->params;

	*ref = p->ref_index;
	if (*ref >= c->epochs.n)
		return error_set(cause, -EINVAL, "steps[%ld].ref_index: %zu is past the %zu triggers",
				 op_rec_step_index(step), *ref, c->epochs.n);
	return 0;
}

/* The reference epoch x[start, start + len) (edge: padded with the end samples, else zeros). */
static int
op_rec_window_ref_epoch(struct op_rec_win *W, int64_t start, size_t len, int edge, double *out,
			char **cause)
{
	int rc = op_rec_win_load(W, start, start + (int64_t)len, cause);

	if (rc == 0)
		op_rec_win_epoch(W, start, len, 0.0, edge, out);
	return rc;
}

int
op_rec_window_slices(struct op_run *run, struct rec_chan *c, struct op_rec_win *W,
		     const json_t *step, char **cause)
{
	struct rec_epochs *t = &c->epochs;
	size_t L = t->L, w = dsp_trigger_radius(3.0, t->fs / t->fs0), ref;
	long s0 = rec_epochs_s0(t);
	struct dsp_trigger_info info;
	double *r, *seg;
	int64_t *nt;
	int rc;

	if ((rc = op_rec_window_ref(run, c, step, &ref, cause)) != 0)
		return rc;
	if (W->n == 0 || L == 0)
		return error_set(cause, -EINVAL, "artifact length must be positive");
	r = xmalloc(L * sizeof *r), seg = xmalloc((L + w) * sizeof *seg);
	nt = xmalloc(t->n * sizeof *nt);
	memcpy(nt, t->t, t->n * sizeof *nt);
	rc = op_rec_window_ref_epoch(W, t->t[ref] + s0, L, 0, r, cause);
	for (size_t c0 = 0, c1; c0 < t->n && rc == 0; c0 = c1) {
		int64_t a, b;

		c1 = op_rec_win_chunk(W, t->t, t->n, c0, 0, s0, s0 + (int64_t)(L + w));
		op_rec_win_span(W, t->t, c0, c1, s0, s0 + (int64_t)(L + w), &a, &b);
		if ((rc = op_rec_win_load(W, a, b, cause)) != 0)
			break;
		for (size_t i = c0; i < c1; i++) {
			if (i == ref)
				continue;
			op_rec_win_epoch(W, t->t[i] + s0, L + w, 0.0, 0, seg);
			nt[i] = t->t[i] + dsp_xcorr_shift(seg, L + w, r, L, w);
		}
	}
	free(r), free(seg);
	if (rc == 0 && t->n >= 2 && (rc = dsp_trigger_analyze(nt, t->n, &info, cause)) == 0) {
		t->L = info.artifact_len;
		t->slices_per_volume = info.slices_per_volume;
		t->volume_gaps = info.volume_gaps;
	}
	if (rc == 0) {
		memcpy(t->t, nt, t->n * sizeof *nt);
		rec_epochs_moved(t, op_rec_step_index(step));
	}
	free(nt);
	return rc;
}

/* Epoch i's integer lag against the reference tpl (align_subsample's search). */
static long
op_rec_window_lag(const struct op_rec_win *W, int64_t ti, size_t pre, size_t L, size_t r,
		  const double *tpl, double *seg, double *cc)
{
	long k = 0;

	/* seg starts r samples early: lag j in [0, 2r] is offset j − r. */
	op_rec_win_epoch(W, ti - (int64_t)pre - (int64_t)r, L + 2 * r, 0.0, 1, seg);
	dsp_xcorr_values(seg, L + 2 * r, tpl, L, 2 * r, cc);
	for (size_t j = 2 * r + 1; j <= 4 * r; j++)
		if (cc[j] > cc[2 * r + (size_t)k])
			k = (long)(j - 2 * r);
	return k - (long)r;
}

int
op_rec_window_subsample(struct op_run *run, struct rec_chan *c, struct op_rec_win *W,
			const json_t *step, char **cause)
{
	struct rec_epochs *t = &c->epochs;
	size_t L = t->L, r = dsp_trigger_radius(2.0, t->fs / t->fs0), pre, ref;
	double p = -nearbyint(t->offset * t->fs), *tpl, *seg, *cc;
	int64_t *nt, lo, hi;
	json_t *shifts;
	int rc;

	if ((rc = op_rec_window_ref(run, c, step, &ref, cause)) != 0)
		return rc;
	if (W->n == 0 || L == 0)
		return error_set(cause, -EINVAL, "artifact length must be positive");
	pre = p < 0.0 ? 0 : p > (double)L ? L : (size_t)p;
	lo = -(int64_t)pre - (int64_t)r, hi = (int64_t)(L - pre + r);
	tpl = xmalloc(L * sizeof *tpl), seg = xmalloc((L + 2 * r) * sizeof *seg);
	cc = xmalloc((4 * r + 1) * sizeof *cc);
	nt = xmalloc(t->n * sizeof *nt);
	shifts = json_array();
	rc = op_rec_window_ref_epoch(W, t->t[ref] - (int64_t)pre, L, 1, tpl, cause);
	for (size_t c0 = 0, c1; c0 < t->n && rc == 0; c0 = c1) {
		int64_t a, b;

		c1 = op_rec_win_chunk(W, t->t, t->n, c0, 0, lo, hi);
		op_rec_win_span(W, t->t, c0, c1, lo, hi, &a, &b);
		if ((rc = op_rec_win_load(W, a, b, cause)) != 0)
			break;
		for (size_t i = c0; i < c1; i++) {
			long k = i == ref ? 0 : op_rec_window_lag(W, t->t[i], pre, L, r, tpl, seg, cc);

			nt[i] = t->t[i] + k;
			nt[i] = nt[i] < 0 ? 0 : nt[i] >= (int64_t)W->n ? (int64_t)W->n - 1 : nt[i];
			if (i == ref)
				nt[i] = t->t[i];
			json_array_append_new(shifts, json_integer(k));
		}
	}
	free(tpl), free(seg), free(cc);
	if (rc == 0) {
		memcpy(t->t, nt, t->n * sizeof *nt);
		op_rec_result_set(run, "subsample_shifts", json_incref(shifts));
		rec_epochs_moved(t, op_rec_step_index(step));
	}
	json_decref(shifts);
	free(nt);
	return rc;
}

/* aas_realign's triggers for the core epochs [c0, c1) from the window of epochs [e0, e1). */
static int
op_rec_window_realign_chunk(struct op_rec_win *W, const struct rec_epochs *t,
			    const struct dsp_aas_params *a, size_t c0, size_t c1, size_t e0,
			    size_t e1, int64_t *out, char **cause)
{
	size_t L = t->L, ws = dsp_trigger_radius(3.0, t->fs / t->fs0), n = e1 - e0;
	long s0 = rec_epochs_s0(t);
	int64_t lo = s0 < 0 ? s0 : 0, hi = (int64_t)(L + ws) + (s0 > 0 ? s0 : 0) + 1, wa, wb;
	int64_t *tl = xmalloc(n * sizeof *tl), *to = xmalloc(n * sizeof *to);
	struct dsp_aas_templates tp = {0};
	int rc;

	op_rec_win_span(W, t->t, e0, e1, lo - 2, hi + 2, &wa, &wb);
	if ((rc = op_rec_win_load(W, wa, wb, cause)) == 0) {
		for (size_t i = 0; i < n; i++)
			tl[i] = t->t[e0 + i] - W->a;
		rc = dsp_aas_templates_make(&tp, W->w, (size_t)(W->b - W->a), tl, n, L, s0, a,
					    cause);
	}
	if (rc == 0)
		rc = dsp_aas_realign(W->w, (size_t)(W->b - W->a), tl, n, s0, &tp, t->fs / t->fs0,
				     to, cause);
	for (size_t i = c0; rc == 0 && i < c1; i++)
		out[i] = to[i - e0] + W->a;
	dsp_aas_templates_fini(&tp);
	free(tl), free(to);
	return rc;
}

int
op_rec_window_realign(struct op_run *run, struct rec_chan *c, struct op_rec_win *W,
		      const json_t *step, char **cause)
{
	struct rec_epochs *t = &c->epochs;
	const struct op_rec_aas_params *p = run->params;
	struct dsp_aas_params a = p->aas;
	size_t mg, n = t->n, L = t->L;
	int64_t *out;
	int rc;

	/* As the whole-channel step: the weighted modes realign on plain nearest templates. */
	if (a.mode != DSP_AAS_BLOCKS && a.mode != DSP_AAS_SLIDING) {
		a.mode = DSP_AAS_NEAREST;
		a.scale = DSP_AAS_SCALE_OFF;
		a.motion = NULL;
		a.interpolate_gaps = 0;
	}
	if (n == 0 || L == 0 || a.window == 0)
		return error_set(cause, -EINVAL, "AAS needs triggers and an artifact length "
				 "(triggers=%zu, L=%zu)", n, L);
	if ((rc = op_rec_win_mean(W, &a.mean, cause)) != 0)
		return rc;
	a.mean_given = 1;
	mg = a.mode == DSP_AAS_BLOCKS ? 0 : a.window + 2;
	out = xmalloc(n * sizeof *out);
	for (size_t c0 = 0, c1; c0 < n && rc == 0; c0 = c1) {
		c1 = op_rec_win_chunk(W, t->t, n, c0, mg, rec_epochs_s0(t), (int64_t)(L + 64));
		if (a.mode == DSP_AAS_BLOCKS) /* whole blocks: each is its own */
			c1 = (c1 + a.window - 1) / a.window * a.window < n
				 ? (c1 + a.window - 1) / a.window * a.window
				 : n;
		rc = op_rec_window_realign_chunk(W, t, &a, c0, c1, c0 > mg ? c0 - mg : 0,
						 c1 + mg < n ? c1 + mg : n, out, cause);
	}
	if (rc == 0) {
		free(t->t_sub);
		t->t_sub = out;
		t->step = op_rec_step_index(step);
	} else {
		free(out);
	}
	return rc;
}
