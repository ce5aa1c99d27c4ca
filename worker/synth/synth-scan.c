/* Writing a synthetic recording from the gradient generator, the cardiac model and the trigger
 * marks: which channels are written, what each holds in the recording and in the ground truth,
 * and the truth.json sidecar. */
#include "worker/synth/synth-scan.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/xmalloc.h"
#include "worker/io/io-edf.h"

struct synth_scan {
	const struct synth_scan_params *p;
	struct synth_fmri *fmri;
	struct synth_pulse *pulse; /* NULL without the cardiac model */
	size_t *chan;              /* written channel -> generator channel */
	size_t nchan, ecg;         /* ecg: the generator's ECG channel */
	enum synth_fmri_part part; /* SYNTH_FMRI_RECORDING or SYNTH_FMRI_CLEAN */
};

void
synth_scan_params_init(struct synth_scan_params *p)
{
	memset(p, 0, sizeof *p);
	synth_fmri_params_init(&p->fmri);
	synth_pulse_params_init(&p->pulse_p);
}

static int
synth_scan_source_cb(void *arg, size_t channel, size_t start, size_t n, double *out, char **cause)
{
	struct synth_scan *s = arg;
	size_t c = s->chan[channel];
	double *art;
	int rc;

	if (s->pulse != NULL && c == s->ecg) {
		synth_pulse_ecg(s->pulse, start, n, out);
		if (s->part == SYNTH_FMRI_CLEAN)
			return 0;
		art = xmalloc((n > 0 ? n : 1) * sizeof *art);
		rc = synth_fmri_read(s->fmri, SYNTH_FMRI_ARTIFACT, c, start, n, art, cause);
		for (size_t i = 0; i < n && rc == 0; i++)
			out[i] += art[i];
		free(art);
		return rc;
	}
	if ((rc = synth_fmri_read(s->fmri, s->part, c, start, n, out, cause)) != 0)
		return rc;
	if (s->pulse != NULL && s->part == SYNTH_FMRI_RECORDING && c < s->p->fmri.n_eeg)
		synth_pulse_add_artifact(s->pulse, c, start, n, out);
	return 0;
}

static int
synth_scan_write_edf(struct synth_scan *s, enum synth_fmri_part part, const char *path,
		     const struct io_edf_annotation *ann, size_t nann, char **cause)
{
	struct io_edf_writer_channel *chans = xcalloc(s->nchan, sizeof chans[0]);
	struct io_edf_writer_spec spec = {0};
	char info[81];
	int rc;

	for (size_t w = 0; w < s->nchan; w++) {
		chans[w].label = synth_fmri_label(s->fmri, s->chan[w]);
		chans[w].rate = s->p->fmri.rate;
		chans[w].n_samples = synth_fmri_n_samples(s->fmri);
		chans[w].dimension = "uV";
	}
	snprintf(info, sizeof info, "synth-fmri seed=%llu%s %s",
		 (unsigned long long)s->p->fmri.seed, s->pulse != NULL ? " pulse" : "",
		 part == SYNTH_FMRI_CLEAN ? "clean" : "recording");
	spec.type = IO_EDF_TYPE_EDFPLUS;
	spec.n_channels = s->nchan;
	spec.channels = chans;
	spec.n_annotations = nann;
	spec.annotations = ann;
	spec.equipment = "neurodag";
	spec.recording_additional = info;
	s->part = part;
	rc = io_edf_write(path, &spec, synth_scan_source_cb, s, cause);
	free(chans);
	return rc;
}

static void
synth_scan_json_array(FILE *f, const char *key, const int64_t *v, size_t n, int last)
{
	fprintf(f, "  \"%s\": [", key);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s%lld", i ? ", " : "", (long long)v[i]);
	fprintf(f, "]%s\n", last ? "" : ",");
}

