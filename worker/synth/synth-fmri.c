/* The synthetic EEG-fMRI generator: its parameters, the clean EEG (generated, or a real
 * recording's channels resampled), EMG and ECG, reading a channel, and the writing of
 * recording.edf, clean.edf and the realignment parameters. The gradient artifact's model is
 * synth-fmri-gradient.c, the seeded random streams synth-fmri-rng.c. */
#include "worker/synth/synth-fmri.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/xmalloc.h"
#include "worker/dsp/core/dsp-resample.h"
#include "worker/io/io-edf.h"
#include "worker/synth/synth-fmri-priv.h"

#define SYNTH_FMRI_PRIME 4096 /* samples run through the pink filter before sample 0 */

static const char *const synth_fmri_labels[] = {
    "Fp1", "Fp2", "F7",  "F3",  "Fz",  "F4",  "F8",  "T3",  "C3",  "Cz",
    "C4",  "T4",  "T5",  "P3",  "Pz",  "P4",  "T6",  "O1",  "O2",  "AF4",
    "AF3", "FC2", "FC1", "CP1", "CP2", "PO3", "PO4", "FC6", "FC5", "CP5",
};

void
synth_fmri_params_init(struct synth_fmri_params *p)
{
	memset(p, 0, sizeof *p);
	p->n_eeg = 8;
	p->emg_ecg = 1;
	p->rate = 2048;
	p->duration = 30;
	p->slices = 21;
	p->slice_interval = 292.5 / 2048;
	p->volume_gap = 10.0 / 2048;
	p->lead_in = 4;
	p->lead_out = 2;
	p->artifact_uv = 2000;
	p->jitter = 0.2;
	p->seed = 1;
	p->epi_active = 0.85;
	p->epi_hz = 180;
	p->epi_sharpness = 6;
	p->drift = 0.1;
	p->slice_amp_sd = 0.01;
	p->motion_size = 0.15;
	p->eeg_scale = 1;
}

static int
synth_fmri_check(const struct synth_fmri_params *p, char **cause)
{
	if (p->n_eeg < 1 || p->n_eeg > 256)
		return error_set(cause, -EINVAL, "synth-fmri: %u EEG channels (1 to 256)",
				 p->n_eeg);
	if (!(p->rate >= 100 && p->rate <= 100000))
		return error_set(cause, -EINVAL, "synth-fmri: rate %g Hz (100 to 100000)", p->rate);
	if (!(p->duration > 0 && p->duration * p->rate < 1e9))
		return error_set(cause, -EINVAL, "synth-fmri: invalid duration %g s", p->duration);
	if (p->slices < 1)
		return error_set(cause, -EINVAL, "synth-fmri: slices per volume must be >= 1");
	if (!(p->slice_interval * p->rate >= 16))
		return error_set(cause, -EINVAL,
				 "synth-fmri: slice interval %g s is under 16 samples",
				 p->slice_interval);
	if (!(p->volume_gap >= 0 && p->lead_in >= 0 && p->lead_out >= 0 && p->jitter >= 0 &&
	      p->jitter < 0.05 * p->slice_interval * p->rate))
		return error_set(cause, -EINVAL,
				 "synth-fmri: volume gap, lead-in/out must be >= 0 and the jitter "
				 "small against the slice interval");
	if (!(p->spacing_jitter >= 0 &&
	      p->spacing_jitter + p->jitter < 0.05 * p->slice_interval * p->rate))
		return error_set(cause, -EINVAL,
				 "synth-fmri: spacing jitter %g samples must be >= 0 and, with the "
				 "onset jitter, under 5 %% of the slice interval (%g samples)",
				 p->spacing_jitter, p->slice_interval * p->rate);
	if (!(p->epi_active >= 0.05 && p->epi_active <= 0.9 &&
	      p->epi_active * p->slice_interval > 0.003))
		return error_set(cause, -EINVAL,
				 "synth-fmri: EPI active share %g must lie in [0.05, 0.9] and "
				 "last over 3 ms",
				 p->epi_active);
	if (!(p->epi_hz > 0 && p->epi_hz < p->rate / 2 && p->epi_sharpness > 0))
		return error_set(cause, -EINVAL,
				 "synth-fmri: EPI readout %g Hz must lie in (0, rate/2) and its "
				 "sharpness %g be positive",
				 p->epi_hz, p->epi_sharpness);
	if (p->model != SYNTH_FMRI_GRADIENT && p->model != SYNTH_FMRI_INDUCED)
		return error_set(cause, -EINVAL, "synth-fmri: unknown artifact model %d",
				 (int)p->model);
	if (!(p->drift >= 0 && p->drift < 1 && p->slice_amp_sd >= 0 && p->slice_amp_sd < 0.2 &&
	      p->motion <= 1000 && p->motion_size >= 0 &&
	      p->motion_size <= 2 && p->eeg_scale >= 0 && p->eeg_scale <= 1e4))
		return error_set(cause, -EINVAL,
				 "synth-fmri: drift in [0, 1), slice amplitude sd in [0, 0.2), at "
				 "most 1000 movements of size "
				 "[0, 2] and an EEG scale in [0, 1e4]");
	return 0;
}

