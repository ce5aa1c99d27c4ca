/* Writes a copy of an EDF recording whose trigger marks are thinned as the trigger cables and
 * scanners of labs deliver them, for the tests and benchmarks of trigger completion and volume
 * triggers: some marks missing (runs of three and singles, seeded) and/or only the first slice of
 * each volume marked. Prints {"marks": N, "kept": K, "missing": [onsets, s]} on stdout.
 * usage: edf-marks-helper IN.edf OUT.edf [--text 1] [--drop PERCENT] [--volumes SLICES]
 *        [--seed N] */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "worker/io/io-edf.h"
#include "worker/synth/synth-marks.h"

struct helper_src {
	double **x;
};

static int
helper_cb(void *arg, size_t channel, size_t start, size_t n, double *out, char **cause)
{
	(void)cause;
	memcpy(out, ((struct helper_src *)arg)->x[channel] + start, n * sizeof *out);
	return 0;
}

static int
helper_write(struct io_edf_file *f, const char *out, const unsigned char *keep, char **cause)
{
	const struct io_edf_header *h = io_edf_header(f);
	struct io_edf_writer_channel *wc = calloc(h->n_channels, sizeof *wc);
	struct io_edf_annotation *ann = calloc(h->n_annotations + 1, sizeof *ann);
	struct io_edf_writer_spec spec = {.type = IO_EDF_TYPE_EDFPLUS};
	struct helper_src src = {calloc(h->n_channels, sizeof(double *))};
	size_t na = 0, n;
	int rc = 0;

	for (size_t c = 0; c < h->n_channels && rc == 0; c++) {
		rc = io_edf_read_channel(f, c, &src.x[c], &n, cause);
		wc[c].label = h->channels[c].label;
		wc[c].rate = h->channels[c].rate;
		wc[c].n_samples = n;
		wc[c].dimension = h->channels[c].is_voltage ? "uV" : h->channels[c].dimension;
	}
	for (size_t i = 0; i < h->n_annotations; i++)
		if (keep[i])
			ann[na++] = h->annotations[i];
	spec.n_channels = h->n_channels;
	spec.channels = wc;
	spec.n_annotations = na;
	spec.annotations = ann;
	spec.equipment = "neurodag test";
	if (rc == 0)
		rc = io_edf_write(out, &spec, helper_cb, &src, cause);
	for (size_t c = 0; c < h->n_channels; c++)
		free(src.x[c]);
	free(src.x);
	free(wc);
	free(ann);
	return rc;
}

int
main(int argc, char **argv)
{
	struct synth_marks_params mp = {0, 0, 1};
	const char *text = "1";
	unsigned slices = 0;
	struct io_edf_file *f = NULL;
	unsigned char *keep, *sub;
	size_t *idx, m = 0, kept = 0;
	char *cause = NULL;
	int first = 1;

	if (argc < 3) {
		fprintf(stderr,
			"usage: %s IN.edf OUT.edf [--text T] [--drop PERCENT] "
			"[--volumes SLICES] [--seed N]\n",
			argv[0]);
		return 2;
	}
	for (int i = 3; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--text") == 0)
			text = argv[i + 1];
		else if (strcmp(argv[i], "--drop") == 0)
			mp.drop_percent = atof(argv[i + 1]);
		else if (strcmp(argv[i], "--volumes") == 0)
			slices = (unsigned)atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--seed") == 0)
			mp.seed = (uint64_t)atoll(argv[i + 1]);
	}
	mp.volumes_only = slices > 0;
	if (io_edf_open(argv[1], &f, &cause) != 0) {
		fprintf(stderr, "%s\n", cause);
		return 1;
	}
	keep = calloc(io_edf_header(f)->n_annotations + 1, 1);
	idx = calloc(io_edf_header(f)->n_annotations + 1, sizeof *idx);
	for (size_t i = 0; i < io_edf_header(f)->n_annotations; i++) {
		keep[i] = 1;
		if (strcmp(io_edf_header(f)->annotations[i].text, text) == 0)
			idx[m++] = i;
	}
	sub = calloc(m + 1, 1);
	if (synth_marks_choose(&mp, m, slices, sub, &cause) != 0) {
		fprintf(stderr, "%s\n", cause);
		return 1;
	}
	for (size_t k = 0; k < m; k++)
		keep[idx[k]] = sub[k];
	if (helper_write(f, argv[2], keep, &cause) != 0) {
		fprintf(stderr, "%s\n", cause);
		return 1;
	}
	printf("{\"marks\": %zu, \"missing\": [", m);
	for (size_t k = 0; k < m; k++) {
		kept += sub[k];
		if (!sub[k] && (slices == 0 || k % slices == 0)) {
			printf("%s%.9g", first ? "" : ", ",
			       io_edf_header(f)->annotations[idx[k]].onset);
			first = 0;
		}
	}
	printf("], \"kept\": %zu}\n", kept);
	io_edf_close(f);
	free(keep);
	free(idx);
	free(sub);
	return 0;
}
