/* Time-frequency kernels on the benchmark shape of bench-tfr.py (trials × 1000 samples × 32
 * float32 channels at 1000 Hz, white noise) with the parameters of the shipped tfr-*.json
 * examples: mtmconvol hann and DPSS, welch, Morlet wavelet and superlet, one trial at a time as a
 * unit task runs them. Prints the CPU seconds of each (one thread) and a checksum of its output
 * (the sum of all values), so a faster kernel can be compared with the one before. Not a test.
 * usage: bench-dsp-tfr [TRIALS (default 500)] [METHOD ...] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/bench/bench-clock.h"
#include "tests/unit/test-rng.h"
#include "worker/dsp/spectral/dsp-cwt.h"
#include "worker/dsp/spectral/dsp-mtmconvol.h"

enum { NSAMP = 1000, NCHAN = 32, NTOI = 100 };

static void
bench_tfr_report(const char *name, double sec, const double *out, size_t len, size_t ntr)
{
	double sum = 0;

	for (size_t i = 0; i < len; i++)
		sum += out[i];
	printf("%-16s %8.3f s CPU  (%zu trials; last trial's output sum %.12g)\n", name, sec, ntr,
	       sum);
}

static void
bench_tfr_mtmconvol(const char *name, const float *x, size_t ntr, double tapsmofrq, bool welch)
{
	struct dsp_mtmconvol_params p;
	struct dsp_mtmconvol *m;
	struct dsp_mtmconvol_work *w = NULL;
	size_t len;
	double *out, sec = 0;

	dsp_mtmconvol_params_init(&p, 1000);
	p.tapsmofrq = tapsmofrq;
	p.t_ftimwin = welch ? 0.25 : 0.2;
	p.toi_kind = DSP_TFR_TOI_FRACTION;
	p.toi_frac = 0.5;
	p.use_foilim = true;
	p.foilim[0] = 1;
	p.foilim[1] = 150;
	p.welch = welch;
	p.mean_len = NSAMP;
	p.min_len = NSAMP;
	if (dsp_mtmconvol_new(&p, &m, NULL) != 0)
		exit(1);
	len =
	    dsp_mtmconvol_ntime(m, NSAMP) * dsp_mtmconvol_ntap(m) * dsp_mtmconvol_nfreq(m) * NCHAN;
	out = malloc(len * sizeof *out);
	for (size_t t = 0; t < ntr; t++) {
		struct dsp_trial tr = {x + t * NSAMP * NCHAN, DSP_TRIAL_F32, NSAMP, NCHAN, 0};
		double t0 = bench_clock(CLOCK_THREAD_CPUTIME_ID);
		if (dsp_mtmconvol_trial(m, &tr, 0, out, &w, NULL) != 0)
			exit(1);
		sec += bench_clock(CLOCK_THREAD_CPUTIME_ID) - t0;
	}
	bench_tfr_report(name, sec, out, len, ntr);
	dsp_mtmconvol_work_free(w);
	dsp_mtmconvol_free(m);
	free(out);
}

static void
bench_tfr_cwt(const char *name, const float *x, size_t ntr, bool superlet)
{
	struct dsp_cwt_params p;
	struct dsp_cwt *m;
	struct dsp_cwt_conv_work *w = NULL;
	double foi[20], toi[NTOI], *out, sec = 0;
	size_t nfoi = superlet ? 15 : 20, len;

	for (size_t i = 0; i < nfoi; i++)
		foi[i] = superlet ? 10 + 5.0 * (double)i : 5 + 5.0 * (double)i;
	for (size_t i = 0; i < NTOI; i++)
		toi[i] = 0.0005 + 0.01 * (double)i;
	dsp_cwt_params_init(&p, 1000);
	p.family = superlet ? DSP_CWT_SUPERLET : DSP_CWT_MORLET;
	p.foi = foi;
	p.nfoi = nfoi;
	p.toi_kind = DSP_TFR_TOI_LIST;
	p.toi = toi;
	p.ntoi = NTOI;
	p.order_min = 1;
	p.order_max = 5;
	p.c_1 = 3;
	if (dsp_cwt_new(&p, &m, NULL) != 0)
		exit(1);
	len = dsp_cwt_ntime(m, NSAMP) * dsp_cwt_nfreq(m) * NCHAN;
	out = malloc(len * sizeof *out);
	for (size_t t = 0; t < ntr; t++) {
		struct dsp_trial tr = {x + t * NSAMP * NCHAN, DSP_TRIAL_F32, NSAMP, NCHAN, 0};
		double t0 = bench_clock(CLOCK_THREAD_CPUTIME_ID);
		if (dsp_cwt_conv_trial(m, &tr, 0, out, &w, NULL) != 0)
			exit(1);
		sec += bench_clock(CLOCK_THREAD_CPUTIME_ID) - t0;
	}
	bench_tfr_report(name, sec, out, len, ntr);
	dsp_cwt_conv_work_free(w);
	dsp_cwt_free(m);
	free(out);
}

static bool
bench_tfr_wanted(int argc, char **argv, const char *name)
{
	if (argc < 3)
		return true;
	for (int i = 2; i < argc; i++)
		if (strcmp(argv[i], name) == 0)
			return true;
	return false;
}

int
main(int argc, char **argv)
{
	size_t ntr = argc > 1 ? (size_t)atol(argv[1]) : 500;
	float *x = malloc(ntr * NSAMP * NCHAN * sizeof *x + 1);
	uint64_t seed = 42;

	for (size_t i = 0; i < ntr * NSAMP * NCHAN; i++)
		x[i] = (float)test_randn(&seed);
	if (bench_tfr_wanted(argc, argv, "mtmconvol-hann"))
		bench_tfr_mtmconvol("mtmconvol-hann", x, ntr, 0, false);
	if (bench_tfr_wanted(argc, argv, "mtmconvol-dpss"))
		bench_tfr_mtmconvol("mtmconvol-dpss", x, ntr, 4, false);
	if (bench_tfr_wanted(argc, argv, "welch"))
		bench_tfr_mtmconvol("welch", x, ntr, 0, true);
	if (bench_tfr_wanted(argc, argv, "wavelet"))
		bench_tfr_cwt("wavelet", x, ntr, false);
	if (bench_tfr_wanted(argc, argv, "superlet"))
		bench_tfr_cwt("superlet", x, ntr, true);
	free(x);
	return 0;
}
