/* The connectivity kernels against their plain reference versions (conn-ref.c) on generated data
 * of several shapes: cross spectra in blocks and merged, coherency outputs, PPC (with exact zero
 * spectra), lagged covariance for even and odd lengths, Wilson/Granger on the full circle, and
 * the regularisation rule. */
#include <complex.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/conn-ref.h"
#include "tests/unit/test-rng.h"
#include "worker/dsp/connectivity/dsp-coh.h"
#include "worker/dsp/connectivity/dsp-csd.h"
#include "worker/dsp/connectivity/dsp-granger.h"
#include "worker/dsp/connectivity/dsp-ppc.h"
#include "worker/dsp/connectivity/dsp-xcov.h"
#include "worker/dsp/core/dsp-trial.h"
#include "worker/dsp/core/fft-plan.h"

static void
test_near(double complex got, double complex want, double scale, double tol, const char *what,
	  size_t i)
{
	cr_assert(cabs(got - want) <= tol * scale, "%s[%zu]: (%.15g, %.15g) vs (%.15g, %.15g)",
		  what, i, creal(got), cimag(got), creal(want), cimag(want));
}

static double complex *
test_random_spectra(size_t n, uint64_t seed)
{
	double complex *x = malloc(n * sizeof *x);

	for (size_t i = 0; i < n; i++)
		x[i] = test_randn(&seed) + I * test_randn(&seed);
	return x;
}

Test(dsp_conn, csd_blocks_and_merge_match_plain_sums)
{
	const size_t ntr = 37, ntap = 3, nf = 11, nc = 5, per = ntap * nf * nc;
	double complex *x = test_random_spectra(ntr * per, 1), *ref = malloc(nf * nc * nc * 16);
	double complex *got = malloc(nf * nc * nc * sizeof *got);
	struct dsp_csd_acc a, b;

	conn_ref_csd(x, ntr, ntap, nf, nc, ref);
	dsp_csd_acc_init(&a, nf, nc, ntap);
	dsp_csd_acc_init(&b, nf, nc, ntap);
	a.block_max = 4; /* several blocks and a partial one */
	for (size_t t = 0; t < ntr; t++) {
		struct dsp_csd_acc *acc = t < 20 ? &a : &b;
		memcpy(dsp_csd_acc_slot(acc), x + t * per, per * sizeof *x);
		dsp_csd_acc_commit(acc);
	}
	dsp_csd_acc_flush(&a);
	dsp_csd_acc_flush(&b);
	/* b travels packed, as between tasks */
	double *packed = malloc(dsp_csd_packed_len(nf, nc) * sizeof *packed);
	struct dsp_csd_acc c;
	dsp_csd_acc_pack(&b, packed);
	dsp_csd_acc_init(&c, nf, nc, ntap);
	dsp_csd_acc_add_packed(&c, packed, b.count);
	free(packed);
	cr_assert_eq(dsp_csd_acc_merge(&a, &c, NULL), 0);
	dsp_csd_acc_fini(&c);
	cr_assert_eq(a.count, ntr);
	dsp_csd_acc_mean(&a, (double *)got);
	for (size_t i = 0; i < nf * nc * nc; i++)
		test_near(got[i], ref[i], 3, 1e-13, "mean csd", i);

	/* one trial, expanded */
	double *s = malloc(2 * nf * nc * nc * sizeof *s);
	dsp_csd_trial((double *)x, ntap, nf, nc, s);
	dsp_csd_expand(s, nf, nc, 1.0, (double *)got);
	conn_ref_csd(x, 1, ntap, nf, nc, ref);
	for (size_t i = 0; i < nf * nc * nc; i++)
		test_near(got[i], ref[i], 3, 1e-13, "trial csd", i);

	/* a sub-block: rows {4, 0}, columns {2} */
	size_t rows[2] = {4, 0}, cols[1] = {2};
	double complex sel[2 * 11];
	dsp_csd_select((double *)got, nf, nc, rows, 2, cols, 1, (double *)sel);
	for (size_t f = 0; f < nf; f++) {
		cr_assert(sel[f * 2] == got[(f * nc + 4) * nc + 2]);
		cr_assert(sel[f * 2 + 1] == got[(f * nc + 0) * nc + 2]);
	}
	dsp_csd_acc_fini(&a);
	dsp_csd_acc_fini(&b);
	free(s);
	free(x);
	free(ref);
	free(got);
}

