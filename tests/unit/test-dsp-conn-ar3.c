/* The connectivity kernels against every ar3_* reference vector of the reference toolbox (three
 * coupled AR(2) processes, 16 trials × 800 samples at 500 Hz), with each case's tolerance from
 * ar3_meta.json: rel 1e-4 and abs 1e-6 of max|ref| (PPC abs 1e-5). The spectra come from our
 * mtmfft with the case's parameters, as the pipeline computes them. */
#include <criterion/criterion.h>

#include "tests/unit/test-conn-util.h"
#include "worker/dsp/connectivity/dsp-coh.h"
#include "worker/dsp/connectivity/dsp-csd.h"
#include "worker/dsp/connectivity/dsp-granger.h"
#include "worker/dsp/connectivity/dsp-ppc.h"
#include "worker/dsp/connectivity/dsp-xcov.h"

#define NC TEST_AR3_C
#define NT TEST_AR3_TRIALS

/* The trial-averaged full cross spectra of spectra x (NT trials). */
static double *
test_mean_csd(const double *x, size_t ntap, size_t nfreq)
{
	struct dsp_csd_acc a;
	double *full = malloc(2 * nfreq * NC * NC * sizeof *full);
	size_t per = 2 * ntap * nfreq * NC;

	dsp_csd_acc_init(&a, nfreq, NC, ntap);
	for (size_t t = 0; t < NT; t++) {
		memcpy(dsp_csd_acc_slot(&a), x + t * per, per * sizeof *x);
		dsp_csd_acc_commit(&a);
	}
	dsp_csd_acc_flush(&a);
	cr_assert_eq(a.count, NT);
	dsp_csd_acc_mean(&a, full);
	dsp_csd_acc_fini(&a);
	return full;
}

static void
test_fourier(struct dsp_mtmfft_params *p, double tapsmofrq)
{
	dsp_mtmfft_params_init(p, TEST_AR3_FS);
	p->output = DSP_MTMFFT_FOURIER;
	p->tapsmofrq = tapsmofrq;
	p->keeptapers = tapsmofrq > 0;
}

Test(dsp_conn_ar3, coh_pow_after_multitaper_fourier)
{
	double *x = test_ar3_input(), *spec, *csd;
	struct dsp_mtmfft_params p;
	struct dsp_mtmfft *m;
	struct io_npy_header h;
	size_t ntap, nf;

	test_fourier(&p, 3);
	p.use_foilim = true;
	p.foilim[0] = 2;
	p.foilim[1] = 200;
	spec = test_ar3_spectra(x, &p, true, &ntap, &nf, &m);
	cr_assert_eq(ntap, 8);
	cr_assert_eq(nf, 317);
	csd = test_mean_csd(spec, ntap, nf);
	float *out = malloc(nf * NC * NC * sizeof *out);
	dsp_coh_compute(csd, nf, NC, DSP_COH_POW, out);
	double complex *ref = test_conn_load("ar3_coh_pow", &h);
	cr_assert_eq(h.count, nf * NC * NC);
	test_conn_close_f(out, 0, ref, h.count, 1e-4, 1e-6, "ar3_coh_pow");
	free(out);
	free(ref);
	free(csd);
	free(spec);
	free(x);
	dsp_mtmfft_free(m);
}

Test(dsp_conn_ar3, coh_complex_direct)
{
	double *x = test_ar3_input(), *spec, *csd, foi[40];
	struct dsp_mtmfft_params p;
	struct dsp_mtmfft *m;
	struct io_npy_header h;
	size_t ntap, nf;

	for (int i = 0; i < 40; i++)
		foi[i] = 5 * (i + 1);
	/* the implicit mtmfft of connectivityanalysis: demeaned, dpss, no demean_taper */
	test_fourier(&p, 2);
	p.foi = foi;
	p.nfoi = 40;
	spec = test_ar3_spectra(x, &p, false, &ntap, &nf, &m);
	cr_assert_eq(ntap, 5);
	csd = test_mean_csd(spec, ntap, nf);
	float *out = malloc(2 * nf * NC * NC * sizeof *out);
	dsp_coh_compute(csd, nf, NC, DSP_COH_COMPLEX, out);
	double complex *ref = test_conn_load("ar3_coh_complex_direct", &h);
	cr_assert_eq(h.count, nf * NC * NC);
	test_conn_close_f(out, 1, ref, h.count, 1e-4, 1e-6, "ar3_coh_complex_direct");
	free(out);
	free(ref);
	free(csd);
	free(spec);
	free(x);
	dsp_mtmfft_free(m);
}

