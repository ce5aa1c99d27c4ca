/* Volume triggers to slice triggers: the average volume, its normalised autocorrelation (FFT
 * numerator, cumulative sums for the per-lag statistics), the slice spacing refined at its
 * multiples, the slice count from the repetitions of the first slice, and the generated train. */
#include "worker/dsp/fmri/dsp-trigger-gen.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/xmalloc.h"
#include "worker/dsp/core/dsp-xcorr.h"

void
dsp_trigger_gen_params_init(struct dsp_trigger_gen_params *p)
{
	p->slices = 0;
	p->spacing = 0;
	p->min_corr = 0.8;
	p->min_period = 0.015;
}

void
dsp_trigger_gen_autocorr(const double *a, size_t n, size_t lo, size_t hi, double *r)
{
	double *c = xmalloc((2 * hi + 1) * sizeof *c), *s1 = xcalloc(n + 1, sizeof *s1);
	double *s2 = xcalloc(n + 1, sizeof *s2);

	for (size_t i = 0; i < n; i++) {
		s1[i + 1] = s1[i] + a[i];
		s2[i + 1] = s2[i] + a[i] * a[i];
	}
	/* c[hi + l] = Σ a[i + l]·a[i]. */
	dsp_xcorr_values(a, n, a, n, hi, c);
	for (size_t l = lo; l <= hi; l++) {
		double m = (double)(n - l), sx = s1[n - l], sy = s1[n] - s1[l];
		double vx = s2[n - l] - sx * sx / m, vy = s2[n] - s2[l] - sy * sy / m;
		double cov = c[hi + l] - sx * sy / m;

		r[l - lo] = l < n && vx > 0 && vy > 0 ? cov / sqrt(vx * vy) : 0;
	}
	free(c);
	free(s1);
	free(s2);
}

/* The mean of x over [v[i], v[i] + len) for the volumes inside the data, de-meaned. */
static double *
dsp_trigger_gen_average(const double *x, size_t n, const int64_t *v, size_t nv, size_t len)
{
	double *a = xcalloc(len, sizeof *a), mean = 0;
	size_t m = 0;

	for (size_t i = 0; i < nv; i++) {
		if (v[i] < 0 || v[i] + (int64_t)len > (int64_t)n)
			continue;
		for (size_t j = 0; j < len; j++)
			a[j] += x[v[i] + (int64_t)j];
		m++;
	}
	for (size_t j = 0; j < len; j++)
		mean += (a[j] /= (double)(m > 0 ? m : 1)) / (double)len;
	for (size_t j = 0; j < len; j++)
		a[j] -= mean;
	return a;
}

/* Vertex of the parabola through (−1, a), (0, b), (1, c), clamped to [−0.5, 0.5]. */
static double
dsp_trigger_gen_vertex(double a, double b, double c)
{
	double d = a - 2 * b + c, t = d < 0 ? 0.5 * (a - c) / d : 0;

	return t < -0.5 ? -0.5 : t > 0.5 ? 0.5 : t;
}

/* Pearson correlation of a[0 .. w) with a at t .. t + w (fractional t, linear interpolation). */
static double
dsp_trigger_gen_corr_at(const double *a, size_t n, double t, size_t w)
{
	double sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0, m = (double)w;
	size_t i0 = (size_t)floor(t);
	double f = t - (double)i0;

	if (t < 0 || i0 + w + 1 > n)
		return -1;
	for (size_t j = 0; j < w; j++) {
		double x = a[j], y = (1 - f) * a[i0 + j] + f * a[i0 + j + 1];

		sx += x;
		sy += y;
		sxx += x * x;
		syy += y * y;
		sxy += x * y;
	}
	return (sxy - sx * sy / m) / sqrt(fmax((sxx - sx * sx / m) * (syy - sy * sy / m), 1e-300));
}

/* The spacing (fractional samples) from the autocorrelation r over lags lo.. of a (length n):
 * the first local maximum reaching 0.9 of the best, then refined at 2, 4, 8 ... times it while
 * those lags still correlate at min_corr. *best_r: its correlation. 0 when none qualifies. */