Test(dsp_conn, coherency_outputs)
{
	const size_t nf = 7, nc = 4;
	double complex *x = test_random_spectra(9 * 2 * nf * nc, 2);
	double complex *csd = malloc(nf * nc * nc * sizeof *csd);
	float out[2 * 7 * 16];

	conn_ref_csd(x, 9, 2, nf, nc, csd);
	for (int o = DSP_COH_ABS; o <= DSP_COH_ANGLE; o++) {
		dsp_coh_compute((double *)csd, nf, nc, (enum dsp_coh_output)o, out);
		for (size_t f = 0; f < nf; f++)
			for (size_t i = 0; i < nc; i++)
				for (size_t j = 0; j < nc; j++) {
					size_t e = (f * nc + i) * nc + j;
					double complex c =
					    csd[e] / csqrt(csd[(f * nc + i) * nc + i] *
							   csd[(f * nc + j) * nc + j]);
					double complex want =
					    o == DSP_COH_ABS	   ? cabs(c)
					    : o == DSP_COH_POW	   ? creal(c * conj(c))
					    : o == DSP_COH_COMPLEX ? c
					    : o == DSP_COH_REAL	   ? creal(c)
					    : o == DSP_COH_IMAG	   ? cimag(c)
								   : carg(c);
					double complex g = o == DSP_COH_COMPLEX
							       ? out[2 * e] + I * out[2 * e + 1]
							       : out[e];
					test_near(g, want, 1, 1e-6, dsp_coh_output_name(o), e);
				}
	}
	enum dsp_coh_output o;
	char *cause = NULL;
	cr_assert_eq(dsp_coh_output_parse("fourier", &o, NULL), 0);
	cr_assert_eq(o, DSP_COH_COMPLEX);
	cr_assert_eq(dsp_coh_output_parse("phase", &o, &cause), -EINVAL);
	cr_assert_not_null(strstr(cause, "'abs', 'pow'"));
	free(cause);
	free(x);
	free(csd);
}

Test(dsp_conn, ppc_sum_of_phasors_equals_pairs)
{
	const size_t ntr = 23, nf = 6, nc = 3, m = nf * nc * nc;
	double complex *x = test_random_spectra(ntr * 2 * nf * nc, 3);
	double complex *s = malloc(ntr * m * sizeof *s);
	double *ref = malloc(m * sizeof *ref), *up = malloc(2 * m * sizeof *up);
	float got[6 * 9];
	struct dsp_ppc_acc a;

	for (size_t t = 0; t < ntr; t++)
		conn_ref_csd(x + t * 2 * nf * nc, 1, 2, nf, nc, s + t * m);
	/* exact zeros in two trials at one entry (and its mirror): no phase */
	for (size_t t = 3; t < 5; t++) {
		s[t * m + (2 * nc + 0) * nc + 1] = 0;
		s[t * m + (2 * nc + 1) * nc + 0] = 0;
	}
	conn_ref_ppc(s, ntr, nf, nc, ref);
	dsp_ppc_acc_init(&a, nf, nc);
	for (size_t t = 0; t < ntr; t++) {
		/* upper triangles in the kernel layout, from the full matrices */
		for (size_t f = 0; f < nf; f++)
			for (size_t i = 0; i < nc; i++)
				for (size_t j = 0; j < nc; j++) {
					double complex v = s[t * m + (f * nc + i) * nc + j];
					up[2 * (f * nc * nc + i + j * nc)] = creal(v);
					up[2 * (f * nc * nc + i + j * nc) + 1] = cimag(v);
				}
		dsp_ppc_acc_add(&a, up);
	}
	dsp_ppc_acc_finalize(&a, got);
	for (size_t e = 0; e < m; e++)
		test_near(got[e], ref[e], 1, 1e-6, "ppc", e);
	dsp_ppc_acc_fini(&a);
	free(x);
	free(s);
	free(ref);
	free(up);
}