/* The background EEG from p->background: its first n_eeg channels (fewer when it has fewer),
 * resampled to the generator's rate, their labels, and n_eeg reduced to what it has. */
static int
synth_fmri_background_load(struct synth_fmri *s, char **cause)
{
	struct io_edf_file *f;
	const struct io_edf_header *h;
	size_t ne;
	int rc;

	if ((rc = io_edf_open(s->p.background, &f, cause)) != 0)
		return rc;
	h = io_edf_header(f);
	ne = h->n_channels < s->p.n_eeg ? h->n_channels : s->p.n_eeg;
	if (ne == 0 || h->duration + 1e-9 < s->p.duration) {
		rc = error_set(cause, -EINVAL,
			       "synth-fmri: background %s: %zu channels, %.1f s; need one channel "
			       "and %g s",
			       s->p.background, h->n_channels, h->duration, s->p.duration);
		io_edf_close(f);
		return rc;
	}
	s->p.n_eeg = (unsigned)ne;
	s->n_channels = ne + (s->p.emg_ecg ? 2 : 0);
	s->ch = xcalloc(s->n_channels, sizeof s->ch[0]);
	for (size_t c = 0; c < ne && rc == 0; c++) {
		const struct io_edf_channel *hc = &h->channels[c];
		double *x = NULL, *y, scale = hc->is_voltage ? 1.0 : 1e-6;
		size_t n;

		if ((rc = io_edf_read_channel(f, c, &x, &n, cause)) != 0)
			break;
		y = xcalloc(dsp_resample_length(n, s->p.rate / hc->rate) + 1, sizeof *y);
		rc = dsp_resample_rate(x, n, hc->rate, s->p.rate, y, cause);
		free(x);
		if (rc == 0 && dsp_resample_length(n, s->p.rate / hc->rate) < s->n_samples)
			rc = error_set(cause, -EINVAL,
				       "synth-fmri: background %s: channel %s is short",
				       s->p.background, hc->label);
		for (size_t i = 0; rc == 0 && i < s->n_samples; i++)
			y[i] *= scale;
		s->ch[c].background = y;
		snprintf(s->ch[c].label, sizeof s->ch[c].label, "%s", hc->label);
	}
	io_edf_close(f);
	return rc;
}

static void
synth_fmri_chan_reset(struct synth_fmri *s, size_t c)
{
	struct synth_fmri_chan *ch = &s->ch[c];

	synth_fmri_rng_seed(&ch->rng, s->p.seed, 1000 + c);
	ch->b0 = ch->b1 = ch->b2 = 0;
	ch->cursor = 0;
	for (int i = 0; i < SYNTH_FMRI_PRIME; i++) {
		double w = synth_fmri_rng_gauss(&ch->rng);

		ch->b0 = 0.99765 * ch->b0 + w * 0.0990460;
		ch->b1 = 0.96300 * ch->b1 + w * 0.2965164;
		ch->b2 = 0.57000 * ch->b2 + w * 1.0526913;
	}
}

