/* Synthetic trial data: the xoshiro256** generator with per-trial streams, four generators
 * modelled on the reference's synthdata (white noise, harmonic, phase diffusion, AR(2) network),
 * and writing their output as AnalogData .spy containers. */
#include "worker/synth/synth-trials.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/names.h"
#include "common/splitmix.h"
#include "common/xmalloc.h"
#include "worker/io/io-spy-writer.h"

static uint64_t
synth_trials_rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

void
synth_trials_rng_init(struct synth_trials_rng *rng, uint64_t seed, uint64_t stream)
{
	uint64_t x = seed;

	/* Mix the stream index through SplitMix64 so that nearby (seed, stream) pairs differ in
	 * every bit, then expand to the 256-bit state (never all zero: SplitMix64 is a bijection
	 * of a counter, four consecutive outputs are not all zero). */
	x = splitmix64(&x) ^ stream;
	x = splitmix64(&x);
	for (int i = 0; i < 4; i++)
		rng->s[i] = splitmix64(&x);
	rng->has_spare = 0;
	rng->spare = 0;
}

uint64_t
synth_trials_rng_next(struct synth_trials_rng *rng)
{
	uint64_t *s = rng->s;
	uint64_t result = synth_trials_rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = synth_trials_rotl(s[3], 45);
	return result;
}

double
synth_trials_rng_uniform(struct synth_trials_rng *rng)
{
	return (double)(synth_trials_rng_next(rng) >> 11) * 0x1.0p-53;
}

double
synth_trials_rng_normal(struct synth_trials_rng *rng)
{
	double u, v, s, f;

	if (rng->has_spare) {
		rng->has_spare = 0;
		return rng->spare;
	}
	do {
		u = 2 * synth_trials_rng_uniform(rng) - 1;
		v = 2 * synth_trials_rng_uniform(rng) - 1;
		s = u * u + v * v;
	} while (s >= 1 || s == 0);
	f = sqrt(-2 * log(s) / s);
	rng->spare = v * f;
	rng->has_spare = 1;
	return u * f;
}

/* Fill one trial, nsamples × nchan row-major, from its own stream. */
typedef void (*synth_trials_kernel_cb)(const struct synth_trials_shape *shape, const void *arg,
				       struct synth_trials_rng *rng, double *out);

static int
synth_trials_shape_check(const struct synth_trials_shape *shape, char **cause)
{
	if (shape->ntrials == 0 || shape->nsamples == 0 || shape->nchan == 0)
		return error_set(cause, -EINVAL,
				 "synthetic data needs trials, samples and channels");
	if (!(shape->samplerate > 0) || !isfinite(shape->samplerate))
		return error_set(cause, -EINVAL, "samplerate must be positive");
	if (shape->nsamples > SIZE_MAX / shape->nchan / shape->ntrials / sizeof(double))
		return error_set(cause, -EINVAL, "synthetic data too large");
	return 0;
}

/* Trials [trial0, trial0 + ntrials) into out, each from the stream of its own index. */
static void
synth_trials_fill(const struct synth_trials_shape *shape, synth_trials_kernel_cb kernel,
		  const void *arg, size_t trial0, size_t ntrials, double *out)
{
	struct synth_trials_rng rng;
	size_t stride = shape->nsamples * shape->nchan;

	for (size_t k = 0; k < ntrials; k++) {
		synth_trials_rng_init(&rng, shape->seed, trial0 + k);
		kernel(shape, arg, &rng, out + k * stride);
	}
}

static int
synth_trials_run(struct synth_trials **out, const struct synth_trials_shape *shape,
		 synth_trials_kernel_cb kernel, const void *arg, char **cause)
{
	struct synth_trials *t;
	int rc;

	*out = NULL;
	if ((rc = synth_trials_shape_check(shape, cause)) != 0)
		return rc;
	t = xcalloc(1, sizeof(*t));
	t->ntrials = shape->ntrials;
	t->nsamples = shape->nsamples;
	t->nchan = shape->nchan;
	t->samplerate = shape->samplerate;
	t->data = xcalloc(shape->ntrials * shape->nsamples * shape->nchan, sizeof(double));
	t->trl = xcalloc(shape->ntrials * 3, sizeof(double));
	for (size_t k = 0; k < shape->ntrials; k++) {
		t->trl[k * 3] = (double)(k * shape->nsamples);
		t->trl[k * 3 + 1] = (double)((k + 1) * shape->nsamples);
	}
	synth_trials_fill(shape, kernel, arg, 0, shape->ntrials, t->data);
	*out = t;
	return 0;
}

