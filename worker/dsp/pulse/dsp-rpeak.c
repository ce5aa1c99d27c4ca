/* QRS detection: the band-passed ECG's squared slope integrated over 80 ms, candidates at its
 * local maxima one refractory period apart, a threshold at a fifth of the typical beat amplitude
 * within ±5 s, then the RR check (too short: drop the candidate least like the QRS template;
 * too long: accept the best QRS-shaped candidate left out) and the R peak at the extremum of
 * the band-passed lead in its polarity. */
#include "worker/dsp/pulse/dsp-rpeak.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/xmalloc.h"
#include "common/xsort.h"
#include "worker/dsp/core/dsp-filter.h"

#define DSP_RPEAK_ACCEPT 0.2  /* of the local beat amplitude (feature units: squared slope) */
#define DSP_RPEAK_FLOOR  0.02 /* lowest amplitude a search-back may accept */
#define DSP_RPEAK_SHAPE  0.6  /* QRS-template correlation a search-back needs */
#define DSP_RPEAK_SHORT  0.6  /* RR below this share of the local median: one beat is extra */
#define DSP_RPEAK_LONG   1.5  /* RR above this share: a beat was missed */
#define DSP_RPEAK_SPAN   5.0  /* s on each side for the local amplitude and RR references */

struct dsp_rpeak_cand {
	int64_t i; /* feature maximum */
	double a;  /* feature value */
	double c;  /* correlation with the QRS template */
	int on;    /* accepted as a beat */
};

struct dsp_rpeak_ctx {
	const double *y; /* band-passed lead */
	size_t n;
	double fs, rr0;
	struct dsp_rpeak_cand *cand;
	size_t nc;
	double *ref; /* local beat amplitude per candidate */
};

void
dsp_rpeak_params_init(struct dsp_rpeak_params *p)
{
	p->lo = 5;
	p->hi = 25;
	p->refractory = 0.25;
}

void
dsp_rpeak_result_fini(struct dsp_rpeak_result *res)
{
	free(res->peaks);
	memset(res, 0, sizeof *res);
}

void
dsp_rpeak_feature(const double *y, size_t n, double fs, double *f)
{
	size_t w = (size_t)lround(0.08 * fs) | 1, h = w / 2;
	double *d = xcalloc(n + 1, sizeof *d), *cum = xcalloc(n + 1, sizeof *cum);

	for (size_t i = 1; i + 1 < n; i++)
		d[i] = (y[i + 1] - y[i - 1]) * (y[i + 1] - y[i - 1]);
	for (size_t i = 0; i < n; i++)
		cum[i + 1] = cum[i] + d[i];
	for (size_t i = 0; i < n; i++) {
		size_t lo = i >= h ? i - h : 0, hi = i + h + 1 < n ? i + h + 1 : n;

		f[i] = (cum[hi] - cum[lo]) / (double)w;
	}
	free(d);
	free(cum);
}

double
dsp_rpeak_period(const double *f, size_t n, double fs)
{
	size_t m = fs > 200 ? (size_t)(fs / 100) : 1, nd = n / m, lo, hi, best = 0;
	double fd = fs / (double)m, mean = 0, r0 = 0, *g, *r;

	lo = (size_t)ceil(0.3 * fd);
	hi = (size_t)floor(2.0 * fd);
	if (nd < 2 * hi || lo < 1)
		return 1.0;
	g = xcalloc(nd, sizeof *g);
	r = xcalloc(hi + 1, sizeof *r);
	for (size_t i = 0; i < nd; i++) {
		for (size_t k = 0; k < m; k++)
			g[i] += f[i * m + k];
		mean += g[i] / (double)nd;
	}
	for (size_t i = 0; i < nd; i++) {
		g[i] -= mean;
		r0 += g[i] * g[i];
	}
	for (size_t l = lo - 1; l <= hi; l++) {
		for (size_t i = 0; i + l < nd; i++)
			r[l] += g[i] * g[i + l];
		r[l] /= (double)(nd - l);
	}
	for (size_t l = lo; l <= hi; l++)
		if (r[l] > 0 && (best == 0 || r[l] > r[best]))
			best = l;
	/* A multiple of the period scores as high as the period: take the first local maximum
	 * that reaches 0.7 of the best. */
	for (size_t l = lo; best > 0 && l < best; l++)
		if (r[l] >= 0.7 * r[best] && r[l] >= r[l - 1] && r[l] >= r[l + 1]) {
			best = l;
			break;
		}
	free(g);
	free(r);
	return best > 0 && r0 > 0 ? (double)best / fd : 1.0;
}

