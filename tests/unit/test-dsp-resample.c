/* FFT resampling against a direct-DFT reference of the same algorithm and against numpy (MNE)
 * fixtures; the polyphase paths against the single-transform path and the reference; lengths,
 * sinusoid preservation, working memory and parameter checks. */
#include <complex.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "tests/data/dsp-resample-fixtures.h"
#include "worker/dsp/core/dsp-resample-poly.h"
#include "worker/dsp/core/dsp-resample.h"
#include "worker/dsp/core/fft-plan.h"

static double
sig(size_t i)
{
	double t = (double)i;
	return sin(0.37 * t) + 0.5 * cos(1.3 * t + 0.2) + 3e-3 * t;
}

/* Reference: the spec's steps with O(N²) transforms, for a padding plan given field by field
 * (old_len, new_len, final_len, pad_left, trim_left) so that plans the spec never makes (padding
 * longer than the signal) can be checked too. Returns a malloc'd array of final_len. */
static double *
ref_plan(const double *x, size_t n, const struct dsp_resample_plan *p)
{
	size_t old = p->old_len, nl = p->new_len, left = p->pad_left, use, avail;
	double *xp, *y, *res;
	double complex *X;

	xp = malloc(old * sizeof *xp);
	for (size_t j = 0; j < old; j++) {
		if (j < left) /* reflected about x[0], zero where x runs out */
			xp[j] = left - j < n ? 2 * x[0] - x[left - j] : 0.0;
		else if (j < left + n)
			xp[j] = x[j - left];
		else /* reflected about x[n-1], then zero */
			xp[j] =
			    j - left - n + 2 <= n ? 2 * x[n - 1] - x[2 * n - 2 - (j - left)] : 0.0;
	}
	X = calloc(old / 2 + 1, sizeof *X);
	for (size_t k = 0; k <= old / 2; k++)
		for (size_t j = 0; j < old; j++)
			X[k] += xp[j] * cexp(-2 * M_PI * I * (double)((k * j) % old) / (double)old);
	use = nl < old ? nl : old;
	if (use % 2 == 0)
		X[use / 2] *= nl < old ? 2.0 : 0.5;
	y = malloc(nl * sizeof *y);
	for (size_t t = 0; t < nl; t++) {
		double acc = creal(X[0]);
		for (size_t k = 1; k <= nl / 2 && k <= old / 2; k++) {
			double complex w = cexp(2 * M_PI * I * (double)((k * t) % nl) / (double)nl);
			if (nl % 2 == 0 && k == nl / 2)
				acc += creal(X[k]) * creal(w);
			else
				acc += 2 * creal(X[k] * w);
		}
		y[t] = acc / (double)old;
	}
	/* Trim; when the rounding leaves fewer samples than final_len, repeat the last one. */
	res = malloc((p->final_len ? p->final_len : 1) * sizeof *res);
	avail = p->trim_left < nl ? nl - p->trim_left : 0;
	if (avail > p->final_len)
		avail = p->final_len;
	for (size_t t = 0; t < p->final_len; t++)
		res[t] = t < avail ? y[p->trim_left + t] : avail > 0 ? res[avail - 1] : 0.0;
	free(xp);
	free(X);
	free(y);
	return res;
}

/* The same with the spec's plan, computed here independently of dsp_resample_plan_make. */
static double *
ref_resample(const double *x, size_t n, double ratio, size_t *out_len)
{
	size_t min_add = 2 * (n / 8 < 100 ? n / 8 : 100), old = 1;
	struct dsp_resample_plan p;

	while (old < n + min_add)
		old *= 2;
	p.old_len = old;
	p.pad_left = (old - n) / 2;
	p.pad_right = old - n - p.pad_left;
	p.new_len = (size_t)nearbyint(ratio * (double)old);
	p.final_len = (size_t)nearbyint(ratio * (double)n);
	p.trim_left = (size_t)nearbyint(ratio * (double)p.pad_left);
	*out_len = p.final_len;
	return ref_plan(x, n, &p);
}

static void
check_case(size_t n, double ratio, const double *fixture, size_t fixture_len)
{
	double *x = malloc(n * sizeof *x), *y, *r;
	size_t len = dsp_resample_length(n, ratio), rlen;

	for (size_t i = 0; i < n; i++)
		x[i] = sig(i);
	cr_assert_eq(len, fixture_len, "n=%zu ratio=%g: length %zu, numpy %zu", n, ratio, len,
		     fixture_len);
	y = malloc(len * sizeof *y);
	cr_assert_eq(dsp_resample(x, n, ratio, y, NULL), 0);
	r = ref_resample(x, n, ratio, &rlen);
	cr_assert_eq(rlen, len);
	for (size_t i = 0; i < len; i++) {
		/* FFT vs direct DFT and vs numpy: round-off only. */
		cr_assert_float_eq(y[i], r[i], 1e-10, "n=%zu ratio=%g i=%zu", n, ratio, i);
		cr_assert_float_eq(y[i], fixture[i], 1e-10, "n=%zu ratio=%g i=%zu", n, ratio, i);
	}
	free(x);
	free(y);
	free(r);
}

