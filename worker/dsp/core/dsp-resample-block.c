/* Block-wise FFT resampling by an integer factor (dsp-resample-block.h): each output block from
 * its own stretch of the whole signal's padded input, so memory is set by the block and margin,
 * not by the signal. Owns the stretch's padding, taper and transform, and the windowed-sinc
 * evaluation at the whole signal's output positions when downsampling. */
#include "worker/dsp/core/dsp-resample-block.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/xmalloc.h"
#include "worker/dsp/core/dsp-resample-plan.h"
#include "worker/dsp/core/fft-plan.h"

/* Downsampling's interpolator: sinc × Kaiser(β) over ±BLOCK_HALF samples of the low-passed
 * stretch (its content lies below a quarter of the rate once `down` ≥ 2, where the kernel's
 * response is flat to about 1e-9), the window tabulated in (x/H)². */
#define BLOCK_HALF 32
#define BLOCK_BETA 12.0
#define BLOCK_TAB  16384

static double dsp_resample_block_kaiser[BLOCK_TAB + 2];
static pthread_once_t dsp_resample_block_once = PTHREAD_ONCE_INIT;

static double
dsp_resample_block_i0(double x)
{
	double sum = 1, term = 1, q = x * x / 4;

	for (int k = 1; k < 200 && term > 1e-17 * sum; k++) {
		term *= q / ((double)k * (double)k);
		sum += term;
	}
	return sum;
}

static void
dsp_resample_block_tab_init(void)
{
	double norm = dsp_resample_block_i0(BLOCK_BETA);

	for (size_t i = 0; i <= BLOCK_TAB + 1; i++) {
		double r = (double)i / BLOCK_TAB; /* (x/H)² */

		dsp_resample_block_kaiser[i] =
		    r < 1 ? dsp_resample_block_i0(BLOCK_BETA * sqrt(1 - r)) / norm : 0;
	}
}

/* Kaiser window at x/H (|x| < H), linear in the table over (x/H)². */
static double
dsp_resample_block_window(double x)
{
	double r = x * x / ((double)BLOCK_HALF * BLOCK_HALF) * BLOCK_TAB, f;
	size_t i;

	if (r >= BLOCK_TAB)
		return 0;
	i = (size_t)r;
	f = r - (double)i;
	return dsp_resample_block_kaiser[i] * (1 - f) + dsp_resample_block_kaiser[i + 1] * f;
}

struct dsp_resample_block_geom {
	struct dsp_resample_plan plan;
	long long g0, g1; /* padded indices of the stretch */
	size_t S;         /* its transform length */
};

/* Padded position of output sample j when downsampling: (j + trim)·N/L, the fill samples past
 * what the inverse transform gives at the last one it gives. */
static double
dsp_resample_block_pos(const struct dsp_resample_plan *pl, size_t j)
{
	size_t avail = dsp_resample_plan_avail(pl);

	if (j >= avail)
		j = avail > 0 ? avail - 1 : 0;
	return (double)(j + pl->trim_left) * (double)pl->old_len / (double)pl->new_len;
}

static void
dsp_resample_block_geom(const struct dsp_resample_block_params *p, size_t a, size_t b,
			struct dsp_resample_block_geom *g)
{
	long long m = (long long)p->margin;

	if (p->up > 1) {
		dsp_resample_plan_make(&g->plan, p->n, (double)p->up);
		g->g0 = (long long)(a / p->up) + (long long)g->plan.pad_left - m;
		g->g1 = (long long)((b + p->up - 1) / p->up) + 1 + (long long)g->plan.pad_left + m;
	} else {
		dsp_resample_plan_make(&g->plan, p->n, 1.0 / (double)p->down);
		g->g0 = (long long)floor(dsp_resample_block_pos(&g->plan, a)) - BLOCK_HALF - m;
		g->g1 = (long long)floor(dsp_resample_block_pos(&g->plan, b - 1)) + BLOCK_HALF + 2 + m;
	}
	g->S = 2;
	while (g->S < (size_t)(g->g1 - g->g0))
		g->S *= 2;
}

void
dsp_resample_block_span(const struct dsp_resample_block_params *p, size_t a, size_t b,
			size_t *s0, size_t *s1)
{
	struct dsp_resample_block_geom g;
	long long pl, n = (long long)p->n, lo, hi;

	dsp_resample_block_geom(p, a, b, &g);
	pl = (long long)g.plan.pad_left;
	/* Data samples, and the ones the reflections about x[0] and x[n−1] read. */
	long long i0 = g.g0 > 0 ? g.g0 : 0, i1 = g.g1 < (long long)g.plan.old_len
						      ? g.g1
						      : (long long)g.plan.old_len;

	lo = i0 - pl, hi = i1 - pl;
	if (i0 < pl)
		lo = 0, hi = hi > pl - i0 + 1 ? hi : pl - i0 + 1;
	if (i1 > pl + n) {
		long long r = n - 2 - (i1 - 1 - pl - n);

		lo = lo < r ? lo : r;
		hi = n;
	}
	lo = lo < 0 ? 0 : lo > n ? n : lo;
	hi = hi < lo ? lo : hi > n ? n : hi;
	if (hi == lo && n > 0)
		hi = lo + 1 <= n ? lo + 1 : n, lo = hi - 1;
	*s0 = (size_t)lo, *s1 = (size_t)hi;
}

/* The stretch g0 .. g1 of the padded input (zero outside it and outside [0, N)), tapered by a
 * raised cosine over the outer half of each margin, into v[0..S). xs holds x[s0, s1). */
