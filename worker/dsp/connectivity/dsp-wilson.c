/* Wilson's factorisation on the half circle: per frequency a Cholesky factor of S, the step
 * g = (ψ^-1 U)(ψ^-1 U)^H and the update of ψ; per matrix entry the "plus" operator on the lag
 * series (inverse real FFT, halve lags 0 and n/2, drop the negative lags, forward real FFT). */
#include "worker/dsp/connectivity/dsp-wilson.h"

#include <complex.h>
#include <cblas.h>
#include <errno.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/xmalloc.h"
#include "worker/dsp/core/fft-plan.h"

struct dsp_wilson {
	size_t nf, nc, nn, n; /* frequencies, channels, nc², circle length 2 (nf − 1) */
	double complex *s;    /* nf column-major matrices */
	double complex *u;    /* their lower Cholesky factors */
	double complex *psi;
	double complex *g; /* g + I, then [g + I]_+ in place */
	double *psi0, *g0, *t, *rtmp;
	double complex *lu, *y;
	lapack_int *ipiv;
	fftw_complex *fin, *fout;
	double *beta;
};

static void
dsp_wilson_free(struct dsp_wilson *w)
{
	free(w->s);
	free(w->u);
	free(w->psi);
	free(w->g);
	free(w->psi0);
	free(w->g0);
	free(w->t);
	free(w->rtmp);
	free(w->lu);
	free(w->y);
	free(w->ipiv);
	fft_free(w->fin);
	fft_free(w->fout);
	fft_free(w->beta);
}

/* Load S column-major, its Cholesky factors, and ψ0 from the lag-0 term Σ_circle Re S. */
static int
dsp_wilson_setup(struct dsp_wilson *w, const double *csd, char **cause)
{
	size_t nc = w->nc, nn = w->nn;
	lapack_int info;

	for (size_t k = 0; k < w->nf; k++)
		for (size_t i = 0; i < nc; i++)
			for (size_t j = 0; j < nc; j++) {
				const double *v = csd + 2 * (k * nn + i * nc + j);
				w->s[k * nn + i + j * nc] = v[0] + I * v[1];
			}
	memcpy(w->u, w->s, w->nf * nn * sizeof *w->u);
	for (size_t k = 0; k < w->nf; k++) {
		double complex *u = w->u + k * nn;
		info = LAPACKE_zpotrf(LAPACK_COL_MAJOR, 'L', (lapack_int)nc, u, (lapack_int)nc);
		if (info != 0)
			return error_set(cause, -EINVAL,
					 "granger: the cross-spectral matrix of frequency bin %zu "
					 "is not positive definite (LAPACK zpotrf %d)",
					 k, (int)info);
		for (size_t j = 1; j < nc; j++)
			for (size_t i = 0; i < j; i++)
				u[i + j * nc] = 0;
	}
	/* Γ0 = Σ over the circle: S(0) + S(Nyquist) + 2 Re S(f) in between, all real parts */
	memset(w->g0, 0, nn * sizeof *w->g0);
	for (size_t k = 0; k < w->nf; k++)
		for (size_t e = 0; e < nn; e++)
			w->g0[e] += (k == 0 || k == w->nf - 1 ? 1.0 : 2.0) * creal(w->s[k * nn + e]);
	for (size_t i = 0; i < nc; i++)
		for (size_t j = 0; j < i; j++) {
			double m = (w->g0[i + j * nc] + w->g0[j + i * nc]) / 2;
			w->g0[i + j * nc] = w->g0[j + i * nc] = m;
		}
	info = LAPACKE_dpotrf(LAPACK_COL_MAJOR, 'L', (lapack_int)nc, w->g0, (lapack_int)nc);
	if (info != 0)
		return error_set(cause, -EINVAL,
				 "granger: the lag-0 cross-covariance is not positive definite "
				 "(LAPACK dpotrf %d)",
				 (int)info);
	/* ψ0 = L^T */
	for (size_t i = 0; i < nc; i++)
		for (size_t j = 0; j < nc; j++)
			w->psi0[i + j * nc] = j >= i ? w->g0[j + i * nc] : 0;
	for (size_t k = 0; k < w->nf; k++)
		for (size_t e = 0; e < nn; e++)
			w->psi[k * nn + e] = w->psi0[e];
	return 0;
}

