/* Writes EDF files with the neurodag writer for check-edf-mne.py, each with a JSON sidecar of
 * what a reader must find: a synthetic EEG-fMRI recording, and a file with 5000 annotations. */
#include <stdio.h>
#include <stdlib.h>
#include <math.h>

#include "worker/io/io-edf.h"
#include "worker/synth/synth-fmri.h"

#define HELPER_HEAD 2048

/* The sidecar: labels, rate, samples, annotations, and the first samples as read back. */
static int
helper_sidecar(const char *edf, const char *json)
{
	struct io_edf_file *f = NULL;
	const struct io_edf_header *h;
	char *cause = NULL;
	double *x;
	size_t n;
	FILE *fp;

	if (io_edf_open(edf, &f, &cause) != 0 || io_edf_read_channel(f, 0, &x, &n, &cause) != 0) {
		fprintf(stderr, "%s\n", cause);
		return 1;
	}
	h = io_edf_header(f);
	fp = fopen(json, "w");
	if (fp == NULL)
		return 1;
	fprintf(fp, "{\"sfreq\": %.17g, \"n_times\": %zu, \"labels\": [", h->channels[0].rate,
		h->channels[0].n_samples);
	for (size_t c = 0; c < h->n_channels; c++)
		fprintf(fp, "%s\"%s\"", c ? ", " : "", h->channels[c].label);
	fprintf(fp, "],\n \"onsets\": [");
	for (size_t i = 0; i < h->n_annotations; i++)
		fprintf(fp, "%s%.7f", i ? ", " : "", h->annotations[i].onset);
	fprintf(fp, "],\n \"texts\": [");
	for (size_t i = 0; i < h->n_annotations; i++)
		fprintf(fp, "%s\"%s\"", i ? ", " : "", h->annotations[i].text);
	fprintf(fp, "],\n \"ch0_head\": [");
	for (size_t i = 0; i < n && i < HELPER_HEAD; i++)
		fprintf(fp, "%s%.17g", i ? ", " : "", x[i]);
	fprintf(fp, "]}\n");
	fclose(fp);
	free(x);
	io_edf_close(f);
	return 0;
}

static int
helper_many(const char *path)
{
	enum { N_ANN = 5000, RATE = 256, SECONDS = 20 };
	struct io_edf_writer_channel ch[2] = {
	    {.label = "C3", .rate = RATE, .n_samples = RATE * SECONDS},
	    {.label = "C4", .rate = RATE, .n_samples = RATE * SECONDS},
	};
	struct io_edf_annotation *ann = calloc(N_ANN, sizeof *ann);
	char(*text)[16] = calloc(N_ANN, sizeof *text);
	double *x = malloc(RATE * SECONDS * sizeof *x);
	struct io_edf_writer_spec spec = {.type = IO_EDF_TYPE_EDFPLUS,
					  .n_channels = 2,
					  .channels = ch,
					  .n_annotations = N_ANN,
					  .annotations = ann};
	char *cause = NULL;
	int rc;

	for (size_t i = 0; i < RATE * SECONDS; i++)
		x[i] = 50e-6 * sin(2 * M_PI * 10 * (double)i / RATE);
	ch[0].data = ch[1].data = x;
	for (size_t i = 0; i < N_ANN; i++) {
		snprintf(text[i], sizeof text[i], "ev%zu", i);
		ann[i].onset = 0.004 * (double)i;
		ann[i].duration = -1;
		ann[i].text = text[i];
	}
	rc = io_edf_write(path, &spec, NULL, NULL, &cause);
	if (rc != 0)
		fprintf(stderr, "%s\n", cause);
	free(ann);
	free(text);
	free(x);
	return rc != 0;
}

int
main(int argc, char **argv)
{
	struct synth_fmri_params p;
	char *cause = NULL, path[4][512];

	if (argc != 2) {
		fprintf(stderr, "usage: %s OUTDIR\n", argv[0]);
		return 2;
	}
	snprintf(path[0], sizeof path[0], "%s/synth.edf", argv[1]);
	snprintf(path[1], sizeof path[1], "%s/synth.json", argv[1]);
	snprintf(path[2], sizeof path[2], "%s/many.edf", argv[1]);
	snprintf(path[3], sizeof path[3], "%s/many.json", argv[1]);
	synth_fmri_params_init(&p);
	if (synth_fmri_write(&p, path[0], NULL, &cause) != 0) {
		fprintf(stderr, "%s\n", cause);
		return 1;
	}
	if (helper_sidecar(path[0], path[1]) != 0 || helper_many(path[2]) != 0 ||
	    helper_sidecar(path[2], path[3]) != 0)
		return 1;
	return 0;
}
