/* Cross-correlation: direct and FFT paths against a brute-force reference; shift recovery. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>

#include "worker/dsp/core/dsp-xcorr.h"
#include "worker/dsp/core/fft-plan.h"

static double
brute(const double *s, size_t ns, const double *r, size_t nr, long k)
{
	double acc = 0;
	for (size_t n = 0; n < nr; n++) {
		long p = (long)n + k;
		if (p >= 0 && p < (long)ns)
			acc += s[p] * r[n];
	}
	return acc;
}

static void
check(size_t ns, size_t nr, size_t w, unsigned seed)
{
	double *s = malloc(ns * sizeof *s), *r = malloc(nr * sizeof *r);
	double *c = malloc((2 * w + 1) * sizeof *c), scale = 0;
	long best = -(long)w;

	srand(seed);
	for (size_t i = 0; i < ns; i++)
		s[i] = (double)rand() / RAND_MAX - 0.5;
	for (size_t i = 0; i < nr; i++)
		r[i] = (double)rand() / RAND_MAX - 0.5;
	dsp_xcorr_values(s, ns, r, nr, w, c);
	for (long k = -(long)w; k <= (long)w; k++)
		scale = fmax(scale, fabs(brute(s, ns, r, nr, k)));
	for (long k = -(long)w; k <= (long)w; k++) {
		double want = brute(s, ns, r, nr, k);
		/* Direct sums reorder additions, the FFT adds round-off: 1e-11 of the peak. */
		cr_assert_float_eq(c[k + (long)w], want, 1e-11 * (scale + 1),
				   "ns=%zu nr=%zu w=%zu k=%ld", ns, nr, w, k);
		if (want > brute(s, ns, r, nr, best))
			best = k;
	}
	cr_assert_eq(dsp_xcorr_shift(s, ns, r, nr, w), best, "ns=%zu nr=%zu w=%zu", ns, nr, w);
	free(s);
	free(r);
	free(c);
}

Test(dsp_xcorr, matches_brute_force_direct_path)
{
	check(300, 293, 3, 1);
	check(296, 293, 3, 2);
	check(2960, 2930, 30, 3);
	check(10, 20, 15, 4); /* lags beyond both ends */
	check(1, 1, 0, 5);
}

Test(dsp_xcorr, matches_brute_force_fft_path)
{
	check(4000, 3000, 1000, 6);
	check(2000, 2100, 2500, 7);
	fft_plan_cache_clear();
}

Test(dsp_xcorr, recovers_a_known_shift)
{
	size_t L = 500, W = 20;
	double *r = malloc(L * sizeof *r), *s = malloc((L + W) * sizeof *s);

	for (size_t i = 0; i < L; i++)
		r[i] = sin(0.05 * (double)i) * exp(-0.01 * (double)i) + 0.2 * sin(0.9 * (double)i);
	for (long shift = -7; shift <= 7; shift++) {
		for (size_t i = 0; i < L + W; i++) {
			long j = (long)i - shift;
			s[i] = j >= 0 && j < (long)L ? r[j] : 0.0;
		}
		/* s[n + shift] = r[n] */
		cr_assert_eq(dsp_xcorr_shift(s, L + W, r, L, W), shift);
	}
	free(r);
	free(s);
}
