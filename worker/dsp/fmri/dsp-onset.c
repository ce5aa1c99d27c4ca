/* The artifact epochs' start from the data: the slice cycle's mean power around the triggers,
 * and the middle of its longest quiet stretch before them. Epoch edges there are as far from
 * the artifact as they can be, so sub-sample jitter, uneven spacing and volume gaps do not cut
 * into it; the start of the artifact itself (a fraction of a millisecond to several before its
 * trigger, by scanner) need not be known. */
#include "worker/dsp/fmri/dsp-onset.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/xmalloc.h"
#include "common/xsort.h"

static int
dsp_onset_cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* The median trigger interval. */
static size_t
dsp_onset_cycle(const int64_t *t, size_t nt)
{
	int64_t *d = xmalloc((nt - 1) * sizeof *d), c;

	for (size_t i = 1; i < nt; i++)
		d[i - 1] = t[i] - t[i - 1];
	xqsort(d, nt - 1, sizeof *d, dsp_onset_cmp);
	c = d[(nt - 1) / 2];
	free(d);
	return c > 0 ? (size_t)c : 0;
}

/* Mean over the triggers of the de-meaned cycle's power, smoothed by a moving average of k. */
static double *
dsp_onset_profile(const double *x, size_t n, const int64_t *t, size_t nt, size_t C, size_t k)
{
	double *p = xcalloc(C, sizeof *p), *s = xmalloc(C * sizeof *s), *cum;
	size_t used = 0, h = C / 2;

	for (size_t i = 1; i + 1 < nt; i++) {
		const double *seg;
		double mean = 0;

		if (t[i] < (int64_t)h || (uint64_t)t[i] + (C - h) > n)
			continue;
		seg = x + t[i] - (int64_t)h;
		for (size_t j = 0; j < C; j++)
			mean += seg[j];
		mean /= (double)C;
		for (size_t j = 0; j < C; j++)
			p[j] += (seg[j] - mean) * (seg[j] - mean);
		used++;
	}
	cum = xmalloc((C + 1) * sizeof *cum);
	cum[0] = 0;
	for (size_t j = 0; j < C; j++)
		cum[j + 1] = cum[j] + p[j] / (double)(used ? used : 1);
	for (size_t j = 0; j < C; j++) {
		size_t a = j > k / 2 ? j - k / 2 : 0, b = j + (k - k / 2) < C ? j + (k - k / 2) : C;

		s[j] = (cum[b] - cum[a]) / (double)(b - a);
	}
	free(p), free(cum);
	return s;
}

int
dsp_onset_quiet(const double *x, size_t n, const int64_t *t, size_t nt, double fs,
		struct dsp_onset *o, char **cause)
{
	size_t C, h, k, best_a = 0, best_len = 0, arg = 0;
	double *s, lo = INFINITY;

	memset(o, 0, sizeof *o);
	if (x == NULL || t == NULL || nt < 4 || !(fs > 0))
		return error_set(cause, -EINVAL,
				 "epoch offset: needs data, a rate and at least 4 triggers (%zu)", nt);
	if ((C = dsp_onset_cycle(t, nt)) < 4)
		return error_set(cause, -EINVAL, "epoch offset: triggers %zu samples apart", C);
	h = C / 2;
	k = (size_t)lround(1e-3 * fs);
	k = k < 1 ? 1 : k > C / 4 ? C / 4 : k;
	s = dsp_onset_profile(x, n, t, nt, C, k);
	for (size_t j = 0; j < C; j++)
		lo = fmin(lo, s[j]);
	/* The quiet runs in [t − C/2, t] (profile indices 0..h) and the quietest point there. */
	for (size_t j = 0, run = 0; j <= h; j++) {
		if (s[j] < s[arg])
			arg = j;
		if (s[j] <= 4 * lo) {
			run++;
			if (run > best_len)
				best_len = run, best_a = j + 1 - run;
		} else {
			run = 0;
		}
	}
	o->cycle = C;
	o->quiet = best_len;
	o->offset = best_len > 0 ? (long)(best_a + best_len / 2) - (long)h : (long)arg - (long)h;
	free(s);
	return 0;
}