/* Cross-covariances of every ar3 trial: averaged (keeptrials false) or per trial. */
static void
test_corr(bool keeptrials, const char *name)
{
	double *x = test_ar3_input();
	struct dsp_xcov xc;
	struct dsp_csd_acc a;
	struct io_npy_header h;
	double complex *ref = test_conn_load(name, &h);

	cr_assert_eq(dsp_xcov_init(&xc, TEST_AR3_N, NC, 0, NULL), 0);
	cr_assert_eq(xc.nlag, 400);
	size_t per = xc.nlag * NC * NC;
	double *cc = malloc(per * sizeof *cc), std[NC];
	double *s = malloc(2 * xc.nfreq * NC * NC * sizeof *s);
	float *out = malloc((keeptrials ? NT : 1) * per * sizeof *out);
	dsp_csd_acc_init(&a, xc.nfreq, NC, 1);
	for (size_t t = 0; t < NT; t++) {
		struct dsp_trial tr = {x + t * TEST_AR3_N * NC, DSP_TRIAL_F64, TEST_AR3_N, NC, 0};
		double *slot = dsp_csd_acc_slot(&a);
		cr_assert_eq(dsp_xcov_spectra(&xc, &tr, slot, std, NULL), 0);
		if (keeptrials) {
			dsp_csd_trial(slot, 1, xc.nfreq, NC, s);
			dsp_xcov_lags(&xc, s, 1.0, cc);
			dsp_xcov_norm_trial(&xc, cc, std, out + t * per);
		}
		dsp_csd_acc_commit(&a);
	}
	dsp_csd_acc_flush(&a);
	if (!keeptrials) {
		dsp_csd_acc_total(&a, 1.0, s);
		dsp_xcov_lags(&xc, s, 1.0 / NT, cc);
		dsp_xcov_norm_average(&xc, cc, out);
	}
	cr_assert_eq(h.count, (keeptrials ? NT : 1) * per);
	test_conn_close_f(out, 0, ref, h.count, 1e-4, 1e-6, name);
	dsp_csd_acc_fini(&a);
	free(out);
	free(s);
	free(cc);
	free(ref);
	free(x);
}

Test(dsp_conn_ar3, corr)
{
	test_corr(false, "ar3_corr");
}

Test(dsp_conn_ar3, corr_trials)
{
	test_corr(true, "ar3_corr_trials");
}

Test(dsp_conn_ar3, granger_hann)
{
	double *x = test_ar3_input(), *spec, *csd;
	struct dsp_mtmfft_params p;
	struct dsp_granger_params gp;
	struct dsp_granger_info info;
	struct dsp_mtmfft *m;
	struct io_npy_header h;
	size_t ntap, nf;

	test_fourier(&p, 0);
	spec = test_ar3_spectra(x, &p, true, &ntap, &nf, &m);
	cr_assert_eq(nf, 401);
	csd = test_mean_csd(spec, ntap, nf);
	double *g = malloc(nf * NC * NC * sizeof *g);
	dsp_granger_params_init(&gp);
	cr_assert_eq(dsp_granger_all(csd, nf, NC, &gp, g, &info, NULL), 0);
	cr_assert(info.converged && info.reg_factor == 0 && info.max_rel_err < 5e-6);
	/* Syncopy reports 114.945 from its float32 cross spectra */
	cr_assert(fabs(info.initial_cond - 114.94522857666016) < 1e-3 * 115, "cond %g",
		  info.initial_cond);
	double complex *ref = test_conn_load("ar3_granger", &h);
	cr_assert_eq(h.count, nf * NC * NC);
	test_conn_close(g, 0, ref, h.count, 1e-4, 1e-6, "ar3_granger");
	free(g);
	free(ref);
	free(csd);
	free(spec);
	free(x);
	dsp_mtmfft_free(m);
}

Test(dsp_conn_ar3, granger_dpss_pairs)
{
	double *x = test_ar3_input(), *spec, *csd;
	struct dsp_mtmfft_params p;
	struct dsp_granger_params gp;
	struct dsp_mtmfft *m;
	struct io_npy_header h;
	size_t ntap, nf, send[2] = {0, 2}, recv[1] = {1};

	test_fourier(&p, 3);
	spec = test_ar3_spectra(x, &p, true, &ntap, &nf, &m);
	csd = test_mean_csd(spec, ntap, nf);
	double *g = malloc(nf * 2 * sizeof *g);
	dsp_granger_params_init(&gp);
	cr_assert_eq(dsp_granger_pairs(csd, nf, NC, send, 2, recv, 1, &gp, g, NULL), 0);
	double complex *ref = test_conn_load("ar3_granger_dpss_pairs", &h);
	cr_assert_eq(h.count, nf * 2);
	test_conn_close(g, 0, ref, h.count, 1e-4, 1e-6, "ar3_granger_dpss_pairs");
	free(g);
	free(ref);
	free(csd);
	free(spec);
	free(x);
	dsp_mtmfft_free(m);
}