/* truth.json: rate, slices, volumes, every trigger, the marked and the missing ones, R peaks. */
static int
synth_scan_write_truth(struct synth_scan *s, const unsigned char *keep, const char *path,
		       char **cause)
{
	size_t nt, np = 0, nk = 0, nd = 0;
	const size_t *t = synth_fmri_triggers(s->fmri, &nt);
	const int64_t *peaks = s->pulse != NULL ? synth_pulse_rpeaks(s->pulse, &np) : NULL;
	int64_t *all = xcalloc(nt + 1, sizeof *all), *kept = xcalloc(nt + 1, sizeof *kept);
	int64_t *miss = xcalloc(nt + 1, sizeof *miss);
	FILE *f = fopen(path, "w");

	if (f == NULL) {
		free(all);
		free(kept);
		free(miss);
		return error_set(cause, -errno, "cannot write %s: %s", path, strerror(errno));
	}
	for (size_t i = 0; i < nt; i++) {
		all[i] = (int64_t)t[i];
		if (keep[i])
			kept[nk++] = (int64_t)t[i];
		else if (!s->p->marks.volumes_only || i % s->p->fmri.slices == 0)
			miss[nd++] = (int64_t)t[i];
	}
	fprintf(f, "{\n  \"rate\": %.17g,\n  \"samples\": %zu,\n  \"slices\": %u,\n",
		s->p->fmri.rate, synth_fmri_n_samples(s->fmri), synth_fmri_slices(s->fmri));
	fprintf(f, "  \"volumes\": %u,\n  \"artifact_length\": %zu,\n", synth_fmri_volumes(s->fmri),
		synth_fmri_artifact_length(s->fmri));
	fprintf(f, "  \"volumes_only\": %s,\n", s->p->marks.volumes_only ? "true" : "false");
	synth_scan_json_array(f, "triggers", all, nt, 0);
	synth_scan_json_array(f, "marked", kept, nk, 0);
	synth_scan_json_array(f, "missing", miss, nd, 0);
	synth_scan_json_array(f, "rpeaks", peaks, np, 1);
	fprintf(f, "}\n");
	free(all);
	free(kept);
	free(miss);
	if (fclose(f) != 0)
		return error_set(cause, -EIO, "cannot write %s", path);
	return 0;
}

/* The written channels: every generator channel, or the ECG alone. */
static int
synth_scan_open(struct synth_scan *s, const struct synth_scan_params *p, char **cause)
{
	struct synth_fmri_params fp = p->fmri;
	int rc;

	memset(s, 0, sizeof *s);
	s->p = p;
	if ((p->pulse || p->ecg_only) && !fp.emg_ecg)
		return error_set(cause, -EINVAL, "synth: the pulse model needs the ECG channel");
	if ((rc = synth_fmri_new(&fp, &s->fmri, cause)) != 0)
		return rc;
	s->ecg = fp.n_eeg + 1;
	s->nchan = p->ecg_only ? 1 : synth_fmri_n_channels(s->fmri);
	s->chan = xcalloc(s->nchan, sizeof *s->chan);
	for (size_t w = 0; w < s->nchan; w++)
		s->chan[w] = p->ecg_only ? s->ecg : w;
	if (p->pulse) {
		struct synth_pulse_params pp = p->pulse_p;

		pp.seed = fp.seed;
		rc = synth_pulse_new(&pp, fp.rate, synth_fmri_n_samples(s->fmri), fp.n_eeg,
				     &s->pulse, cause);
	}
	return rc;
}

static void
synth_scan_close(struct synth_scan *s)
{
	synth_fmri_free(s->fmri);
	synth_pulse_free(s->pulse);
	free(s->chan);
}

int
synth_scan_write(const struct synth_scan_params *p, const char *recording_path,
		 const char *clean_path, const char *truth_path, char **cause)
{
	struct synth_marks_params mp = p->marks;
	struct io_edf_annotation *ann;
	struct synth_scan s;
	unsigned char *keep;
	const size_t *t;
	size_t nt, nann = 0;
	char one[] = "1";
	int rc;

	if ((rc = synth_scan_open(&s, p, cause)) != 0) {
		synth_scan_close(&s);
		return rc;
	}
	t = synth_fmri_triggers(s.fmri, &nt);
	keep = xcalloc(nt + 1, 1);
	mp.seed = p->fmri.seed;
	rc = synth_marks_choose(&mp, nt, synth_fmri_slices(s.fmri), keep, cause);
	ann = xcalloc(nt + 1, sizeof *ann);
	for (size_t i = 0; i < nt; i++) {
		ann[i].onset = (double)t[i] / p->fmri.rate;
		ann[i].duration = -1;
		ann[i].text = one;
	}
	if (rc == 0 && clean_path != NULL)
		rc = synth_scan_write_edf(&s, SYNTH_FMRI_CLEAN, clean_path, ann, nt, cause);
	for (size_t i = 0; i < nt; i++)
		if (keep[i])
			ann[nann++] = ann[i];
	if (rc == 0 && recording_path != NULL)
		rc = synth_scan_write_edf(&s, SYNTH_FMRI_RECORDING, recording_path, ann, nann,
					  cause);
	if (rc == 0 && truth_path != NULL)
		rc = synth_scan_write_truth(&s, keep, truth_path, cause);
	free(ann);
	free(keep);
	synth_scan_close(&s);
	return rc;
}
