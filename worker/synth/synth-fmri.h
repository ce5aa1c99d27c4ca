/* A seeded synthetic EEG-fMRI recording with its ground truth: clean EEG (pink-ish noise and an
 * alpha rhythm, or the channels of a real recording), EMG and ECG, plus an MR gradient artifact
 * repeated at every slice, with slice triggers annotated "1", and the realignment parameters of
 * its head movements. The same parameters and seed always give the same samples. */
#ifndef ND_SYNTH_FMRI_H
#define ND_SYNTH_FMRI_H

#include <stddef.h>
#include <stdint.h>

struct synth_fmri_params {
	unsigned n_eeg;           /* EEG channels (10-20 labels like the shipped data) */
	int emg_ecg;              /* nonzero: add an EMG and an ECG channel after the EEG */
	double rate;              /* Hz */
	double duration;          /* seconds */
	unsigned slices;          /* slices per volume */
	unsigned volumes;         /* 0: as many as fit between lead_in and lead_out */
	double slice_interval;    /* seconds between slice onsets inside a volume */
	double volume_gap;        /* extra seconds between the last slice and the next volume */
	double lead_in, lead_out; /* seconds of artifact-free EEG before and after the scan */
	double artifact_uv;       /* peak gradient-artifact amplitude, µV */
	double jitter;            /* standard deviation of the slice onset jitter, in samples */
	uint64_t seed;
	/* Uneven slice spacing: each slice starts up to ± this many samples (uniform) from its
	 * nominal time, and its trigger with it. */
	double spacing_jitter;
	/* EPI slice: share of the slice interval the gradients occupy (slice-select lobe, spike
	 * and readout scale with it), readout train frequency (Hz) and its shape, the readout
	 * being tanh(sharpness·sin): 6 trapezoid-like, below 1 near-sinusoidal, above 20 square. */
	double epi_active, epi_hz, epi_sharpness;
	/* Relative amplitude of each channel's slow artifact drift (period 20-60 s), and the
	 * standard deviation of the random amplitude of each slice (0.01). */
	double drift, slice_amp_sd;
	/* What the electrodes pick up: the gradient waveforms themselves (a strong in-band
	 * artifact), or the voltage they induce, their time derivative (Faraday; mostly above
	 * 100 Hz, as in recordings). Both are recorded through the amplifier's anti-aliasing
	 * low-pass (a windowed sinc at rate/4 over ±8 samples, as a recording amplifier's analog
	 * filter before its converter: 250 Hz at 1 kHz), so the artifact starts up to 8 samples
	 * before its slice onset and nothing folds back past rate/2. Both peak near artifact_uv. */
	enum synth_fmri_model { SYNTH_FMRI_GRADIENT = 0, SYNTH_FMRI_INDUCED = 1 } model;
	/* Head movements: abrupt changes (over 0.5 s) of how each channel picks up the three
	 * gradient waveforms, at seeded times inside the scan, each changing the mixing by about
	 * motion_size relative; the realignment parameters show them as steps. */
	unsigned motion;
	double motion_size;
	/* Background EEG: amplitude factor of the generated EEG, or an EDF whose first n_eeg
	 * channels (resampled to `rate`, from its start) are the clean EEG; values without a
	 * voltage dimension are taken as µV. NULL: generated. */
	double eeg_scale;
	const char *background;
};

/* Defaults: 8 EEG + EMG + ECG, 2048 Hz, 30 s, 21 slices, 292.5-sample slice spacing (spacing
 * 292/293 inside a volume and 302/303 across volumes, as in the shipped data), 2 mV artifact,
 * even spacing, gradients over 0.85 of the slice with a 180 Hz readout, drift 0.1, no head
 * movement, generated EEG. */
void synth_fmri_params_init(struct synth_fmri_params *p);

struct synth_fmri;

enum synth_fmri_part {
	SYNTH_FMRI_CLEAN = 0,     /* the ground-truth EEG */
	SYNTH_FMRI_ARTIFACT = 1,  /* the gradient artifact alone */
	SYNTH_FMRI_RECORDING = 2, /* clean + artifact */
};

/* Build a generator. The parameters are copied. On success *out is owned by the caller. */
int synth_fmri_new(const struct synth_fmri_params *p, struct synth_fmri **out, char **cause);
/* Accepts NULL. */
void synth_fmri_free(struct synth_fmri *s);

size_t synth_fmri_n_channels(const struct synth_fmri *s);
const char *synth_fmri_label(const struct synth_fmri *s, size_t channel);
size_t synth_fmri_n_samples(const struct synth_fmri *s);
/* Trigger samples (slice onsets, sorted), owned by the generator. */
const size_t *synth_fmri_triggers(const struct synth_fmri *s, size_t *n);
/* Artifact length in samples (ceil of the nominal slice spacing), slices per volume, volumes. */
size_t synth_fmri_artifact_length(const struct synth_fmri *s);
unsigned synth_fmri_slices(const struct synth_fmri *s);
unsigned synth_fmri_volumes(const struct synth_fmri *s);

/* Fill out[0..n) with samples [start, start + n) of one channel, in volts. Sequential reads of a
 * channel are cheapest; reading backwards regenerates from the start. Returns 0 or -EINVAL. */
int synth_fmri_read(struct synth_fmri *s, enum synth_fmri_part part, size_t channel, size_t start,
		    size_t n, double *out, char **cause);

/* Realignment parameters, 6 per volume (x, y, z in mm, pitch, roll, yaw in radians, as SPM
 * writes them), owned by the generator. */
const double *synth_fmri_realignment(const struct synth_fmri *s, size_t *nvolumes);
/* Head movements: their start times in seconds, owned by the generator. */
const double *synth_fmri_motion_times(const struct synth_fmri *s, size_t *n);

/* Write recording.edf (clean + artifact, with the triggers) and clean.edf (ground truth, same
 * triggers) as EDF+. Either path may be NULL to skip that file. */
int synth_fmri_write(const struct synth_fmri_params *p, const char *recording_path,
		     const char *clean_path, char **cause);
/* The same, and the realignment parameters as an SPM rp_*.txt file (one line per volume, six
 * columns) when rp_path is not NULL. */
int synth_fmri_write_all(const struct synth_fmri_params *p, const char *recording_path,
			 const char *clean_path, const char *rp_path, char **cause);

#endif