static int
dsp_rpeak_cmp_amp(const void *a, const void *b)
{
	double x = ((const struct dsp_rpeak_cand *)a)->a, y = ((const struct dsp_rpeak_cand *)b)->a;

	return (x < y) - (x > y);
}

static int
dsp_rpeak_cmp_time(const void *a, const void *b)
{
	int64_t x = ((const struct dsp_rpeak_cand *)a)->i,
		y = ((const struct dsp_rpeak_cand *)b)->i;

	return (x > y) - (x < y);
}

static int
dsp_rpeak_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Local maxima of f, strongest first, each at least `rad` samples from a stronger one kept. */
static void
dsp_rpeak_candidates(struct dsp_rpeak_ctx *k, const double *f, size_t rad)
{
	struct dsp_rpeak_cand *all = NULL;
	unsigned char *blocked = xcalloc(k->n + 1, 1);
	size_t na = 0, cap = 0;

	for (size_t i = 1; i + 1 < k->n; i++) {
		if (!(f[i] > f[i - 1] && f[i] >= f[i + 1] && f[i] > 0))
			continue;
		if (na == cap)
			all = xreallocarray(all, cap = cap ? 2 * cap : 1024, sizeof *all);
		all[na++] = (struct dsp_rpeak_cand){(int64_t)i, f[i], 0, 0};
	}
	xqsort(all, na, sizeof *all, dsp_rpeak_cmp_amp);
	k->cand = xcalloc(na + 1, sizeof *k->cand);
	for (size_t j = 0; j < na; j++) {
		size_t i = (size_t)all[j].i, lo = i >= rad ? i - rad : 0;
		size_t hi = i + rad + 1 < k->n ? i + rad + 1 : k->n;

		if (blocked[i])
			continue;
		k->cand[k->nc++] = all[j];
		memset(blocked + lo, 1, hi - lo);
	}
	xqsort(k->cand, k->nc, sizeof *k->cand, dsp_rpeak_cmp_time);
	free(all);
	free(blocked);
}

/* ref[j]: median of the N largest candidate amplitudes within ±SPAN s of candidate j, N = 0.8
 * times the number of beats the span (clipped to the data) holds at the heart period, so a
 * slower stretch still has N beats in it. */
static void
dsp_rpeak_references(struct dsp_rpeak_ctx *k)
{
	int64_t span = (int64_t)(DSP_RPEAK_SPAN * k->fs);
	double *buf = xcalloc(k->nc + 1, sizeof *buf);
	size_t lo = 0, hi = 0;

	k->ref = xcalloc(k->nc + 1, sizeof *k->ref);
	for (size_t j = 0; j < k->nc; j++) {
		int64_t a = k->cand[j].i - span, b = k->cand[j].i + span;
		size_t m = 0, top, want;

		a = a < 0 ? 0 : a;
		b = b > (int64_t)k->n ? (int64_t)k->n : b;
		want = (size_t)floor(0.8 * (double)(b - a) / (k->rr0 * k->fs));
		want = want < 1 ? 1 : want;
		while (k->cand[lo].i < a)
			lo++;
		while (hi < k->nc && k->cand[hi].i <= b)
			hi++;
		for (size_t q = lo; q < hi; q++)
			buf[m++] = k->cand[q].a;
		xqsort(buf, m, sizeof *buf, dsp_rpeak_cmp_double);
		top = m < want ? m : want;
		k->ref[j] = buf[m - top + top / 2];
	}
	free(buf);
}

/* Pearson correlation of y around sample c (±h, clipped to the data) with tpl (2h + 1 values),
 * at the best lag in ±s samples; lags that leave less than h + 1 samples are skipped. */