static void
synth_fmri_chan_init(struct synth_fmri *s, size_t c)
{
	struct synth_fmri_chan *ch = &s->ch[c];
	struct synth_fmri_rng r;

	synth_fmri_rng_seed(&r, s->p.seed, 500 + c);
	ch->kind =
	    c < s->p.n_eeg ? SYNTH_FMRI_EEG : (c == s->p.n_eeg ? SYNTH_FMRI_EMG : SYNTH_FMRI_ECG);
	if (ch->background != NULL)
		; /* the file's label */
	else if (ch->kind == SYNTH_FMRI_EEG && c < sizeof synth_fmri_labels / sizeof(char *))
		snprintf(ch->label, sizeof ch->label, "%s", synth_fmri_labels[c]);
	else if (ch->kind == SYNTH_FMRI_EEG)
		snprintf(ch->label, sizeof ch->label, "E%zu", c + 1);
	else
		snprintf(ch->label, sizeof ch->label, "%s",
			 ch->kind == SYNTH_FMRI_EMG ? "EMG" : "ECG");
	ch->noise_uv = synth_fmri_rng_range(&r, 4, 9);
	ch->alpha_uv = synth_fmri_rng_range(&r, 4, 15);
	ch->alpha_hz = synth_fmri_rng_range(&r, 9, 11);
	ch->alpha_mod_s = synth_fmri_rng_range(&r, 3, 8);
	ch->alpha_phase = synth_fmri_rng_range(&r, 0, 2 * M_PI);
	ch->mod_phase = synth_fmri_rng_range(&r, 0, 2 * M_PI);
	ch->mix[0] =
	    synth_fmri_rng_range(&r, 0.6, 1.0) * (synth_fmri_rng_uniform(&r) < 0.5 ? -1 : 1);
	ch->mix[1] = synth_fmri_rng_range(&r, -1.0, 1.0);
	ch->mix[2] = synth_fmri_rng_range(&r, 0.5, 1.0);
	ch->drift_s = synth_fmri_rng_range(&r, 20, 60);
	ch->drift_phase = synth_fmri_rng_range(&r, 0, 2 * M_PI);
	synth_fmri_gradient_chan_init(s, c);
	synth_fmri_chan_reset(s, c);
}

int
synth_fmri_new(const struct synth_fmri_params *p, struct synth_fmri **out, char **cause)
{
	struct synth_fmri *s;
	int rc;

	*out = NULL;
	if ((rc = synth_fmri_check(p, cause)) != 0)
		return rc;
	s = xcalloc(1, sizeof *s);
	s->p = *p;
	s->n_samples = (size_t)llround(p->duration * p->rate);
	s->n_channels = p->n_eeg + (p->emg_ecg ? 2 : 0);
	if ((rc = synth_fmri_gradient_schedule(s, cause)) != 0) {
		synth_fmri_free(s);
		return rc;
	}
	synth_fmri_table_init(s, p->model == SYNTH_FMRI_INDUCED);
	if (p->background != NULL) {
		if ((rc = synth_fmri_background_load(s, cause)) != 0) {
			synth_fmri_free(s);
			return rc;
		}
	} else {
		s->ch = xcalloc(s->n_channels, sizeof s->ch[0]);
	}
	for (size_t c = 0; c < s->n_channels; c++)
		synth_fmri_chan_init(s, c);
	*out = s;
	return 0;
}

void
synth_fmri_free(struct synth_fmri *s)
{
	if (s == NULL)
		return;
	for (size_t c = 0; s->ch != NULL && c < s->n_channels; c++) {
		free(s->ch[c].motion_mix);
		free(s->ch[c].background);
	}
	free(s->ch);
	free(s->motion_t);
	free(s->rp);
	free(s->table);
	free(s->triggers);
	free(s->onset);
	free(s->amp);
	free(s);
}

size_t
synth_fmri_n_channels(const struct synth_fmri *s)
{
	return s->n_channels;
}

const char *
synth_fmri_label(const struct synth_fmri *s, size_t channel)
{
	return channel < s->n_channels ? s->ch[channel].label : NULL;
}

size_t
synth_fmri_n_samples(const struct synth_fmri *s)
{
	return s->n_samples;
}

