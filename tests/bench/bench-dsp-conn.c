/* Connectivity kernels on the benchmark shape (500 trials × 1000 samples × 32 channels at
 * 1000 Hz, white noise, hann): cross-spectral trial sums, PPC phasor sums, lagged covariance
 * spectra, and Wilson's factorisation with Granger causality on the averaged cross spectra.
 * Prints CPU seconds per stage (one thread). Not a test. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/bench/bench-clock.h"
#include "tests/unit/test-rng.h"
#include "worker/dsp/connectivity/dsp-csd.h"
#include "worker/dsp/connectivity/dsp-granger.h"
#include "worker/dsp/connectivity/dsp-ppc.h"
#include "worker/dsp/connectivity/dsp-xcov.h"
#include "worker/dsp/spectral/dsp-mtmfft.h"

int
main(int argc, char **argv)
{
	size_t ntr = argc > 1 ? (size_t)atol(argv[1]) : 500, n = 1000, nc = 32;
	double *x = malloc(n * nc * sizeof *x), t0;
	uint64_t seed = 42;
	struct dsp_mtmfft_params p;
	struct dsp_mtmfft *m;
	struct dsp_csd_acc a;
	struct dsp_ppc_acc pp;
	struct dsp_xcov xc;

	dsp_mtmfft_params_init(&p, 1000);
	p.output = DSP_MTMFFT_FOURIER;
	if (dsp_mtmfft_new(&p, n, &m, NULL) != 0)
		return 1;
	size_t nf = dsp_mtmfft_nfreq(m);
	double *s = malloc(2 * nf * nc * nc * sizeof *s), tspec = 0, tcsd = 0, tppc = 0;
	dsp_csd_acc_init(&a, nf, nc, 1);
	dsp_ppc_acc_init(&pp, nf, nc);
	for (size_t t = 0; t < ntr; t++) {
		for (size_t i = 0; i < n * nc; i++)
			x[i] = test_randn(&seed);
		struct dsp_trial tr = {x, DSP_TRIAL_F64, n, nc, 0};
		t0 = bench_clock(CLOCK_THREAD_CPUTIME_ID);
		dsp_mtmfft_trial_f64(m, &tr, dsp_csd_acc_slot(&a), NULL);
		tspec += bench_clock(CLOCK_THREAD_CPUTIME_ID) - t0;
		t0 = bench_clock(CLOCK_THREAD_CPUTIME_ID);
		dsp_csd_trial(dsp_csd_acc_slot(&a), 1, nf, nc, s);
		dsp_ppc_acc_add(&pp, s);
		tppc += bench_clock(CLOCK_THREAD_CPUTIME_ID) - t0;
		t0 = bench_clock(CLOCK_THREAD_CPUTIME_ID);
		dsp_csd_acc_commit(&a);
		tcsd += bench_clock(CLOCK_THREAD_CPUTIME_ID) - t0;
	}
	t0 = bench_clock(CLOCK_THREAD_CPUTIME_ID);
	dsp_csd_acc_flush(&a);
	tcsd += bench_clock(CLOCK_THREAD_CPUTIME_ID) - t0;
	printf("mtmfft spectra       %8.3f s\n", tspec);
	printf("cross-spectral sums  %8.3f s\n", tcsd);
	printf("ppc trial csd+phasor %8.3f s\n", tppc);

	double *full = malloc(2 * nf * nc * nc * sizeof *full), *g = malloc(nf * nc * nc * 8);
	struct dsp_granger_params gp;
	struct dsp_granger_info info;
	dsp_csd_acc_mean(&a, full);
	dsp_granger_params_init(&gp);
	for (int th = 1; th <= 2; th++) {
		gp.nthreads = th;
		t0 = bench_clock(CLOCK_MONOTONIC);
		int rc = dsp_granger_all(full, nf, nc, &gp, g, &info, NULL);
		printf("granger, %d thread(s) %7.3f s wall  rc %d, %d iterations, err %.3g, "
		       "cond %.4g\n",
		       th, bench_clock(CLOCK_MONOTONIC) - t0, rc, info.iterations, info.max_rel_err,
		       info.initial_cond);
	}

	dsp_xcov_init(&xc, n, nc, 0, NULL);
	double *sp = malloc(2 * xc.nfreq * nc * sizeof *sp);
	double *cc = malloc(xc.nlag * nc * nc * sizeof *cc);
	t0 = bench_clock(CLOCK_THREAD_CPUTIME_ID);
	for (size_t t = 0; t < ntr; t++) {
		struct dsp_trial tr = {x, DSP_TRIAL_F64, n, nc, 0};
		dsp_xcov_spectra(&xc, &tr, sp, NULL, NULL);
	}
	printf("corr spectra         %8.3f s\n", bench_clock(CLOCK_THREAD_CPUTIME_ID) - t0);
	double *s2 = malloc(2 * xc.nfreq * nc * nc * sizeof *s2);
	dsp_csd_trial(sp, 1, xc.nfreq, nc, s2);
	t0 = bench_clock(CLOCK_THREAD_CPUTIME_ID);
	dsp_xcov_lags(&xc, s2, 1.0, cc);
	printf("corr lags (1 trial)  %8.3f s\n", bench_clock(CLOCK_THREAD_CPUTIME_ID) - t0);
	return 0;
}
