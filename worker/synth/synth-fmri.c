/* The synthetic EEG-fMRI generator: seeded clean EEG, EMG and ECG, a slice-locked gradient
 * artifact with sub-sample jitter and slowly varying amplitude, the slice triggers, and the
 * writing of recording.edf and clean.edf through the EDF writer. */
#include "worker/synth/synth-fmri.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/xmalloc.h"
#include "worker/io/io-edf.h"

#define SYNTH_FMRI_PRIME 4096 /* samples run through the pink filter before sample 0 */

enum synth_fmri_kind { SYNTH_FMRI_EEG, SYNTH_FMRI_EMG, SYNTH_FMRI_ECG };

struct synth_fmri_rng {
	uint64_t s[4];
	double spare;
	int has_spare;
};

struct synth_fmri_chan {
	enum synth_fmri_kind kind;
	char label[17];
	/* Clean-signal shape, fixed per channel. */
	double noise_uv, alpha_uv, alpha_hz, alpha_mod_s, alpha_phase, mod_phase;
	/* Artifact mixing of the three gradient waveforms and its slow amplitude drift. */
	double mix[3], drift_s, drift_phase;
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
};

static const char *const synth_fmri_labels[] = {
    "Fp1", "Fp2", "F7",  "F3",  "Fz",  "F4",  "F8",  "T3",  "C3",  "Cz",
    "C4",  "T4",  "T5",  "P3",  "Pz",  "P4",  "T6",  "O1",  "O2",  "AF4",
    "AF3", "FC2", "FC1", "CP1", "CP2", "PO3", "PO4", "FC6", "FC5", "CP5",
};

static uint64_t
synth_fmri_splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void
synth_fmri_rng_seed(struct synth_fmri_rng *r, uint64_t seed, uint64_t stream)
{
	uint64_t x = seed ^ (stream * 0xd1342543de82ef95ULL);

	for (int i = 0; i < 4; i++)
		r->s[i] = synth_fmri_splitmix(&x);
	r->has_spare = 0;
}

static uint64_t
synth_fmri_rng_next(struct synth_fmri_rng *r)
{
	uint64_t *s = r->s, result = ((s[1] * 5) << 7 | (s[1] * 5) >> 57) * 9, t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = s[3] << 45 | s[3] >> 19;
	return result;
}

/* Uniform in (0, 1). */
static double
synth_fmri_rng_uniform(struct synth_fmri_rng *r)
{
	return ((double)(synth_fmri_rng_next(r) >> 11) + 0.5) / 9007199254740992.0;
}

static double
synth_fmri_rng_range(struct synth_fmri_rng *r, double lo, double hi)
{
	return lo + (hi - lo) * synth_fmri_rng_uniform(r);
}

static double
synth_fmri_rng_gauss(struct synth_fmri_rng *r)
{
	double u, v, m;

	if (r->has_spare) {
		r->has_spare = 0;
		return r->spare;
	}
	u = synth_fmri_rng_uniform(r);
	v = synth_fmri_rng_uniform(r);
	m = sqrt(-2.0 * log(u));
	r->spare = m * sin(2 * M_PI * v);
	r->has_spare = 1;
	return m * cos(2 * M_PI * v);
}

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
	return 0;
}

/* Triggers at the nominal slice onsets, rounded to samples; the artifact starts at the jittered
 * true onset, so it moves by a fraction of a sample from slice to slice. */