static void
dsp_resample_block_fill(const struct dsp_resample_block_params *p,
			const struct dsp_resample_block_geom *g, const double *xs, size_t s0,
			double *v)
{
	const struct dsp_resample_plan *pl = &g->plan;
	long long len = g->g1 - g->g0, n = (long long)p->n, left = (long long)pl->pad_left;
	size_t T = p->margin / 2;
#define X(i) xs[(size_t)(i) - s0]

	for (long long t = 0; t < (long long)g->S; t++) {
		long long i = g->g0 + t, j;
		double val = 0, w = 1;

		if (t >= len || i < 0 || i >= (long long)pl->old_len) {
			v[t] = 0;
			continue;
		}
		if (i < left)
			val = left - i < n ? 2.0 * X(0) - X(left - i) : 0.0;
		else if (i < left + n)
			val = X(i - left);
		else if ((j = i - left - n) + 2 <= n)
			val = 2.0 * X(n - 1) - X(n - 2 - j);
		if (T > 0 && t < (long long)T)
			w = 0.5 - 0.5 * cos(M_PI * ((double)t + 0.5) / (double)T);
		else if (T > 0 && len - 1 - t < (long long)T)
			w = 0.5 - 0.5 * cos(M_PI * ((double)(len - 1 - t) + 0.5) / (double)T);
		v[t] = val * w;
	}
#undef X
}

/* Upsampling: the stretch's spectrum zero-extended to up·S points (the Nyquist bin halved, as
 * the whole signal's), the output read at the whole signal's grid. */
static void
dsp_resample_block_up(const struct dsp_resample_block_params *p,
		      const struct dsp_resample_block_geom *g, fftw_complex *X, size_t a, size_t b,
		      double *y)
{
	size_t S = g->S, k = p->up, M = S * k;
	long long off = (long long)k * ((long long)g->plan.pad_left - g->g0);

	fft_r2c_inplace(S, X);
	X[S / 2] *= 0.5;
	for (size_t m = 0; m <= S / 2; m++)
		X[m] /= (double)S;
	for (size_t m = S / 2 + 1; m <= M / 2; m++)
		X[m] = 0;
	X[0] = creal(X[0]);
	X[M / 2] = creal(X[M / 2]);
	fft_c2r_inplace(M, X);
	for (size_t j = a; j < b; j++)
		y[j - a] = ((double *)X)[(long long)j + off];
}

/* Downsampling: the stretch low-passed at the whole signal's cut-off (bins up to L/2 of N),
 * then each output sample interpolated at its padded position. */
static void
dsp_resample_block_down(const struct dsp_resample_block_params *p,
			const struct dsp_resample_block_geom *g, fftw_complex *X, size_t a,
			size_t b, double *y)
{
	const struct dsp_resample_plan *pl = &g->plan;
	size_t S = g->S, keep = (size_t)((double)(pl->new_len / 2) * (double)S / (double)pl->old_len);
	const double *v = (const double *)X;

	(void)p;
	fft_r2c_inplace(S, X);
	for (size_t m = 0; m <= S / 2; m++)
		X[m] = m <= keep ? X[m] / (double)S : 0;
	X[0] = creal(X[0]);
	X[S / 2] = creal(X[S / 2]);
	fft_c2r_inplace(S, X);
	for (size_t j = a; j < b; j++) {
		double pos = dsp_resample_block_pos(pl, j) - (double)g->g0, fl = floor(pos);
		double f = pos - fl, sf = sin(M_PI * f) / M_PI, acc = 0;
		long long c = (long long)fl;

		if (f == 0) {
			y[j - a] = v[c];
			continue;
		}
		for (long long s = c - BLOCK_HALF + 1; s <= c + BLOCK_HALF; s++) {
			double d = pos - (double)s;
			double sinc = ((s - c) % 2 == 0 ? sf : -sf) / d;

			acc += v[s] * sinc * dsp_resample_block_window(d);
		}
		y[j - a] = acc;
	}
}

int
dsp_resample_block(const struct dsp_resample_block_params *p, dsp_resample_read_cb read,
		   void *ctx, size_t a, size_t b, double *y, char **cause)
{
	struct dsp_resample_block_geom g;
	size_t s0, s1, total;
	fftw_complex *X;
	double *xs;

	if (p->n == 0 || p->up == 0 || p->down == 0 || (p->up > 1 && p->down > 1))
		return error_set(cause, -EINVAL,
				 "block resampling: %zu samples by %u/%u (one factor must be 1)",
				 p->n, p->up, p->down);
	total = p->up > 1 ? p->n * p->up : (size_t)nearbyint((double)p->n / (double)p->down);
	if (a > b || b > total)
		return error_set(cause, -EINVAL,
				 "block resampling: block [%zu, %zu) outside the %zu output samples",
				 a, b, total);
	if (a == b)
		return 0;
	if (p->up == 1 && p->down == 1) {
		read(ctx, a, b, y);
		return 0;
	}
	pthread_once(&dsp_resample_block_once, dsp_resample_block_tab_init);
	dsp_resample_block_geom(p, a, b, &g);
	dsp_resample_block_span(p, a, b, &s0, &s1);
	xs = xmalloc((s1 - s0) * sizeof *xs);
	read(ctx, s0, s1, xs);
	X = fft_alloc_complex(g.S * (p->up > 1 ? p->up : 1) / 2 + 1);
	dsp_resample_block_fill(p, &g, xs, s0, (double *)X);
	free(xs);
	if (p->up > 1)
		dsp_resample_block_up(p, &g, X, a, b, y);
	else
		dsp_resample_block_down(p, &g, X, a, b, y);
	fft_free(X);
	return 0;
}