static void
test_xcov(size_t n, size_t nc, int poly)
{
	double *x = malloc(n * nc * sizeof *x), *det = malloc(n * nc * sizeof *det);
	uint64_t seed = n;
	struct dsp_xcov xc;

	for (size_t i = 0; i < n * nc; i++)
		x[i] = test_randn(&seed) + 0.01 * (double)i;
	cr_assert_eq(dsp_xcov_init(&xc, n, nc, poly, NULL), 0);
	double *spec = malloc(2 * xc.nfreq * nc * sizeof *spec), std[4];
	double *s = malloc(2 * xc.nfreq * nc * nc * sizeof *s);
	double *got = malloc(xc.nlag * nc * nc * sizeof *got);
	double *ref = malloc(xc.nlag * nc * nc * sizeof *ref);
	struct dsp_trial tr = {x, DSP_TRIAL_F64, n, nc, 0};
	cr_assert_eq(dsp_xcov_spectra(&xc, &tr, spec, std, NULL), 0);
	dsp_csd_trial(spec, 1, xc.nfreq, nc, s);
	dsp_xcov_lags(&xc, s, 1.0, got);
	/* plain: detrend each column, then the lag sums */
	double *col = malloc(n * sizeof *col);
	for (size_t c = 0; c < nc; c++) {
		for (size_t i = 0; i < n; i++)
			col[i] = x[i * nc + c];
		dsp_trial_polyremoval(col, n, poly, NULL);
		for (size_t i = 0; i < n; i++)
			det[i * nc + c] = col[i];
	}
	conn_ref_xcov(det, n, nc, ref);
	for (size_t e = 0; e < xc.nlag * nc * nc; e++)
		test_near(got[e], ref[e], 1, 1e-12, "xcov", e);
	free(col);
	free(x);
	free(det);
	free(spec);
	free(s);
	free(got);
	free(ref);
}

Test(dsp_conn, xcov_even_odd_and_detrend)
{
	test_xcov(64, 3, 0);
	test_xcov(65, 4, 0);
	test_xcov(100, 2, 1);
	test_xcov(9, 3, -1);
	struct dsp_xcov xc;
	char *cause = NULL;
	cr_assert_eq(dsp_xcov_init(&xc, 1, 2, 0, &cause), -EINVAL);
	free(cause);
}

/* Cross spectra of a coupled AR(2) pair/triple: x_j[n] = 0.55 x_j[n−1] − 0.8 x_j[n−2] + coupling
 * + noise, periodogram-averaged over trials. */
static double complex *
test_ar_csd(size_t nc, size_t n, size_t ntr, double couple, uint64_t seed)
{
	size_t nf = n / 2 + 1;
	double *x = fft_alloc_real(n);
	fftw_complex *spec = fft_alloc_complex(nf * nc);
	double complex *csd = calloc(nf * nc * nc, sizeof *csd);
	double *sig = calloc(n * nc, sizeof *sig);

	for (size_t t = 0; t < ntr; t++) {
		for (size_t i = 0; i < n; i++)
			for (size_t c = 0; c < nc; c++) {
				double v = test_randn(&seed);
				if (i >= 2)
					v += 0.55 * sig[(i - 1) * nc + c] - 0.8 * sig[(i - 2) * nc + c] +
					     (c > 0 ? couple * sig[(i - 1) * nc + c - 1] : 0);
				sig[i * nc + c] = v;
			}
		for (size_t c = 0; c < nc; c++) {
			for (size_t i = 0; i < n; i++)
				x[i] = sig[i * nc + c] * (0.5 - 0.5 * cos(2 * M_PI * i / (n - 1.0)));
			fft_r2c(n, x, spec + c * nf);
		}
		for (size_t f = 0; f < nf; f++)
			for (size_t i = 0; i < nc; i++)
				for (size_t j = 0; j < nc; j++)
					csd[(f * nc + i) * nc + j] += spec[i * nf + f] *
								      conj(spec[j * nf + f]) /
								      (double)(ntr * n);
	}
	for (size_t f = 0; f < nf; f++) /* real diagonal, real DC and Nyquist */
		for (size_t i = 0; i < nc; i++) {
			csd[(f * nc + i) * nc + i] = creal(csd[(f * nc + i) * nc + i]);
			if (f == 0 || f == nf - 1)
				for (size_t j = 0; j < nc; j++)
					csd[(f * nc + i) * nc + j] = creal(csd[(f * nc + i) * nc + j]);
		}
	fft_free(x);
	fft_free(spec);
	free(sig);
	return csd;
}

