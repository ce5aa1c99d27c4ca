/* Plain reference versions of the connectivity kernels (tests only): no BLAS, no FFT library,
 * no symmetry shortcuts. */
#include "tests/unit/conn-ref.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void
conn_ref_csd(const double complex *x, size_t ntr, size_t ntap, size_t nfreq, size_t nchan,
	     double complex *out)
{
	memset(out, 0, nfreq * nchan * nchan * sizeof *out);
	for (size_t t = 0; t < ntr; t++)
		for (size_t k = 0; k < ntap; k++)
			for (size_t f = 0; f < nfreq; f++) {
				const double complex *v = x + ((t * ntap + k) * nfreq + f) * nchan;
				for (size_t i = 0; i < nchan; i++)
					for (size_t j = 0; j < nchan; j++)
						out[(f * nchan + i) * nchan + j] +=
						    v[i] * conj(v[j]) / (double)(ntap * ntr);
			}
}

void
conn_ref_ppc(const double complex *s, size_t ntr, size_t nfreq, size_t nchan, double *out)
{
	size_t m = nfreq * nchan * nchan;

	for (size_t e = 0; e < m; e++) {
		double acc = 0;
		for (size_t k = 0; k < ntr; k++)
			for (size_t l = k + 1; l < ntr; l++)
				if (s[k * m + e] != 0 && s[l * m + e] != 0) /* no phase: adds 0 */
					acc += cos(carg(s[k * m + e] * conj(s[l * m + e])));
		out[e] = 2 * acc / (double)(ntr * (ntr - 1));
	}
}

void
conn_ref_xcov(const double *x, size_t n, size_t nchan, double *out)
{
	size_t nlag = (n + 1) / 2;
	int shift = n % 2 == 0;

	for (size_t lag = 0; lag < nlag; lag++)
		for (size_t i = 0; i < nchan; i++)
			for (size_t j = 0; j < nchan; j++) {
				size_t l = lag + (i < j ? (size_t)shift : 0);
				double acc = 0;
				for (size_t t = 0; t + l < n; t++)
					acc += x[(t + l) * nchan + i] * x[t * nchan + j];
				out[(lag * nchan + i) * nchan + j] = acc / (double)(n - lag);
			}
}

/* ---- small complex matrix helpers (row-major c × c) ---- */

static void
ref_mul(const double complex *a, const double complex *b, size_t c, double complex *out)
{
	for (size_t i = 0; i < c; i++)
		for (size_t j = 0; j < c; j++) {
			double complex v = 0;
			for (size_t k = 0; k < c; k++)
				v += a[i * c + k] * b[k * c + j];
			out[i * c + j] = v;
		}
}

/* a · b^H */
static void
ref_mul_h(const double complex *a, const double complex *b, size_t c, double complex *out)
{
	for (size_t i = 0; i < c; i++)
		for (size_t j = 0; j < c; j++) {
			double complex v = 0;
			for (size_t k = 0; k < c; k++)
				v += a[i * c + k] * conj(b[j * c + k]);
			out[i * c + j] = v;
		}
}

/* Lower Cholesky factor, a = L L^H. */
static void
ref_chol(const double complex *a, size_t c, double complex *l)
{
	memset(l, 0, c * c * sizeof *l);
	for (size_t j = 0; j < c; j++) {
		double complex d = a[j * c + j];
		for (size_t k = 0; k < j; k++)
			d -= l[j * c + k] * conj(l[j * c + k]);
		l[j * c + j] = sqrt(creal(d));
		for (size_t i = j + 1; i < c; i++) {
			double complex v = a[i * c + j];
			for (size_t k = 0; k < j; k++)
				v -= l[i * c + k] * conj(l[j * c + k]);
			l[i * c + j] = v / l[j * c + j];
		}
	}
}

