/* Completing a slice-trigger train from the data: the train's grid (slice spacing, the interval
 * at volume boundaries, slices per volume), the expected positions of the missing triggers on
 * that grid, the template-correlation test that the artifact is there, the placement radius the
 * marks themselves support, the walk past the ends, and the merge of the found triggers. */
#include "worker/dsp/fmri/dsp-trigger-fill.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/xmalloc.h"
#include "common/xsort.h"
#include "worker/dsp/core/dsp-xcorr.h"

struct dsp_trigger_fill_ctx {
	const double *x;
	size_t n;
	const int64_t *t;
	size_t nt;
	long s0;
	const struct dsp_trigger_fill_params *p;
	double d;     /* in-volume slice spacing */
	double tau;   /* how far an in-volume interval strays from d */
	double D;     /* the interval across a volume boundary (0: none found) */
	size_t S;     /* slices per volume (0: not known) */
	size_t len;   /* epoch length */
	size_t w;     /* presence search radius */
	size_t R;     /* placement radius */
	double thr;   /* presence threshold */
	double e_tpl; /* Σ tpl² of the de-meaned template */
	int64_t *add;
	size_t nadd, cap;
	double *tpl, *seg, *c, *r, *cs, *cs2;
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

static int
dsp_trigger_fill_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double
dsp_trigger_fill_interval(const struct dsp_trigger_fill_ctx *k, size_t i)
{
	return (double)(k->t[i + 1] - k->t[i]);
}

/* The slice spacing and how far in-volume intervals stray from it. First the mean of the
 * intervals within 3 samples of their median; the spread is 4 robust standard deviations
 * (1.4826 median absolute deviations, less the half sample of the marks' rounding) of the
 * intervals within a quarter spacing, at least 1.5 samples (a rounded mark is within half a
 * sample of its slice); the spacing is then the mean of the intervals within that spread, so a
 * short pause between volumes does not lengthen it. */
static void
dsp_trigger_fill_spacing(struct dsp_trigger_fill_ctx *k)
{
	size_t m = k->nt - 1, nd = 0, na = 0;
	double *d = xmalloc(m * sizeof *d), *a = xmalloc(m * sizeof *a), d0, sum = 0;

	for (size_t i = 0; i < m; i++)
		d[i] = dsp_trigger_fill_interval(k, i);
	xqsort(d, m, sizeof *d, dsp_trigger_fill_cmp_double);
	for (size_t i = 0; i < m; i++)
		if (fabs(d[i] - d[(m - 1) / 2]) <= 3) {
			sum += d[i];
			nd++;
		}
	d0 = sum / (double)nd;
	for (size_t i = 0; i < m; i++)
		if (fabs(d[i] - d0) <= 0.25 * d0)
			a[na++] = fmax(0, fabs(d[i] - d0) - 0.5);
	xqsort(a, na, sizeof *a, dsp_trigger_fill_cmp_double);
	k->tau = fmax(1.5, 4 * 1.4826 * a[na / 2]);
	sum = 0;
	nd = 0;
	for (size_t i = 0; i < m; i++)
		if (fabs(d[i] - d0) <= k->tau) {
			sum += d[i];
			nd++;
		}
	k->d = sum / (double)nd;
	free(d);
	free(a);
}

/* The largest group of sorted values v[0..n) within `width` of its first: its mean and size. */
static size_t
dsp_trigger_fill_mode(const double *v, size_t n, double width, double *mean)
{
	size_t best = 0, at = 0;
	double sum = 0;

	for (size_t i = 0, j = 0; i < n; i++) {
		while (j < n && v[j] - v[i] <= width)
			j++;
		if (j - i > best) {
			best = j - i;
			at = i;
		}
	}
	for (size_t i = at; i < at + best; i++)
		sum += v[i];
	*mean = best ? sum / (double)best : 0;
	return best;
}

static int
dsp_trigger_fill_is_boundary(const struct dsp_trigger_fill_ctx *k, size_t i)
{
	return k->D > 0 && fabs(dsp_trigger_fill_interval(k, i) - k->D) <= k->tau;
}

/* The volume structure of the marks: the most common interval longer than an in-volume one is
 * the boundary's, when it recurs at one period (the most common span between boundaries, held
 * by at least half of them) that is a whole number of slices. Else none is known. */
static void
dsp_trigger_fill_volumes(struct dsp_trigger_fill_ctx *k)
{
	size_t m = k->nt - 1, nv = 0, ns = 0, nb;
	double *v = xmalloc(m * sizeof *v), *span = xmalloc(m * sizeof *span), tr, s;
	int64_t prev = -1;

	for (size_t i = 0; i < m; i++)
		if (dsp_trigger_fill_interval(k, i) > k->d + k->tau)
			v[nv++] = dsp_trigger_fill_interval(k, i);
	xqsort(v, nv, sizeof *v, dsp_trigger_fill_cmp_double);
	if (dsp_trigger_fill_mode(v, nv, 2 * k->tau, &k->D) < 2)
		k->D = 0;
	for (size_t i = 0; i < m && k->D > 0; i++)
		if (dsp_trigger_fill_is_boundary(k, i)) {
			if (prev >= 0)
				span[ns++] = (double)(k->t[i + 1] - prev);
			prev = k->t[i + 1];
		}
	xqsort(span, ns, sizeof *span, dsp_trigger_fill_cmp_double);
	nb = dsp_trigger_fill_mode(span, ns, 2 * k->tau, &tr);
	s = (tr - k->D) / k->d + 1;
	/* Boundaries at one period, at least 3 of them and at half the volumes the marks span
	 * (missing single marks leave intervals of two spacings at random places). */
	if (k->D > 0 && nb >= 2 && 2 * nb >= ns &&
	    2.0 * (double)(ns + 1) >= (double)(k->t[k->nt - 1] - k->t[0]) / tr && s >= 1.5 &&
	    fabs(tr - k->D - (round(s) - 1) * k->d) <= k->tau * (1 + sqrt(round(s))))
		k->S = (size_t)round(s);
	else
		k->D = 0;
	free(v);
	free(span);
}

/* Interval i is a whole number of slice spacings (no boundary hidden in it). */
static int
dsp_trigger_fill_in_volume(const struct dsp_trigger_fill_ctx *k, size_t i)
{
	double v = dsp_trigger_fill_interval(k, i);

	return fabs(v - round(v / k->d) * k->d) <= k->tau + 1;
}

/* The slice index of mark i in its volume, from the nearest boundary before it or else after
 * it, or -1 when neither is within a volume. */
static long
dsp_trigger_fill_slice_index(const struct dsp_trigger_fill_ctx *k, size_t i)
{
	if (k->S == 0)
		return -1;
	for (size_t j = i; j > 0; j--) {
		double slots = (double)(k->t[i] - k->t[j]) / k->d;

		if (slots > (double)k->S)
			break;
		if (dsp_trigger_fill_is_boundary(k, j - 1))
			return lround(slots) < (long)k->S ? lround(slots) : -1;
		if (!dsp_trigger_fill_in_volume(k, j - 1))
			break;
	}
	for (size_t j = i; j + 1 < k->nt; j++) {
		double slots = (double)(k->t[j] - k->t[i]) / k->d;

		if (slots > (double)k->S)
			break;
		if (dsp_trigger_fill_is_boundary(k, j))
			return lround(slots) < (long)k->S ? (long)k->S - 1 - lround(slots) : -1;
		if (!dsp_trigger_fill_in_volume(k, j))
			break;
	}
	return -1;
}

static int
dsp_trigger_fill_inside(const struct dsp_trigger_fill_ctx *k, int64_t q)
{
	return q + k->s0 >= 0 && q + k->s0 + (int64_t)k->len <= (int64_t)k->n;
}

/* The template: the de-meaned mean of the epochs of up to template_epochs known triggers,
 * alternately the nearest before index `left` (going down) and from index `right` (going up). */
static void
dsp_trigger_fill_template(struct dsp_trigger_fill_ctx *k, size_t left, size_t right)
{
	size_t m = 0;
	double mean = 0;

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
	for (size_t j = 0; j < k->len; j++)
		mean += k->tpl[j] / (double)k->len;
	k->e_tpl = 0;
	for (size_t j = 0; j < k->len; j++) {
		k->tpl[j] -= mean;
		k->e_tpl += k->tpl[j] * k->tpl[j];
	}
}

/* r[w + l], l in [−w, w]: the Pearson correlation of the epoch of a trigger at q + l with the
 * template (-2 where that epoch leaves the data). */
static void
dsp_trigger_fill_corr(struct dsp_trigger_fill_ctx *k, int64_t q)
{
	int64_t start = q + k->s0 - (int64_t)k->w;
	size_t ns = k->len + 2 * k->w;
	double fl = (double)k->len;

	k->cs[0] = k->cs2[0] = 0;
	for (size_t j = 0; j < ns; j++) {
		int64_t i = start + (int64_t)j;

		k->seg[j] = i >= 0 && i < (int64_t)k->n ? k->x[i] : 0;
		k->cs[j + 1] = k->cs[j] + k->seg[j];
		k->cs2[j + 1] = k->cs2[j] + k->seg[j] * k->seg[j];
	}
	/* c[2w + j] = Σ seg[m + j]·tpl[m]: the trigger at q − w + j (tpl sums to 0). */
	dsp_xcorr_values(k->seg, ns, k->tpl, k->len, 2 * k->w, k->c);
	for (size_t j = 0; j <= 2 * k->w; j++) {
		double s = k->cs[j + k->len] - k->cs[j], s2 = k->cs2[j + k->len] - k->cs2[j];
		double v = s2 - s * s / fl;

		k->r[j] = dsp_trigger_fill_inside(k, q - (int64_t)k->w + (int64_t)j)
			      ? k->c[2 * k->w + j] / sqrt(fmax(v * k->e_tpl, 1e-300))
			      : -2;
	}
}

/* The lag in [−radius, radius] with the highest correlation (the smallest |lag| on ties). */
static long
dsp_trigger_fill_best(const struct dsp_trigger_fill_ctx *k, size_t radius)
{
	long best = 0;

	for (long l = 1; l <= (long)radius; l++)
		for (int sg = -1; sg <= 1; sg += 2)
			if (k->r[(long)k->w + sg * l] > k->r[(long)k->w + best])
				best = sg * l;
	return best;
}

static void
dsp_trigger_fill_push(struct dsp_trigger_fill_ctx *k, int64_t q)
{
	if (k->nadd == k->cap)
		k->add = xreallocarray(k->add, k->cap = k->cap ? 2 * k->cap : 64, sizeof *k->add);
	k->add[k->nadd++] = q;
}

/* The slot expected at q: the artifact is there when the template correlates at thr or more
 * within the search radius; it is placed at the best lag within `radius` of q, strictly
 * between lo and hi. Returns 1 and *pos when accepted. */
static int
dsp_trigger_fill_slot(struct dsp_trigger_fill_ctx *k, int64_t q, size_t radius, double lo,
		      double hi, int64_t *pos)
{
	long b;

	dsp_trigger_fill_corr(k, q);
	if (k->r[k->w + dsp_trigger_fill_best(k, k->w)] < k->thr)
		return 0;
	b = dsp_trigger_fill_best(k, radius);
	if (k->r[(long)k->w + b] < -1)
		return 0;
	*pos = q + b;
	return (double)*pos > lo && (double)*pos < hi;
}

/* The threshold and the placement radius, from the marks: for up to 200 marks one in-volume
 * interval after the one before, the template of their neighbours is searched for one spacing
 * on. The threshold is min_corr, or 0.05 under the 5th percentile of the best correlations
 * reached there when that is lower (at a few hundred Hz the sampling phase changes the
 * artifact's shape from slice to slice), never under 0.5 (background EEG does not come near
 * it). The radius is the one whose best lag lands nearest the marks on average: 0 (the grid
 * alone) where the artifact repeats within a slice (a readout near the Nyquist frequency
 * correlates as well one period off), more where the marks themselves stray. */
static void
dsp_trigger_fill_calibrate(struct dsp_trigger_fill_ctx *k)
{
	size_t step = k->nt / 200 + 1, m = 0;
	double *rmax = xcalloc(k->nt / step + 1, sizeof *rmax);
	double *err = xcalloc(k->w + 1, sizeof *err);

	for (size_t i = 1; i + 1 < k->nt; i += step) {
		int64_t q = k->t[i - 1] + (int64_t)llround(k->d);

		if (fabs(dsp_trigger_fill_interval(k, i - 1) - k->d) > k->tau ||
		    !dsp_trigger_fill_inside(k, q - (int64_t)k->w) ||
		    !dsp_trigger_fill_inside(k, q + (int64_t)k->w))
			continue;
		dsp_trigger_fill_template(k, i, i + 1); /* neighbours only */
		dsp_trigger_fill_corr(k, q);
		rmax[m++] = k->r[k->w + dsp_trigger_fill_best(k, k->w)];
		for (size_t R = 0; R <= k->w; R++)
			err[R] += (double)llabs(q + dsp_trigger_fill_best(k, R) - k->t[i]);
	}
	k->thr = k->p->min_corr;
	k->R = 0;
	if (m > 0) {
		xqsort(rmax, m, sizeof *rmax, dsp_trigger_fill_cmp_double);
		if (rmax[m / 20] - 0.05 < k->thr)
			k->thr = rmax[m / 20] - 0.05 > 0.5 ? rmax[m / 20] - 0.05 : 0.5;
		for (size_t R = 1; R <= k->w; R++)
			k->R = err[R] < err[k->R] - 1e-9 ? R : k->R;
	}
	free(rmax);
	free(err);
}

/* From mark i (slice index ki, -1 unknown), walk in direction dir one slot at a time (across a
 * volume boundary when the slice index says so) while the artifact is found strictly between
 * lo and hi; returns the last position (t[i] when none was found). */
static int64_t
dsp_trigger_fill_walk(struct dsp_trigger_fill_ctx *k, size_t i, long ki, int dir, double lo,
		      double hi)
{
	size_t radius = ki >= 0 ? k->R : k->w;
	double base = (double)k->t[i];
	int64_t p = k->t[i], pos;

	for (;;) {
		int cross = ki >= 0 && k->D > 0 && (dir > 0 ? ki == (long)k->S - 1 : ki == 0);
		double q = base + dir * (cross ? k->D : k->d);

		if (!(q > lo && q < hi) ||
		    !dsp_trigger_fill_inside(k, (int64_t)llround(q) - (int64_t)k->w) ||
		    !dsp_trigger_fill_inside(k, (int64_t)llround(q) + (int64_t)k->w) ||
		    !dsp_trigger_fill_slot(k, (int64_t)llround(q), radius, lo, hi, &pos) ||
		    (pos - p) * dir <= 0)
			return p;
		dsp_trigger_fill_push(k, pos);
		p = pos;
		base = radius >= k->w ? (double)pos : q;
		if (ki >= 0)
			ki = (ki + dir + (long)k->S) % (long)k->S;
	}
}

/* The gap after mark i as steps on the grid: a whole number of slice spacings, or of spacings
 * and one boundary placed by the slice index; the expected slots spread the steps over the
 * gap. Returns 0 when the grid does not explain the gap. */
static int
dsp_trigger_fill_grid_gap(struct dsp_trigger_fill_ctx *k, size_t i)
{
	double gap = dsp_trigger_fill_interval(k, i), tol = k->tau + 1, lo, hi, scale, at = 0;
	long a0 = lround(gap / k->d), a1 = k->D > 0 ? lround((gap - k->D) / k->d) : -1, bnd = -1;
	double r0 = fabs(gap - (double)a0 * k->d), r1 = fabs(gap - k->D - (double)a1 * k->d);
	long steps, ki;

	if (a1 >= 0 && r1 <= tol && (r0 > tol || r1 < r0)) {
		if ((ki = dsp_trigger_fill_slice_index(k, i)) >= 0)
			bnd = (long)k->S - 1 - ki;
		else if ((ki = dsp_trigger_fill_slice_index(k, i + 1)) >= 0)
			bnd = a1 - ki;
		if (bnd < 0 || bnd > a1)
			return 0;
		steps = a1 + 1;
		scale = gap / ((double)a1 * k->d + k->D);
	} else if (r0 <= tol && a0 >= 2) {
		steps = a0;
		scale = gap / ((double)a0 * k->d);
	} else {
		return 0;
	}
	lo = (double)k->t[i] + k->d / 2;
	hi = (double)k->t[i + 1] - k->d / 2;
	dsp_trigger_fill_template(k, i + 1, i + 1);
	for (long s = 0; s + 1 < steps; s++) {
		int64_t pos;

		at += scale * (s == bnd ? k->D : k->d);
		if (dsp_trigger_fill_slot(k, (int64_t)llround((double)k->t[i] + at), k->R, lo, hi,
					  &pos))
			dsp_trigger_fill_push(k, pos);
	}
	return 1;
}

static void
dsp_trigger_fill_gaps(struct dsp_trigger_fill_ctx *k)
{
	const int64_t *t = k->t;
	double half = k->d / 2;

	for (size_t i = 0; i + 1 < k->nt; i++) {
		double gap = dsp_trigger_fill_interval(k, i);
		int64_t last;

		if (gap <= 1.5 * k->d || dsp_trigger_fill_is_boundary(k, i) ||
		    dsp_trigger_fill_grid_gap(k, i))
			continue;
		/* Not on the grid: searched from both ends. */
		dsp_trigger_fill_template(k, i + 1, i + 1);
		last = dsp_trigger_fill_walk(k, i, -1, 1, (double)t[i] + half,
					     (double)t[i + 1] - half);
		dsp_trigger_fill_walk(k, i + 1, -1, -1, (double)last + half,
				      (double)t[i + 1] - half);
	}
	if (!k->p->edges)
		return;
	dsp_trigger_fill_template(k, 0, 0);
	dsp_trigger_fill_walk(k, 0, dsp_trigger_fill_slice_index(k, 0), -1, -INFINITY,
			      (double)t[0] - half);
	dsp_trigger_fill_template(k, k->nt, k->nt);
	dsp_trigger_fill_walk(k, k->nt - 1, dsp_trigger_fill_slice_index(k, k->nt - 1), 1,
			      (double)t[k->nt - 1] + half, INFINITY);
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

static void
dsp_trigger_fill_merge(struct dsp_trigger_fill_ctx *k, struct dsp_trigger_fill_result *res)
{
	size_t m = 0;

	xqsort(k->add, k->nadd, sizeof *k->add, dsp_trigger_fill_cmp);
	for (size_t i = 0; i < k->nadd; i++) /* a slot found from both ends counts once */
		if (m == 0 || k->add[i] != k->add[m - 1])
			k->add[m++] = k->add[i];
	k->nadd = m;
	res->t = xmalloc((k->nt + k->nadd) * sizeof *res->t);
	if (k->nt > 0)
		memcpy(res->t, k->t, k->nt * sizeof *k->t);
	if (k->nadd > 0)
		memcpy(res->t + k->nt, k->add, k->nadd * sizeof *k->add);
	res->n = k->nt + k->nadd;
	xqsort(res->t, res->n, sizeof *res->t, dsp_trigger_fill_cmp);
	res->added = k->add;
	res->n_added = k->nadd;
	res->spacing = k->d;
	res->boundary = k->D;
	res->slices = k->S;
	res->radius = k->R;
	res->threshold = k->thr;
}

int
dsp_trigger_fill(const double *x, size_t n, const int64_t *t, size_t nt, long s0,
		 const struct dsp_trigger_fill_params *p, struct dsp_trigger_fill_result *res,
		 char **cause)
{
	struct dsp_trigger_fill_ctx k = {.x = x, .n = n, .t = t, .nt = nt, .s0 = s0, .p = p};
	size_t ns;
	int rc;

	memset(res, 0, sizeof *res);
	if ((rc = dsp_trigger_fill_check(n, t, nt, p, cause)) != 0)
		return rc;
	dsp_trigger_fill_spacing(&k);
	dsp_trigger_fill_volumes(&k);
	k.len = (size_t)floor(k.d);
	k.w = (size_t)llround(p->search * k.d);
	k.w = k.w < 2 ? 2 : k.w;
	ns = k.len + 2 * k.w;
	k.tpl = xcalloc(k.len, sizeof *k.tpl);
	k.seg = xcalloc(ns, sizeof *k.seg);
	k.cs = xcalloc(ns + 1, sizeof *k.cs);
	k.cs2 = xcalloc(ns + 1, sizeof *k.cs2);
	k.c = xcalloc(4 * k.w + 1, sizeof *k.c);
	k.r = xcalloc(2 * k.w + 1, sizeof *k.r);
	dsp_trigger_fill_calibrate(&k);
	dsp_trigger_fill_gaps(&k);
	dsp_trigger_fill_merge(&k, res);
	free(k.tpl);
	free(k.seg);
	free(k.cs);
	free(k.cs2);
	free(k.c);
	free(k.r);
	return 0;
}
