/* aas in windows (op-rec-window.h), with the downsampling after it: the channel mean and (auto)
 * the choice first, each by a pass over the windows, then one stretch of output at a time, from
 * the working samples its downsampling reads, corrected by the templates of the epochs reaching
 * them, which are built from the epochs around those. */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/xmalloc.h"
#include "worker/dsp/fmri/dsp-aas.h"
#include "worker/ops/rec/op-rec-window.h"

/* aas in windows: what the whole-channel step computes, gathered over the windows. */
struct op_rec_win_aas {
	struct dsp_aas_params q; /* the mode as chosen (auto: its choice), mean given */
	const int64_t *t, *ts;   /* template triggers, subtraction triggers */
	size_t nt, L;
	long s0;
	size_t mg; /* epochs either side a template may draw on */
	double error_db, removed;
	struct dsp_aas_choice ch; /* from the first window's templates, ranges over all */
	bool have_ch;
	double *y, *noise; /* the output at the recorded rate */
	struct dsp_resample_block_params down;
};

/* aas auto (or scale auto): its choice from every epoch decimated to the recording's rate, as
 * the whole-channel step scores them. */
static int
op_rec_win_aas_choose(struct op_rec_win *W, struct op_rec_win_aas *A,
		      const struct dsp_aas_params *a, char **cause)
{
	size_t d = a->decim ? a->decim : 1, m = (A->L + d - 1) / d;
	double *X = xmalloc((A->nt * m + 1) * sizeof *X), *e = xmalloc(A->L * sizeof *e);
	int rc = 0;

	for (size_t c0 = 0, c1; c0 < A->nt && rc == 0; c0 = c1) {
		int64_t lo, hi;

		c1 = op_rec_win_chunk(W, A->t, A->nt, c0, 0, A->s0, A->s0 + (int64_t)A->L);
		op_rec_win_span(W, A->t, c0, c1, A->s0, A->s0 + (int64_t)A->L, &lo, &hi);
		if ((rc = op_rec_win_load(W, lo, hi, cause)) != 0)
			break;
		for (size_t i = c0; i < c1; i++) {
			op_rec_win_epoch(W, A->t[i] + A->s0, A->L, A->q.mean, 0, e);
			for (size_t j = 0; j < m; j++) {
				size_t u = j * d, v = u + d < A->L ? u + d : A->L;
				double acc = 0;

				for (size_t k = u; k < v; k++)
					acc += e[k];
				X[i * m + j] = acc / (double)(v - u);
			}
		}
	}
	free(e);
	if (rc != 0) {
		free(X);
		return rc;
	}
	return dsp_aas_auto_choose(X, A->nt, m, a, &A->q, &A->error_db, cause);
}

/* Epochs either side of an epoch that its template may draw on in mode q (nearest: half the
 * window inside the channel, the whole window at its ends: op_rec_win_aas_subset). */
static size_t
op_rec_win_aas_margin(const struct dsp_aas_params *q)
{
	size_t W = q->window, spv = q->slices_per_volume ? q->slices_per_volume : 1;

	switch (q->mode) {
	case DSP_AAS_BLOCKS:
		return 0;
	case DSP_AAS_NEAREST:
		return W / 2 + 2;
	case DSP_AAS_SLICE:
		return (W + 2) * spv;
	case DSP_AAS_FARM:
		return (q->farm_range + 1) * W + 2;
	default:
		return W + 2;
	}
}

/* Epochs [*e0, *e1) whose correction reaches working samples [s0, s1) (an epoch's reaches to
 * the next one's start, for the gap lines), widened by the template margin (blocks: to whole
 * blocks). False when none does. */
static bool
op_rec_win_aas_subset(const struct op_rec_win_aas *A, int64_t s0, int64_t s1, size_t *e0,
		      size_t *e1)
{
	size_t i0 = A->nt, i1 = 0, W = A->q.window;

	for (size_t i = 0; i < A->nt; i++) {
		int64_t start = A->ts[i] + A->s0, end = start + (int64_t)A->L;

		if (i + 1 < A->nt && A->ts[i + 1] + A->s0 > end)
			end = A->ts[i + 1] + A->s0;
		if (start < s1 && end > s0) {
			i0 = i < i0 ? i : i0;
			i1 = i + 1;
		}
	}
	if (i1 == 0)
		return false;
	i0 = i0 > 0 ? i0 - 1 : 0;
	i1 = i1 < A->nt ? i1 + 1 : i1;
	*e0 = i0 > A->mg ? i0 - A->mg : 0;
	*e1 = i1 + A->mg < A->nt ? i1 + A->mg : A->nt;
	if (A->q.mode == DSP_AAS_NEAREST) {
		/* The window of W + 1 epochs shifts inwards at the channel's ends. */
		*e1 = *e0 == 0 && *e1 < W + 3 ? (W + 3 < A->nt ? W + 3 : A->nt) : *e1;
		*e0 = *e1 == A->nt && A->nt - *e0 < W + 3 ? (A->nt > W + 3 ? A->nt - W - 3 : 0)
							  : *e0;
	}
	if (A->q.mode == DSP_AAS_BLOCKS) {
		*e0 = *e0 / W * W;
		*e1 = (*e1 + W - 1) / W * W < A->nt ? (*e1 + W - 1) / W * W : A->nt;
	}
	return true;
}

