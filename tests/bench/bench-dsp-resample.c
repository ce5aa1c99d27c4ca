/* Timings and peak memory of FFT resampling on one channel of the EEG-fMRI recording (331,776
 * samples at 2048 Hz upsampled ×10, then 3,317,760 samples downsampled ×10): the
 * single-transform path (dsp_resample_direct) against dsp_resample, interleaved run by run.
 * Prints the median and range of thread CPU time over the runs with cached FFTW plans, one
 * run with an empty plan cache, the peak resident memory each call adds (VmHWM, reset before
 * every call) and the largest difference between the two results.
 * Usage: bench-dsp-resample [RUNS] [--parts | --sizes]: --parts compares phase lengths of the
 * downsampling path, --sizes both polyphase paths against the direct one on shorter signals. */
#include <malloc.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench-clock.h"
#include "tests/unit/test-rng.h"
#include "worker/dsp/core/dsp-resample-poly.h"
#include "worker/dsp/core/dsp-resample.h"
#include "worker/dsp/core/fft-plan.h"

typedef void (*bench_fn)(const double *x, size_t n, double ratio, double *y, size_t part);

static void
bench_direct(const double *x, size_t n, double ratio, double *y, size_t part)
{
	dsp_resample_direct(x, n, ratio, y, NULL);
}

static void
bench_auto(const double *x, size_t n, double ratio, double *y, size_t part)
{
	dsp_resample(x, n, ratio, y, NULL);
}

/* The polyphase path the plan allows, whatever its length. */
static void
bench_poly(const double *x, size_t n, double ratio, double *y, size_t part)
{
	struct dsp_resample_plan p;

	dsp_resample_plan_make(&p, n, ratio);
	if (p.new_len > p.old_len)
		dsp_resample_poly_up(x, n, &p, p.new_len / p.old_len, y);
	else
		dsp_resample_poly_down(x, n, &p, part < p.old_len ? part : p.old_len / 2, y);
}

static void
bench_down_part(const double *x, size_t n, double ratio, double *y, size_t part)
{
	struct dsp_resample_plan p;

	dsp_resample_plan_make(&p, n, ratio);
	dsp_resample_poly_down(x, n, &p, part, y);
}

/* VmHWM of this process in bytes; reset_peak first sets it to the current RSS. */
static double
bench_peak(int reset_peak)
{
	char line[256];
	double kb = 0;
	FILE *f;

	if (reset_peak && (f = fopen("/proc/self/clear_refs", "w")) != NULL) {
		fputs("5", f);
		fclose(f);
	}
	if ((f = fopen("/proc/self/status", "r")) == NULL)
		return 0;
	while (fgets(line, sizeof line, f) != NULL)
		if (sscanf(line, "VmHWM: %lf kB", &kb) == 1)
			break;
	fclose(f);
	return kb * 1024.0;
}

static int
bench_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

struct bench_case {
	const char *name;
	bench_fn fn;
	size_t part;
	double t[64], mem[64], cold, cold_mem;
	double *y;
};

/* One call: thread CPU seconds, and the peak memory it added in *mem. */
static double
bench_call(struct bench_case *c, const double *x, size_t n, double ratio, double *mem)
{
	double base = bench_peak(1), t0 = bench_clock(CLOCK_THREAD_CPUTIME_ID), t;

	c->fn(x, n, ratio, c->y, c->part);
	t = bench_clock(CLOCK_THREAD_CPUTIME_ID) - t0;
	*mem = bench_peak(0) - base;
	return t;
}

static void
bench_run(const char *title, const double *x, size_t n, double ratio, struct bench_case *cs,
	  int ncase, int runs)
{
	size_t m = dsp_resample_length(n, ratio);

	printf("%s: %zu -> %zu samples, %d runs\n", title, n, m, runs);
	printf("  %-22s %9s %19s %11s %10s %10s %11s\n", "path", "median ms", "range ms", "cold ms",
	       "peak MB", "cold MB", "max|diff|");
	for (int c = 0; c < ncase; c++) {
		cs[c].y = malloc(m * sizeof(double));
		for (size_t i = 0; i < m; i++) /* resident before timing (not memset: calloc) */
			cs[c].y[i] = 1.0;
	}
	for (int c = 0; c < ncase; c++) {
		fft_plan_cache_clear();
		cs[c].cold = bench_call(&cs[c], x, n, ratio, &cs[c].cold_mem);
	}
	for (int r = 0; r < runs; r++)
		for (int c = 0; c < ncase; c++)
			cs[c].t[r] = bench_call(&cs[c], x, n, ratio, &cs[c].mem[r]);
	for (int c = 0; c < ncase; c++) {
		double ymax = 0, dmax = 0;

		for (size_t i = 0; i < m; i++) {
			ymax = fmax(ymax, fabs(cs[0].y[i]));
			dmax = fmax(dmax, fabs(cs[c].y[i] - cs[0].y[i]));
		}
		qsort(cs[c].t, (size_t)runs, sizeof(double), bench_cmp);
		qsort(cs[c].mem, (size_t)runs, sizeof(double), bench_cmp);
		printf("  %-22s %9.1f %8.1f - %8.1f %11.1f %10.1f %10.1f %11.1e\n", cs[c].name,
		       1e3 * cs[c].t[runs / 2], 1e3 * cs[c].t[0], 1e3 * cs[c].t[runs - 1],
		       1e3 * cs[c].cold, cs[c].mem[runs / 2] / 1e6, cs[c].cold_mem / 1e6,
		       dmax / ymax);
	}
	printf("  dsp_resample_bytes without the output: %.1f MB\n",
	       (double)(dsp_resample_bytes(n, ratio) - m * sizeof(double)) / 1e6);
	for (int c = 0; c < ncase; c++)
		free(cs[c].y);
}

