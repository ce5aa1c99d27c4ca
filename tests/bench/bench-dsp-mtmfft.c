/* Benchmark: mtmfft on 500 trials x 1000 samples x 32 channels (fs 1000), single thread, for a
 * hann taper with foilim [1, 150] and for multitapering with tapsmofrq 4; trial average. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "bench-clock.h"
#include "worker/dsp/spectral/dsp-mtmfft.h"

static double bench_cpu;

static double
bench_run(const float *data, size_t ntrial, size_t n, size_t nc, double tapsmofrq)
{
	struct dsp_mtmfft_params p;
	struct dsp_mtmfft *m;
	struct dsp_mtmfft_accum acc;
	char *cause = NULL;
	float *out;
	double t0, t1;

	dsp_mtmfft_params_init(&p, 1000);
	p.use_foilim = true;
	p.foilim[0] = 1;
	p.foilim[1] = 150;
	p.tapsmofrq = tapsmofrq;
	bench_cpu = bench_clock(CLOCK_THREAD_CPUTIME_ID);
	t0 = bench_now();
	if (dsp_mtmfft_new(&p, n, &m, &cause) != 0) {
		fprintf(stderr, "%s\n", cause);
		exit(1);
	}
	dsp_mtmfft_accum_init(&acc, m, 1, nc);
	for (size_t t = 0; t < ntrial; t++) {
		struct dsp_trial x = {data + t * n * nc, DSP_TRIAL_F32, n, nc, 0};
		if (dsp_mtmfft_accum_add(&acc, m, &x, &cause) != 0) {
			fprintf(stderr, "%s\n", cause);
			exit(1);
		}
	}
	out = malloc(acc.len * sizeof *out);
	dsp_mtmfft_accum_finalize(&acc, out, NULL);
	t1 = bench_now();
	bench_cpu = bench_clock(CLOCK_THREAD_CPUTIME_ID) - bench_cpu;
	free(out);
	dsp_mtmfft_accum_fini(&acc);
	dsp_mtmfft_free(m);
	return t1 - t0;
}

int
main(void)
{
	const size_t ntrial = 500, n = 1000, nc = 32;
	float *data = malloc(ntrial * n * nc * sizeof *data);
	unsigned s = 1;

	for (size_t i = 0; i < ntrial * n * nc; i++) {
		s = s * 1103515245u + 12345u;
		data[i] = (float)((s >> 8) & 0xffff) / 65536.0f - 0.5f;
	}
	bench_run(data, 2, n, nc, 0); /* plans */
	for (int rep = 0; rep < 3; rep++) {
		double t = bench_run(data, ntrial, n, nc, 0);
		printf("mtmfft hann foilim [1,150] 500x1000x32: %.4f s wall, %.4f s cpu\n", t,
		       bench_cpu);
		t = bench_run(data, ntrial, n, nc, 4);
		printf("mtmfft dpss tapsmofrq 4 (7 tapers) 500x1000x32: %.4f s wall, %.4f s cpu\n",
		       t, bench_cpu);
	}
	free(data);
	return 0;
}
