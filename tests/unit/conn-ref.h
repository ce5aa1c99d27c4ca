/* Plain double-precision reference versions of the connectivity kernels, used only by tests:
 * direct loops over trials, tapers, pairs and lags, written from the definitions, and Wilson's
 * factorisation on the full circle with hand-written Cholesky, inversion and DFTs. */
#ifndef ND_TEST_CONN_REF_H
#define ND_TEST_CONN_REF_H

#include <complex.h>
#include <stddef.h>

/* Mean over trials (and tapers) of X_i conj(X_j): x holds ntr trials × ntap tapers × nfreq ×
 * nchan complex; out nfreq × nchan × nchan complex (row-major). */
void conn_ref_csd(const double complex *x, size_t ntr, size_t ntap, size_t nfreq, size_t nchan,
		  double complex *out);
/* 2/(K(K−1)) Σ_{k<l} cos(arg(S_k conj(S_l))) from per-trial cross spectra s (ntr × nfreq ×
 * nchan × nchan); pairs with a zero cross spectrum add 0. */
void conn_ref_ppc(const double complex *s, size_t ntr, size_t nfreq, size_t nchan, double *out);
/* Lagged covariance of one detrended trial (n × nchan row-major), lags 0 .. ceil(n/2) − 1, by
 * the reference's definitions: out[(L * nchan + i) * nchan + j]. */
void conn_ref_xcov(const double *x, size_t n, size_t nchan, double *out);
/* Granger causality i → j of full cross spectra (nfreq × nchan × nchan, 0 .. Nyquist): Wilson on
 * the full circle, plain arithmetic. Returns the number of iterations. */
int conn_ref_granger(const double complex *csd, size_t nfreq, size_t nchan, int niter,
		     double rtol, double *out);

#endif
