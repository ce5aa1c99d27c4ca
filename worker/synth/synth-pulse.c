/* The cardiac model of the synthetic recordings: a beat schedule with respiratory and random RR
 * variability, an in-scanner ECG lead built from Gaussian waves per beat, and a pulse artifact per
 * scalp channel made of two damped multi-lobe waveforms mixed per channel (the mix drifting
 * slowly, as the head settles), with per-beat amplitude, lobe weights, time scale and delay
 * drawn around their means. */
#include "worker/synth/synth-pulse.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/xmalloc.h"
#include "worker/synth/synth-trials.h"

#define SYNTH_PULSE_LOBES 4
#define SYNTH_PULSE_REACH 1.0 /* s after an R peak beyond which its artifact is zero */

/* Mean lobe delays after the R peak (s), widths (s) and weights of the two waveforms: a damped
 * oscillation of about 5 Hz starting 0.2 s after the R peak (Allen et al. 1998 report a
 * 0.21 s delay), and a second one with other lobe ratios, so channels differ in shape. */
static const double synth_pulse_delay[SYNTH_PULSE_LOBES] = {0.20, 0.29, 0.38, 0.50};
static const double synth_pulse_width[SYNTH_PULSE_LOBES] = {0.025, 0.035, 0.045, 0.070};
static const double synth_pulse_wave[2][SYNTH_PULSE_LOBES] = {{1.0, -0.9, 0.6, -0.3},
							      {0.5, 0.8, -0.8, 0.3}};

struct synth_pulse_beat {
	double r;                       /* R peak, s */
	double rr;                      /* interval to the next beat, s */
	double amp;                     /* artifact amplitude factor */
	double scale;                   /* artifact time scale */
	double shift;                   /* artifact delay change, s */
	double lobe[SYNTH_PULSE_LOBES]; /* lobe weight factors (shared by every channel) */
	double ecg;                     /* ECG amplitude factor */
};

struct synth_pulse {
	struct synth_pulse_params p;
	double rate;
	size_t n_samples, n_channels, n_beats, n_peaks;
	struct synth_pulse_beat *beat;
	int64_t *peaks;
	double *mix;                 /* per channel: gain, θ (the mix of the two waveforms) */
	double drift_s, drift_phase; /* slow change of every channel's mix (head position) */
	double polarity, t_amp, mhd_amp, wander_hz, wander_phase;
};

void
synth_pulse_params_init(struct synth_pulse_params *p)
{
	memset(p, 0, sizeof *p);
	p->heart_rate = 66;
	p->hrv = 0.04;
	p->bcg_uv = 100;
	p->ecg_uv = 800;
	p->variability = 1;
	p->seed = 1;
}

static int
synth_pulse_check(const struct synth_pulse_params *p, double rate, size_t n_samples, char **cause)
{
	if (!(p->heart_rate >= 30 && p->heart_rate <= 180))
		return error_set(cause, -EINVAL, "synth-pulse: heart rate %g bpm (30 to 180)",
				 p->heart_rate);
	if (!(p->hrv >= 0 && p->hrv <= 0.2 && p->variability >= 0 && p->variability <= 5))
		return error_set(cause, -EINVAL,
				 "synth-pulse: hrv must be in [0, 0.2] and variability in [0, 5]");
	if (!(p->bcg_uv >= 0 && p->bcg_uv <= 1e5 && p->ecg_uv >= 0 && p->ecg_uv <= 1e5))
		return error_set(cause, -EINVAL, "synth-pulse: amplitudes must be in [0, 1e5] µV");
	if (!(rate >= 100 && n_samples > 0))
		return error_set(cause, -EINVAL, "synth-pulse: rate %g Hz, %zu samples", rate,
				 n_samples);
	return 0;
}

/* The beat schedule: RR_k = RR0 (1 + a sin(2π t_k / T_resp + φ) + hrv w_k), w an AR(1) series
 * of unit variance (coefficient 0.5), clipped to [0.6, 1.6] RR0; the artifact's amplitude follows
 * the breathing too (±12 %), and every beat draws its own amplitude, lobe weights, time scale and
 * delay. The first beat falls in the first RR0 after the start. */