/* g(k) + I with g = (ψ^-1 U)(ψ^-1 U)^H. */
static int
dsp_wilson_g(struct dsp_wilson *w, size_t k, char **cause)
{
	size_t nc = w->nc, nn = w->nn;
	double complex *g = w->g + k * nn;
	lapack_int info, n = (lapack_int)nc;

	memcpy(w->lu, w->psi + k * nn, nn * sizeof *w->lu);
	memcpy(w->y, w->u + k * nn, nn * sizeof *w->y);
	info = LAPACKE_zgetrf(LAPACK_COL_MAJOR, n, n, w->lu, n, w->ipiv);
	if (info == 0)
		info = LAPACKE_zgetrs(LAPACK_COL_MAJOR, 'N', n, n, w->lu, n, w->ipiv, w->y, n);
	if (info != 0)
		return error_set(cause, -EINVAL,
				 "granger: the factor at frequency bin %zu became singular "
				 "(LAPACK %d)",
				 k, (int)info);
	cblas_zherk(CblasColMajor, CblasUpper, CblasNoTrans, n, n, 1.0, w->y, n, 0.0, g, n);
	for (size_t j = 0; j < nc; j++) {
		for (size_t i = j + 1; i < nc; i++)
			g[i + j * nc] = conj(g[j + i * nc]);
		g[j + j * nc] = creal(g[j + j * nc]) + 1.0;
	}
	return 0;
}

/* [g]_+ of every entry in place, lag 0 (halved) into g0, then T = triu(g0) − triu(g0)^T. */
static void
dsp_wilson_plus(struct dsp_wilson *w)
{
	size_t nf = w->nf, nn = w->nn, n = w->n, nlag = n / 2, nc = w->nc;

	for (size_t e = 0; e < nn; e++) {
		for (size_t k = 0; k < nf; k++)
			w->fin[k] = w->g[k * nn + e];
		fft_c2r(n, w->fin, w->beta);
		for (size_t m = 0; m <= nlag; m++)
			w->beta[m] /= (double)n;
		w->beta[0] *= 0.5;
		w->beta[nlag] *= 0.5;
		for (size_t m = nlag + 1; m < n; m++)
			w->beta[m] = 0;
		w->g0[e] = w->beta[0];
		fft_r2c(n, w->beta, w->fout);
		for (size_t k = 0; k < nf; k++)
			w->g[k * nn + e] = w->fout[k];
	}
	for (size_t j = 0; j < nc; j++)
		for (size_t i = 0; i < nc; i++)
			w->t[i + j * nc] = i < j ? w->g0[i + j * nc] : i > j ? -w->g0[j + i * nc] : 0;
}

/* ψ(k) <- ψ(k) ([g + I]_+ + T); returns max |S − ψψ^H| / |S| over the matrix. */
static double
dsp_wilson_update(struct dsp_wilson *w, size_t k)
{
	size_t nc = w->nc, nn = w->nn;
	double complex *g = w->g + k * nn, *psi = w->psi + k * nn, *s = w->s + k * nn;
	const double complex one = 1, zero = 0;
	double err = 0;
	int n = (int)nc;

	for (size_t e = 0; e < nn; e++)
		g[e] += w->t[e];
	cblas_zgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, n, n, n, &one, psi, n, g, n, &zero,
		    w->y, n);
	memcpy(psi, w->y, nn * sizeof *psi);
	cblas_zherk(CblasColMajor, CblasUpper, CblasNoTrans, n, n, 1.0, psi, n, 0.0, w->y, n);
	for (size_t j = 0; j < nc; j++)
		for (size_t i = 0; i <= j; i++) {
			double d = cabs(s[i + j * nc] - w->y[i + j * nc]) / cabs(s[i + j * nc]);
			if (!(d <= err)) /* NaN (0/0) wins, as numpy's max does */
				err = d;
		}
	return err;
}