/* Gauss-Jordan inverse with partial pivoting. */
static void
ref_inv(const double complex *a, size_t c, double complex *out)
{
	double complex *m = malloc(2 * c * c * sizeof *m);

	for (size_t i = 0; i < c; i++)
		for (size_t j = 0; j < 2 * c; j++)
			m[i * 2 * c + j] = j < c ? a[i * c + j] : (j - c == i ? 1 : 0);
	for (size_t col = 0; col < c; col++) {
		size_t p = col;
		for (size_t r = col + 1; r < c; r++)
			if (cabs(m[r * 2 * c + col]) > cabs(m[p * 2 * c + col]))
				p = r;
		for (size_t j = 0; j < 2 * c; j++) {
			double complex t = m[col * 2 * c + j];
			m[col * 2 * c + j] = m[p * 2 * c + j];
			m[p * 2 * c + j] = t;
		}
		double complex d = m[col * 2 * c + col];
		for (size_t j = 0; j < 2 * c; j++)
			m[col * 2 * c + j] /= d;
		for (size_t r = 0; r < c; r++)
			if (r != col) {
				double complex f = m[r * 2 * c + col];
				for (size_t j = 0; j < 2 * c; j++)
					m[r * 2 * c + j] -= f * m[col * 2 * c + j];
			}
	}
	for (size_t i = 0; i < c; i++)
		for (size_t j = 0; j < c; j++)
			out[i * c + j] = m[i * 2 * c + c + j];
	free(m);
}

struct ref_wilson {
	size_t n, c, cc;
	double complex *s, *psi, *u, *g, *tmp, *tmp2, *psi0, *g0;
};

/* The plus operator of every entry over the circle by a direct DFT; lag 0 (halved) into g0. */
static void
ref_plus(struct ref_wilson *w)
{
	size_t n = w->n, nlag = n / 2;
	double *beta = malloc(n * sizeof *beta);
	double complex *col = malloc(n * sizeof *col);

	for (size_t e = 0; e < w->cc; e++) {
		for (size_t m = 0; m < n; m++) {
			double complex v = 0;
			for (size_t k = 0; k < n; k++)
				v += w->g[k * w->cc + e] * cexp(2 * I * M_PI * (double)(k * m % n) /
								(double)n);
			beta[m] = creal(v) / (double)n;
		}
		beta[0] *= 0.5;
		beta[nlag] *= 0.5;
		w->g0[e] = beta[0];
		for (size_t k = 0; k < n; k++) {
			double complex v = 0;
			for (size_t m = 0; m <= nlag; m++)
				v += beta[m] * cexp(-2 * I * M_PI * (double)(k * m % n) / (double)n);
			col[k] = v;
		}
		for (size_t k = 0; k < n; k++)
			w->g[k * w->cc + e] = col[k];
	}
	free(beta);
	free(col);
}

/* One step; returns max |S − ψψ^H| / |S|. */
static double
ref_step(struct ref_wilson *w, double complex *t)
{
	size_t c = w->c, cc = w->cc;
	double err = 0;

	for (size_t k = 0; k < w->n; k++) {
		ref_inv(w->psi + k * cc, c, w->tmp);
		ref_mul(w->tmp, w->u + k * cc, c, w->tmp2);
		ref_mul_h(w->tmp2, w->tmp2, c, w->g + k * cc);
		for (size_t i = 0; i < c; i++)
			w->g[k * cc + i * c + i] += 1;
	}
	ref_plus(w);
	for (size_t i = 0; i < c; i++)
		for (size_t j = 0; j < c; j++)
			t[i * c + j] = i < j ? w->g0[i * c + j] : i > j ? -conj(w->g0[j * c + i]) : 0;
	for (size_t k = 0; k < w->n; k++) {
		for (size_t e = 0; e < cc; e++)
			w->tmp[e] = w->g[k * cc + e] + t[e];
		ref_mul(w->psi + k * cc, w->tmp, c, w->tmp2);
		memcpy(w->psi + k * cc, w->tmp2, cc * sizeof *w->tmp2);
		ref_mul_h(w->tmp2, w->tmp2, c, w->tmp);
		for (size_t e = 0; e < cc; e++)
			err = fmax(err, cabs(w->s[k * cc + e] - w->tmp[e]) / cabs(w->s[k * cc + e]));
	}
	for (size_t e = 0; e < cc; e++)
		w->tmp[e] = w->g0[e] + t[e];
	ref_mul(w->psi0, w->tmp, c, w->tmp2);
	memcpy(w->psi0, w->tmp2, cc * sizeof *w->tmp2);
	return err;
}