static double
dsp_rpeak_shape(const struct dsp_rpeak_ctx *k, int64_t c, const double *tpl, size_t h, size_t s)
{
	int64_t len = (int64_t)(2 * h + 1);
	double best = -1;

	for (int64_t lag = -(int64_t)s; lag <= (int64_t)s; lag++) {
		int64_t a = c + lag - (int64_t)h, q0 = a < 0 ? -a : 0;
		int64_t q1 = a + len > (int64_t)k->n ? (int64_t)k->n - a : len;
		double sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0, r, m = (double)(q1 - q0);

		if (q1 - q0 < (int64_t)h + 1)
			continue;
		for (int64_t q = q0; q < q1; q++) {
			double x = k->y[a + q], t = tpl[q];

			sx += x;
			sy += t;
			sxx += x * x;
			syy += t * t;
			sxy += x * t;
		}
		r = (sxy - sx * sy / m) /
		    sqrt(fmax((sxx - sx * sx / m) * (syy - sy * sy / m), 1e-300));
		best = r > best ? r : best;
	}
	return best;
}

/* The QRS template (mean of y around the accepted beats) and every candidate's correlation. */
static void
dsp_rpeak_shapes(struct dsp_rpeak_ctx *k)
{
	size_t h = (size_t)lround(0.06 * k->fs), s = (size_t)lround(0.02 * k->fs), m = 0;
	double *tpl = xcalloc(2 * h + 1, sizeof *tpl);

	for (size_t j = 0; j < k->nc; j++) {
		int64_t a = k->cand[j].i - (int64_t)h;

		if (!k->cand[j].on || a < 0 || a + (int64_t)(2 * h + 1) > (int64_t)k->n)
			continue;
		for (size_t q = 0; q <= 2 * h; q++)
			tpl[q] += k->y[a + (int64_t)q];
		m++;
	}
	for (size_t j = 0; j < k->nc; j++)
		k->cand[j].c = m > 0 ? dsp_rpeak_shape(k, k->cand[j].i, tpl, h, s) : 1;
	free(tpl);
}

static double
dsp_rpeak_score(const struct dsp_rpeak_ctx *k, size_t j)
{
	return k->cand[j].c * sqrt(k->cand[j].a / fmax(k->ref[j], 1e-300));
}

/* Within one heart period of either end the RR check has no interval on one side: a beat there
 * must also look like the QRS template. */
static void
dsp_rpeak_edges(struct dsp_rpeak_ctx *k)
{
	double edge = 1.5 * k->rr0 * k->fs;

	for (size_t j = 0; j < k->nc; j++)
		if (((double)k->cand[j].i < edge || (double)k->cand[j].i > (double)k->n - edge) &&
		    k->cand[j].c < DSP_RPEAK_SHAPE)
			k->cand[j].on = 0;
}

/* The accepted candidates' indices, in time order; returns their count. */
static size_t
dsp_rpeak_accepted(const struct dsp_rpeak_ctx *k, size_t *acc)
{
	size_t m = 0;

	for (size_t j = 0; j < k->nc; j++)
		if (k->cand[j].on)
			acc[m++] = j;
	return m;
}

/* Median of the accepted RR intervals q-8 .. q+8 (samples). */
static double
dsp_rpeak_local_rr(const struct dsp_rpeak_ctx *k, const size_t *acc, size_t m, size_t q)
{
	size_t lo = q >= 8 ? q - 8 : 0, hi = q + 9 < m - 1 ? q + 9 : m - 1, c = 0;
	double d[17];

	for (size_t p = lo; p < hi; p++)
		d[c++] = (double)(k->cand[acc[p + 1]].i - k->cand[acc[p]].i);
	xqsort(d, c, sizeof *d, dsp_rpeak_cmp_double);
	return c % 2 ? d[c / 2] : 0.5 * (d[c / 2 - 1] + d[c / 2]);
}

/* Which member of the too-short interval q to drop: the one whose removal leaves an interval
 * closer to the local median, plus its likeness to the QRS template (a spike between two beats
 * goes, and so does a T wave taken for a beat). */
