/* Completing a slice-trigger train from the data: the slice spacing, a local template per gap,
 * the cross-correlation search one spacing on from a trigger, the walk that repeats it while the
 * artifact is found, and the merge of the found triggers into the train. */
#include "worker/dsp/fmri/dsp-trigger-fill.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/xmalloc.h"
#include "worker/dsp/core/dsp-xcorr.h"

struct dsp_trigger_fill_ctx {
	const double *x;
	size_t n;
	const int64_t *t;
	size_t nt;
	long s0;
	size_t len, w; /* epoch length, search radius */
	double d;      /* slice spacing */
	double thr;    /* acceptance threshold (dsp_trigger_fill_calibrate) */
	const struct dsp_trigger_fill_params *p;
	int64_t *add;
	size_t nadd, cap;
	double *tpl, *seg, *c;
};

void
dsp_trigger_fill_params_init(struct dsp_trigger_fill_params *p)
{
	p->min_corr = 0.9;
	p->search = 0.1;
	p->template_epochs = 8;
	p->edges = 1;
}

void
dsp_trigger_fill_result_fini(struct dsp_trigger_fill_result *res)
{
	free(res->t);
	free(res->added);
	memset(res, 0, sizeof *res);
}

static int
dsp_trigger_fill_cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* The mean of the spacings within 3 samples of their median. */
static double
dsp_trigger_fill_spacing(const int64_t *t, size_t nt)
{
	int64_t *d = xmalloc((nt - 1) * sizeof *d), med;
	double sum = 0;
	size_t m = 0;

	for (size_t i = 0; i + 1 < nt; i++)
		d[i] = t[i + 1] - t[i];
	qsort(d, nt - 1, sizeof *d, dsp_trigger_fill_cmp);
	med = d[(nt - 1) / 2];
	for (size_t i = 0; i + 1 < nt; i++)
		if (llabs(d[i] - med) <= 3) {
			sum += (double)d[i];
			m++;
		}
	free(d);
	return sum / (double)m;
}

static int
dsp_trigger_fill_inside(const struct dsp_trigger_fill_ctx *k, int64_t q)
{
	return q + k->s0 >= 0 && q + k->s0 + (int64_t)k->len <= (int64_t)k->n;
}

/* The template: the mean of the epochs of up to template_epochs known triggers, alternately the
 * nearest before index `left` (going down) and from index `right` (going up). */
static void
dsp_trigger_fill_template(struct dsp_trigger_fill_ctx *k, size_t left, size_t right)
{
	size_t m = 0;

	memset(k->tpl, 0, k->len * sizeof *k->tpl);
	while (m < k->p->template_epochs && (left > 0 || right < k->nt)) {
		for (int side = 0; side < 2 && m < k->p->template_epochs; side++) {
			int64_t q;

			if (side == 0 && left > 0)
				q = k->t[--left];
			else if (side == 1 && right < k->nt)
				q = k->t[right++];
			else
				continue;
			if (!dsp_trigger_fill_inside(k, q))
				continue;
			for (size_t j = 0; j < k->len; j++)
				k->tpl[j] += k->x[q + k->s0 + (int64_t)j];
			m++;
		}
	}
	for (size_t j = 0; j < k->len && m > 0; j++)
		k->tpl[j] /= (double)m;
}

static double
dsp_trigger_fill_pearson(const double *a, const double *b, size_t n)
{
	double sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0, m = (double)n;

	for (size_t i = 0; i < n; i++) {
		sa += a[i];
		sb += b[i];
		saa += a[i] * a[i];
		sbb += b[i] * b[i];
		sab += a[i] * b[i];
	}
	return (sab - sa * sb / m) / sqrt(fmax((saa - sa * sa / m) * (sbb - sb * sb / m), 1e-300));
}

/* The best-matching trigger within ±w of q (cross-correlation with the template) and its
 * Pearson correlation (-1 when its epoch leaves the data). */
static int64_t
dsp_trigger_fill_find(struct dsp_trigger_fill_ctx *k, int64_t q, double *r)
{
	int64_t start = q + k->s0 - (int64_t)k->w, pos;
	size_t ns = k->len + 2 * k->w, best = 0;

	for (size_t j = 0; j < ns; j++) {
		int64_t i = start + (int64_t)j;

		k->seg[j] = i >= 0 && i < (int64_t)k->n ? k->x[i] : 0;
	}
	/* c[2w + j] = Σ seg[m + j]·tpl[m]: the trigger at q − w + j. */
	dsp_xcorr_values(k->seg, ns, k->tpl, k->len, 2 * k->w, k->c);
	for (size_t j = 1; j <= 2 * k->w; j++)
		best = k->c[2 * k->w + j] > k->c[2 * k->w + best] ? j : best;
	pos = q - (int64_t)k->w + (int64_t)best;
	*r = dsp_trigger_fill_inside(k, pos)
		 ? dsp_trigger_fill_pearson(k->x + pos + k->s0, k->tpl, k->len)
		 : -1;
	return pos;
}

static void
dsp_trigger_fill_push(struct dsp_trigger_fill_ctx *k, int64_t q)
{
	if (k->nadd == k->cap)
		k->add = xreallocarray(k->add, k->cap = k->cap ? 2 * k->cap : 64, sizeof *k->add);
	k->add[k->nadd++] = q;
}

/* From trigger p, step one spacing in direction dir while the artifact is found strictly
 * between lo and hi; returns the last trigger (p when none was found). */