int
conn_ref_granger(const double complex *csd, size_t nfreq, size_t nchan, int niter, double rtol,
		 double *out)
{
	size_t c = nchan, cc = c * c, n = 2 * (nfreq - 1);
	struct ref_wilson w = {.n = n, .c = c, .cc = cc};
	double complex *t = malloc(cc * sizeof *t), *l = calloc(cc, sizeof *l);
	double complex *h = malloc(n * cc * sizeof *h), *inv0 = malloc(cc * sizeof *inv0);
	int it = 0;

	w.s = malloc(n * cc * sizeof *w.s);
	w.psi = malloc(n * cc * sizeof *w.psi);
	w.u = malloc(n * cc * sizeof *w.u);
	w.g = malloc(n * cc * sizeof *w.g);
	w.tmp = calloc(cc, sizeof *w.tmp);
	w.tmp2 = calloc(cc, sizeof *w.tmp2);
	w.psi0 = malloc(cc * sizeof *w.psi0);
	w.g0 = malloc(cc * sizeof *w.g0);
	for (size_t k = 0; k < n; k++)
		for (size_t e = 0; e < cc; e++)
			w.s[k * cc + e] = k < nfreq ? csd[k * cc + e] : conj(csd[(n - k) * cc + e]);
	for (size_t k = 0; k < n; k++)
		ref_chol(w.s + k * cc, c, w.u + k * cc);
	/* Γ0 = Σ_k S_k; ψ0 = chol(Re((Γ0 + Γ0^H) / 2))^T */
	for (size_t e = 0; e < cc; e++) {
		double complex v = 0;
		for (size_t k = 0; k < n; k++)
			v += w.s[k * cc + e];
		w.tmp[e] = v;
	}
	for (size_t i = 0; i < c; i++)
		for (size_t j = 0; j < c; j++)
			w.tmp2[i * c + j] = creal((w.tmp[i * c + j] + conj(w.tmp[j * c + i])) / 2);
	ref_chol(w.tmp2, c, l);
	for (size_t i = 0; i < c; i++)
		for (size_t j = 0; j < c; j++)
			w.psi0[i * c + j] = l[j * c + i];
	for (size_t k = 0; k < n; k++)
		memcpy(w.psi + k * cc, w.psi0, cc * sizeof *w.psi0);
	while (it < niter) {
		it++;
		if (ref_step(&w, t) < rtol)
			break;
	}
	/* Σ = ψ0 ψ0^T, H = ψ ψ0^-1, G_{i→j} */
	double complex *sig = malloc(cc * sizeof *sig);
	for (size_t i = 0; i < c; i++)
		for (size_t j = 0; j < c; j++) {
			double complex v = 0;
			for (size_t k = 0; k < c; k++)
				v += w.psi0[i * c + k] * w.psi0[j * c + k];
			sig[i * c + j] = v;
		}
	ref_inv(w.psi0, c, inv0);
	for (size_t k = 0; k < nfreq; k++)
		ref_mul(w.psi + k * cc, inv0, c, h + k * cc);
	for (size_t f = 0; f < nfreq; f++)
		for (size_t i = 0; i < c; i++)
			for (size_t j = 0; j < c; j++) {
				double sjj = cabs(csd[f * cc + j * c + j]);
				double hji = cabs(h[f * cc + j * c + i]);
				double a = cabs(sig[i * c + i]) -
					   pow(cabs(sig[j * c + i]), 2) / cabs(sig[j * c + j]);
				out[(f * c + i) * c + j] = log(sjj / (sjj - a * hji * hji));
			}
	free(sig);
	free(t);
	free(l);
	free(h);
	free(inv0);
	free(w.s);
	free(w.psi);
	free(w.u);
	free(w.g);
	free(w.tmp);
	free(w.tmp2);
	free(w.psi0);
	free(w.g0);
	return it;
}
