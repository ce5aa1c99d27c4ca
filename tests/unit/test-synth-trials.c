/* Synthetic trials: the PRNG against reference outputs, determinism per seed and per trial,
 * white-noise moments, spectral peaks of harmonic, phase-diffusion and AR(2) data, and writing
 * them as .spy containers that read back. */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "test-tmpdir.h"
#include "worker/dsp/core/fft-plan.h"
#include "worker/io/io-spy-read.h"
#include "worker/synth/synth-trials.h"

static const struct synth_trials_gen test_ar2 = {
    .kind = SYNTH_TRIALS_AR2_NETWORK, .alpha1 = 0.55, .alpha2 = -0.8};
static const struct synth_trials_gen test_white = {.kind = SYNTH_TRIALS_WHITE_NOISE, .sigma = 1};

Test(synth_trials, xoshiro_reference_outputs)
{
	/* xoshiro256** from the state {1, 2, 3, 4}, as the authors' C reference gives. */
	struct synth_trials_rng r = {.s = {1, 2, 3, 4}};
	const uint64_t want[4] = {11520, 0, 1509978240, 1215971899390074240ull};

	for (int i = 0; i < 4; i++)
		cr_assert_eq(synth_trials_rng_next(&r), want[i], "output %d", i);
}

Test(synth_trials, normal_moments)
{
	struct synth_trials_rng r;
	double s1 = 0, s2 = 0, s4 = 0, u;
	const int n = 400000;

	synth_trials_rng_init(&r, 7, 0);
	for (int i = 0; i < n; i++) {
		double x = synth_trials_rng_normal(&r);

		s1 += x, s2 += x * x, s4 += x * x * x * x;
		u = synth_trials_rng_uniform(&r);
		cr_assert(u >= 0 && u < 1);
	}
	cr_assert_float_eq(s1 / n, 0, 0.01);
	cr_assert_float_eq(s2 / n, 1, 0.01);
	cr_assert_float_eq(s4 / n, 3, 0.06); /* kurtosis of a Gaussian */
}

static const struct synth_trials_shape shape = {
    .ntrials = 5,
    .nsamples = 1000,
    .nchan = 3,
    .samplerate = 1000,
    .seed = 42,
};

Test(synth_trials, deterministic_per_seed_and_trial)
{
	struct synth_trials *a, *b, *c, *d;
	struct synth_trials_shape more = shape, other = shape;
	size_t stride = shape.nsamples * shape.nchan;

	more.ntrials = 8;
	other.seed = 43;
	cr_assert_eq(synth_trials_generate(&a, &test_ar2,
					   &(struct synth_trials_shape){5, 1000, 2, 200, 42}, NULL),
		     0);
	cr_assert_eq(synth_trials_generate(&b, &test_ar2,
					   &(struct synth_trials_shape){5, 1000, 2, 200, 42}, NULL),
		     0);
	cr_assert_eq(memcmp(a->data, b->data, 5 * 1000 * 2 * sizeof(double)), 0);
	synth_trials_free(a);
	synth_trials_free(b);

	cr_assert_eq(synth_trials_generate(&a, &test_white, &shape, NULL), 0);
	cr_assert_eq(synth_trials_generate(&b, &test_white, &shape, NULL), 0);
	cr_assert_eq(synth_trials_generate(&c, &test_white, &more, NULL), 0);
	cr_assert_eq(synth_trials_generate(&d, &test_white, &other, NULL), 0);
	cr_assert_eq(memcmp(a->data, b->data, shape.ntrials * stride * sizeof(double)), 0);
	/* Trial k does not depend on how many trials are made. */
	cr_assert_eq(memcmp(a->data, c->data, shape.ntrials * stride * sizeof(double)), 0);
	cr_assert_neq(memcmp(a->data, d->data, stride * sizeof(double)), 0);
	/* Trials differ from each other. */
	cr_assert_neq(memcmp(a->data, a->data + stride, stride * sizeof(double)), 0);
	cr_assert_eq(a->trl[3], 1000);
	cr_assert_eq(a->trl[4], 2000);
	cr_assert_eq(a->trl[5], 0);
	synth_trials_free(a);
	synth_trials_free(b);
	synth_trials_free(c);
	synth_trials_free(d);
}

Test(synth_trials, white_noise_variance)
{
	struct synth_trials_shape big = {20, 5000, 4, 1000, 1};
	struct synth_trials *t;
	const double sigma = 2.5;

	cr_assert_eq(
	    synth_trials_generate(
		&t, &(struct synth_trials_gen){.kind = SYNTH_TRIALS_WHITE_NOISE, .sigma = sigma},
		&big, NULL),
	    0);
	for (size_t c = 0; c < big.nchan; c++) {
		double s1 = 0, s2 = 0;
		size_t n = big.ntrials * big.nsamples;

		for (size_t i = 0; i < n; i++) {
			double x = t->data[i * big.nchan + c];

			s1 += x, s2 += x * x;
		}
		cr_assert_float_eq(s1 / (double)n, 0, 0.03);
		/* Variance of the variance estimate: 2σ⁴/n → 1 % relative here. */
		cr_assert_float_eq(s2 / (double)n / (sigma * sigma), 1, 0.03);
	}
	synth_trials_free(t);
}