static int64_t
dsp_trigger_fill_walk(struct dsp_trigger_fill_ctx *k, int64_t p, int dir, double lo, double hi)
{
	for (;;) {
		int64_t q = (int64_t)llround((double)p + dir * k->d), pos;
		double r;

		if (!((double)q > lo && (double)q < hi))
			return p;
		pos = dsp_trigger_fill_find(k, q, &r);
		if (r < k->thr || !((double)pos > lo && (double)pos < hi) || (pos - p) * dir <= 0)
			return p;
		dsp_trigger_fill_push(k, pos);
		p = pos;
	}
}

static int
dsp_trigger_fill_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The threshold: min_corr, or 0.05 under the 5th percentile of the correlations the known
 * triggers reach with the template of their neighbours when that is lower (at a few hundred Hz
 * the sampling phase changes the artifact's shape from slice to slice), but never under 0.5
 * (background EEG does not come near it). Up to 200 triggers are sampled. */
static void
dsp_trigger_fill_calibrate(struct dsp_trigger_fill_ctx *k)
{
	size_t step = k->nt / 200 + 1, m = 0;
	double *r = xcalloc(k->nt / step + 1, sizeof *r), *own = xmalloc(k->len * sizeof *own);

	for (size_t i = 1; i + 1 < k->nt; i += step) {
		if (!dsp_trigger_fill_inside(k, k->t[i]))
			continue;
		/* Neighbours only: a template without the epoch itself. */
		dsp_trigger_fill_template(k, i, i + 1);
		for (size_t j = 0; j < k->len; j++)
			own[j] = k->x[k->t[i] + k->s0 + (int64_t)j];
		r[m++] = dsp_trigger_fill_pearson(own, k->tpl, k->len);
	}
	k->thr = k->p->min_corr;
	if (m > 0) {
		qsort(r, m, sizeof *r, dsp_trigger_fill_cmp_double);
		if (r[m / 20] - 0.05 < k->thr)
			k->thr = r[m / 20] - 0.05 > 0.5 ? r[m / 20] - 0.05 : 0.5;
	}
	free(r);
	free(own);
}

static void
dsp_trigger_fill_gaps(struct dsp_trigger_fill_ctx *k)
{
	const int64_t *t = k->t;
	double half = k->d / 2;

	for (size_t i = 0; i + 1 < k->nt; i++) {
		int64_t last;

		if ((double)(t[i + 1] - t[i]) <= 1.5 * k->d)
			continue;
		dsp_trigger_fill_template(k, i + 1, i + 1);
		last =
		    dsp_trigger_fill_walk(k, t[i], 1, (double)t[i] + half, (double)t[i + 1] - half);
		dsp_trigger_fill_walk(k, t[i + 1], -1, (double)last + half,
				      (double)t[i + 1] - half);
	}
	if (!k->p->edges)
		return;
	dsp_trigger_fill_template(k, 0, 0);
	dsp_trigger_fill_walk(k, t[0], -1, -INFINITY, (double)t[0] - half);
	dsp_trigger_fill_template(k, k->nt, k->nt);
	dsp_trigger_fill_walk(k, t[k->nt - 1], 1, (double)t[k->nt - 1] + half, INFINITY);
}

static int
dsp_trigger_fill_check(size_t n, const int64_t *t, size_t nt,
		       const struct dsp_trigger_fill_params *p, char **cause)
{
	if (nt < 3)
		return error_set(cause, -EINVAL, "trigger completion: need 3 triggers, got %zu",
				 nt);
	for (size_t i = 1; i < nt; i++)
		if (t[i] <= t[i - 1])
			return error_set(cause, -EINVAL,
					 "trigger completion: trigger %zu does not follow the one "
					 "before",
					 i);
	if (!(p->min_corr > 0 && p->min_corr < 1 && p->search >= 0 && p->search < 0.5 &&
	      p->template_epochs >= 1))
		return error_set(cause, -EINVAL, "trigger completion: bad parameters");
	if (n == 0)
		return error_set(cause, -EINVAL, "trigger completion: the channel is empty");
	return 0;
}

int
dsp_trigger_fill(const double *x, size_t n, const int64_t *t, size_t nt, long s0,
		 const struct dsp_trigger_fill_params *p, struct dsp_trigger_fill_result *res,
		 char **cause)
{
	struct dsp_trigger_fill_ctx k = {0};
	int rc;

	memset(res, 0, sizeof *res);
	if ((rc = dsp_trigger_fill_check(n, t, nt, p, cause)) != 0)
		return rc;
	k.x = x;
	k.n = n;
	k.t = t;
	k.nt = nt;
	k.s0 = s0;
	k.p = p;
	k.d = dsp_trigger_fill_spacing(t, nt);
	k.len = (size_t)floor(k.d);
	k.w = (size_t)llround(p->search * k.d);
	k.w = k.w < 2 ? 2 : k.w;
	k.tpl = xcalloc(k.len, sizeof *k.tpl);
	k.seg = xcalloc(k.len + 2 * k.w, sizeof *k.seg);
	k.c = xcalloc(4 * k.w + 1, sizeof *k.c);
	dsp_trigger_fill_calibrate(&k);
	dsp_trigger_fill_gaps(&k);
	qsort(k.add, k.nadd, sizeof *k.add, dsp_trigger_fill_cmp);
	res->t = xmalloc((nt + k.nadd) * sizeof *res->t);
	memcpy(res->t, t, nt * sizeof *t);
	if (k.nadd > 0)
		memcpy(res->t + nt, k.add, k.nadd * sizeof *k.add);
	res->n = nt + k.nadd;
	qsort(res->t, res->n, sizeof *res->t, dsp_trigger_fill_cmp);
	res->added = k.add;
	res->n_added = k.nadd;
	res->spacing = k.d;
	free(k.tpl);
	free(k.seg);
	free(k.c);
	return 0;
}
