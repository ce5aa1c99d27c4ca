/* Wilson's spectral matrix factorisation (Wilson 1972, "The factorization of matricial spectral
 * densities"), as the reference toolbox runs it for non-parametric Granger causality: the
 * trial-averaged cross-spectral matrices S(f) on 0 .. Nyquist, extended to the full circle by
 * S(−f) = conj(S(f)), are factorised S = ψ ψ^H by the Newton-like iteration
 *   g = ψ^-1 S ψ^-H,  ψ <- ψ ([g + I]_+ + T),
 * where [·]_+ keeps the causal half of the lag series (half of lag 0 and of the Nyquist lag) and
 * T = triu(g0) − triu(g0)^H makes the step unique; ψ starts at the Cholesky factor of the lag-0
 * term. It stops when max |S − ψψ^H| / |S| < rtol or after niter steps, and gives the transfer
 * functions H = ψ ψ0^-1 and the noise covariance Σ = ψ0 ψ0^T. All in complex128 with LAPACK
 * (zpotrf, zgetrf/zgetrs) and BLAS; since ψ(−f) = conj(ψ(f)) throughout, only the nfreq
 * frequencies 0 .. Nyquist are iterated, and the lag series use real FFTs. The loops over
 * frequencies and matrix entries of each step run on `nthreads` threads (1: the caller's only);
 * the result does not depend on it. */
#ifndef ND_DSP_WILSON_H
#define ND_DSP_WILSON_H

#include <stdbool.h>
#include <stddef.h>

struct dsp_wilson_result {
	bool converged;
	double max_rel_err; /* of the last step */
	int iterations;
};

/* csd: nfreq full row-major Hermitian matrices (dsp-csd.h layout), f = 0 .. Nyquist (nfreq >= 3).
 * On success h gets nfreq row-major complex matrices and sigma a row-major real nchan × nchan
 * matrix (both caller-owned). Returns 0, or -EINVAL when a matrix is not positive definite. */
int dsp_wilson_factor(const double *csd, size_t nfreq, size_t nchan, int niter, double rtol,
		      int nthreads, double *h, double *sigma, struct dsp_wilson_result *res,
		      char **cause);

#endif