/* Trial-averaged power spectrum of channel c; returns the frequency of the largest bin > 0. */
static double
peak_freq(const struct synth_trials *t, size_t c)
{
	size_t n = t->nsamples, best = 1;
	double *x = fft_alloc_real(n), *pow = calloc(n / 2 + 1, sizeof(double));
	fftw_complex *X = fft_alloc_complex(n / 2 + 1);

	for (size_t k = 0; k < t->ntrials; k++) {
		for (size_t i = 0; i < n; i++)
			x[i] = t->data[(k * n + i) * t->nchan + c];
		fft_r2c(n, x, X);
		for (size_t f = 0; f <= n / 2; f++)
			pow[f] += creal(X[f]) * creal(X[f]) + cimag(X[f]) * cimag(X[f]);
	}
	for (size_t f = 1; f <= n / 2; f++)
		if (pow[f] > pow[best])
			best = f;
	fft_free(x);
	fft_free(X);
	free(pow);
	return (double)best * t->samplerate / (double)n;
}

Test(synth_trials, harmonic_peak_and_amplitude)
{
	struct synth_trials *t;

	cr_assert_eq(synth_trials_generate(
			 &t,
			 &(struct synth_trials_gen){
			     .kind = SYNTH_TRIALS_HARMONIC, .freq = 37, .amplitude = 3, .sigma = 1},
			 &shape, NULL),
		     0);
	for (size_t c = 0; c < shape.nchan; c++)
		cr_assert_float_eq(peak_freq(t, c), 37, 1e-9);
	synth_trials_free(t);
	cr_assert_eq(synth_trials_generate(&t,
					   &(struct synth_trials_gen){.kind = SYNTH_TRIALS_HARMONIC,
								      .freq = 37,
								      .amplitude = 3},
					   &shape, NULL),
		     0);
	cr_assert_float_eq(t->data[0], 3, 1e-12);
	cr_assert_float_eq(t->data[10 * shape.nchan], 3 * cos(2 * M_PI * 37 * 10 / 1000.0), 1e-12);
	synth_trials_free(t);
	fft_plan_cache_clear();
}

Test(synth_trials, phase_diffusion)
{
	struct synth_trials *t, *h;

	/* eps = 0 is the plain harmonic. */
	cr_assert_eq(
	    synth_trials_generate(
		&t, &(struct synth_trials_gen){.kind = SYNTH_TRIALS_PHASE_DIFFUSION, .freq = 40},
		&shape, NULL),
	    0);
	cr_assert_eq(synth_trials_generate(&h,
					   &(struct synth_trials_gen){.kind = SYNTH_TRIALS_HARMONIC,
								      .freq = 40,
								      .amplitude = 1},
					   &shape, NULL),
		     0);
	for (size_t i = 0; i < shape.ntrials * shape.nsamples * shape.nchan; i++)
		cr_assert_float_eq(t->data[i], h->data[i], 1e-12);
	synth_trials_free(t);
	synth_trials_free(h);

	/* Diffusing phase: bounded, still peaked at freq, trials decorrelate. */
	cr_assert_eq(
	    synth_trials_generate(
		&t,
		&(struct synth_trials_gen){
		    .kind = SYNTH_TRIALS_PHASE_DIFFUSION, .freq = 40, .eps = 0.01, .rand_ini = 1},
		&shape, NULL),
	    0);
	for (size_t i = 0; i < shape.ntrials * shape.nsamples * shape.nchan; i++)
		cr_assert(fabs(t->data[i]) <= 1);
	cr_assert_float_eq(peak_freq(t, 0), 40, 2);
	synth_trials_free(t);
	cr_assert_eq(
	    synth_trials_generate(&t,
				  &(struct synth_trials_gen){
				      .kind = SYNTH_TRIALS_PHASE_DIFFUSION, .freq = 40, .eps = -1},
				  &shape, NULL),
	    -EINVAL);
	fft_plan_cache_clear();
}