/* H = ψ ψ0^-1 and Σ = ψ0 ψ0^T, row-major. */
static int
dsp_wilson_finish(struct dsp_wilson *w, double *h, double *sigma, char **cause)
{
	size_t nc = w->nc, nn = w->nn;
	lapack_int n = (lapack_int)nc, info;
	double complex *inv = w->lu;
	const double complex one = 1, zero = 0;

	for (size_t i = 0; i < nc; i++)
		for (size_t j = 0; j < nc; j++) {
			double v = 0;
			for (size_t l = 0; l < nc; l++)
				v += w->psi0[i + l * nc] * w->psi0[j + l * nc];
			sigma[i * nc + j] = v;
		}
	memcpy(w->rtmp, w->psi0, nn * sizeof *w->rtmp);
	info = LAPACKE_dgetrf(LAPACK_COL_MAJOR, n, n, w->rtmp, n, w->ipiv);
	if (info == 0)
		info = LAPACKE_dgetri(LAPACK_COL_MAJOR, n, w->rtmp, n, w->ipiv);
	if (info != 0)
		return error_set(cause, -EINVAL, "granger: ψ0 is singular (LAPACK %d)", (int)info);
	for (size_t e = 0; e < nn; e++)
		inv[e] = w->rtmp[e];
	for (size_t k = 0; k < w->nf; k++) {
		cblas_zgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, n, n, n, &one,
			    w->psi + k * nn, n, inv, n, &zero, w->y, n);
		for (size_t i = 0; i < nc; i++)
			for (size_t j = 0; j < nc; j++) {
				h[2 * (k * nn + i * nc + j)] = creal(w->y[i + j * nc]);
				h[2 * (k * nn + i * nc + j) + 1] = cimag(w->y[i + j * nc]);
			}
	}
	return 0;
}

/* ψ0 <- ψ0 (g0 + T). */
static void
dsp_wilson_update0(struct dsp_wilson *w)
{
	size_t nn = w->nn;
	int n = (int)w->nc;

	for (size_t e = 0; e < nn; e++)
		w->g0[e] += w->t[e];
	cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0, w->psi0, n, w->g0, n,
		    0.0, w->rtmp, n);
	memcpy(w->psi0, w->rtmp, nn * sizeof *w->psi0);
}

int
dsp_wilson_factor(const double *csd, size_t nfreq, size_t nchan, int niter, double rtol,
		  double *h, double *sigma, struct dsp_wilson_result *res, char **cause)
{
	struct dsp_wilson w = {0};
	size_t nn = nchan * nchan;
	int rc;

	memset(res, 0, sizeof *res);
	if (nfreq < 3 || nchan < 1)
		return error_set(cause, -EINVAL,
				 "granger: needs at least 3 frequency bins (0 .. Nyquist), not %zu",
				 nfreq);
	w.nf = nfreq;
	w.nc = nchan;
	w.nn = nn;
	w.n = 2 * (nfreq - 1);
	w.s = xmalloc(nfreq * nn * sizeof *w.s);
	w.u = xmalloc(nfreq * nn * sizeof *w.u);
	w.psi = xmalloc(nfreq * nn * sizeof *w.psi);
	w.g = xmalloc(nfreq * nn * sizeof *w.g);
	w.psi0 = xmalloc(nn * sizeof *w.psi0);
	w.g0 = xmalloc(nn * sizeof *w.g0);
	w.t = xmalloc(nn * sizeof *w.t);
	w.rtmp = xmalloc(nn * sizeof *w.rtmp);
	w.lu = xmalloc(nn * sizeof *w.lu);
	w.y = xmalloc(nn * sizeof *w.y);
	w.ipiv = xmalloc(nchan * sizeof *w.ipiv);
	w.fin = fft_alloc_complex(nfreq);
	w.fout = fft_alloc_complex(nfreq);
	w.beta = fft_alloc_real(w.n);
	rc = dsp_wilson_setup(&w, csd, cause);
	for (int it = 0; rc == 0 && it < niter; it++) {
		double err = 0;
		for (size_t k = 0; k < nfreq && rc == 0; k++)
			rc = dsp_wilson_g(&w, k, cause);
		if (rc != 0)
			break;
		dsp_wilson_plus(&w);
		for (size_t k = 0; k < nfreq; k++) {
			double e = dsp_wilson_update(&w, k);
			if (!(e <= err))
				err = e;
		}
		dsp_wilson_update0(&w);
		res->iterations = it + 1;
		res->max_rel_err = err;
		if (err < rtol) {
			res->converged = true;
			break;
		}
	}
	if (rc == 0)
		rc = dsp_wilson_finish(&w, h, sigma, cause);
	dsp_wilson_free(&w);
	return rc;
}