static double
dsp_trigger_gen_spacing(const double *a, size_t n, const double *r, size_t lo, size_t hi,
			double min_corr, double *best_r)
{
	size_t best = lo, pick = 0;
	double d;

	for (size_t l = lo; l <= hi; l++)
		best = r[l - lo] > r[best - lo] ? l : best;
	*best_r = r[best - lo];
	if (*best_r < min_corr || hi < lo + 2)
		return 0;
	for (size_t l = lo + 1; l < hi && pick == 0; l++)
		if (r[l - lo] >= 0.9 * *best_r && r[l - lo] >= r[l - lo - 1] &&
		    r[l - lo] >= r[l - lo + 1])
			pick = l;
	pick = pick ? pick : best;
	*best_r = r[pick - lo];
	d = (double)pick;
	if (pick > lo && pick < hi)
		d += dsp_trigger_gen_vertex(r[pick - lo - 1], r[pick - lo], r[pick - lo + 1]);
	for (size_t q = 2; (double)q * d + 3 < (double)n / 2; q *= 2) {
		size_t c = (size_t)llround((double)q * d), arg = c;
		double rr[3];

		for (size_t l = c - 2; l <= c + 2; l++)
			arg = dsp_trigger_gen_corr_at(a, n, (double)l, n - c - 3) >
				      dsp_trigger_gen_corr_at(a, n, (double)arg, n - c - 3)
				  ? l
				  : arg;
		for (int k = 0; k < 3; k++)
			rr[k] =
			    dsp_trigger_gen_corr_at(a, n, (double)(arg - 1 + (size_t)k), n - c - 3);
		if (rr[1] < min_corr)
			break;
		d = ((double)arg + dsp_trigger_gen_vertex(rr[0], rr[1], rr[2])) / (double)q;
	}
	return d;
}

/* Repetitions of the first slice's window of the average volume, one spacing apart. */
static size_t
dsp_trigger_gen_count(const double *a, size_t n, double d, double min_corr)
{
	size_t w = (size_t)floor(d), s = 1;

	while (dsp_trigger_gen_corr_at(a, n, (double)s * d, w) >= min_corr)
		s++;
	return s;
}

static int
dsp_trigger_gen_check(size_t n, double fs, const int64_t *v, size_t nv,
		      const struct dsp_trigger_gen_params *p, size_t *shortest, char **cause)
{
	int64_t m = INT64_MAX;

	if (nv < 2)
		return error_set(cause, -EINVAL, "slice triggers: need 2 volume triggers, got %zu",
				 nv);
	for (size_t i = 1; i < nv; i++) {
		if (v[i] <= v[i - 1])
			return error_set(cause, -EINVAL,
					 "slice triggers: trigger %zu does not follow "
					 "the one before",
					 i);
		m = v[i] - v[i - 1] < m ? v[i] - v[i - 1] : m;
	}
	if (!(fs > 0 && p->min_corr > 0 && p->min_corr < 1 && p->min_period > 0))
		return error_set(cause, -EINVAL, "slice triggers: bad rate or parameters");
	if (n == 0 || (size_t)m >= n)
		return error_set(cause, -EINVAL,
				 "slice triggers: the channel is shorter than one "
				 "volume");
	*shortest = (size_t)m;
	return 0;
}

int
dsp_trigger_gen_estimate(const double *x, size_t n, double fs, const int64_t *v, size_t nv,
			 const struct dsp_trigger_gen_params *p, struct dsp_trigger_gen_result *res,
			 char **cause)
{
	size_t len = 0, lo, hi;
	double *a, *r;
	int rc;

	memset(res, 0, sizeof *res);
	if ((rc = dsp_trigger_gen_check(n, fs, v, nv, p, &len, cause)) != 0)
		return rc;
	a = dsp_trigger_gen_average(x, n, v, nv, len);
	lo = (size_t)ceil(p->min_period * fs);
	lo = lo < 2 ? 2 : lo;
	hi = len / 2;
	if (p->spacing > 0) {
		res->spacing = p->spacing;
		res->corr =
		    dsp_trigger_gen_corr_at(a, len, p->spacing, len - (size_t)p->spacing - 2);
	} else if (hi > lo + 2) {
		r = xmalloc((hi - lo + 1) * sizeof *r);
		dsp_trigger_gen_autocorr(a, len, lo, hi, r);
		res->spacing = dsp_trigger_gen_spacing(a, len, r, lo, hi, p->min_corr, &res->corr);
		free(r);
	}
	if (res->spacing > 0) {
		res->slices = p->slices > 0
				  ? p->slices
				  : dsp_trigger_gen_count(a, len, res->spacing, p->min_corr);
		res->volumes = res->slices >= 2;
	}
	free(a);
	return 0;
}

int
dsp_trigger_gen_slices(const int64_t *v, size_t nv, size_t slices, double spacing, size_t n,
		       int64_t **out, size_t *nout, char **cause)
{
	int64_t *t = xcalloc(nv * slices + 1, sizeof *t),
		last = (int64_t)llround((double)(slices - 1) * spacing);
	size_t m = 0;

	*out = NULL;
	*nout = 0;
	for (size_t i = 0; i + 1 < nv; i++)
		if (v[i] + last >= v[i + 1]) {
			free(t);
			return error_set(cause, -EINVAL,
					 "slice triggers: %zu slices %.2f samples apart do not fit "
					 "between volume triggers %zu and %zu (%lld samples)",
					 slices, spacing, i, i + 1, (long long)(v[i + 1] - v[i]));
		}
	for (size_t i = 0; i < nv; i++)
		for (size_t s = 0; s < slices; s++) {
			int64_t p = v[i] + (int64_t)llround((double)s * spacing);

			if (p >= 0 && p < (int64_t)n)
				t[m++] = p;
		}
	*out = t;
	*nout = m;
	return 0;
}
