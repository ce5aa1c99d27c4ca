/* FFT resampling against a direct-DFT reference of the same algorithm and against numpy (MNE)
 * fixtures; lengths, sinusoid preservation and parameter checks. */
#include <complex.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "tests/data/dsp-resample-fixtures.h"
#include "worker/dsp-resample.h"
#include "worker/fft-plan.h"

static double
sig(size_t i)
{
	double t = (double)i;
	return sin(0.37 * t) + 0.5 * cos(1.3 * t + 0.2) + 3e-3 * t;
}

/* Reference: the spec's steps with O(N²) transforms. Returns a malloc'd array of final_len. */
static double *
ref_resample(const double *x, size_t n, double ratio, size_t *out_len)
{
	size_t min_add = 2 * (n / 8 < 100 ? n / 8 : 100), old = 1, nl, fl, left, right, tr, use;
	double *xp, *y, *res;
	double complex *X;

	while (old < n + min_add)
		old *= 2;
	left = (old - n) / 2;
	right = old - n - left;
	nl = (size_t)nearbyint(ratio * (double)old);
	fl = (size_t)nearbyint(ratio * (double)n);
	tr = (size_t)nearbyint(ratio * (double)left);
	xp = malloc(old * sizeof *xp);
	for (size_t j = 0; j < left; j++)
		xp[j] = 2 * x[0] - x[left - j];
	for (size_t j = 0; j < n; j++)
		xp[left + j] = x[j];
	for (size_t j = 0; j < right; j++)
		xp[left + n + j] = 2 * x[n - 1] - x[n - 2 - j];
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
	res = malloc(fl * sizeof *res);
	for (size_t t = 0; t < fl; t++)
		res[t] = y[tr + t];
	free(xp);
	free(X);
	free(y);
	*out_len = fl;
	return res;
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
	/* 331776 + 200 → 524288 padded, 5242880 after ×10: one in-place buffer of 5242880/2 + 1
	 * complex values and the 3317760-sample output. */
	cr_assert_eq(dsp_resample_bytes(331776, 10.0), 16 * (5242880 / 2 + 1) + 8 * 3317760);
	cr_assert_eq(dsp_resample_bytes(3317760, 0.1), 16 * (4194304 / 2 + 1) + 8 * 331776);
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
