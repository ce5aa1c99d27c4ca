/* Wilson's factorisation on the half circle: per frequency a Cholesky factor of S, the step
 * g = (ψ^-1 U)(ψ^-1 U)^H and the update of ψ; per matrix entry the "plus" operator on the lag
 * series (inverse real FFT, halve lags 0 and n/2, drop the negative lags, forward real FFT). */
#include "worker/dsp/connectivity/dsp-wilson.h"

#include <complex.h>
#include <cblas.h>
#include <errno.h>
#include <lapacke.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/xmalloc.h"
#include "worker/dsp/core/fft-plan.h"

#define DSP_WILSON_MAX_THREADS 16

/* Entries the plus operator gathers at once: one pass over the frequencies reads a run of
 * DSP_WILSON_RUN consecutive entries (a few cache lines) instead of one value per line. */
#define DSP_WILSON_RUN 16

/* One thread's scratch. */
struct dsp_wilson_scratch {
	double complex *lu, *y;
	lapack_int *ipiv;
	fftw_complex *fin, *fout; /* DSP_WILSON_RUN series of nf values */
	double *beta;
	double err; /* the largest relative error of its frequencies */
	int rc;
	char *cause;
};

struct dsp_wilson {
	size_t nf, nc, nn, n; /* frequencies, channels, nc², circle length 2 (nf − 1) */
	double complex *s;    /* nf column-major matrices */
	double complex *u;    /* their lower Cholesky factors */
	double complex *psi;
	double complex *g; /* g + I, then [g + I]_+ in place */
	double *psi0, *g0, *t, *rtmp;
	int nthreads;
	struct dsp_wilson_scratch *sc; /* nthreads */
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
	for (int i = 0; w->sc != NULL && i < w->nthreads; i++) {
		struct dsp_wilson_scratch *c = &w->sc[i];
		free(c->lu);
		free(c->y);
		free(c->ipiv);
		fft_free(c->fin);
		fft_free(c->fout);
		fft_free(c->beta);
		free(c->cause);
	}
	free(w->sc);
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
dsp_wilson_g(struct dsp_wilson *w, struct dsp_wilson_scratch *sc, size_t k, char **cause)
{
	size_t nc = w->nc, nn = w->nn;
	double complex *g = w->g + k * nn;
	lapack_int info, n = (lapack_int)nc;

	memcpy(sc->lu, w->psi + k * nn, nn * sizeof *sc->lu);
	memcpy(sc->y, w->u + k * nn, nn * sizeof *sc->y);
	/* the _work forms: no NaN scan of the inputs on every call */
	info = LAPACKE_zgetrf_work(LAPACK_COL_MAJOR, n, n, sc->lu, n, sc->ipiv);
	if (info == 0)
		info = LAPACKE_zgetrs_work(LAPACK_COL_MAJOR, 'N', n, n, sc->lu, n, sc->ipiv, sc->y, n);
	if (info != 0)
		return error_set(cause, -EINVAL,
				 "granger: the factor at frequency bin %zu became singular "
				 "(LAPACK %d)",
				 k, (int)info);
	cblas_zherk(CblasColMajor, CblasUpper, CblasNoTrans, n, n, 1.0, sc->y, n, 0.0, g, n);
	for (size_t j = 0; j < nc; j++) {
		for (size_t i = j + 1; i < nc; i++)
			g[i + j * nc] = conj(g[j + i * nc]);
		g[j + j * nc] = creal(g[j + j * nc]) + 1.0;
	}
	return 0;
}

/* [g]_+ of entries [e0, e1) in place, their lag 0 (halved) into g0; runs of entries are
 * gathered and scattered together. */
static void
dsp_wilson_plus(struct dsp_wilson *w, struct dsp_wilson_scratch *sc, size_t e0, size_t e1)
{
	size_t nf = w->nf, nn = w->nn, n = w->n, nlag = n / 2;

	for (size_t r0 = e0; r0 < e1; r0 += DSP_WILSON_RUN) {
		size_t run = e1 - r0 < DSP_WILSON_RUN ? e1 - r0 : DSP_WILSON_RUN;
		for (size_t k = 0; k < nf; k++)
			for (size_t r = 0; r < run; r++)
				sc->fin[r * nf + k] = w->g[k * nn + r0 + r];
		for (size_t r = 0; r < run; r++) {
			double *b = sc->beta;
			fft_c2r(n, sc->fin + r * nf, b);
			for (size_t m = 0; m <= nlag; m++)
				b[m] /= (double)n;
			b[0] *= 0.5;
			b[nlag] *= 0.5;
			memset(b + nlag + 1, 0, (n - nlag - 1) * sizeof *b);
			w->g0[r0 + r] = b[0];
			fft_r2c(n, b, sc->fout + r * nf);
		}
		for (size_t k = 0; k < nf; k++)
			for (size_t r = 0; r < run; r++)
				w->g[k * nn + r0 + r] = sc->fout[r * nf + k];
	}
}

/* T = triu(g0) − triu(g0)^T. */
static void
dsp_wilson_t(struct dsp_wilson *w)
{
	size_t nc = w->nc;

	for (size_t j = 0; j < nc; j++)
		for (size_t i = 0; i < nc; i++)
			w->t[i + j * nc] = i < j ? w->g0[i + j * nc] : i > j ? -w->g0[j + i * nc] : 0;
}

/* ψ(k) <- ψ(k) ([g + I]_+ + T); returns max |S − ψψ^H| / |S| over the matrix. */
static double
dsp_wilson_update(struct dsp_wilson *w, struct dsp_wilson_scratch *sc, size_t k)
{
	size_t nc = w->nc, nn = w->nn;
	double complex *g = w->g + k * nn, *psi = w->psi + k * nn, *s = w->s + k * nn;
	const double complex one = 1, zero = 0;
	double err = 0;
	int n = (int)nc;

	for (size_t e = 0; e < nn; e++)
		g[e] += w->t[e];
	cblas_zgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, n, n, n, &one, psi, n, g, n, &zero,
		    sc->y, n);
	memcpy(psi, sc->y, nn * sizeof *psi);
	cblas_zherk(CblasColMajor, CblasUpper, CblasNoTrans, n, n, 1.0, psi, n, 0.0, sc->y, n);
	/* max |S − ψψ^H|² / |S|² (squares: no hypot per entry), its root at the end */
	for (size_t j = 0; j < nc; j++)
		for (size_t i = 0; i <= j; i++) {
			double complex a = s[i + j * nc], dd = a - sc->y[i + j * nc];
			double d = (creal(dd) * creal(dd) + cimag(dd) * cimag(dd)) /
				   (creal(a) * creal(a) + cimag(a) * cimag(a));
			if (!(d <= err)) /* NaN (0/0) wins, as numpy's max does */
				err = d;
		}
	return sqrt(err);
}

