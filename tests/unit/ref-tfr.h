/* Plain double-precision references of the time-frequency kernels, for the unit tests only:
 * explicit windows and direct DFT sums (mtmconvol, welch), direct time-domain convolution with
 * kernels written from the closed forms, and the superlet's product of principal powers. */
#ifndef ND_TEST_REF_TFR_H
#define ND_TEST_REF_TFR_H

#include <complex.h>
#include <stdbool.h>
#include <stddef.h>

/* One channel x[0..n) of a trial, sliding windows of p samples every `step` (the reference's
 * zero extension by p/2), detrended (-1, 0, 1), times the K scaled tapers w[k * p + i] (already
 * including sqrt(2)/p), DFT at the given bins: out[(t * K + k) * nbins + b] complex. */
void ref_tfr_sliding(const double *x, size_t n, size_t p, size_t step, int poly, const double *w,
		     size_t k, const size_t *bins, size_t nbins, double complex *out);
/* Direct DFT bin b of x[0..n) (times w, no scaling). */
double complex ref_tfr_dft(const double *x, const double *w, size_t n, size_t b);
/* Least-squares polynomial (degree 0 or 1) removed from x[0..n) in place. */
void ref_tfr_detrend(double *x, size_t n, int poly);

/* Wavelet kernels from their closed forms: family 0 Morlet (w0 6), 1 Paul, 2 DOG (order m),
 * 3 superlet Morlet with c cycles; scale s, rate fs; taps written to k (ceil(M) of them). */
size_t ref_tfr_kernel(int family, int m, int c, double s, double fs, double complex *k);
/* out[t] = sum_j x[j] k[t + (nk - 1) / 2 - j], t < n (zero outside x). */
void ref_tfr_conv_same(const double *x, size_t n, const double complex *k, size_t nk,
		       double complex *out);

#endif
