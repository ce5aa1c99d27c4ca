/* Heart-beat epochs and their segments, de-meaned epoch extraction, local templates from a
 * running sum over the nearest whole epochs, and averaged artifact subtraction. */
#include "worker/dsp/pulse/dsp-pulse.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/xmalloc.h"
#include "common/xsort.h"

static int
dsp_pulse_cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

void
dsp_pulse_beats_fini(struct dsp_pulse_beats *b)
{
	free(b->centre);
	free(b->lo);
	free(b->hi);
	free(b->full);
	memset(b, 0, sizeof *b);
}

static double
dsp_pulse_median_rr(const int64_t *r, size_t nr)
{
	int64_t *d = xcalloc(nr, sizeof *d);
	double m;

	for (size_t i = 0; i + 1 < nr; i++)
		d[i] = r[i + 1] - r[i];
	xqsort(d, nr - 1, sizeof *d, dsp_pulse_cmp_i64);
	m = (nr - 1) % 2 ? (double)d[(nr - 1) / 2]
			 : 0.5 * (double)(d[(nr - 1) / 2 - 1] + d[(nr - 1) / 2]);
	free(d);
	return m;
}

int
dsp_pulse_beats_make(const int64_t *r, size_t nr, double fs, double delay, size_t ns,
		     struct dsp_pulse_beats *b, char **cause)
{
	int64_t shift = (int64_t)llround(delay * fs), h;

	memset(b, 0, sizeof *b);
	if (nr < 3)
		return error_set(cause, -EINVAL, "pulse correction needs 3 heart beats, got %zu",
				 nr);
	for (size_t i = 1; i < nr; i++)
		if (r[i] <= r[i - 1])
			return error_set(cause, -EINVAL, "R peaks must increase (peak %zu)", i);
	b->rr_median = dsp_pulse_median_rr(r, nr);
	b->half = (size_t)llround(0.75 * b->rr_median);
	b->n_samples = ns;
	h = (int64_t)b->half;
	b->centre = xcalloc(nr, sizeof *b->centre);
	b->lo = xcalloc(nr, sizeof *b->lo);
	b->hi = xcalloc(nr, sizeof *b->hi);
	b->full = xcalloc(nr, 1);
	for (size_t i = 0; i < nr; i++) {
		int64_t c = r[i] + shift;

		if (c + h < 0 || c - h >= (int64_t)ns)
			continue;
		b->centre[b->n++] = c;
	}
	if (b->n < 3) {
		dsp_pulse_beats_fini(b);
		return error_set(cause, -EINVAL,
				 "pulse correction needs 3 heart beats inside the data");
	}
	for (size_t k = 0; k < b->n; k++) {
		int64_t c = b->centre[k], lo = c - h, hi = c + h + 1;

		b->full[k] = lo >= 0 && hi <= (int64_t)ns;
		if (k > 0 && (c + b->centre[k - 1] + 1) / 2 > lo)
			lo = (c + b->centre[k - 1] + 1) / 2;
		if (k + 1 < b->n && (c + b->centre[k + 1] + 1) / 2 < hi)
			hi = (c + b->centre[k + 1] + 1) / 2;
		b->lo[k] = lo < 0 ? 0 : lo;
		b->hi[k] = hi > (int64_t)ns ? (int64_t)ns : hi;
	}
	return 0;
}

/* Half-width of the cross-fade between centres a < b for epochs of half-width h: the overlap
 * of the epochs around the mid-point, at most a quarter of the interval; 0 when they do not
 * overlap. */
static double
dsp_pulse_fade(int64_t a, int64_t b, size_t h)
{
	double d = (double)(b - a), o = (double)h - d / 2;

	return o <= 0 ? 0 : o < d / 4 ? o : d / 4;
}

double
dsp_pulse_weight(const struct dsp_pulse_beats *b, size_t k, int64_t i)
{
	int64_t c = b->centre[k], h = (int64_t)b->half;
	double w = 1;

	if (i < c - h || i > c + h)
		return 0;
	if (k > 0) {
		double mid = 0.5 * (double)(b->centre[k - 1] + c);
		double o = dsp_pulse_fade(b->centre[k - 1], c, b->half), t = (double)i - mid;

		if (o == 0 && t < 0)
			return 0;
		if (o > 0)
			w *= t <= -o ? 0 : t >= o ? 1 : pow(sin(M_PI / 4 * (t + o) / o), 2);
	}
	if (k + 1 < b->n) {
		double mid = 0.5 * (double)(c + b->centre[k + 1]);
		double o = dsp_pulse_fade(c, b->centre[k + 1], b->half), t = (double)i - mid;

		if (o == 0 && t >= 0)
			return 0;
		if (o > 0)
			w *= t <= -o ? 1 : t >= o ? 0 : pow(cos(M_PI / 4 * (t + o) / o), 2);
	}
	return w;
}

