/* Trigger trains: the artifact-length / volume-gap rule, scaling after resampling, and the two
 * run-once aligners that move slice triggers onto a reference epoch by cross-correlation. */
#include "worker/dsp/fmri/dsp-trigger.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/xmalloc.h"
#include "common/xsort.h"
#include "worker/dsp/core/dsp-xcorr.h"

static int
dsp_trigger_cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* numpy's median: the middle value, or the mean of the two middle ones. Sorts v. */
static double
dsp_trigger_median(int64_t *v, size_t n)
{
	xqsort(v, n, sizeof *v, dsp_trigger_cmp_i64);
	if (n % 2 == 1)
		return (double)v[n / 2];
	return ((double)v[n / 2 - 1] + (double)v[n / 2]) / 2.0;
}

int
dsp_trigger_analyze(const int64_t *t, size_t n, struct dsp_trigger_info *info, char **cause)
{
	int64_t *d, *counts, dmin, dmax, best = 0;
	size_t nc = 0;
	long last = -1;
	double m;

	memset(info, 0, sizeof *info);
	if (n < 2)
		return error_set(cause, -EINVAL,
				 "need at least 2 triggers to find the artifact "
				 "length, got %zu",
				 n);
	d = xmalloc((n - 1) * sizeof *d);
	for (size_t i = 0; i + 1 < n; i++) {
		d[i] = t[i + 1] - t[i];
		if (d[i] <= 0) {
			free(d);
			return error_set(cause, -EINVAL,
					 "triggers must increase: trigger %zu at %lld follows %lld",
					 i + 1, (long long)t[i + 1], (long long)t[i]);
		}
	}
	dmin = dmax = d[0];
	for (size_t i = 1; i + 1 < n; i++) {
		dmin = d[i] < dmin ? d[i] : dmin;
		dmax = d[i] > dmax ? d[i] : dmax;
	}
	if (dmax - dmin <= 3) {
		info->artifact_len = (size_t)dmax;
		free(d);
		return 0;
	}
	counts = xmalloc(n * sizeof *counts);
	memcpy(counts, d, (n - 1) * sizeof *d);
	m = (dsp_trigger_median(counts, n - 1) + (double)dmax) / 2.0;
	for (size_t i = 0; i + 1 < n; i++) {
		if ((double)d[i] < m) {
			best = d[i] > best ? d[i] : best;
		} else {
			counts[nc++] = (int64_t)i - last;
			last = (long)i;
		}
	}
	if (last < (long)n - 1)
		counts[nc++] = (int64_t)n - 1 - last;
	info->artifact_len = (size_t)best;
	info->volume_gaps = 1;
	info->slices_per_volume = (size_t)dsp_trigger_median(counts, nc);
	free(counts);
	free(d);
	return 0;
}

int
dsp_trigger_in_range(const int64_t *t, size_t nt, size_t n, const char *who, char **cause)
{
	for (size_t i = 0; i < nt; i++)
		if (t[i] < 0 || (uint64_t)t[i] >= n)
			return error_set(cause, -EINVAL,
					 "%s: trigger %zu at sample %lld is outside the data (0..%zu)",
					 who, i, (long long)t[i], n);
	return 0;
}

void
dsp_trigger_scale(int64_t *t, size_t n, double ratio)
{
	for (size_t i = 0; i < n; i++)
		t[i] = (int64_t)((double)t[i] * ratio);
}

void
dsp_trigger_window(const int64_t *t, size_t nt, size_t len, size_t n, size_t *ws, size_t *we)
{
	int64_t tmin = t[0], tmax = t[0];

	for (size_t i = 1; i < nt; i++) {
		tmin = t[i] < tmin ? t[i] : tmin;
		tmax = t[i] > tmax ? t[i] : tmax;
	}
	*ws = (uint64_t)tmin > len ? (size_t)tmin - len : 0;
	*we = (size_t)tmax + len < n ? (size_t)tmax + len : n;
}

size_t
dsp_trigger_radius(double orig, double scale)
{
	double r = nearbyint(orig * scale);

	return r < 0.0 ? 0 : (size_t)r;
}

