/* A seeded cardiac model for synthetic EEG-fMRI recordings: heart beats with beat-to-beat RR
 * variability (respiratory sinus arrhythmia and a random component), the ECG lead as it looks in
 * the scanner (QRS, T wave, the magnetohydrodynamic bump after the QRS, random polarity), and the
 * pulse (ballistocardiogram) artifact on each scalp channel, locked to the beats, whose
 * amplitude, shape and delay vary from beat to beat. The R-peak samples are the ground truth. */
#ifndef ND_SYNTH_PULSE_H
#define ND_SYNTH_PULSE_H

#include <stddef.h>
#include <stdint.h>

struct synth_pulse_params {
	double heart_rate; /* mean rate, beats per minute */
	double hrv;        /* random beat-to-beat RR deviation, fraction of the mean RR */
	double bcg_uv;     /* peak pulse-artifact amplitude on the scalp, µV */
	double ecg_uv;     /* R-wave amplitude of the ECG lead, µV */
	double
	    variability; /* scale of the beat-to-beat amplitude/shape/delay changes (1: default) */
	uint64_t seed;
};

/* Defaults: 66 bpm, hrv 0.04, 100 µV pulse artifact, 800 µV R wave, variability 1, seed 1. */
void synth_pulse_params_init(struct synth_pulse_params *p);

struct synth_pulse;

/* Beats covering n_samples at `rate` for n_channels scalp channels (each with its own mix of the
 * artifact's waveforms). The parameters are copied. On success *out is owned by the caller. */
int synth_pulse_new(const struct synth_pulse_params *p, double rate, size_t n_samples,
		    size_t n_channels, struct synth_pulse **out, char **cause);
/* Accepts NULL. */
void synth_pulse_free(struct synth_pulse *s);

/* R-peak samples (sorted, within the recording), owned by the model. */
const int64_t *synth_pulse_rpeaks(const struct synth_pulse *s, size_t *n);

/* Add the pulse artifact of scalp channel `channel` over samples [start, start + n) to out, in
 * volts. Channels past n_channels add nothing. */
void synth_pulse_add_artifact(const struct synth_pulse *s, size_t channel, size_t start, size_t n,
			      double *out);
/* Write the clean ECG lead (with its baseline wander and noise) over [start, start + n) into
 * out, in volts. The noise is a function of the sample index, so any piece reads the same. */
void synth_pulse_ecg(const struct synth_pulse *s, size_t start, size_t n, double *out);

#endif
