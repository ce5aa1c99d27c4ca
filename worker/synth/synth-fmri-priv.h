/* What the two halves of the EEG-fMRI generator share: its state (channels, slice schedule,
 * head-movement events) and the gradient model's entry points (synth-fmri-gradient.c); the
 * seeded random streams are synth-fmri-rng.h. Not part of the generator's interface. */
#ifndef ND_SYNTH_FMRI_PRIV_H
#define ND_SYNTH_FMRI_PRIV_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "worker/synth/synth-fmri-rng.h"
#include "worker/synth/synth-fmri.h"

enum synth_fmri_kind { SYNTH_FMRI_EEG, SYNTH_FMRI_EMG, SYNTH_FMRI_ECG };

struct synth_fmri_chan {
	enum synth_fmri_kind kind;
	char label[17];
	/* Clean-signal shape, fixed per channel. */
	double noise_uv, alpha_uv, alpha_hz, alpha_mod_s, alpha_phase, mod_phase;
	/* Artifact mixing of the three gradient waveforms and its slow amplitude drift. */
	double mix[3], drift_s, drift_phase;
	/* Change of the mixing at each head movement (3 per event), or NULL. */
	double *motion_mix;
	/* Background EEG taken from a file (n_samples volts), or NULL: generated. */
	double *background;
	/* Sequential clean-signal state. */
	struct synth_fmri_rng rng;
	double b0, b1, b2;
	size_t cursor;
};

struct synth_fmri {
	struct synth_fmri_params p;
	size_t n_samples, n_channels, n_triggers, art_len;
	unsigned volumes;
	struct synth_fmri_chan *ch;
	size_t *triggers;
	double *onset; /* true artifact onset of each slice, seconds (jittered) */
	double *amp;   /* per-slice amplitude factor */
	/* Head movements: time (s) each starts, and the realignment parameters of each volume
	 * (6 per volume: x, y, z in mm, pitch, roll, yaw in radians). */
	double *motion_t;
	double *rp;
	/* The three waveforms through the amplifier's low-pass (the induced model: their
	 * derivatives, normalised to peak 1), tabulated from time table_t0 after a slice onset
	 * every table_dt seconds (table_n points each, 3 interleaved). */
	double *table, table_t0, table_dt;
	size_t table_n;
};

/* The slice schedule (triggers, jittered onsets, per-slice amplitudes), the head movements and
 * the realignment parameters. Returns 0 or -EINVAL. */
int synth_fmri_gradient_schedule(struct synth_fmri *s, char **cause);
/* Channel c's share of the head movements (its mixing changes); after its mixing is drawn. */
void synth_fmri_gradient_chan_init(struct synth_fmri *s, size_t c);
/* The three gradient waveforms at tau seconds after a slice onset. */
void synth_fmri_gradient_waveforms(const struct synth_fmri_params *p, double tau, double g[3]);
/* A channel's drift gain and mixing of the three waveforms at time t (s). */
void synth_fmri_gradient_mixing(const struct synth_fmri *s, const struct synth_fmri_chan *ch,
				double t, double *gain, double m[3]);
/* The number of slices whose true onset is at or before t. */
size_t synth_fmri_gradient_slice_at(const struct synth_fmri *s, double t);

/* The amplifier (synth-fmri-amp.c): build the table of the waveforms as recorded (their
 * derivatives when `derivative`: the induced model), and the artifact at time t read from it. */
void synth_fmri_table_init(struct synth_fmri *s, int derivative);
double synth_fmri_table_at(const struct synth_fmri *s, const struct synth_fmri_chan *ch,
			   double t, double scale);

#endif