/* What the whole-channel step reports of its templates, over the epochs this window owns
 * (those starting in working samples [p0, p1), each epoch owned by one window). */
static void
op_rec_win_aas_stats(struct op_rec_win_aas *A, const struct dsp_aas_templates *tp, size_t e0,
		     int64_t p0, int64_t p1, int last)
{
	size_t d = A->q.decim ? A->q.decim : 1;

	if (!A->have_ch) {
		A->have_ch = true;
		A->ch = tp->choice;
		A->ch.scale_min = A->ch.shift_min = INFINITY;
		A->ch.scale_max = A->ch.shift_max = -INFINITY;
	}
	for (size_t j = 0; j < tp->nepochs; j++) {
		int64_t s = A->ts[e0 + j] + A->s0;
		const double *t = dsp_aas_template(tp, j);
		double a = tp->scale != NULL ? tp->scale[j] : 1.0;

		if (!((s >= p0 || p0 == 0) && (s < p1 || last)))
			continue;
		for (size_t k = 0; k < tp->len; k++)
			A->removed += a * a * t[k] * t[k];
		A->ch.scale_min = fmin(A->ch.scale_min, a);
		A->ch.scale_max = fmax(A->ch.scale_max, a);
		if (tp->advance != NULL) {
			A->ch.shift_min = fmin(A->ch.shift_min, -tp->advance[j] / (double)d);
			A->ch.shift_max = fmax(A->ch.shift_max, -tp->advance[j] / (double)d);
		}
	}
}

/* The window for output [p0, p1): the working samples its downsampling reads and the epochs
 * [*e0, *e1) reaching them with those their templates draw on, loaded. */
static int
op_rec_win_aas_load(struct op_rec_win *W, const struct op_rec_win_aas *A, size_t p0, size_t p1,
		    size_t *e0, size_t *e1, char **cause)
{
	int64_t a, b, a2, b2, pad = 2;
	size_t s0, s1;

	dsp_resample_block_span(&A->down, p0, p1, &s0, &s1);
	a = (int64_t)s0, b = (int64_t)s1;
	*e0 = *e1 = 0;
	if (op_rec_win_aas_subset(A, a, b, e0, e1)) {
		op_rec_win_span(W, A->t, *e0, *e1, A->s0 - pad, A->s0 + (int64_t)A->L + pad, &a2,
				&b2);
		a = a2 < a ? a2 : a, b = b2 > b ? b2 : b;
		op_rec_win_span(W, A->ts, *e0, *e1, A->s0 - pad, A->s0 + (int64_t)A->L + pad, &a2,
				&b2);
		a = a2 < a ? a2 : a, b = b2 > b ? b2 : b;
	}
	return op_rec_win_load(W, a, b, cause);
}

/* One stretch [p0, p1) of the output at the recorded rate: the working samples its downsampling
 * reads, corrected by the templates of the epochs reaching them, downsampled into A->y; then
 * the subtracted templates, in the same place, into A->noise. */
static int
op_rec_win_aas_piece(struct op_rec_win *W, struct op_rec_win_aas *A, size_t p0, size_t p1,
		     char **cause)
{
	struct dsp_aas_templates tp = {0};
	size_t e0, e1, k = W->k, nsub, nw;
	int64_t *tl = NULL, *tsl = NULL;
	int rc;

	if ((rc = op_rec_win_aas_load(W, A, p0, p1, &e0, &e1, cause)) != 0)
		return rc;
	nsub = e1 - e0, nw = (size_t)(W->b - W->a);
	if (nsub > 0) {
		tl = xmalloc(nsub * sizeof *tl), tsl = xmalloc(nsub * sizeof *tsl);
		for (size_t i = 0; i < nsub; i++)
			tl[i] = A->t[e0 + i] - W->a, tsl[i] = A->ts[e0 + i] - W->a;
		rc = dsp_aas_templates_make(&tp, W->w, nw, tl, nsub, A->L, A->s0, &A->q, cause);
		if (rc == 0)
			rc = dsp_aas_subtract(W->w, nw, tsl, nsub, A->s0, &tp, NULL, cause);
		if (rc == 0)
			op_rec_win_aas_stats(A, &tp, e0, (int64_t)(p0 * k), (int64_t)(p1 * k),
					     p1 == W->n0);
	}
	if (rc == 0)
		rc = op_rec_win_down(W, &A->down, W->w, W->a, p0, p1, A->y, cause);
	if (rc == 0 && A->noise != NULL) {
		memset(W->w, 0, nw * sizeof *W->w);
		if (nsub > 0)
			rc = dsp_aas_subtract(NULL, nw, tsl, nsub, A->s0, &tp, W->w, cause);
		if (rc == 0)
			rc = op_rec_win_down(W, &A->down, W->w, W->a, p0, p1, A->noise, cause);
	}
	free(tl), free(tsl);
	dsp_aas_templates_fini(&tp);
	return rc;
}