void
synth_trials_free(struct synth_trials *t)
{
	if (t == NULL)
		return;
	free(t->data);
	free(t->trl);
	free(t);
}

struct synth_trials_harmonic_arg {
	double freq;
	double amplitude;
	double sigma;
};

static void
synth_trials_harmonic_kernel(const struct synth_trials_shape *shape, const void *arg,
			     struct synth_trials_rng *rng, double *out)
{
	const struct synth_trials_harmonic_arg *a = arg;
	double w = 2 * M_PI * a->freq / shape->samplerate;

	for (size_t n = 0; n < shape->nsamples; n++) {
		double h = a->amplitude != 0 ? a->amplitude * cos(w * (double)n) : 0;

		for (size_t c = 0; c < shape->nchan; c++)
			out[n * shape->nchan + c] =
			    h + (a->sigma != 0 ? a->sigma * synth_trials_rng_normal(rng) : 0);
	}
}

struct synth_trials_diffusion_arg {
	double freq;
	double eps;
	int rand_ini;
};

static void
synth_trials_diffusion_kernel(const struct synth_trials_shape *shape, const void *arg,
			      struct synth_trials_rng *rng, double *out)
{
	const struct synth_trials_diffusion_arg *a = arg;
	size_t nchan = shape->nchan;
	double w = 2 * M_PI * a->freq / shape->samplerate;
	double step = sqrt(w * a->eps);
	double *walk = xcalloc(nchan, sizeof(double));

	for (size_t c = 0; a->rand_ini && c < nchan; c++)
		walk[c] = 2 * M_PI * synth_trials_rng_uniform(rng);
	for (size_t n = 0; n < shape->nsamples; n++)
		for (size_t c = 0; c < nchan; c++) {
			if (step != 0)
				walk[c] += step * synth_trials_rng_normal(rng);
			out[n * nchan + c] = cos(w * (double)n + walk[c]);
		}
	free(walk);
}

struct synth_trials_ar2_arg {
	const double *adj;
	double alpha1;
	double alpha2;
};

static void
synth_trials_ar2_kernel(const struct synth_trials_shape *shape, const void *arg,
			struct synth_trials_rng *rng, double *out)
{
	const struct synth_trials_ar2_arg *a = arg;
	size_t nchan = shape->nchan;

	for (size_t n = 0; n < shape->nsamples; n++)
		for (size_t j = 0; j < nchan; j++) {
			double x = synth_trials_rng_normal(rng);

			if (n >= 2) {
				const double *p1 = out + (n - 1) * nchan,
					     *p2 = out + (n - 2) * nchan;

				x += a->alpha1 * p1[j] + a->alpha2 * p2[j];
				for (size_t i = 0; i < nchan; i++)
					x += a->adj[i * nchan + j] * p1[i];
			}
			out[n * nchan + j] = x;
		}
}

/* The kernel and its argument for a generator, after checking its parameters. */
union synth_trials_arg {
	struct synth_trials_harmonic_arg harmonic;
	struct synth_trials_diffusion_arg diffusion;
	struct synth_trials_ar2_arg ar2;
};