/* out[k] = x[start + k] for k < len; zero outside [0, n) (or the nearest edge value when
 * `edge` is set). */
static void
dsp_trigger_slice(const double *x, size_t n, int64_t start, size_t len, int edge, double *out)
{
	for (size_t k = 0; k < len; k++) {
		int64_t p = start + (int64_t)k;

		if (p >= 0 && p < (int64_t)n)
			out[k] = x[p];
		else if (edge)
			out[k] = p < 0 ? x[0] : x[n - 1];
		else
			out[k] = 0.0;
	}
}

static int
dsp_trigger_check(size_t n, size_t nt, size_t ref, size_t L, char **cause)
{
	if (n == 0)
		return error_set(cause, -EINVAL, "the channel is empty");
	if (nt == 0)
		return error_set(cause, -EINVAL, "no triggers to align");
	if (ref >= nt)
		return error_set(cause, -EINVAL,
				 "reference trigger %zu out of range (%zu triggers)", ref, nt);
	if (L == 0)
		return error_set(cause, -EINVAL, "artifact length must be positive");
	return 0;
}

int
dsp_trigger_align_slices(const double *x, size_t n, int64_t *t, size_t nt, size_t ref, size_t L,
			 long s0, double scale, struct dsp_trigger_info *info, char **cause)
{
	size_t w = dsp_trigger_radius(3.0, scale);
	double *r, *seg;
	int rc = dsp_trigger_check(n, nt, ref, L, cause);

	if (rc != 0)
		return rc;
	r = xmalloc(L * sizeof *r);
	seg = xmalloc((L + w) * sizeof *seg);
	dsp_trigger_slice(x, n, t[ref] + s0, L, 0, r);
	for (size_t i = 0; i < nt; i++) {
		if (i == ref)
			continue;
		dsp_trigger_slice(x, n, t[i] + s0, L + w, 0, seg);
		t[i] += dsp_xcorr_shift(seg, L + w, r, L, w);
	}
	free(r);
	free(seg);
	if (info != NULL && nt >= 2)
		rc = dsp_trigger_analyze(t, nt, info, cause);
	return rc;
}

int
dsp_trigger_align_subsample(const double *x, size_t n, int64_t *t, size_t nt, size_t ref, size_t L,
			    double off, double fs, double scale, long *shifts, char **cause)
{
	size_t r = dsp_trigger_radius(2.0, scale), pre, post;
	double *tpl, *seg, *c, p;
	int rc = dsp_trigger_check(n, nt, ref, L, cause);

	if (rc != 0)
		return rc;
	p = -nearbyint(off * fs);
	pre = p < 0.0 ? 0 : p > (double)L ? L : (size_t)p;
	post = L - pre;
	tpl = xmalloc(L * sizeof *tpl);
	seg = xmalloc((L + 2 * r) * sizeof *seg);
	c = xmalloc((4 * r + 1) * sizeof *c);
	dsp_trigger_slice(x, n, t[ref] - (int64_t)pre, pre + post, 1, tpl);
	for (size_t i = 0; i < nt; i++) {
		long k = 0;

		if (i != ref) {
			/* seg starts r samples early: lag j in [0, 2r] is offset j − r (the
			 * negative lags of the 4r+1 computed only see zero padding). */
			dsp_trigger_slice(x, n, t[i] - (int64_t)pre - (int64_t)r, L + 2 * r, 1,
					  seg);
			dsp_xcorr_values(seg, L + 2 * r, tpl, L, 2 * r, c);
			for (size_t j = 2 * r + 1; j <= 4 * r; j++)
				if (c[j] > c[2 * r + (size_t)k])
					k = (long)(j - 2 * r);
			k -= (long)r;
			t[i] += k;
			if (t[i] < 0)
				t[i] = 0;
			if (t[i] >= (int64_t)n)
				t[i] = (int64_t)n - 1;
		}
		if (shifts != NULL)
			shifts[i] = k;
	}
	free(tpl);
	free(seg);
	free(c);
	return 0;
}