Test(dsp_conn, granger_matches_full_circle_plain_wilson)
{
	const size_t nc = 3, n = 64, nf = n / 2 + 1;
	double complex *csd = test_ar_csd(nc, n, 40, 0.3, 11);
	double *got = malloc(nf * nc * nc * sizeof *got), *ref = malloc(nf * nc * nc * sizeof *ref);
	struct dsp_granger_params p;
	struct dsp_granger_info info;
	int it;

	dsp_granger_params_init(&p);
	cr_assert_eq(dsp_granger_all((double *)csd, nf, nc, &p, got, &info, NULL), 0);
	it = conn_ref_granger(csd, nf, nc, 100, 5e-6, ref);
	cr_assert(info.converged);
	cr_assert_eq(info.iterations, it, "iterations %d vs plain %d", info.iterations, it);
	for (size_t e = 0; e < nf * nc * nc; e++)
		test_near(got[e], ref[e], 1, 1e-9, "granger", e);
	/* threads split the frequencies and entries: the same result, bit for bit */
	double *g3 = malloc(nf * nc * nc * sizeof *g3);
	struct dsp_granger_info info3;
	p.nthreads = 3;
	cr_assert_eq(dsp_granger_all((double *)csd, nf, nc, &p, g3, &info3, NULL), 0);
	cr_assert_eq(memcmp(g3, got, nf * nc * nc * sizeof *g3), 0);
	cr_assert_eq(info3.iterations, info.iterations);
	free(g3);
	p.nthreads = 1;
	/* the diagonal is 0, the coupling 0 → 1 → 2 dominates the reverse at the AR peak */
	double fwd = 0, rev = 0;
	for (size_t f = 0; f < nf; f++) {
		cr_assert(fabs(got[(f * nc + 1) * nc + 1]) < 1e-12);
		fwd += got[(f * nc + 0) * nc + 1];
		rev += got[(f * nc + 1) * nc + 0];
	}
	cr_assert(fwd > 5 * rev, "forward %g, reverse %g", fwd, rev);

	/* pairwise: the pair (0, 2) alone equals its own 2-channel factorisation */
	size_t send[1] = {0}, recv[1] = {2};
	double *pair = malloc(nf * sizeof *pair);
	double complex *sub = malloc(nf * 4 * sizeof *sub);
	double *g2 = malloc(nf * 4 * sizeof *g2);
	for (size_t f = 0; f < nf; f++)
		for (size_t a = 0; a < 2; a++)
			for (size_t b = 0; b < 2; b++)
				sub[f * 4 + a * 2 + b] = csd[(f * nc + a * 2) * nc + b * 2];
	cr_assert_eq(dsp_granger_pairs((double *)csd, nf, nc, send, 1, recv, 1, &p, pair, NULL),
		     0);
	conn_ref_granger(sub, nf, 2, 100, 5e-6, g2);
	for (size_t f = 0; f < nf; f++)
		test_near(pair[f], g2[f * 4 + 1], 1, 1e-9, "pair", f);
	char *cause = NULL;
	cr_assert_eq(dsp_granger_pairs((double *)csd, nf, nc, send, 1, send, 1, &p, pair, &cause),
		     -EINVAL);
	free(cause);
	free(pair);
	free(sub);
	free(g2);
	free(csd);
	free(got);
	free(ref);
}