Test(dsp_conn_ar3, csd_hamming)
{
	double *x = test_ar3_input(), *spec, *csd;
	struct dsp_mtmfft_params p;
	struct dsp_mtmfft *m;
	struct io_npy_header h;
	size_t ntap, nf;

	test_fourier(&p, 0);
	p.taper = DSP_TAPER_HAMMING;
	p.use_foilim = true;
	p.foilim[0] = 1;
	p.foilim[1] = 150;
	spec = test_ar3_spectra(x, &p, true, &ntap, &nf, &m);
	cr_assert_eq(nf, 239);
	csd = test_mean_csd(spec, ntap, nf);
	double complex *ref = test_conn_load("ar3_csd", &h);
	cr_assert_eq(h.count, nf * NC * NC);
	test_conn_close(csd, 1, ref, h.count, 1e-4, 1e-6, "ar3_csd");
	free(ref);
	free(csd);
	free(spec);
	free(x);
	dsp_mtmfft_free(m);
}

/* Per-trial cross spectra (dpss, tapsmofrq 2) of the ar3 trials at the given bins. */
static double *
test_trial_csds(const double *foi, size_t nfoi, bool foilim, size_t *nfp)
{
	double *x = test_ar3_input(), *spec;
	struct dsp_mtmfft_params p;
	struct dsp_mtmfft *m;
	size_t ntap, nf;

	test_fourier(&p, 2);
	if (foilim) {
		p.use_foilim = true;
		p.foilim[0] = foi[0];
		p.foilim[1] = foi[1];
	} else {
		p.foi = foi;
		p.nfoi = nfoi;
	}
	spec = test_ar3_spectra(x, &p, true, &ntap, &nf, &m);
	size_t per = 2 * ntap * nf * NC, m2 = 2 * nf * NC * NC;
	double *s = malloc(NT * m2 * sizeof *s);
	for (size_t t = 0; t < NT; t++)
		dsp_csd_trial(spec + t * per, ntap, nf, NC, s + t * m2);
	*nfp = nf;
	free(spec);
	free(x);
	dsp_mtmfft_free(m);
	return s;
}

Test(dsp_conn_ar3, csd_trials)
{
	double foi[30], *s, *full;
	struct io_npy_header h;
	size_t nf;

	for (int i = 0; i < 30; i++)
		foi[i] = 5 * (i + 1);
	s = test_trial_csds(foi, 30, false, &nf);
	size_t m2 = 2 * nf * NC * NC;
	full = malloc(NT * m2 * sizeof *full);
	for (size_t t = 0; t < NT; t++)
		dsp_csd_expand(s + t * m2, nf, NC, 1.0, full + t * m2);
	double complex *ref = test_conn_load("ar3_csd_trials", &h);
	cr_assert_eq(h.count, NT * nf * NC * NC);
	test_conn_close(full, 1, ref, h.count, 1e-4, 1e-6, "ar3_csd_trials");
	free(ref);
	free(full);
	free(s);
}

Test(dsp_conn_ar3, ppc)
{
	double lim[2] = {5, 150}, *s;
	struct dsp_ppc_acc a, b;
	struct io_npy_header h;
	size_t nf;

	s = test_trial_csds(lim, 2, true, &nf);
	size_t m2 = 2 * nf * NC * NC;
	/* two partial sums (trials 0-6 and 7-15), merged packed as the final task does */
	dsp_ppc_acc_init(&a, nf, NC);
	dsp_ppc_acc_init(&b, nf, NC);
	for (size_t t = 0; t < NT; t++)
		dsp_ppc_acc_add(t < 7 ? &a : &b, s + t * m2);
	double *packed = malloc(dsp_ppc_packed_len(nf, NC) * sizeof *packed);
	dsp_ppc_acc_pack(&b, packed);
	dsp_ppc_acc_add_packed(&a, packed, b.count);
	free(packed);
	float *out = malloc(nf * NC * NC * sizeof *out);
	dsp_ppc_acc_finalize(&a, out);
	double complex *ref = test_conn_load("ar3_ppc", &h);
	cr_assert_eq(h.count, nf * NC * NC);
	test_conn_close_f(out, 0, ref, h.count, 1e-4, 1e-5, "ar3_ppc");
	dsp_ppc_acc_fini(&a);
	dsp_ppc_acc_fini(&b);
	free(out);
	free(ref);
	free(s);
}
