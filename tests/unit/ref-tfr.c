/* The plain references of ref-tfr.h: no FFT, no caching, every sum written out. */
#include "ref-tfr.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void
ref_tfr_detrend(double *x, size_t n, int poly)
{
	double sx = 0, sy = 0, sxx = 0, sxy = 0, a, b;

	if (poly < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		sx += (double)i;
		sy += x[i];
		sxx += (double)i * (double)i;
		sxy += (double)i * x[i];
	}
	b = poly == 1 ? (n * sxy - sx * sy) / (n * sxx - sx * sx) : 0;
	a = (sy - b * sx) / (double)n;
	for (size_t i = 0; i < n; i++)
		x[i] -= a + b * (double)i;
}

double complex
ref_tfr_dft(const double *x, const double *w, size_t n, size_t b)
{
	double complex s = 0;

	for (size_t i = 0; i < n; i++)
		s += x[i] * (w != NULL ? w[i] : 1) * cexp(-2 * M_PI * I * (double)(b * i % n) / (double)n);
	return s;
}

void
ref_tfr_sliding(const double *x, size_t n, size_t p, size_t step, int poly, const double *w,
		size_t k, const size_t *bins, size_t nbins, double complex *out)
{
	size_t nt = (n + step - 1) / step, half = p / 2;
	size_t len = n + 2 * half + p + step;
	double *ext = calloc(len, sizeof *ext), *seg = malloc(p * sizeof *seg);

	memcpy(ext + half, x, n * sizeof *x);
	for (size_t t = 0; t < nt; t++) {
		memcpy(seg, ext + t * step, p * sizeof *seg);
		ref_tfr_detrend(seg, p, poly);
		for (size_t j = 0; j < k; j++)
			for (size_t b = 0; b < nbins; b++)
				out[(t * k + j) * nbins + b] = ref_tfr_dft(seg, w + j * p, p, bins[b]);
	}
	free(seg);
	free(ext);
}

static double
ref_tfr_hermite(int m, double x)
{
	/* He_m from its explicit sum: m! sum_j (-1)^j x^(m-2j) / (j! (m-2j)! 2^j) */
	double s = 0;

	for (int j = 0; 2 * j <= m; j++)
		s += pow(-1, j) * pow(x, m - 2 * j) /
		     (tgamma(j + 1) * tgamma(m - 2 * j + 1) * pow(2, j));
	return s * tgamma(m + 1);
}

size_t
ref_tfr_kernel(int family, int m, int c, double s, double fs, double complex *k)
{
	double mm = family == 3 ? 10 * s * c * fs : 10 * s * fs, dt = 1 / fs;
	size_t n = (size_t)ceil(mm);

	for (size_t i = 0; i < n; i++) {
		double t = ((1 - mm) / 2 + (double)i) * dt, x = t / s;
		double complex v;
		if (family == 0)
			v = pow(M_PI, -0.25) * (cexp(6 * I * x) - exp(-18)) * exp(-x * x / 2);
		else if (family == 1)
			v = pow(2, m) * cpow(I, m) * tgamma(m + 1) / sqrt(M_PI * tgamma(2 * m + 1)) *
			    cpow(1 - I * x, -(m + 1));
		else if (family == 2)
			v = pow(-1, m + 1) / sqrt(tgamma(m + 0.5)) * ref_tfr_hermite(m, x) *
			    exp(-x * x / 2);
		else
			v = 5 / (s * c * pow(2 * M_PI, 1.5)) * cexp(I * x) *
			    exp(-0.5 * pow(5 * x / (2 * M_PI * c), 2));
		k[i] = (family == 3 ? sqrt(dt) / (4 * M_PI) : sqrt(dt) / (8 * M_PI * s)) * v;
	}
	return n;
}

void
ref_tfr_conv_same(const double *x, size_t n, const double complex *k, size_t nk,
		  double complex *out)
{
	size_t sh = (nk - 1) / 2;

	for (size_t t = 0; t < n; t++) {
		double complex s = 0;
		for (size_t j = 0; j < n; j++) {
			long long at = (long long)(t + sh) - (long long)j;
			if (at >= 0 && at < (long long)nk)
				s += x[j] * k[at];
		}
		out[t] = s;
	}
}