Test(dsp_conn, regularisation_ladder)
{
	/* Two nearly collinear channels: cond ~ 1e8 at every bin; ε = 1e-10 · 10^(9i/14) until the
	 * condition number drops below 1e4. */
	const size_t nf = 5, nc = 2;
	double complex csd[5 * 4];
	double cond, eps, factor;

	for (size_t f = 0; f < nf; f++) {
		csd[f * 4 + 0] = 1;
		csd[f * 4 + 1] = 1 - 0.5e-8;
		csd[f * 4 + 2] = 1 - 0.5e-8;
		csd[f * 4 + 3] = 1;
	}
	cr_assert_eq(dsp_granger_regularize((double *)csd, nf, nc, 1e4, &cond, &eps, &factor, NULL),
		     0);
	cr_assert(cond > 1e8 && cond < 1e9, "cond %g", cond);
	/* eigenvalues 2 and 0.5e-8: (2 + ε)/(0.5e-8 + ε) < 1e4 needs ε > ~1.95e-4 */
	double want = 0;
	for (int i = 0; i < 15 && want == 0; i++) {
		double e = pow(10, -10 + 9.0 * i / 14);
		if ((2 + e) / (0.5e-8 + e) < 1e4)
			want = e;
	}
	cr_assert(fabs(eps - want) < 1e-12 * want && factor == eps, "eps %g want %g", eps, want);
	/* well conditioned: nothing to do */
	csd[1] = csd[2] = 0.1;
	csd[5] = csd[6] = csd[9] = csd[10] = csd[13] = csd[14] = csd[17] = csd[18] = 0.1;
	cr_assert_eq(dsp_granger_regularize((double *)csd, nf, nc, 1e4, &cond, &eps, &factor, NULL),
		     0);
	cr_assert(eps == 0 && factor == 0 && fabs(cond - 1.1 / 0.9) < 1e-12);
	/* beyond the ladder: factor −1, ε the largest */
	for (size_t f = 0; f < nf; f++)
		csd[f * 4 + 3] = 1e6, csd[f * 4 + 1] = csd[f * 4 + 2] = 0;
	cr_assert_eq(dsp_granger_regularize((double *)csd, nf, nc, 1e4, &cond, &eps, &factor, NULL),
		     0);
	cr_assert(factor == -1 && eps == 0.1);
}

Test(dsp_conn, channel_covariance_of_a_trial)
{
	const size_t n = 57, nc = 3;
	double x[57 * 3], cov[9];
	uint64_t seed = 17;

	for (size_t i = 0; i < n * nc; i++)
		x[i] = test_randn(&seed) + (double)(i % nc) * 5;
	struct dsp_trial tr = {x, DSP_TRIAL_F64, n, nc, 0};
	for (int ddof = 0; ddof <= 1; ddof++) {
		cr_assert_eq(dsp_xcov_cov(&tr, ddof, cov, NULL), 0);
		for (size_t i = 0; i < nc; i++)
			for (size_t j = 0; j < nc; j++) {
				double mi = 0, mj = 0, v = 0;
				for (size_t t = 0; t < n; t++)
					mi += x[t * nc + i] / (double)n, mj += x[t * nc + j] / (double)n;
				for (size_t t = 0; t < n; t++)
					v += (x[t * nc + i] - mi) * (x[t * nc + j] - mj);
				test_near(cov[i * nc + j], v / (double)(n - (size_t)ddof), 1, 1e-13,
					  "cov", i * nc + j);
			}
	}
	char *cause = NULL;
	struct dsp_trial one = {x, DSP_TRIAL_F64, 1, nc, 0};
	cr_assert_eq(dsp_xcov_cov(&one, 1, cov, &cause), -EINVAL);
	free(cause);
}