static size_t
dsp_rpeak_pick_extra(const struct dsp_rpeak_ctx *k, const size_t *acc, size_t m, size_t q,
		     double med)
{
	const struct dsp_rpeak_cand *a = &k->cand[acc[q]], *b = &k->cand[acc[q + 1]];
	double cost_a = fmax(a->c, 0), cost_b = fmax(b->c, 0);

	if (q > 0)
		cost_a += fabs((double)(b->i - k->cand[acc[q - 1]].i) - med) / med;
	if (q + 2 < m)
		cost_b += fabs((double)(k->cand[acc[q + 2]].i - a->i) - med) / med;
	return cost_a < cost_b ? acc[q] : acc[q + 1];
}

/* The best left-out candidate inside interval q that looks like a QRS and leaves two
 * plausible intervals, or SIZE_MAX. */
static size_t
dsp_rpeak_best_inside(const struct dsp_rpeak_ctx *k, size_t a, size_t b, double med)
{
	size_t best = SIZE_MAX;

	for (size_t j = a + 1; j < b; j++) {
		const struct dsp_rpeak_cand *c = &k->cand[j];

		if (c->a < DSP_RPEAK_FLOOR * k->ref[j] || c->c < DSP_RPEAK_SHAPE ||
		    (double)(c->i - k->cand[a].i) < DSP_RPEAK_SHORT * med ||
		    (double)(k->cand[b].i - c->i) < DSP_RPEAK_SHORT * med)
			continue;
		if (best == SIZE_MAX || dsp_rpeak_score(k, j) > dsp_rpeak_score(k, best))
			best = j;
	}
	return best;
}

/* Interval q (from accepted beat acc[q] to acc[q + 1], the local median RR med) checked and
 * corrected; 1 when a candidate changed. */
typedef int (*dsp_rpeak_fix_fn)(struct dsp_rpeak_ctx *k, const size_t *acc, size_t m, size_t q,
				double med);

/* Too short: drop one member (dsp_rpeak_pick_extra). */
static int
dsp_rpeak_fix_short(struct dsp_rpeak_ctx *k, const size_t *acc, size_t m, size_t q, double med)
{
	if ((double)(k->cand[acc[q + 1]].i - k->cand[acc[q]].i) >= DSP_RPEAK_SHORT * med)
		return 0;
	k->cand[dsp_rpeak_pick_extra(k, acc, m, q, med)].on = 0;
	return 1;
}

/* Too long: search it again with the lower threshold and the template. */
static int
dsp_rpeak_fix_long(struct dsp_rpeak_ctx *k, const size_t *acc, size_t m, size_t q, double med)
{
	size_t j;

	(void)m;
	if ((double)(k->cand[acc[q + 1]].i - k->cand[acc[q]].i) <= DSP_RPEAK_LONG * med)
		return 0;
	if ((j = dsp_rpeak_best_inside(k, acc[q], acc[q + 1], med)) == SIZE_MAX)
		return 0;
	k->cand[j].on = 1;
	return 1;
}

/* Passes of fix over the accepted intervals until one changes nothing; after a change the next
 * interval is skipped when skip_next (it changed too: the next pass looks at it). Returns the
 * number of changes. */
static size_t
dsp_rpeak_fix_intervals(struct dsp_rpeak_ctx *k, size_t *acc, dsp_rpeak_fix_fn fix, int skip_next)
{
	size_t changes = 0, m;
	int changed = 1;

	while (changed && (m = dsp_rpeak_accepted(k, acc)) >= 3) {
		changed = 0;
		for (size_t q = 0; q + 1 < m; q++) {
			if (!fix(k, acc, m, q, dsp_rpeak_local_rr(k, acc, m, q)))
				continue;
			changes++;
			changed = 1;
			q += skip_next ? 1 : 0;
		}
	}
	return changes;
}

/* The lead's polarity (sign of the largest excursion at the beats) and each beat's R peak: the
 * extremum of the band-passed lead in that polarity within ±40 ms of the feature maximum; a
 * beat whose extremum is within 40 ms of either end of the data may lie outside it and is left
 * out. */