/* The stretches of output: as long as the window budget leaves room for beside the downsampling
 * margins and the epochs the templates draw on, and at least as long as those. */
static size_t
op_rec_win_aas_stretch(const struct op_rec_win *W, const struct op_rec_win_aas *A)
{
	size_t over = 2 * A->down.margin + 2 * (A->mg + 2) * A->L + 64, room;

	/* At least the overlap: no sample is worked on more than twice. */
	room = W->budget > 2 * over ? W->budget - over : over;
	return room / W->k > 0 ? room / W->k : 1;
}

/* The step's parameters as the whole-channel aas sets them for channel c at the working rate. */
static void
op_rec_win_aas_params(const struct op_rec_aas_params *p, const struct rec_chan *c, double fs,
		      struct dsp_aas_params *a)
{
	const struct rec_epochs *t = &c->epochs;

	*a = p->aas;
	a->fs = fs;
	a->decim = t->fs0 > 0 ? (size_t)lround(fs / t->fs0) : 1;
	a->decim = a->decim ? a->decim : 1;
	a->slices_per_volume = t->volume_gaps ? t->slices_per_volume : 0;
}

int
op_rec_window_aas(struct op_run *run, struct rec_chan *c, struct op_rec_win *W,
		  const json_t *step, const struct op_rec_aas_params *p, double fs, char **cause)
{
	struct rec_epochs *t = &c->epochs;
	struct op_rec_win_aas A = {.t = t->t, .ts = t->t_sub != NULL ? t->t_sub : t->t, .nt = t->n,
				   .L = t->L, .s0 = rec_epochs_s0(t), .error_db = NAN};
	struct dsp_aas_params a;
	int weighted, rc;
	size_t len;

	op_rec_win_aas_params(p, c, fs, &a);
	weighted = a.mode != DSP_AAS_BLOCKS && a.mode != DSP_AAS_SLIDING;
	if (A.nt == 0 || A.L == 0 || a.window == 0)
		return error_set(cause, -EINVAL, "AAS needs triggers and an artifact length "
				 "(triggers=%zu, L=%zu)", A.nt, A.L);
	if ((rc = op_rec_win_mean(W, &a.mean, cause)) != 0)
		return rc;
	a.mean_given = 1;
	A.q = a;
	if (weighted && (a.mode == DSP_AAS_AUTO || a.scale == DSP_AAS_SCALE_AUTO) &&
	    (rc = op_rec_win_aas_choose(W, &A, &a, cause)) != 0)
		return rc;
	A.mg = op_rec_win_aas_margin(&A.q);
	A.down = (struct dsp_resample_block_params){
	    .n = W->n, .up = 1, .down = W->k, .margin = (size_t)(OP_REC_WINDOW_DOWN_MARGIN_S * fs)};
	A.y = xmalloc(W->n0 * sizeof *A.y);
	A.noise = p->keep_noise ? xmalloc(W->n0 * sizeof *A.noise) : NULL;
	len = op_rec_win_aas_stretch(W, &A);
	for (size_t p0 = 0; p0 < W->n0 && rc == 0; p0 += len)
		rc = op_rec_win_aas_piece(W, &A, p0, p0 + len < W->n0 ? p0 + len : W->n0, cause);
	if (rc != 0) {
		free(A.y), free(A.noise);
		return rc;
	}
	if (weighted && (a.mode == DSP_AAS_AUTO || a.scale == DSP_AAS_SCALE_AUTO))
		A.ch.error_db = A.error_db;
	op_rec_aas_choice_set(c, &A.ch, 1e6 * sqrt(A.removed / (double)(A.nt * A.L)), &a);
	free(c->x);
	c->x = A.y;
	free(c->noise);
	c->noise = A.noise;
	if (t->t_sub != NULL) {
		free(t->t);
		t->t = t->t_sub;
		t->t_sub = NULL;
	}
	t->step = op_rec_step_index(step);
	return 0;
}