const size_t *
synth_fmri_triggers(const struct synth_fmri *s, size_t *n)
{
	*n = s->n_triggers;
	return s->triggers;
}

size_t
synth_fmri_artifact_length(const struct synth_fmri *s)
{
	return s->art_len;
}

unsigned
synth_fmri_slices(const struct synth_fmri *s)
{
	return s->p.slices;
}

unsigned
synth_fmri_volumes(const struct synth_fmri *s)
{
	return s->volumes;
}

/* ECG: a beat every ~0.92 s with a QRS complex and a T wave, µV. */
static double
synth_fmri_ecg_at(double t)
{
	double v = 0;
	long k0 = (long)floor((t - 0.3) / 0.92);

	for (long k = k0 - 1; k <= k0 + 1; k++) {
		double b;

		if (k < 0)
			continue;
		b = 0.3 + k * 0.92 + 0.03 * sin(1.7 * k);
		v += 600 * exp(-0.5 * pow((t - b) / 0.008, 2));
		v -= 100 * exp(-0.5 * pow((t - b - 0.02) / 0.006, 2));
		v += 150 * exp(-0.5 * pow((t - b - 0.25) / 0.04, 2));
	}
	return v;
}

/* The next clean sample of a channel, in volts; advances its state. */
static double
synth_fmri_clean_next(const struct synth_fmri *s, struct synth_fmri_chan *ch)
{
	double t = (double)ch->cursor / s->p.rate, w, v;

	if (ch->background != NULL)
		return ch->background[ch->cursor++];
	w = synth_fmri_rng_gauss(&ch->rng);
	ch->cursor++;
	switch (ch->kind) {
	case SYNTH_FMRI_EEG:
		ch->b0 = 0.99765 * ch->b0 + w * 0.0990460;
		ch->b1 = 0.96300 * ch->b1 + w * 0.2965164;
		ch->b2 = 0.57000 * ch->b2 + w * 1.0526913;
		v = ch->noise_uv * (ch->b0 + ch->b1 + ch->b2 + w * 0.1848) / 3.0;
		v += ch->alpha_uv *
		     (0.6 + 0.4 * sin(2 * M_PI * t / ch->alpha_mod_s + ch->mod_phase)) *
		     sin(2 * M_PI * ch->alpha_hz * t + ch->alpha_phase);
		v *= s->p.eeg_scale;
		break;
	case SYNTH_FMRI_EMG:
		v = w * (8 + 25 * pow(fmax(0, sin(2 * M_PI * t / 7 + ch->mod_phase)), 4));
		break;
	default:
		v = synth_fmri_ecg_at(t) + 5 * w;
		break;
	}
	return 1e-6 * v;
}

/* The artifact of one channel at sample k, in volts, as the amplifier records it: the gradient
 * waveforms, or the voltage they induce (--model induced), through its low-pass. */
static double
synth_fmri_artifact_at(const struct synth_fmri *s, const struct synth_fmri_chan *ch, size_t k)
{
	return synth_fmri_table_at(s, ch, (double)k / s->p.rate, 1e-6 * s->p.artifact_uv);
}

int
synth_fmri_read(struct synth_fmri *s, enum synth_fmri_part part, size_t channel, size_t start,
		size_t n, double *out, char **cause)
{
	struct synth_fmri_chan *ch;

	if (channel >= s->n_channels || start > s->n_samples || n > s->n_samples - start)
		return error_set(cause, -EINVAL,
				 "synth-fmri: channel %zu samples [%zu, %zu) out of %zu x %zu",
				 channel, start, start + n, s->n_channels, s->n_samples);
	ch = &s->ch[channel];
	if (part != SYNTH_FMRI_ARTIFACT) {
		if (start < ch->cursor)
			synth_fmri_chan_reset(s, channel);
		while (ch->cursor < start)
			synth_fmri_clean_next(s, ch);
	}
	for (size_t i = 0; i < n; i++) {
		double v = 0;

		if (part != SYNTH_FMRI_ARTIFACT)
			v = synth_fmri_clean_next(s, ch);
		if (part != SYNTH_FMRI_CLEAN)
			v += synth_fmri_artifact_at(s, ch, start + i);
		out[i] = v;
	}
	return 0;
}