#define CASE(n, ratio, fix) check_case(n, ratio, fix, sizeof fix / sizeof fix[0])

Test(dsp_resample, matches_direct_dft_and_numpy)
{
	CASE(100, 3.0, fix_up3_100);
	CASE(301, 1.0 / 3.0, fix_down3_301);
	CASE(257, 0.75, fix_r075_257);
	CASE(64, 2.5, fix_r25_64);
	CASE(1000, 0.1, fix_down10_1000);
	CASE(5, 2.0, fix_up2_5);
	fft_plan_cache_clear();
}

Test(dsp_resample, up_then_down_preserves_band_limited_signal)
{
	size_t n = 20000, k = 10, nu = dsp_resample_length(n, (double)k);
	double *x = malloc(n * sizeof *x), *u = malloc(nu * sizeof *u), *d;

	for (size_t i = 0; i < n; i++)
		x[i] = sin(2 * M_PI * 10.0 * (double)i / 2048.0) +
		       0.3 * cos(2 * M_PI * 61.5 * (double)i / 2048.0);
	cr_assert_eq(nu, 200000);
	cr_assert_eq(dsp_resample_up(x, n, (unsigned)k, u, NULL), 0);
	/* The upsampled signal interpolates the sinusoids (away from the edges). */
	for (size_t i = 10000; i < nu - 10000; i += 37) {
		double t = (double)i / 20480.0;
		double want = sin(2 * M_PI * 10.0 * t) + 0.3 * cos(2 * M_PI * 61.5 * t);
		cr_assert_float_eq(u[i], want, 1e-3, "i=%zu", i);
	}
	d = malloc(n * sizeof *d);
	cr_assert_eq(dsp_resample_length(nu, 0.1), n);
	cr_assert_eq(dsp_resample_down(u, nu, (unsigned)k, d, NULL), 0);
	/* The method's inverse length round(0.1·262144) = 26214 is not exactly a tenth of the
	 * padded length, so output sample i sits at upsampled position
	 * (i + 3107)·262144/26214 − 31072: a stretch of 1.5e-5 that the reference has too. */
	for (size_t i = 1000; i < n - 1000; i++) {
		double t = (((double)i + 3107.0) * 262144.0 / 26214.0 - 31072.0) / 20480.0;
		double want = sin(2 * M_PI * 10.0 * t) + 0.3 * cos(2 * M_PI * 61.5 * t);
		cr_assert_float_eq(d[i], want, 1e-4, "i=%zu d=%g want=%g", i, d[i], want);
	}
	free(x);
	free(u);
	free(d);
	fft_plan_cache_clear();
}

Test(dsp_resample, lengths_and_memory)
{
	cr_assert_eq(dsp_resample_length(331776, 10.0), 3317760);
	cr_assert_eq(dsp_resample_length(3317760, 0.1), 331776);
	cr_assert_eq(dsp_resample_length(10, 0.25), 2); /* 2.5 rounds half to even */
	/* 331776 + 200 → 524288 padded, 5242880 after ×10: the polyphase path keeps the spectrum
	 * and two phases' transforms (524288/2 + 1 complex values each), two phases' twiddle
	 * tables of 512 + 513 complex values, and the 3317760-sample output. */
	cr_assert_eq(dsp_resample_bytes(331776, 10.0),
		     16 * 3 * (524288 / 2 + 1) + 16 * 2 * (512 + 513) + 8 * 3317760);
	/* 3317760 + 200 → 4194304 padded, 419430 after ×0.1: the 209716 kept bins, eight of the
	 * sixteen phases of 262144 points at once (in-place transforms of 131073 complex values)
	 * and their tables of 512 + 410 complex values, and the output. */
	cr_assert_eq(dsp_resample_bytes(3317760, 0.1),
		     16 * (209716 + 8 * 131073) + 16 * 8 * (512 + 410) + 8 * 331776);
	/* Below the polyphase lengths, and for a non-integer factor: one in-place buffer for
	 * the longer transform. 20000 + 200 → 32768 padded. */
	cr_assert_eq(dsp_resample_bytes(20000, 10.0), 16 * (327680 / 2 + 1) + 8 * 200000);
	cr_assert_eq(dsp_resample_bytes(331776, 2.5), 16 * (1310720 / 2 + 1) + 8 * 829440);
	cr_assert_eq(dsp_resample_bytes(3317760, 0.5), 16 * (4194304 / 2 + 1) + 8 * 1658880);
}

