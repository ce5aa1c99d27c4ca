/* The working-rate signal in windows (op-rec-window.h): each window upsampled from the channel
 * at its recorded rate in blocks, the epochs read from it, the chunks of epochs a window holds,
 * and the downsampling of a corrected stretch. */
#include "worker/ops/rec/op-rec-window.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/xmalloc.h"
#include "worker/dsp/core/dsp-resample.h"


static void
op_rec_win_read(void *ctx, size_t s0, size_t s1, double *out)
{
	memcpy(out, (const double *)ctx + s0, (s1 - s0) * sizeof *out);
}

/* Samples [s0, s1) of a stretch that starts at sample `a` of its signal. */
struct op_rec_win_at {
	const double *v;
	int64_t a;
};

static void
op_rec_win_read_at(void *ctx, size_t s0, size_t s1, double *out)
{
	const struct op_rec_win_at *at = ctx;

	memcpy(out, at->v + ((int64_t)s0 - at->a), (s1 - s0) * sizeof *out);
}

int
op_rec_win_load(struct op_rec_win *W, int64_t a, int64_t b, char **cause)
{
	a = a < 0 ? 0 : a;
	b = b > (int64_t)W->n ? (int64_t)W->n : b;
	b = b < a ? a : b;
	if ((size_t)(b - a) > W->cap) {
		free(W->w);
		W->cap = (size_t)(b - a);
		W->w = xmalloc(W->cap * sizeof *W->w);
	}
	W->a = a, W->b = b;
	/* One transform per block: its size is set by the margin, not the window. */
	for (int64_t u = a, v, rc; u < b; u = v) {
		v = u + (int64_t)W->up_block < b ? u + (int64_t)W->up_block : b;
		if ((rc = dsp_resample_block(&W->up, op_rec_win_read, (void *)W->x0, (size_t)u,
					     (size_t)v, W->w + (u - a), cause)) != 0)
			return (int)rc;
	}
	return 0;
}

void
op_rec_win_epoch(const struct op_rec_win *W, int64_t start, size_t len, double sub, int edge,
		 double *out)
{
	for (size_t j = 0; j < len; j++) {
		int64_t p = start + (int64_t)j;

		if (p >= 0 && p < (int64_t)W->n)
			out[j] = W->w[p - W->a] - sub;
		else if (edge)
			out[j] = p < 0 ? W->first : W->last;
		else
			out[j] = 0.0;
	}
}

void
op_rec_win_span(const struct op_rec_win *W, const int64_t *t, size_t e0, size_t e1, int64_t lo,
		int64_t hi, int64_t *a, int64_t *b)
{
	int64_t mn = INT64_MAX, mx = INT64_MIN;

	for (size_t i = e0; i < e1; i++) {
		mn = t[i] < mn ? t[i] : mn;
		mx = t[i] > mx ? t[i] : mx;
	}
	*a = mn + lo < 0 ? 0 : mn + lo;
	*b = mx + hi > (int64_t)W->n ? (int64_t)W->n : mx + hi;
	*b = *b < *a ? *a : *b;
}

size_t
op_rec_win_chunk(const struct op_rec_win *W, const int64_t *t, size_t nt, size_t c0, size_t mg,
		 int64_t lo, int64_t hi)
{
	size_t c1 = c0 + 1, e0 = c0 > mg ? c0 - mg : 0;

	while (c1 < nt) {
		size_t e1 = c1 + 1 + mg < nt ? c1 + 1 + mg : nt;
		int64_t a, b;

		op_rec_win_span(W, t, e0, e1, lo, hi, &a, &b);
		if ((size_t)(b - a) > W->budget)
			break;
		c1++;
	}
	return c1;
}

int
op_rec_win_mean(struct op_rec_win *W, double *mean, char **cause)
{
	double m = 0.0;
	int rc;

	for (size_t a = 0; a < W->n; a += W->budget) {
		if ((rc = op_rec_win_load(W, (int64_t)a, (int64_t)(a + W->budget), cause)) != 0)
			return rc;
		for (int64_t i = 0; i < W->b - W->a; i++)
			m += W->w[i];
	}
	*mean = m / (double)W->n;
	return 0;
}

size_t
op_rec_win_block(size_t margin, size_t k, size_t times)
{
	size_t S = 2;

	while (S < times * margin + 256)
		S *= 2;
	return (S - 2 * margin - 128) / k;
}

/* Output samples [p0, p1) of the working-rate stretch v (from sample a) at the recorded rate,
 * into out[p0..p1), in blocks whose transforms are three margins (a transform of S points of
 * input takes S doubles here, k·S upsampling). */
int
op_rec_win_down(const struct op_rec_win *W, const struct dsp_resample_block_params *down,
		const double *v, int64_t a, size_t p0, size_t p1, double *out, char **cause)
{
	struct op_rec_win_at at = {v, a};
	size_t step = op_rec_win_block(down->margin, W->k, 3);
	int rc = 0;

	for (size_t u = p0; u < p1 && rc == 0; u += step)
		rc = dsp_resample_block(down, op_rec_win_read_at, &at, u,
					u + step < p1 ? u + step : p1, out + u, cause);
	return rc;
}