int
main(int argc, char **argv)
{
	const size_t n = 331776, k = 10;
	int runs = argc > 1 && atoi(argv[1]) > 0 ? atoi(argv[1]) : 5, sweep = 0, sizes = 0;
	double *x = malloc(n * sizeof *x), *u = malloc(n * k * sizeof *u), prev = 0;
	uint64_t rng = 1;

	for (int i = 1; i < argc; i++) {
		sweep |= strcmp(argv[i], "--parts") == 0;
		sizes |= strcmp(argv[i], "--sizes") == 0;
	}
	if (runs > 64)
		runs = 64;
	/* As the worker: big buffers are mapped and unmapped, so VmHWM sees each call's own. */
	mallopt(M_MMAP_THRESHOLD, 1 << 20);
	for (size_t i = 0; i < n; i++) {
		prev = 0.99 * prev + 0.01 * test_lcg_normal(&rng);
		x[i] = 20e-6 * prev + 50e-6 * sin(2 * M_PI * 10.0 * (double)i / 2048.0);
	}
	dsp_resample_up(x, n, (unsigned)k, u, NULL);
	if (sizes) {
		/* Where the polyphase paths start to pay: lengths around the thresholds. */
		static const size_t up_n[] = {3000, 12000, 30000, 100000};
		static const unsigned up_k[] = {2, 3, 10};
		static const size_t down_n[] = {100000, 400000, 800000, 3317760};
		static const double down_r[] = {0.5, 0.25, 0.1};
		char title[64];

		for (size_t i = 0; i < sizeof up_n / sizeof up_n[0]; i++)
			for (size_t j = 0; j < sizeof up_k / sizeof up_k[0]; j++) {
				struct bench_case cs[2] = {{.name = "direct", .fn = bench_direct},
							   {.name = "polyphase", .fn = bench_poly}};
				snprintf(title, sizeof title, "upsample x%u", up_k[j]);
				bench_run(title, x, up_n[i], (double)up_k[j], cs, 2, runs);
			}
		for (size_t i = 0; i < sizeof down_n / sizeof down_n[0]; i++)
			for (size_t j = 0; j < sizeof down_r / sizeof down_r[0]; j++) {
				struct bench_case cs[2] = {
				    {.name = "direct", .fn = bench_direct},
				    {.name = "polyphase", .fn = bench_poly, .part = 1u << 18}};
				snprintf(title, sizeof title, "downsample ratio %g", down_r[j]);
				bench_run(title, u, down_n[i], down_r[j], cs, 2, runs);
			}
	} else if (sweep) {
		struct bench_case cs[8] = {{.name = "direct", .fn = bench_direct}};
		int nc = 1;

		for (size_t part = 1u << 15; part <= 1u << 20; part *= 2, nc++) {
			static char names[8][32];
			snprintf(names[nc], sizeof names[nc], "phases of %zu", part);
			cs[nc] = (struct bench_case){
			    .name = names[nc], .fn = bench_down_part, .part = part};
		}
		bench_run("downsample x10, phase length", u, n * k, 1.0 / (double)k, cs, nc, runs);
	} else {
		struct bench_case up[2] = {{.name = "direct", .fn = bench_direct},
					   {.name = "dsp_resample", .fn = bench_auto}};
		struct bench_case down[2] = {{.name = "direct", .fn = bench_direct},
					     {.name = "dsp_resample", .fn = bench_auto}};

		bench_run("upsample x10", x, n, (double)k, up, 2, runs);
		bench_run("downsample x10", u, n * k, 1.0 / (double)k, down, 2, runs);
	}
	fft_plan_cache_clear();
	free(x);
	free(u);
	return 0;
}