static int
synth_fmri_schedule(struct synth_fmri *s, char **cause)
{
	const struct synth_fmri_params *p = &s->p;
	double vol_len = p->slices * p->slice_interval + p->volume_gap;
	double room = p->duration - p->lead_in - p->lead_out + p->volume_gap;
	struct synth_fmri_rng r;
	size_t k = 0;

	s->volumes = p->volumes;
	if (s->volumes == 0)
		s->volumes = room > 0 ? (unsigned)floor(room / vol_len) : 0;
	if (s->volumes == 0 || s->volumes * vol_len > room + 1e-9)
		return error_set(cause, -EINVAL,
				 "synth-fmri: %u volume(s) of %.3f s do not fit in %g s minus "
				 "lead-in %g s and lead-out %g s",
				 s->volumes, vol_len, p->duration, p->lead_in, p->lead_out);
	s->n_triggers = (size_t)s->volumes * p->slices;
	s->triggers = xcalloc(s->n_triggers, sizeof s->triggers[0]);
	s->onset = xcalloc(s->n_triggers, sizeof s->onset[0]);
	s->amp = xcalloc(s->n_triggers, sizeof s->amp[0]);
	synth_fmri_rng_seed(&r, p->seed, 0x51ce);
	for (unsigned v = 0; v < s->volumes; v++)
		for (unsigned sl = 0; sl < p->slices; sl++, k++) {
			double t = p->lead_in + v * vol_len + sl * p->slice_interval;

			s->triggers[k] = (size_t)llround(t * p->rate);
			s->onset[k] = t + p->jitter * synth_fmri_rng_gauss(&r) / p->rate;
			s->amp[k] = 1.0 + 0.01 * synth_fmri_rng_gauss(&r);
		}
	s->art_len = (size_t)ceil(p->slice_interval * p->rate - 1e-9);
	return 0;
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
	if (ch->kind == SYNTH_FMRI_EEG && c < sizeof synth_fmri_labels / sizeof(char *))
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
	if ((rc = synth_fmri_schedule(s, cause)) != 0) {
		synth_fmri_free(s);
		return rc;
	}
	s->ch = xcalloc(s->n_channels, sizeof s->ch[0]);
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
	free(s->ch);
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

/* The three gradient waveforms at time tau (s) after a slice onset, for slice interval S: a
 * slice-select lobe with sharp 0.5 ms ramps, a narrow spike, and an EPI-like readout train.
 * All are zero past 0.85 S, so slices never overlap even with jitter. */
static void
synth_fmri_waveforms(double tau, double S, double g[3])
{
	const double ramp = 0.0005, lobe = 0.35 * S, spike = 0.37 * S;
	const double ro0 = 0.40 * S, ro1 = 0.85 * S;

	g[0] = g[1] = g[2] = 0;
	if (tau < 0 || tau >= ro1)
		return;
	if (tau < ramp)
		g[0] = tau / ramp;
	else if (tau < lobe)
		g[0] = cos(M_PI * (tau - ramp) / (lobe - ramp));
	else if (tau < lobe + ramp)
		g[0] = -1.0 + (tau - lobe) / ramp;
	if (fabs(tau - spike) < 0.003) {
		double z = (tau - spike) / 0.0003;

		g[1] = -0.3 * exp(-0.5 * z * z);
	}
	if (tau >= ro0)
		g[2] = 0.35 * tanh(6 * sin(2 * M_PI * 180.0 * (tau - ro0)));
}

static double
synth_fmri_artifact_at(const struct synth_fmri *s, const struct synth_fmri_chan *ch, size_t k)
{
	const double t = (double)k / s->p.rate, S = s->p.slice_interval;
	size_t lo = 0, hi = s->n_triggers;
	double g[3], gain;

	/* Last slice whose true onset is <= t. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->onset[mid] <= t)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return 0;
	synth_fmri_waveforms(t - s->onset[lo - 1], S, g);
	gain = 1.0 + 0.1 * sin(2 * M_PI * t / ch->drift_s + ch->drift_phase);
	if (ch->kind != SYNTH_FMRI_EEG)
		gain *= 1.3;
	return 1e-6 * s->p.artifact_uv * s->amp[lo - 1] * gain *
	       (ch->mix[0] * g[0] + ch->mix[2] * g[1] + ch->mix[1] * g[2]);
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
	double t = (double)ch->cursor / s->p.rate, w = synth_fmri_rng_gauss(&ch->rng), v;

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

int
synth_fmri_write(const struct synth_fmri_params *p, const char *recording_path,
		 const char *clean_path, char **cause)
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
	free(ann);
	synth_fmri_free(s);
	return rc;
}
