/* A process-wide cache of FFTW plans keyed by (kind, length), safe to use from any thread.
 * Plans are made once with FFTW_ESTIMATE and executed with the new-array interface, so the
 * buffers passed to fft_plan_* must come from fft_alloc_* (freed with fft_free) for SIMD alignment.
 */
#ifndef ND_FFT_PLAN_H
#define ND_FFT_PLAN_H

#include <complex.h>
#include <fftw3.h>
#include <stddef.h>

/* Real-to-complex forward transform of length n: in n doubles, out n/2+1 complex. */
void fft_r2c(size_t n, double *in, fftw_complex *out);
/* `howmany` contiguous real-to-complex transforms of length n: in[i * n + t] ->
 * out[i * (n/2+1) + f]. */
void fft_r2c_many(size_t n, size_t howmany, double *in, fftw_complex *out);
/* Complex-to-real inverse of length n (unnormalised, destroys `in`): in n/2+1, out n doubles. */
void fft_c2r(size_t n, fftw_complex *in, double *out);
/* In-place versions on one buffer of n/2+1 complex values (the real data occupies its first n
 * doubles): half the memory of the out-of-place pair for the long transforms of resampling. */
void fft_r2c_inplace(size_t n, fftw_complex *buf);
void fft_c2r_inplace(size_t n, fftw_complex *buf);
/* Complex forward (sign -1) or backward (+1) transform of length n, unnormalised. */
void fft_c2c(size_t n, int sign, fftw_complex *in, fftw_complex *out);

/* x[k] *= h[k] (or conj(h[k])/div) for k < n, in plain real arithmetic: C's complex multiply
 * checks every product for NaN and may call __muldc3, which keeps such loops scalar. */
static inline void
fft_spectrum_mul(fftw_complex *x, const fftw_complex *h, size_t n)
{
	double *restrict a = (double *)x;
	const double *restrict b = (const double *)h;

	for (size_t k = 0; k < n; k++) {
		double ar = a[2 * k], ai = a[2 * k + 1], br = b[2 * k], bi = b[2 * k + 1];

		a[2 * k] = ar * br - ai * bi;
		a[2 * k + 1] = ar * bi + ai * br;
	}
}

static inline void
fft_spectrum_mul_conj(fftw_complex *x, const fftw_complex *h, double div, size_t n)
{
	double *restrict a = (double *)x;
	const double *restrict b = (const double *)h;

	for (size_t k = 0; k < n; k++) {
		double ar = a[2 * k], ai = a[2 * k + 1], br = b[2 * k] / div,
		       bi = -b[2 * k + 1] / div;

		a[2 * k] = ar * br - ai * bi;
		a[2 * k + 1] = ar * bi + ai * br;
	}
}

/* Aligned buffers for transforms (2 MB-aligned from 2 MB up, for huge pages), freed with
 * fft_free (not fftw_free). Out of memory is fatal. */
double *fft_alloc_real(size_t n);
fftw_complex *fft_alloc_complex(size_t n);
void fft_free(void *p);

/* Smallest length >= n whose prime factors are 2, 3, 5 and 7 (fast for FFTW). */
size_t fft_good_size(size_t n);

/* Keep plans of at most n points (default: all). Longer transforms are planned for each call
 * and released after it: slower (planning a 5M-point transform costs about as much as running
 * it) but their twiddle tables (8 bytes per point) do not stay resident. */
void fft_plan_set_keep_max(size_t n);
/* Drop every cached plan (tests, shutdown). */
void fft_plan_cache_clear(void);

#endif