Test(dsp_resample, rejects_bad_parameters)
{
	double x[4] = {0}, y[8];
	char *cause = NULL;

	cr_assert_eq(dsp_resample(x, 4, 0.0, y, &cause), -EINVAL);
	cr_assert_not_null(strstr(cause, "ratio"));
	free(cause);
	cause = NULL;
	cr_assert_eq(dsp_resample_up(x, 4, 0, y, &cause), -EINVAL);
	free(cause);
	cause = NULL;
	cr_assert_eq(dsp_resample_rate(x, 4, 2048, -1, y, &cause), -EINVAL);
	cr_assert_not_null(strstr(cause, "new sampling rate"));
	free(cause);
}

/* The test signal of the polyphase checks: sig() plus an alternating component, so that the
 * spectrum's Nyquist bin (halved or doubled by the spec's rule) carries weight. */
static double *
poly_signal(size_t n)
{
	double *x = malloc(n * sizeof *x);

	for (size_t i = 0; i < n; i++)
		x[i] = sig(i) + (i % 2 ? -0.25 : 0.25);
	return x;
}

/* max|a − b| / max|b| over len samples. */
static double
rel_diff(const double *a, const double *b, size_t len)
{
	double d = 0, m = 0;

	for (size_t i = 0; i < len; i++) {
		d = fmax(d, fabs(a[i] - b[i]));
		m = fmax(m, fabs(b[i]));
	}
	return m > 0 ? d / m : d;
}

/* Rounding differences only: the polyphase paths agree with the single transform to 1e-12 of
 * the output's peak (measured: about 2e-15). */
#define POLY_TOL 1e-12

static void
check_poly_up(size_t n, unsigned m)
{
	struct dsp_resample_plan p;
	double *x = poly_signal(n), *y, *d;

	dsp_resample_plan_make(&p, n, (double)m);
	cr_assert_eq(p.new_len, m * p.old_len);
	y = malloc(p.final_len * sizeof *y);
	d = malloc(p.final_len * sizeof *d);
	dsp_resample_poly_up(x, n, &p, m, y);
	cr_assert_eq(dsp_resample_direct(x, n, (double)m, d, NULL), 0);
	cr_assert_leq(rel_diff(y, d, p.final_len), POLY_TOL, "n=%zu m=%u: %g", n, m,
		      rel_diff(y, d, p.final_len));
	free(x);
	free(y);
	free(d);
}

Test(dsp_resample, polyphase_up_matches_single_transform)
{
	static const size_t ns[] = {5, 6, 333, 1000, 1001, 4095, 20000};
	static const unsigned ms[] = {2, 3, 4, 10};

	for (size_t i = 0; i < sizeof ns / sizeof ns[0]; i++)
		for (size_t j = 0; j < sizeof ms / sizeof ms[0]; j++)
			check_poly_up(ns[i], ms[j]);
	fft_plan_cache_clear();
}

static void
check_poly_down(size_t n, double ratio, size_t part)
{
	struct dsp_resample_plan p;
	double *x = poly_signal(n), *y, *d;

	dsp_resample_plan_make(&p, n, ratio);
	y = malloc(p.final_len * sizeof *y);
	d = malloc(p.final_len * sizeof *d);
	dsp_resample_poly_down(x, n, &p, part, y);
	cr_assert_eq(dsp_resample_direct(x, n, ratio, d, NULL), 0);
	cr_assert_leq(rel_diff(y, d, p.final_len), POLY_TOL, "n=%zu ratio=%g part=%zu: %g", n,
		      ratio, part, rel_diff(y, d, p.final_len));
	free(x);
	free(y);
	free(d);
}