static int
synth_trials_prepare(const struct synth_trials_gen *g, const struct synth_trials_shape *shape,
		     synth_trials_kernel_cb *kernel, union synth_trials_arg *a, char **cause)
{
	static const double adj_default[4] = {0, 0, 0.25, 0};
	int rc;

	if ((rc = synth_trials_shape_check(shape, cause)) != 0)
		return rc;
	switch (g->kind) {
	case SYNTH_TRIALS_WHITE_NOISE:
		if (!(g->sigma >= 0) || !isfinite(g->sigma))
			return error_set(cause, -EINVAL, "white noise sigma must be >= 0");
		a->harmonic = (struct synth_trials_harmonic_arg){0, 0, g->sigma};
		*kernel = synth_trials_harmonic_kernel;
		return 0;
	case SYNTH_TRIALS_HARMONIC:
		if (!(g->freq >= 0) || !isfinite(g->freq) || !isfinite(g->amplitude))
			return error_set(cause, -EINVAL,
					 "harmonic needs a finite freq >= 0 and amplitude");
		if (!(g->sigma >= 0) || !isfinite(g->sigma))
			return error_set(cause, -EINVAL, "harmonic noise sigma must be >= 0");
		a->harmonic = (struct synth_trials_harmonic_arg){g->freq, g->amplitude, g->sigma};
		*kernel = synth_trials_harmonic_kernel;
		return 0;
	case SYNTH_TRIALS_PHASE_DIFFUSION:
		if (!(g->freq >= 0) || !isfinite(g->freq) || !(g->eps >= 0) || !isfinite(g->eps))
			return error_set(cause, -EINVAL,
					 "phase diffusion needs freq >= 0 and eps >= 0");
		a->diffusion = (struct synth_trials_diffusion_arg){g->freq, g->eps, g->rand_ini};
		*kernel = synth_trials_diffusion_kernel;
		return 0;
	case SYNTH_TRIALS_AR2_NETWORK:
		if (g->adj == NULL && shape->nchan != 2)
			return error_set(cause, -EINVAL,
					 "the default AR(2) network has 2 channels, not %zu",
					 shape->nchan);
		if (!isfinite(g->alpha1) || !isfinite(g->alpha2))
			return error_set(cause, -EINVAL, "AR(2) coefficients must be finite");
		for (size_t i = 0; g->adj != NULL && i < shape->nchan * shape->nchan; i++)
			if (!isfinite(g->adj[i]))
				return error_set(cause, -EINVAL,
						 "coupling matrix entry %zu is not finite", i);
		a->ar2 = (struct synth_trials_ar2_arg){g->adj != NULL ? g->adj : adj_default,
						       g->alpha1, g->alpha2};
		*kernel = synth_trials_ar2_kernel;
		return 0;
	}
	return error_set(cause, -EINVAL, "unknown generator %d", (int)g->kind);
}

static const char *const synth_trials_kind_names[] = {
    [SYNTH_TRIALS_WHITE_NOISE] = "white_noise",
    [SYNTH_TRIALS_HARMONIC] = "harmonic",
    [SYNTH_TRIALS_PHASE_DIFFUSION] = "phase_diffusion",
    [SYNTH_TRIALS_AR2_NETWORK] = "ar2_network",
};

int
synth_trials_kind_parse(const char *name, enum synth_trials_kind *kind, char **cause)
{
	int k = names_find(name, synth_trials_kind_names, NAMES_COUNT(synth_trials_kind_names));

	if (k < 0)
		return error_set(cause, -EINVAL,
				 "unknown generator '%s' (white_noise, harmonic, phase_diffusion, "
				 "ar2_network)",
				 name != NULL ? name : "(null)");
	*kind = (enum synth_trials_kind)k;
	return 0;
}

void
synth_trials_gen_init(struct synth_trials_gen *g, enum synth_trials_kind kind)
{
	memset(g, 0, sizeof *g);
	g->kind = kind;
	g->sigma = kind == SYNTH_TRIALS_WHITE_NOISE ? 1 : 0;
	g->freq = kind == SYNTH_TRIALS_PHASE_DIFFUSION ? 10 : 50;
	g->amplitude = 1;
	g->eps = 0.1;
	g->alpha1 = 0.55;
	g->alpha2 = -0.8;
}

int
synth_trials_gen_check(const struct synth_trials_gen *g, const struct synth_trials_shape *shape,
		       char **cause)
{
	synth_trials_kernel_cb kernel;
	union synth_trials_arg a;

	return synth_trials_prepare(g, shape, &kernel, &a, cause);
}

