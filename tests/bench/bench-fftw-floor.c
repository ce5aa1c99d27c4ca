/* The FFTW floor of the spectral benchmarks: only the transforms of 500 trials × 32 channels of
 * 1000 samples, single thread, median of 5 runs of thread CPU time. Without arguments, mtmfft as
 * tests/bench/bench-spectral.sh runs it (hann: one taper; multitaper tapsmofrq 4: 7 tapers),
 * batched per trial as fft-plan.c does: prints "hann SECONDS" and "multitaper SECONDS". With
 * `tfr`, the sliding-window examples of tests/bench/bench-tfr.py (mtmconvol 0.2 s windows every
 * 0.1 s, one taper or 7 DPSS tapers; welch 0.25 s windows every 0.125 s), each channel's windows
 * batched as dsp-mtmconvol.c does: prints "mtmconvol-hann", "mtmconvol-dpss" and "welch". */
#include <fftw3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench-clock.h"

static int
bench_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Median CPU seconds of `reps` r2c transforms of n points, `howmany` at a time. */
static double
bench_floor(int n, int howmany, long reps)
{
	double *in = fftw_malloc(sizeof(double) * (size_t)(n * howmany)), t[5];
	fftw_complex *out = fftw_malloc(sizeof(fftw_complex) * (size_t)((n / 2 + 1) * howmany));
	fftw_plan p = fftw_plan_many_dft_r2c(1, &n, howmany, in, NULL, 1, n, out, NULL, 1,
					     n / 2 + 1, FFTW_ESTIMATE);

	for (int i = 0; i < n * howmany; i++)
		in[i] = (double)((i * 7919) % 1000) / 1000.0 - 0.5;
	for (int rep = 0; rep < 5; rep++) {
		double t0 = bench_clock(CLOCK_THREAD_CPUTIME_ID);
		for (long j = 0; j < reps; j++)
			fftw_execute_dft_r2c(p, in, out);
		t[rep] = bench_clock(CLOCK_THREAD_CPUTIME_ID) - t0;
	}
	qsort(t, 5, sizeof t[0], bench_cmp);
	fftw_destroy_plan(p);
	fftw_free(in);
	fftw_free(out);
	return t[2];
}

/* The sliding-window examples: per trial and channel, ceil(1000 / step) windows × tapers. */
static int
bench_tfr(void)
{
	static const struct {
		const char *name;
		int nperseg, step, ntaper;
	} cases[] = {{"mtmconvol-hann", 200, 100, 1},
		     {"mtmconvol-dpss", 200, 100, 7},
		     {"welch", 250, 125, 1}};

	for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
		int nt = (1000 + cases[k].step - 1) / cases[k].step;
		printf("%s %.4f\n", cases[k].name,
		       bench_floor(cases[k].nperseg, nt, 500L * 32 * cases[k].ntaper));
	}
	return 0;
}

int
main(int argc, char **argv)
{
	int n = 1000, howmany = 32, ntrials = 500;
	double *in = fftw_malloc(sizeof(double) * (size_t)(n * howmany));
	fftw_complex *out = fftw_malloc(sizeof(fftw_complex) * (size_t)((n / 2 + 1) * howmany));
	fftw_plan p = fftw_plan_many_dft_r2c(1, &n, howmany, in, NULL, 1, n, out, NULL, 1,
					     n / 2 + 1, FFTW_ESTIMATE);
	const int ntapers[2] = {1, 7};
	const char *names[2] = {"hann", "multitaper"};

	if (argc > 1 && strcmp(argv[1], "tfr") == 0)
		return bench_tfr();

	for (int i = 0; i < n * howmany; i++)
		in[i] = (double)((i * 7919) % 1000) / 1000.0 - 0.5;
	for (int k = 0; k < 2; k++) {
		double t[5];
		for (int rep = 0; rep < 5; rep++) {
			double t0 = bench_clock(CLOCK_THREAD_CPUTIME_ID);
			for (int j = 0; j < ntrials * ntapers[k]; j++)
				fftw_execute_dft_r2c(p, in, out);
			t[rep] = bench_clock(CLOCK_THREAD_CPUTIME_ID) - t0;
		}
		qsort(t, 5, sizeof t[0], bench_cmp);
		printf("%s %.4f\n", names[k], t[2]);
	}
	fftw_destroy_plan(p);
	fftw_free(in);
	fftw_free(out);
	return 0;
}