/* H = ψ ψ0^-1 and Σ = ψ0 ψ0^T, row-major. */
static int
dsp_wilson_finish(struct dsp_wilson *w, double *h, double *sigma, char **cause)
{
	size_t nc = w->nc, nn = w->nn;
	lapack_int n = (lapack_int)nc, info;
	double complex *inv = w->sc[0].lu, *y = w->sc[0].y;
	const double complex one = 1, zero = 0;

	for (size_t i = 0; i < nc; i++)
		for (size_t j = 0; j < nc; j++) {
			double v = 0;
			for (size_t l = 0; l < nc; l++)
				v += w->psi0[i + l * nc] * w->psi0[j + l * nc];
			sigma[i * nc + j] = v;
		}
	memcpy(w->rtmp, w->psi0, nn * sizeof *w->rtmp);
	info = LAPACKE_dgetrf(LAPACK_COL_MAJOR, n, n, w->rtmp, n, w->sc[0].ipiv);
	if (info == 0)
		info = LAPACKE_dgetri(LAPACK_COL_MAJOR, n, w->rtmp, n, w->sc[0].ipiv);
	if (info != 0)
		return error_set(cause, -EINVAL, "granger: ψ0 is singular (LAPACK %d)", (int)info);
	for (size_t e = 0; e < nn; e++)
		inv[e] = w->rtmp[e];
	for (size_t k = 0; k < w->nf; k++) {
		cblas_zgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, n, n, n, &one,
			    w->psi + k * nn, n, inv, n, &zero, y, n);
		for (size_t i = 0; i < nc; i++)
			for (size_t j = 0; j < nc; j++) {
				h[2 * (k * nn + i * nc + j)] = creal(y[i + j * nc]);
				h[2 * (k * nn + i * nc + j) + 1] = cimag(y[i + j * nc]);
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

/* The phases of one step, each a loop that threads split: g over frequencies, the plus
 * operator over matrix entries, the update of ψ (and its error) over frequencies. */
enum dsp_wilson_phase {
	DSP_WILSON_G,
	DSP_WILSON_PLUS,
	DSP_WILSON_UPDATE,
};

struct dsp_wilson_job {
	struct dsp_wilson *w;
	enum dsp_wilson_phase phase;
	int thread;
};

static void *
dsp_wilson_run(void *arg)
{
	struct dsp_wilson_job *j = arg;
	struct dsp_wilson *w = j->w;
	struct dsp_wilson_scratch *sc = &w->sc[j->thread];
	size_t n = j->phase == DSP_WILSON_PLUS ? w->nn : w->nf;
	size_t lo = n * (size_t)j->thread / (size_t)w->nthreads;
	size_t hi = n * (size_t)(j->thread + 1) / (size_t)w->nthreads;

	if (j->phase == DSP_WILSON_PLUS) {
		dsp_wilson_plus(w, sc, lo, hi);
		return NULL;
	}
	for (size_t k = lo; k < hi && sc->rc == 0; k++) {
		if (j->phase == DSP_WILSON_G) {
			sc->rc = dsp_wilson_g(w, sc, k, &sc->cause);
		} else {
			double e = dsp_wilson_update(w, sc, k);
			if (!(e <= sc->err))
				sc->err = e;
		}
	}
	return NULL;
}

/* Run a phase on every thread (the calling thread takes the first share). */
static void
dsp_wilson_phase(struct dsp_wilson *w, enum dsp_wilson_phase phase)
{
	struct dsp_wilson_job jobs[DSP_WILSON_MAX_THREADS];
	pthread_t tid[DSP_WILSON_MAX_THREADS];
	bool started[DSP_WILSON_MAX_THREADS] = {false};

	for (int i = 0; i < w->nthreads; i++)
		jobs[i] = (struct dsp_wilson_job){w, phase, i};
	for (int i = 1; i < w->nthreads; i++)
		started[i] = pthread_create(&tid[i], NULL, dsp_wilson_run, &jobs[i]) == 0;
	dsp_wilson_run(&jobs[0]);
	for (int i = 1; i < w->nthreads; i++) {
		if (started[i])
			pthread_join(tid[i], NULL);
		else /* no thread: do its share here */
			dsp_wilson_run(&jobs[i]);
	}
}

static void
dsp_wilson_alloc(struct dsp_wilson *w, size_t nfreq, size_t nchan, int nthreads)
{
	size_t nn = nchan * nchan;

	w->nf = nfreq;
	w->nc = nchan;
	w->nn = nn;
	w->n = 2 * (nfreq - 1);
	w->s = xmalloc(nfreq * nn * sizeof *w->s);
	w->u = xmalloc(nfreq * nn * sizeof *w->u);
	w->psi = xmalloc(nfreq * nn * sizeof *w->psi);
	w->g = xmalloc(nfreq * nn * sizeof *w->g);
	w->psi0 = xmalloc(nn * sizeof *w->psi0);
	w->g0 = xmalloc(nn * sizeof *w->g0);
	w->t = xmalloc(nn * sizeof *w->t);
	w->rtmp = xmalloc(nn * sizeof *w->rtmp);
	w->nthreads = nthreads < 1 ? 1 : nthreads > DSP_WILSON_MAX_THREADS ? DSP_WILSON_MAX_THREADS
									    : nthreads;
	w->sc = xcalloc((size_t)w->nthreads, sizeof *w->sc);
	for (int i = 0; i < w->nthreads; i++) {
		struct dsp_wilson_scratch *c = &w->sc[i];
		c->lu = xmalloc(nn * sizeof *c->lu);
		c->y = xmalloc(nn * sizeof *c->y);
		c->ipiv = xmalloc(nchan * sizeof *c->ipiv);
		c->fin = fft_alloc_complex(DSP_WILSON_RUN * nfreq);
		c->fout = fft_alloc_complex(DSP_WILSON_RUN * nfreq);
		c->beta = fft_alloc_real(w->n);
	}
}

/* One step; returns 0 or the first thread's error, and the largest relative error. */
static int
dsp_wilson_step(struct dsp_wilson *w, double *err, char **cause)
{
	dsp_wilson_phase(w, DSP_WILSON_G);
	for (int i = 0; i < w->nthreads; i++)
		if (w->sc[i].rc != 0) {
			*cause = w->sc[i].cause;
			w->sc[i].cause = NULL;
			return w->sc[i].rc;
		}
	dsp_wilson_phase(w, DSP_WILSON_PLUS);
	dsp_wilson_t(w);
	for (int i = 0; i < w->nthreads; i++)
		w->sc[i].err = 0;
	dsp_wilson_phase(w, DSP_WILSON_UPDATE);
	*err = 0;
	for (int i = 0; i < w->nthreads; i++)
		if (!(w->sc[i].err <= *err))
			*err = w->sc[i].err;
	dsp_wilson_update0(w);
	return 0;
}

int
dsp_wilson_factor(const double *csd, size_t nfreq, size_t nchan, int niter, double rtol,
		  int nthreads, double *h, double *sigma, struct dsp_wilson_result *res,
		  char **cause)
{
	struct dsp_wilson w = {0};
	int rc;

	memset(res, 0, sizeof *res);
	if (nfreq < 3 || nchan < 1)
		return error_set(cause, -EINVAL,
				 "granger: needs at least 3 frequency bins (0 .. Nyquist), not %zu",
				 nfreq);
	dsp_wilson_alloc(&w, nfreq, nchan, nthreads);
	rc = dsp_wilson_setup(&w, csd, cause);
	for (int it = 0; rc == 0 && it < niter; it++) {
		double err;
		if ((rc = dsp_wilson_step(&w, &err, cause)) != 0)
			break;
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