struct synth_fmri_source {
	struct synth_fmri *s;
	enum synth_fmri_part part;
};

static int
synth_fmri_source_cb(void *arg, size_t channel, size_t start, size_t n, double *out, char **cause)
{
	struct synth_fmri_source *src = arg;

	return synth_fmri_read(src->s, src->part, channel, start, n, out, cause);
}

static int
synth_fmri_write_one(struct synth_fmri *s, enum synth_fmri_part part, const char *path,
		     const struct io_edf_annotation *ann, char **cause)
{
	struct synth_fmri_source src = {s, part};
	struct io_edf_writer_channel *chans = xcalloc(s->n_channels, sizeof chans[0]);
	struct io_edf_writer_spec spec = {0};
	char info[81];
	int rc;

	for (size_t c = 0; c < s->n_channels; c++) {
		chans[c].label = s->ch[c].label;
		chans[c].rate = s->p.rate;
		chans[c].n_samples = s->n_samples;
		chans[c].dimension = "uV";
	}
	snprintf(info, sizeof info, "synth-fmri seed=%llu %s", (unsigned long long)s->p.seed,
		 part == SYNTH_FMRI_CLEAN ? "clean" : "recording");
	spec.type = IO_EDF_TYPE_EDFPLUS;
	spec.n_channels = s->n_channels;
	spec.channels = chans;
	spec.n_annotations = s->n_triggers;
	spec.annotations = ann;
	spec.equipment = "neurodag";
	spec.recording_additional = info;
	rc = io_edf_write(path, &spec, synth_fmri_source_cb, &src, cause);
	free(chans);
	return rc;
}

const double *
synth_fmri_realignment(const struct synth_fmri *s, size_t *nvolumes)
{
	*nvolumes = s->volumes;
	return s->rp;
}

const double *
synth_fmri_motion_times(const struct synth_fmri *s, size_t *n)
{
	*n = s->p.motion;
	return s->motion_t;
}

/* SPM's rp_*.txt: six columns per volume, space separated. */
static int
synth_fmri_write_rp(const struct synth_fmri *s, const char *path, char **cause)
{
	FILE *f = fopen(path, "w");
	int rc = 0;

	if (f == NULL)
		return error_set(cause, -errno, "cannot create %s: %s", path, strerror(errno));
	for (unsigned v = 0; v < s->volumes; v++)
		for (int j = 0; j < 6; j++)
			fprintf(f, "%16.10f%s", s->rp[(size_t)v * 6 + j], j == 5 ? "\n" : " ");
	if (ferror(f) | (fclose(f) != 0))
		rc = error_set(cause, -EIO, "cannot write %s", path);
	return rc;
}

int
synth_fmri_write(const struct synth_fmri_params *p, const char *recording_path,
		 const char *clean_path, char **cause)
{
	return synth_fmri_write_all(p, recording_path, clean_path, NULL, cause);
}

int
synth_fmri_write_all(const struct synth_fmri_params *p, const char *recording_path,
		     const char *clean_path, const char *rp_path, char **cause)
{
	struct io_edf_annotation *ann;
	struct synth_fmri *s;
	char one[] = "1";
	int rc = 0;

	if ((rc = synth_fmri_new(p, &s, cause)) != 0)
		return rc;
	ann = xcalloc(s->n_triggers, sizeof ann[0]);
	for (size_t i = 0; i < s->n_triggers; i++) {
		ann[i].onset = (double)s->triggers[i] / p->rate;
		ann[i].duration = -1;
		ann[i].text = one;
	}
	if (recording_path != NULL)
		rc = synth_fmri_write_one(s, SYNTH_FMRI_RECORDING, recording_path, ann, cause);
	if (rc == 0 && clean_path != NULL)
		rc = synth_fmri_write_one(s, SYNTH_FMRI_CLEAN, clean_path, ann, cause);
	if (rc == 0 && rp_path != NULL)
		rc = synth_fmri_write_rp(s, rp_path, cause);
	free(ann);
	synth_fmri_free(s);
	return rc;
}