static void
synth_pulse_schedule(struct synth_pulse *s)
{
	const struct synth_pulse_params *p = &s->p;
	const double rr0 = 60.0 / p->heart_rate, end = (double)s->n_samples / s->rate;
	const double v = p->variability;
	struct synth_trials_rng r;
	double t, w = 0, t_resp, ph_rr, ph_amp;
	size_t cap = (size_t)(end / (0.6 * rr0)) + 4;

	synth_trials_rng_init(&r, p->seed, 0xbea7);
	t_resp = 3.5 + 1.5 * synth_trials_rng_uniform(&r);
	ph_rr = 2 * M_PI * synth_trials_rng_uniform(&r);
	ph_amp = 2 * M_PI * synth_trials_rng_uniform(&r);
	s->beat = xcalloc(cap, sizeof *s->beat);
	t = -SYNTH_PULSE_REACH + rr0 * synth_trials_rng_uniform(&r);
	while (t < end && s->n_beats < cap) {
		struct synth_pulse_beat *b = &s->beat[s->n_beats++];
		double f;

		w = 0.5 * w + sqrt(0.75) * synth_trials_rng_normal(&r);
		f = 1 + 0.03 * sin(2 * M_PI * t / t_resp + ph_rr) + p->hrv * w;
		f = f < 0.6 ? 0.6 : f > 1.6 ? 1.6 : f;
		b->r = t;
		b->rr = rr0 * f;
		b->amp = (1 + 0.12 * v * sin(2 * M_PI * t / t_resp + ph_amp)) *
			 (1 + 0.06 * v * synth_trials_rng_normal(&r));
		b->scale = 1 + 0.03 * v * synth_trials_rng_normal(&r);
		b->shift = 0.004 * v * synth_trials_rng_normal(&r);
		for (int j = 0; j < SYNTH_PULSE_LOBES; j++)
			b->lobe[j] = 1 + 0.15 * v * synth_trials_rng_normal(&r);
		b->ecg = 1 + 0.05 * sin(2 * M_PI * t / t_resp + ph_amp) +
			 0.02 * synth_trials_rng_normal(&r);
		t += b->rr;
	}
}

static void
synth_pulse_channels(struct synth_pulse *s)
{
	struct synth_trials_rng r;

	synth_trials_rng_init(&r, s->p.seed, 0xc4a7);
	s->mix = xcalloc(2 * (s->n_channels > 0 ? s->n_channels : 1), sizeof *s->mix);
	for (size_t c = 0; c < s->n_channels; c++) {
		double g = 0.3 + 0.7 * synth_trials_rng_uniform(&r);
		double th = 2 * M_PI * synth_trials_rng_uniform(&r);

		s->mix[2 * c] = g;
		s->mix[2 * c + 1] = th;
	}
	s->drift_s = 60 + 60 * synth_trials_rng_uniform(&r);
	s->drift_phase = 2 * M_PI * synth_trials_rng_uniform(&r);
	/* The ECG lead: QRS polarity (electrodes on the back often see it inverted), T wave and
	 * the magnetohydrodynamic bump that the static field adds after the QRS. */
	s->polarity = synth_trials_rng_uniform(&r) < 0.5 ? -1 : 1;
	s->t_amp = 0.2 + 0.3 * synth_trials_rng_uniform(&r);
	s->mhd_amp = 0.1 + 0.4 * synth_trials_rng_uniform(&r);
	s->wander_hz = 0.15 + 0.2 * synth_trials_rng_uniform(&r);
	s->wander_phase = 2 * M_PI * synth_trials_rng_uniform(&r);
}

int
synth_pulse_new(const struct synth_pulse_params *p, double rate, size_t n_samples,
		size_t n_channels, struct synth_pulse **out, char **cause)
{
	struct synth_pulse *s;
	int rc;

	*out = NULL;
	if ((rc = synth_pulse_check(p, rate, n_samples, cause)) != 0)
		return rc;
	s = xcalloc(1, sizeof *s);
	s->p = *p;
	s->rate = rate;
	s->n_samples = n_samples;
	s->n_channels = n_channels;
	synth_pulse_schedule(s);
	synth_pulse_channels(s);
	s->peaks = xcalloc(s->n_beats + 1, sizeof *s->peaks);
	for (size_t k = 0; k < s->n_beats; k++) {
		int64_t i = (int64_t)llround(s->beat[k].r * rate);

		if (i >= 0 && i < (int64_t)n_samples)
			s->peaks[s->n_peaks++] = i;
	}
	*out = s;
	return 0;
}

void
synth_pulse_free(struct synth_pulse *s)
{
	if (s == NULL)
		return;
	free(s->beat);
	free(s->peaks);
	free(s->mix);
	free(s);
}