int
synth_trials_gen_block(const struct synth_trials_gen *g, const struct synth_trials_shape *shape,
		       size_t trial0, size_t ntrials, double *out, char **cause)
{
	synth_trials_kernel_cb kernel;
	union synth_trials_arg a;
	int rc;

	if ((rc = synth_trials_prepare(g, shape, &kernel, &a, cause)) != 0)
		return rc;
	if (trial0 > shape->ntrials || ntrials > shape->ntrials - trial0)
		return error_set(cause, -EINVAL, "trials [%zu, +%zu) outside [0, %zu)", trial0,
				 ntrials, shape->ntrials);
	synth_trials_fill(shape, kernel, &a, trial0, ntrials, out);
	return 0;
}

int
synth_trials_generate(struct synth_trials **out, const struct synth_trials_gen *g,
		      const struct synth_trials_shape *shape, char **cause)
{
	synth_trials_kernel_cb kernel;
	union synth_trials_arg a;
	int rc;

	*out = NULL;
	if ((rc = synth_trials_prepare(g, shape, &kernel, &a, cause)) != 0)
		return rc;
	return synth_trials_run(out, shape, kernel, &a, cause);
}

int
synth_trials_write_spy(const struct synth_trials *t, const char *container, enum io_spy_dtype dtype,
		       const char *log, char **cause)
{
	struct io_spy_meta meta = {
	    .dataclass = IO_SPY_ANALOG,
	    .dtype = dtype,
	    .shape = {t->ntrials * t->nsamples, t->nchan},
	    .samplerate = t->samplerate,
	    .trl = t->trl,
	    .ntrials = t->ntrials,
	    .trl_cols = 3,
	    .log = log,
	};
	size_t n = t->ntrials * t->nsamples * t->nchan;
	float *f = NULL;
	char *path;
	int rc;

	if (dtype != IO_SPY_FLOAT32 && dtype != IO_SPY_FLOAT64)
		return error_set(cause, -EINVAL, "synthetic AnalogData is float32 or float64");
	rc = io_spy_container_prepare(container, IO_SPY_ANALOG, &path, cause);
	if (rc != 0)
		return rc;
	if (dtype == IO_SPY_FLOAT32) {
		f = xreallocarray(NULL, n, sizeof(float));
		for (size_t i = 0; i < n; i++)
			f[i] = (float)t->data[i];
	}
	rc = io_spy_write(path, &meta, f != NULL ? (const void *)f : (const void *)t->data, cause);
	free(f);
	free(path);
	return rc;
}

/* One row of an adjacency text: the numbers between start and end, separated by ','. */
static int
synth_trials_adjacency_row(const char *start, const char *end, size_t row, double **v,
			   size_t *count, char **cause)
{
	const char *p = start;
	size_t col = 0;

	while (p <= end) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		const char *stop = comma != NULL ? comma : end;
		char buf[64], *e;
		size_t len = (size_t)(stop - p);

		if (len == 0 || len >= sizeof buf)
			return error_set(cause, -EINVAL, "adjacency row %zu entry %zu: not a number",
					 row, col);
		memcpy(buf, p, len);
		buf[len] = '\0';
		double x = strtod(buf, &e);
		while (*e == ' ')
			e++;
		if (*e != '\0' || !isfinite(x))
			return error_set(cause, -EINVAL,
					 "adjacency row %zu entry %zu: '%s' is not a number", row,
					 col, buf);
		*v = xreallocarray(*v, *count + 1, sizeof **v);
		(*v)[(*count)++] = x;
		col++;
		p = stop + 1;
	}
	return 0;
}

int
synth_trials_adjacency_parse(const char *text, double **adj, size_t *n, char **cause)
{
	const char *p = text;
	size_t rows = 0, count = 0;
	double *v = NULL;
	int rc = 0;

	*adj = NULL;
	*n = 0;
	while (rc == 0 && *p != '\0') {
		const char *semi = strchr(p, ';'), *end = semi != NULL ? semi : p + strlen(p);
		rc = synth_trials_adjacency_row(p, end, rows, &v, &count, cause);
		rows++;
		p = semi != NULL ? semi + 1 : end;
	}
	if (rc == 0 && (rows == 0 || count != rows * rows))
		rc = error_set(cause, -EINVAL,
			       "adjacency: %zu rows of %zu numbers in all, not a square matrix", rows,
			       count);
	if (rc != 0) {
		free(v);
		return rc;
	}
	*adj = v;
	*n = rows;
	return 0;
}
