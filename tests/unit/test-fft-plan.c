/* The FFTW plan cache: transforms agree with a direct DFT, and sizes are FFT-friendly. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "worker/dsp/core/fft-plan.h"

Test(fft_plan, r2c_matches_direct_dft)
{
	const size_t n = 30;
	double *x = fft_alloc_real(n);
	fftw_complex *X = fft_alloc_complex(n / 2 + 1);

	for (size_t i = 0; i < n; i++)
		x[i] = sin(0.3 * (double)i) + 0.1 * (double)(i % 7);
	fft_r2c(n, x, X);
	for (size_t k = 0; k <= n / 2; k++) {
		double re = 0, im = 0;
		for (size_t i = 0; i < n; i++) {
			re += x[i] * cos(2 * M_PI * (double)(k * i) / (double)n);
			im -= x[i] * sin(2 * M_PI * (double)(k * i) / (double)n);
		}
		cr_assert_float_eq(creal(X[k]), re, 1e-10);
		cr_assert_float_eq(cimag(X[k]), im, 1e-10);
	}
	/* Round trip through c2r, normalised by n. */
	double *y = fft_alloc_real(n);
	fft_c2r(n, X, y);
	for (size_t i = 0; i < n; i++)
		cr_assert_float_eq(y[i] / (double)n, x[i], 1e-12);
	fft_free(x);
	fft_free(X);
	fft_free(y);
	fft_plan_cache_clear();
}

Test(fft_plan, good_size)
{
	cr_assert_eq(fft_good_size(1), 1);
	cr_assert_eq(fft_good_size(11), 12);
	cr_assert_eq(fft_good_size(97), 98);
	cr_assert_eq(fft_good_size(1024), 1024);
	cr_assert_eq(fft_good_size(6759 + 100), 6860);
}

Test(fft_plan, inplace_and_uncached_plans_agree)
{
	const size_t n = 1000;
	fftw_complex *a = fft_alloc_complex(n / 2 + 1), *b = fft_alloc_complex(n / 2 + 1);
	double *x = fft_alloc_real(n);
	fftw_complex *X = fft_alloc_complex(n / 2 + 1);

	for (size_t i = 0; i < n; i++)
		x[i] = sin(0.01 * (double)(i * i)) + 0.5;
	/* In place equals out of place within rounding. */
	memcpy(a, x, n * sizeof *x);
	fft_r2c_inplace(n, a);
	fft_r2c(n, x, X);
	for (size_t k = 0; k < n / 2 + 1; k++)
		cr_assert(cabs(a[k] - X[k]) <= 1e-10 * (1 + cabs(X[k])), "bin %zu", k);
	/* A plan made for one call (above the keep limit) is the same plan: identical bits. */
	fft_plan_cache_clear();
	fft_plan_set_keep_max(100);
	memcpy(b, x, n * sizeof *x);
	fft_r2c_inplace(n, b);
	fft_plan_set_keep_max(SIZE_MAX);
	cr_assert_arr_eq(a, b, (n / 2 + 1) * sizeof *a);
	fft_c2r_inplace(n, b);
	for (size_t i = 0; i < n; i++)
		cr_assert_float_eq(((double *)b)[i] / (double)n, x[i], 1e-12);
	fft_free(a), fft_free(b), fft_free(x), fft_free(X);
	fft_plan_cache_clear();
}