Test(synth_trials, ar2_network_peak_and_coupling)
{
	struct synth_trials_shape s = {50, 1000, 2, 200, 3};
	double adj[4] = {0, 0.25, 0, 0}; /* channel 0 drives channel 1 */
	struct synth_trials *t;
	double fwd = 0, bwd = 0;
	char *cause = NULL;

	cr_assert_eq(
	    synth_trials_generate(
		&t,
		&(struct synth_trials_gen){
		    .kind = SYNTH_TRIALS_AR2_NETWORK, .adj = adj, .alpha1 = 0.55, .alpha2 = -0.8},
		&s, NULL),
	    0);
	cr_assert_float_eq(peak_freq(t, 0), 40, 1.5);
	/* Lagged cross products: x0[n−1]·x1[n] carries the coupling, x1[n−1]·x0[n] does not. */
	for (size_t n = 1; n < s.ntrials * s.nsamples; n++) {
		fwd += t->data[(n - 1) * 2] * t->data[n * 2 + 1];
		bwd += t->data[(n - 1) * 2 + 1] * t->data[n * 2];
	}
	cr_assert_gt(fwd, bwd + 0.1 * fabs(bwd) + 1000);
	synth_trials_free(t);
	s.nchan = 3;
	cr_assert_eq(synth_trials_generate(&t, &test_ar2, &s, &cause), -EINVAL);
	cr_assert_not_null(strstr(cause, "2 channels"));
	free(cause);
	fft_plan_cache_clear();
}

Test(synth_trials, written_as_spy_reads_back)
{
	char dir[64], *container, *cause = NULL;
	struct synth_trials *t;
	struct io_spy_read *r;

	test_tmpdir_make(dir, sizeof dir, "synth-trials");
	cr_assert(asprintf(&container, "%s/noise", dir) > 0);
	cr_assert_eq(synth_trials_generate(&t, &test_white, &shape, NULL), 0);
	cr_assert_eq(synth_trials_write_spy(t, container, IO_SPY_FLOAT32, "white_noise", &cause), 0,
		     "%s", cause);
	free(container);
	cr_assert(asprintf(&container, "%s/noise.spy", dir) > 0);
	cr_assert_eq(io_spy_read_open(&r, container, 0, &cause), 0, "%s", cause);
	const struct io_spy_read_info *info = io_spy_read_info(r);
	cr_assert_eq(info->dtype, IO_SPY_FLOAT32);
	cr_assert_eq(info->ntrials, shape.ntrials);
	cr_assert_eq(info->nsamples, shape.ntrials * shape.nsamples);
	double *buf = malloc(shape.nsamples * sizeof(double));
	cr_assert_eq(io_spy_read_trials(r, 3, 1, 2, 1, buf, &cause), 0, "%s", cause);
	for (size_t i = 0; i < shape.nsamples; i++)
		cr_assert_eq(buf[i], (double)(float)t->data[(3 * shape.nsamples + i) * 3 + 2]);
	free(buf);
	io_spy_read_close(r);
	synth_trials_free(t);
	test_tmpdir_remove(dir);
	free(container);
}

Test(synth_trials, block_equals_slice_of_whole_set)
{
	struct synth_trials_shape sh = {7, 50, 3, 100, 9};
	struct synth_trials_gen g;
	struct synth_trials *all;
	double *blk = calloc(3 * 50 * 3, sizeof *blk);

	for (int kind = 0; kind <= SYNTH_TRIALS_AR2_NETWORK; kind++) {
		struct synth_trials_shape s = sh;
		synth_trials_gen_init(&g, (enum synth_trials_kind)kind);
		if (kind == SYNTH_TRIALS_AR2_NETWORK)
			s.nchan = 2;
		cr_assert_eq(synth_trials_generate(&all, &g, &s, NULL), 0, "kind %d", kind);
		cr_assert_eq(synth_trials_gen_block(&g, &s, 2, 3, blk, NULL), 0);
		cr_assert_eq(memcmp(blk, all->data + 2 * s.nsamples * s.nchan,
				    3 * s.nsamples * s.nchan * sizeof *blk),
			     0, "kind %d: trials 2..4 differ from the whole set", kind);
		cr_assert_neq(synth_trials_gen_block(&g, &s, 5, 3, blk, NULL), 0,
			      "a block past the last trial is refused");
		synth_trials_free(all);
	}
	free(blk);
}

Test(synth_trials, adjacency_text)
{
	double *adj;
	size_t n;
	char *cause = NULL;

	cr_assert_eq(synth_trials_adjacency_parse("0,0.3,0;0,0,0.25; 0, 0 ,0", &adj, &n, &cause), 0,
		     "%s", cause);
	cr_assert_eq(n, 3);
	cr_assert(adj[1] == 0.3 && adj[5] == 0.25 && adj[0] == 0 && adj[8] == 0);
	free(adj);
	cr_assert_eq(synth_trials_adjacency_parse("0,1;0", &adj, &n, &cause), -EINVAL);
	cr_assert_not_null(strstr(cause, "square"), "%s", cause);
	free(cause);
	cause = NULL;
	cr_assert_eq(synth_trials_adjacency_parse("0,x;0,0", &adj, &n, &cause), -EINVAL);
	cr_assert_not_null(strstr(cause, "row 0 entry 1"), "%s", cause);
	free(cause);
	cause = NULL;
	cr_assert_eq(synth_trials_adjacency_parse("", &adj, &n, &cause), -EINVAL);
	free(cause);
}