const int64_t *
synth_pulse_rpeaks(const struct synth_pulse *s, size_t *n)
{
	*n = s->n_peaks;
	return s->peaks;
}

/* Index of the first beat whose R peak is at or after t. */
static size_t
synth_pulse_find(const struct synth_pulse *s, double t)
{
	size_t lo = 0, hi = s->n_beats;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->beat[mid].r < t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static double
synth_pulse_gauss(double t, double centre, double width)
{
	double z = (t - centre) / width;

	return fabs(z) > 6 ? 0 : exp(-0.5 * z * z);
}

/* One beat's artifact on a channel with waveform mix (m0, m1), tau seconds after its R peak. */
static double
synth_pulse_beat_artifact(const struct synth_pulse_beat *b, double m0, double m1, double tau)
{
	double v = 0;

	for (int j = 0; j < SYNTH_PULSE_LOBES; j++) {
		double g = synth_pulse_gauss(tau, synth_pulse_delay[j] * b->scale + b->shift,
					     synth_pulse_width[j] * b->scale);

		v += b->lobe[j] * g * (m0 * synth_pulse_wave[0][j] + m1 * synth_pulse_wave[1][j]);
	}
	return b->amp * v;
}

void
synth_pulse_add_artifact(const struct synth_pulse *s, size_t channel, size_t start, size_t n,
			 double *out)
{
	if (channel >= s->n_channels)
		return;
	for (size_t i = 0; i < n; i++) {
		double t = (double)(start + i) / s->rate, v = 0;
		double th =
		    s->mix[2 * channel + 1] +
		    0.3 * s->p.variability * sin(2 * M_PI * t / s->drift_s + s->drift_phase);
		double m0 = s->mix[2 * channel] * cos(th), m1 = s->mix[2 * channel] * sin(th);

		for (size_t k = synth_pulse_find(s, t - SYNTH_PULSE_REACH);
		     k < s->n_beats && s->beat[k].r <= t; k++)
			v += synth_pulse_beat_artifact(&s->beat[k], m0, m1, t - s->beat[k].r);
		out[i] += 1e-6 * s->p.bcg_uv * v;
	}
}

/* A standard normal deviate that depends only on (seed, i): SplitMix64 of the index, then
 * Box-Muller on two 53-bit uniforms. */
static double
synth_pulse_noise(uint64_t seed, size_t i)
{
	struct synth_trials_rng r;

	synth_trials_rng_init(&r, seed ^ 0xec9ULL, (uint64_t)i);
	return sqrt(-2 * log(1 - synth_trials_rng_uniform(&r))) *
	       cos(2 * M_PI * synth_trials_rng_uniform(&r));
}

/* The ECG lead of one beat tau seconds after its R peak, in units of the R amplitude: P, Q, R, S
 * and T waves (QT following Bazett's sqrt(RR) law) and the field's bump over the ST segment. */
static double
synth_pulse_beat_ecg(const struct synth_pulse *s, const struct synth_pulse_beat *b, double tau)
{
	double qt = 0.26 * sqrt(b->rr);
	double v = 0.10 * synth_pulse_gauss(tau, -0.16, 0.025) -
		   0.15 * synth_pulse_gauss(tau, -0.025, 0.008) + synth_pulse_gauss(tau, 0, 0.009) -
		   0.25 * synth_pulse_gauss(tau, 0.030, 0.009);

	v += s->t_amp * synth_pulse_gauss(tau, qt, 0.05);
	v += s->mhd_amp * synth_pulse_gauss(tau, 0.15, 0.06);
	return b->ecg * v;
}

void
synth_pulse_ecg(const struct synth_pulse *s, size_t start, size_t n, double *out)
{
	for (size_t i = 0; i < n; i++) {
		double t = (double)(start + i) / s->rate, v = 0;

		for (size_t k = synth_pulse_find(s, t - SYNTH_PULSE_REACH);
		     k < s->n_beats && s->beat[k].r <= t + 0.5; k++)
			v += synth_pulse_beat_ecg(s, &s->beat[k], t - s->beat[k].r);
		v = s->polarity * s->p.ecg_uv * v +
		    50 * sin(2 * M_PI * s->wander_hz * t + s->wander_phase) +
		    5 * synth_pulse_noise(s->p.seed, start + i);
		out[i] = 1e-6 * v;
	}
}