static void
dsp_rpeak_refine(const struct dsp_rpeak_ctx *k, struct dsp_rpeak_result *res)
{
	size_t h = (size_t)lround(0.04 * k->fs), m = 0;
	double big = 0;

	for (size_t j = 0; j < k->nc; j++) {
		size_t i = (size_t)k->cand[j].i;

		if (k->cand[j].on)
			big = fabs(k->y[i]) > fabs(big) ? k->y[i] : big;
	}
	res->polarity = big < 0 ? -1 : 1;
	res->peaks = xcalloc(k->nc + 1, sizeof *res->peaks);
	for (size_t j = 0; j < k->nc; j++) {
		size_t c = (size_t)k->cand[j].i, lo = c >= h ? c - h : 0;
		size_t hi = c + h + 1 < k->n ? c + h + 1 : k->n, arg = c;

		if (!k->cand[j].on)
			continue;
		for (size_t i = lo; i < hi; i++)
			arg = res->polarity * k->y[i] > res->polarity * k->y[arg] ? i : arg;
		if (arg < h || arg + h >= k->n)
			continue;
		if (m == 0 || (int64_t)arg > res->peaks[m - 1])
			res->peaks[m++] = (int64_t)arg;
	}
	res->n = m;
}

static int
dsp_rpeak_check(size_t n, double fs, const struct dsp_rpeak_params *p, char **cause)
{
	if (!(fs > 0))
		return error_set(cause, -EINVAL, "R-peak detection: rate %g Hz", fs);
	if (!(p->lo > 0 && p->hi > p->lo && p->hi < fs / 2))
		return error_set(cause, -EINVAL,
				 "R-peak detection: band %g-%g Hz must lie in (0, %g) Hz", p->lo,
				 p->hi, fs / 2);
	if (!(p->refractory > 0.05 && p->refractory < 2))
		return error_set(cause, -EINVAL, "R-peak detection: refractory %g s (0.05 to 2)",
				 p->refractory);
	if ((double)n < 2 * fs)
		return error_set(cause, -EINVAL,
				 "R-peak detection: %zu samples are under 2 s of ECG", n);
	return 0;
}

int
dsp_rpeak_detect(const double *x, size_t n, double fs, const struct dsp_rpeak_params *p,
		 struct dsp_rpeak_result *res, char **cause)
{
	struct dsp_rpeak_ctx k = {0};
	double *y, *f;
	size_t *acc;
	int rc;

	memset(res, 0, sizeof *res);
	if ((rc = dsp_rpeak_check(n, fs, p, cause)) != 0)
		return rc;
	y = xmalloc(n * sizeof *y);
	memcpy(y, x, n * sizeof *y);
	if ((rc = dsp_filter_bandpass(y, n, fs, p->lo, p->hi, cause)) != 0) {
		free(y);
		return rc;
	}
	f = xmalloc(n * sizeof *f);
	dsp_rpeak_feature(y, n, fs, f);
	k.y = y;
	k.n = n;
	k.fs = fs;
	k.rr0 = res->period = dsp_rpeak_period(f, n, fs);
	dsp_rpeak_candidates(&k, f, (size_t)lround(p->refractory * fs));
	free(f);
	dsp_rpeak_references(&k);
	for (size_t j = 0; j < k.nc; j++)
		k.cand[j].on = k.cand[j].a >= DSP_RPEAK_ACCEPT * k.ref[j];
	dsp_rpeak_shapes(&k);
	dsp_rpeak_edges(&k);
	acc = xcalloc(k.nc + 1, sizeof *acc);
	res->removed = dsp_rpeak_fix_intervals(&k, acc, dsp_rpeak_fix_short, 1);
	res->added = dsp_rpeak_fix_intervals(&k, acc, dsp_rpeak_fix_long, 0);
	dsp_rpeak_refine(&k, res);
	if (res->n >= 2) {
		double *d = xcalloc(res->n, sizeof *d);

		for (size_t i = 0; i + 1 < res->n; i++)
			d[i] = (double)(res->peaks[i + 1] - res->peaks[i]);
		xqsort(d, res->n - 1, sizeof *d, dsp_rpeak_cmp_double);
		res->rr_median = d[(res->n - 1) / 2] / fs;
		free(d);
	}
	free(acc);
	free(k.cand);
	free(k.ref);
	free(y);
	return 0;
}
