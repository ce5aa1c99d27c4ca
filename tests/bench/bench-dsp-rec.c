/* Timings of the recording kernels on Niazy-like shapes (not a test): PCA on one channel of
 * 840 epochs × 2930 samples at 20480 Hz with both solvers, and LMS over 330k samples, N = 293. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench-clock.h"
#include "tests/unit/test-rng.h"
#include "worker/dsp/fmri/dsp-anc.h"
#include "worker/dsp/fmri/dsp-pca.h"

static uint64_t bench_rng = 1;

static double
bench_normal(void)
{
	return test_lcg_normal(&bench_rng);
}

int
main(void)
{
	const size_t ntrig = 840, len = 2930, n = 3317760;
	const double fs = 20480;
	int64_t *trig = malloc(ntrig * sizeof *trig);
	double *x = malloc(n * sizeof *x), *x0 = malloc(n * sizeof *x0), prev = 0, t0;
	struct dsp_pca_params p;
	struct dsp_pca_result res;
	char *cause = NULL;

	for (size_t i = 0; i < n; i++) {
		prev = 0.99 * prev + 0.01 * bench_normal();
		x0[i] = 20e-6 * prev;
	}
	for (size_t i = 0; i < ntrig; i++) {
		trig[i] = (int64_t)(100000 + i * len + (i / 21) * 100);
		for (size_t t = 0; t < len; t++)
			x0[(size_t)trig[i] + t] += 1e-3 *
						   sin(2 * M_PI * 7 * (double)t / (double)len) *
						   (1 + 0.05 * bench_normal());
	}
	for (int solver = 0; solver < 2; solver++)
		for (int variant = 0; variant < 2; variant++) {
			memcpy(x, x0, n * sizeof *x);
			dsp_pca_params_init(&p);
			p.solver = (enum dsp_pca_solver)solver;
			p.variant = (enum dsp_pca_variant)variant;
			t0 = bench_now();
			if (dsp_pca_apply(x, n, fs, trig, ntrig, len, &p, NULL, &res, &cause) !=
			    0) {
				fprintf(stderr, "pca: %s\n", cause);
				return 1;
			}
			printf("pca %-6s %-9s: %.3f s (k %zu, %zu epochs)\n",
			       solver ? "gesdd" : "gram", variant ? "reference" : "obs",
			       bench_now() - t0, res.k, res.epochs);
		}
	/* The same without the high-pass: the decomposition alone. */
	memcpy(x, x0, n * sizeof *x);
	dsp_pca_params_init(&p);
	p.hp = 0;
	t0 = bench_now();
	dsp_pca_apply(x, n, fs, trig, ntrig, len, &p, NULL, &res, NULL);
	printf("pca gram   obs, no hp: %.3f s (k %zu)\n", bench_now() - t0, res.k);
	memcpy(x, x0, n * sizeof *x);
	p.solver = DSP_PCA_SOLVER_GESDD;
	t0 = bench_now();
	dsp_pca_apply(x, n, fs, trig, ntrig, len, &p, NULL, &res, NULL);
	printf("pca gesdd  obs, no hp: %.3f s (k %zu)\n", bench_now() - t0, res.k);

	{
		const size_t m = 331776, order = 293;
		double *y = malloc(m * sizeof *y);
		t0 = bench_now();
		dsp_anc_lms(x0, x0 + 1000, m, order, 1e-3, y);
		printf("lms n %zu, order %zu: %.3f s\n", m, order, bench_now() - t0);
		free(y);
	}
	free(trig), free(x), free(x0);
	return 0;
}