size_t
dsp_pulse_epoch(const double *x, size_t n, const struct dsp_pulse_beats *b, size_t k, int demean,
		double *out)
{
	size_t len = 2 * b->half + 1, in = 0;
	int64_t a = b->centre[k] - (int64_t)b->half;
	double mean = 0;

	for (size_t j = 0; j < len; j++) {
		int64_t i = a + (int64_t)j;

		out[j] = i >= 0 && i < (int64_t)n ? x[i] : 0;
		mean += out[j];
		in += i >= 0 && i < (int64_t)n;
	}
	mean = demean && in > 0 ? mean / (double)in : 0;
	for (size_t j = 0; j < len; j++) {
		int64_t i = a + (int64_t)j;

		if (i >= 0 && i < (int64_t)n)
			out[j] -= mean;
	}
	return in;
}

static void
dsp_pulse_accumulate(double *sum, const double *e, size_t len, double sign)
{
	for (size_t j = 0; j < len; j++)
		sum[j] += sign * e[j];
}

int
dsp_pulse_templates_each(const double *x, size_t n, const struct dsp_pulse_beats *b, size_t window,
			 int demean, dsp_pulse_template_cb cb, void *arg, char **cause)
{
	size_t len = 2 * b->half + 1, m = 0, w, s = 0, pos = 0;
	size_t *full = xcalloc(b->n, sizeof *full);
	double *sum = xcalloc(len, sizeof *sum), *e = xmalloc(len * sizeof *e);
	double *tpl = xmalloc(len * sizeof *tpl);
	int rc = 0;

	for (size_t k = 0; k < b->n; k++)
		if (b->full[k])
			full[m++] = k;
	if (m == 0)
		rc = error_set(cause, -EINVAL, "no heart-beat epoch lies wholly inside the data");
	w = window > 0 && window < m ? window : m;
	for (size_t j = 0; j < w && rc == 0; j++) {
		dsp_pulse_epoch(x, n, b, full[j], demean, e);
		dsp_pulse_accumulate(sum, e, len, 1);
	}
	for (size_t k = 0; k < b->n && rc == 0; k++) {
		size_t want;

		while (pos + 1 < m && full[pos] < k)
			pos++;
		want = pos >= w / 2 ? pos - w / 2 : 0;
		want = want + w > m ? m - w : want;
		for (; s < want; s++) {
			dsp_pulse_epoch(x, n, b, full[s], demean, e);
			dsp_pulse_accumulate(sum, e, len, -1);
			dsp_pulse_epoch(x, n, b, full[s + w], demean, e);
			dsp_pulse_accumulate(sum, e, len, 1);
		}
		for (size_t j = 0; j < len; j++)
			tpl[j] = sum[j] / (double)w;
		rc = cb(arg, k, tpl, cause);
	}
	free(full);
	free(sum);
	free(e);
	free(tpl);
	return rc;
}

struct dsp_pulse_aas_ctx {
	const struct dsp_pulse_beats *b;
	double *out; /* the templates placed on their segments */
};

static int
dsp_pulse_aas_cb(void *arg, size_t k, const double *tpl, char **cause)
{
	struct dsp_pulse_aas_ctx *a = arg;
	int64_t origin = a->b->centre[k] - (int64_t)a->b->half;

	(void)cause;
	for (int64_t i = a->b->lo[k]; i < a->b->hi[k]; i++)
		a->out[i] = tpl[i - origin];
	return 0;
}

int
dsp_pulse_aas(double *x, size_t n, const struct dsp_pulse_beats *b, size_t window, char **cause)
{
	struct dsp_pulse_aas_ctx a = {b, xcalloc(n > 0 ? n : 1, sizeof(double))};
	int rc;

	if (n != b->n_samples) {
		free(a.out);
		return error_set(cause, -EINVAL, "the beats were made for %zu samples, not %zu",
				 b->n_samples, n);
	}
	/* Templates come from the uncorrected channel: subtract once they are all made. */
	rc = dsp_pulse_templates_each(x, n, b, window, 1, dsp_pulse_aas_cb, &a, cause);
	for (size_t i = 0; i < n && rc == 0; i++)
		x[i] -= a.out[i];
	free(a.out);
	return rc;
}
