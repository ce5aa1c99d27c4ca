/* Helpers of the connectivity tests: the ar3 reference data (tests/data/spectral-methods), the
 * reference tolerance |x − ref| <= rel |ref| + abs max|ref| on real or complex values, and
 * mtmfft spectra of the ar3 trials in the dsp-csd.h layout. */
#ifndef ND_TEST_CONN_UTIL_H
#define ND_TEST_CONN_UTIL_H

#include <complex.h>
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/test-rng.h"
#include "worker/dsp/spectral/dsp-mtmfft.h"
#include "worker/io/io-npy.h"

#define TEST_CONN_DATA ND_SOURCE_ROOT "/tests/data/spectral-methods"
#define TEST_AR3_TRIALS 16
#define TEST_AR3_N 800
#define TEST_AR3_C 3
#define TEST_AR3_FS 500.0

/* A reference array as complex doubles (real ones with zero imaginary parts). */
static inline double complex *
test_conn_load(const char *name, struct io_npy_header *h)
{
	char path[512], *cause = NULL;
	void *raw;
	double complex *d;

	snprintf(path, sizeof path, "%s/%s.npy", TEST_CONN_DATA, name);
	cr_assert_eq(io_npy_read(path, h, &raw, &cause), 0, "%s", cause ? cause : path);
	d = malloc((h->count + 1) * sizeof *d);
	for (size_t i = 0; i < h->count; i++) {
		if (h->dtype == IO_NPY_F4)
			d[i] = ((float *)raw)[i];
		else if (h->dtype == IO_NPY_F8)
			d[i] = ((double *)raw)[i];
		else if (h->dtype == IO_NPY_C8)
			d[i] = ((float *)raw)[2 * i] + I * ((float *)raw)[2 * i + 1];
		else
			cr_assert_fail("%s: unexpected dtype", name);
	}
	free(raw);
	return d;
}

/* Assert got (n complex or real values, `stride` doubles apart: 1 real, 2 complex) matches the
 * reference; returns the worst |got − ref| / bound (1 = at the tolerance). */
static inline double
test_conn_close(const double *got, int cplx, const double complex *ref, size_t n, double rel,
		double abs_tol, const char *what)
{
	double mx = 0, worst = 0;

	for (size_t i = 0; i < n; i++)
		mx = fmax(mx, cabs(ref[i]));
	for (size_t i = 0; i < n; i++) {
		double complex g = cplx ? got[2 * i] + I * got[2 * i + 1] : got[i];
		double bound = rel * cabs(ref[i]) + abs_tol * mx, d = cabs(g - ref[i]);
		cr_assert(d <= bound, "%s[%zu]: (%.9g, %.9g) vs reference (%.9g, %.9g)", what, i,
			  creal(g), cimag(g), creal(ref[i]), cimag(ref[i]));
		worst = fmax(worst, d / bound);
	}
	return worst;
}

static inline double
test_conn_close_f(const float *got, int cplx, const double complex *ref, size_t n, double rel,
		  double abs_tol, const char *what)
{
	size_t m = cplx ? 2 * n : n;
	double *d = malloc((m + 1) * sizeof *d), w;

	for (size_t i = 0; i < m; i++)
		d[i] = got[i];
	w = test_conn_close(d, cplx, ref, n, rel, abs_tol, what);
	free(d);
	return w;
}

/* The ar3 input: 16 trials × 800 samples × 3 channels, float32 as stored, as doubles. */
static inline double *
test_ar3_input(void)
{
	struct io_npy_header h;
	double complex *c = test_conn_load("ar3_input", &h);
	double *x = malloc(h.count * sizeof *x);

	cr_assert_eq(h.count, TEST_AR3_TRIALS * TEST_AR3_N * TEST_AR3_C);
	for (size_t i = 0; i < h.count; i++)
		x[i] = creal(c[i]);
	free(c);
	return x;
}

/* mtmfft of every ar3 trial with p (output fourier): trials × ntap × nfreq × nchan complex
 * doubles. Each value goes through float32 when `as_f32`, as a spectral container holds it. */
static inline double *
test_ar3_spectra(const double *x, struct dsp_mtmfft_params *p, bool as_f32, size_t *ntap,
		 size_t *nfreq, struct dsp_mtmfft **mp)
{
	struct dsp_mtmfft *m;
	char *cause = NULL;
	size_t per;
	double *out;

	p->nw_len = TEST_AR3_N;
	cr_assert_eq(dsp_mtmfft_new(p, TEST_AR3_N, &m, &cause), 0, "%s", cause);
	cr_assert_eq(dsp_mtmfft_ntapers(m, TEST_AR3_N, ntap, NULL), 0);
	*nfreq = dsp_mtmfft_nfreq(m);
	per = 2 * *ntap * *nfreq * TEST_AR3_C;
	out = malloc(TEST_AR3_TRIALS * per * sizeof *out);
	for (size_t t = 0; t < TEST_AR3_TRIALS; t++) {
		struct dsp_trial tr = {x + t * TEST_AR3_N * TEST_AR3_C, DSP_TRIAL_F64, TEST_AR3_N,
				       TEST_AR3_C, 0};
		cr_assert_eq(dsp_mtmfft_trial_f64(m, &tr, out + t * per, NULL), 0);
		for (size_t i = 0; as_f32 && i < per; i++)
			out[t * per + i] = (float)out[t * per + i];
	}
	*mp = m;
	return out;
}

#endif
