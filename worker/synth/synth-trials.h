/* Seeded synthetic AnalogData for tests, benchmarks and tutorials, after the reference
 * toolbox's synthdata generators: white noise, harmonic, phase diffusion, AR(2) network.
 *
 * Random numbers: xoshiro256** (Blackman & Vigna 2018; 2^256 − 1 period, passes BigCrush),
 * its state seeded by SplitMix64 from a hash of (seed, trial index), so each trial has its own
 * stream: trial k is the same whatever the number of trials or the task that makes it. Normal
 * deviates use Marsaglia's polar method (needs only log and sqrt). Uniform streams are
 * bit-identical on every platform; normals match wherever libm's log does (glibc everywhere). */
#ifndef ND_SYNTH_TRIALS_H
#define ND_SYNTH_TRIALS_H

#include <stddef.h>
#include <stdint.h>

#include "worker/io/io-spy.h"

struct synth_trials_rng {
	uint64_t s[4];
	double spare;
	int has_spare;
};

/* Seed the stream `stream` (a trial index) of `seed`. */
void synth_trials_rng_init(struct synth_trials_rng *rng, uint64_t seed, uint64_t stream);
/* Next raw 64-bit output of xoshiro256**. */
uint64_t synth_trials_rng_next(struct synth_trials_rng *rng);
/* Uniform on [0, 1) with 53 random bits. */
double synth_trials_rng_uniform(struct synth_trials_rng *rng);
/* Standard normal deviate. */
double synth_trials_rng_normal(struct synth_trials_rng *rng);

/* The layout every generator shares: equal-length trials, concatenated along time. */
struct synth_trials_shape {
	size_t ntrials;
	size_t nsamples; /* per trial */
	size_t nchan;
	double samplerate;
	uint64_t seed;
};

/* Generated data: `data` is (ntrials · nsamples) × nchan row-major, trial k in rows
 * [k · nsamples, (k + 1) · nsamples); `trl` is ntrials × 3 rows [start, stop, 0]. */
struct synth_trials {
	size_t ntrials;
	size_t nsamples;
	size_t nchan;
	double samplerate;
	double *data;
	double *trl;
};

/* A generator and its parameters, for generating any block of trials on its own (each trial
 * comes from its own stream, so a block equals the same trials of the whole set). */
enum synth_trials_kind {
	/* Gaussian white noise with standard deviation sigma. */
	SYNTH_TRIALS_WHITE_NOISE,
	/* amplitude · cos(2π · freq · n / samplerate) on every channel, plus white noise of
	 * standard deviation sigma (0: none). */
	SYNTH_TRIALS_HARMONIC,
	/* cos(φ[n]) with φ[n] = φ0 + 2π · freq · n / samplerate + Σ_{m ≤ n} sqrt(2π · freq /
	 * samplerate · eps) · ξ[m], ξ standard normal: a phase drifting by a random walk whose
	 * variance per sample is eps times the deterministic phase increment (eps is the relative
	 * diffusion coefficient, as in the reference's phase_diffusion). φ0 = 0, or uniform on
	 * [0, 2π) per channel and trial when rand_ini is set. */
	SYNTH_TRIALS_PHASE_DIFFUSION,
	/* A network of AR(2) processes with unit-variance Gaussian innovations:
	 * x_j[n] = alpha1 · x_j[n−1] + alpha2 · x_j[n−2] + Σ_i adj[i · nchan + j] · x_i[n−1] + ξ_j[n],
	 * so adj[i][j] is the coupling strength from channel i to channel j. x[0], x[1] are
	 * standard normal. adj NULL means the reference default: 2 channels, 0.25 from channel 1
	 * to channel 0. With alpha = (0.55, −0.8) each process peaks at 0.2 · samplerate (40 Hz
	 * at 200 Hz). Stability is not checked (large or dense couplings diverge). */
	SYNTH_TRIALS_AR2_NETWORK,
};

struct synth_trials_gen {
	enum synth_trials_kind kind;
	double sigma;      /* white noise sigma; harmonic noise sigma */
	double freq;       /* harmonic, phase diffusion (Hz) */
	double amplitude;  /* harmonic */
	double eps;        /* phase diffusion */
	int rand_ini;      /* phase diffusion */
	const double *adj; /* AR(2) coupling, nchan × nchan, or NULL (2-channel default);
			    * remains owned by the caller */
	double alpha1, alpha2;
};

/* "white_noise", "harmonic", "phase_diffusion", "ar2_network". */
int synth_trials_kind_parse(const char *name, enum synth_trials_kind *kind, char **cause);
/* Defaults: sigma 1 (white noise, else 0), freq 50 (phase diffusion 10), amplitude 1, eps 0.1,
 * rand_ini 0, adj NULL, alpha (0.55, -0.8). */
void synth_trials_gen_init(struct synth_trials_gen *g, enum synth_trials_kind kind);
/* Check the parameters against the shape. Returns 0 or -EINVAL. */
int synth_trials_gen_check(const struct synth_trials_gen *g, const struct synth_trials_shape *shape,
			   char **cause);
/* Trials [trial0, trial0 + ntrials) of the set `shape` describes into out, ntrials · nsamples
 * rows × nchan, row-major (out remains owned by the caller). Returns 0 or -EINVAL. */
int synth_trials_gen_block(const struct synth_trials_gen *g, const struct synth_trials_shape *shape,
			   size_t trial0, size_t ntrials, double *out, char **cause);
/* The whole set: sets *out to new data (the caller frees it with synth_trials_free) or fails
 * with -EINVAL for a bad parameter. */
int synth_trials_generate(struct synth_trials **out, const struct synth_trials_gen *g,
			  const struct synth_trials_shape *shape, char **cause);

/* A coupling matrix written as rows separated by ';' and entries by ',' ("0,0.3;0,0"): entry
 * (i, j) is the coupling from channel i to channel j, the reference's AdjMat. On success *adj
 * (caller frees) holds n × n values. Returns 0 or -EINVAL naming the row and entry. */
int synth_trials_adjacency_parse(const char *text, double **adj, size_t *n, char **cause);

void synth_trials_free(struct synth_trials *t);

/* Write t as an AnalogData container `container` (".spy" added if missing), dtype float32 or
 * float64, with channel labels channel1…; log names the generator. */
int synth_trials_write_spy(const struct synth_trials *t, const char *container,
			   enum io_spy_dtype dtype, const char *log, char **cause);

#endif