Test(dsp_resample, polyphase_down_matches_single_transform)
{
	/* 5001 + 200 → 8192 padded. Ratio 0.1: 819 bins kept (odd, no Nyquist bin), so with
	 * phases of 256 points the kept bins run past P/2 (conjugated, reversed reads) and past P
	 * (wrapping); 0.25 keeps an even 2048 (Nyquist ×2), 1/3 keeps 2731. Phases of 2 points
	 * (4096 phases, one-bin blocks) and of 4096 (2 phases, a group smaller than 4). */
	static const double ratios[] = {0.1, 0.25, 1.0 / 3.0, 0.5, 0.01};
	static const size_t parts[] = {2, 8, 256, 1024, 4096};

	for (size_t i = 0; i < sizeof ratios / sizeof ratios[0]; i++)
		for (size_t j = 0; j < sizeof parts / sizeof parts[0]; j++) {
			check_poly_down(5001, ratios[i], parts[j]);
			check_poly_down(5000, ratios[i], parts[j]);
		}
	/* One and two kept points (a single bin), and short signals: 100 → 128 padded, 7 → 8. */
	check_poly_down(5001, 1.0 / 8192.0, 8);
	check_poly_down(5001, 2.0 / 8192.0, 8);
	check_poly_down(100, 0.3, 16);
	check_poly_down(100, 0.1, 64);
	check_poly_down(7, 0.5, 2);
	fft_plan_cache_clear();
}

/* Plans the spec never makes, checked against the O(N²) reference: padding longer than the
 * signal, so the reflection runs out and the padding ends in zeros; a trim that is not a
 * multiple of the factor; fewer samples left after the trim than final_len. */
Test(dsp_resample, polyphase_paths_on_long_padding_and_odd_trims)
{
	double *x = poly_signal(10), *y, *r;
	struct dsp_resample_plan p = {.old_len = 64, .pad_left = 27, .pad_right = 27};

	/* ×3, ×4 and ×5 (one phase at a time, then pairs of phases, then pairs and a single):
	 * trims of m·27 and one either side, where a pair of phases straddles the first output;
	 * final lengths 10·m and one less; a trim that leaves only 32 samples before final_len, the
	 * rest repeating the last. */
	for (size_t m = 3; m <= 5; m++) {
		const size_t trims[] = {27 * m, 27 * m + 1, 27 * m - 1, 64 * m - 32};
		const size_t finals[] = {10 * m, 10 * m - 1, 10 * m, 10 * m + 8};
		for (size_t i = 0; i < 4; i++) {
			p.new_len = 64 * m;
			p.trim_left = trims[i];
			p.final_len = finals[i];
			y = malloc(p.final_len * sizeof *y);
			r = ref_plan(x, 10, &p);
			dsp_resample_poly_up(x, 10, &p, m, y);
			cr_assert_leq(rel_diff(y, r, p.final_len), 1e-10, "m %zu trim %zu: %g", m,
				      trims[i], rel_diff(y, r, p.final_len));
			free(y);
			free(r);
		}
	}
	/* ×0.25 (16 points, Nyquist ×2) and ×0.2 (13 points), in phases of 4 and 8. */
	static const size_t lens[] = {16, 13};
	for (size_t i = 0; i < 2; i++)
		for (size_t part = 4; part <= 8; part *= 2) {
			p.new_len = lens[i];
			p.trim_left = 6;
			p.final_len = 3;
			y = malloc(p.final_len * sizeof *y);
			r = ref_plan(x, 10, &p);
			dsp_resample_poly_down(x, 10, &p, part, y);
			cr_assert_leq(rel_diff(y, r, p.final_len), 1e-10, "len %zu part %zu: %g",
				      lens[i], part, rel_diff(y, r, p.final_len));
			free(y);
			free(r);
		}
	free(x);
	fft_plan_cache_clear();
}

/* dsp_resample itself on signals long enough for the polyphase paths: 60000 + 200 → 65536
 * padded, ×10 to 655360 points (ten inverse transforms of 65536); 1500000 + 200 → 2097152, ×0.1
 * (eight phases of 262144). Compared with the single-transform path. */
Test(dsp_resample, long_signals_take_the_polyphase_paths)
{
	const size_t nu = 60000, nd = 1500000;
	double *x = poly_signal(nd), *y = malloc(nu * 10 * sizeof *y),
	       *d = malloc(nu * 10 * sizeof *d);

	cr_assert_lt(dsp_resample_bytes(nu, 10.0), 16 * (655360 / 2 + 1) + 8 * 600000);
	cr_assert_eq(dsp_resample(x, nu, 10.0, y, NULL), 0);
	cr_assert_eq(dsp_resample_direct(x, nu, 10.0, d, NULL), 0);
	cr_assert_leq(rel_diff(y, d, nu * 10), POLY_TOL);

	cr_assert_lt(dsp_resample_bytes(nd, 0.1), 16 * (2097152 / 2 + 1) + 8 * 150000);
	cr_assert_eq(dsp_resample(x, nd, 0.1, y, NULL), 0);
	cr_assert_eq(dsp_resample_direct(x, nd, 0.1, d, NULL), 0);
	cr_assert_leq(rel_diff(y, d, nd / 10), POLY_TOL);
	free(x);
	free(y);
	free(d);
	fft_plan_cache_clear();
}
