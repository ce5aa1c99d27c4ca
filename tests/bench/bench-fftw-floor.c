/* The FFTW floor of the spectral benchmark: only the transforms of 500 trials × 32 channels of
 * 1000 samples (hann: one taper; multitaper tapsmofrq 4: 7 tapers), batched per trial as
 * fft-plan.c does, single thread. Prints "hann SECONDS" and "multitaper SECONDS" (median of 5
 * runs, thread CPU time). */
#include <fftw3.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "bench-clock.h"

static int
bench_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

int
main(void)
{
	int n = 1000, howmany = 32, ntrials = 500;
	double *in = fftw_malloc(sizeof(double) * (size_t)(n * howmany));
	fftw_complex *out = fftw_malloc(sizeof(fftw_complex) * (size_t)((n / 2 + 1) * howmany));
	fftw_plan p = fftw_plan_many_dft_r2c(1, &n, howmany, in, NULL, 1, n, out, NULL, 1,
					     n / 2 + 1, FFTW_ESTIMATE);
	const int ntapers[2] = {1, 7};
	const char *names[2] = {"hann", "multitaper"};

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
