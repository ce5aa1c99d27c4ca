/* A test helper over the recording readers and the BrainVision writer, for the checks against
 * MNE: `info PATH [FORMAT]` prints the header as JSON, `dump PATH DIR` writes every channel as
 * DIR/ch<i>.npy (float64 volts), `to-brainvision IN OUT.vhdr [int16|float32] [vectorized]`
 * copies a recording (channels of one rate) into BrainVision. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "worker/io/io-npy.h"
#include "worker/io/rec/io-brainvision.h"
#include "worker/io/rec/io-rec.h"

static int
rec_tool_info(struct io_rec *r)
{
	const struct io_rec_header *h = io_rec_header(r);
	json_t *ch = json_array(), *an = json_array(), *doc;

	for (size_t i = 0; i < h->n_channels; i++)
		json_array_append_new(
		    ch, json_pack("{s:s, s:s, s:f, s:I, s:b}", "label", h->channels[i].label,
				  "unit", h->channels[i].unit, "rate", h->channels[i].rate, "n",
				  (json_int_t)h->channels[i].n_samples, "voltage",
				  h->channels[i].is_voltage));
	for (size_t i = 0; i < h->n_annotations; i++)
		json_array_append_new(
		    an, json_pack("{s:f, s:f, s:s}", "onset", h->annotations[i].onset, "duration",
				  h->annotations[i].duration, "text", h->annotations[i].text));
	doc = json_pack("{s:s, s:o, s:o, s:[i,i,i,i,i,i]}", "format", io_rec_format_name(h->format),
			"channels", ch, "annotations", an, "start", h->start_year, h->start_month,
			h->start_day, h->start_hour, h->start_minute, h->start_second);
	json_dumpf(doc, stdout, JSON_INDENT(1));
	putchar('\n');
	json_decref(doc);
	return 0;
}

static int
rec_tool_dump(struct io_rec *r, const char *dir)
{
	for (size_t c = 0; c < io_rec_header(r)->n_channels; c++) {
		char *cause = NULL, path[4096];
		double *x;
		size_t n;

		snprintf(path, sizeof path, "%s/ch%zu.npy", dir, c);
		if (io_rec_read_channel(r, c, &x, &n, &cause) != 0 ||
		    io_npy_write(path, IO_NPY_F8, 1, &n, x, &cause) != 0) {
			fprintf(stderr, "rec-tool: %s\n", cause);
			return 1;
		}
		free(x);
	}
	return 0;
}

static int
rec_tool_src(void *arg, size_t channel, size_t start, size_t n, double *out, char **cause)
{
	return io_rec_read_range(arg, channel, start, n, out, cause);
}

static int
rec_tool_convert(struct io_rec *r, const char *out, const char *type, const char *layout)
{
	const struct io_rec_header *h = io_rec_header(r);
	struct io_brainvision_writer_channel *wc = calloc(h->n_channels, sizeof *wc);
	struct io_brainvision_spec spec = {
	    .n_channels = h->n_channels,
	    .channels = wc,
	    .rate = h->channels[0].rate,
	    .n_samples = h->channels[0].n_samples,
	    .type = type != NULL && strcmp(type, "int16") == 0 ? IO_REC_INT16 : IO_REC_FLOAT32,
	    .vectorized = layout != NULL && strcmp(layout, "vectorized") == 0,
	    .n_annotations = h->n_annotations,
	    .annotations = h->annotations,
	    .start_year = h->start_year,
	    .start_month = h->start_month,
	    .start_day = h->start_day,
	    .start_hour = h->start_hour,
	    .start_minute = h->start_minute,
	    .start_second = h->start_second};
	char *cause = NULL;
	int rc;

	for (size_t c = 0; c < h->n_channels; c++) {
		wc[c].label = h->channels[c].label;
		wc[c].unit = h->channels[c].is_voltage ? NULL : h->channels[c].unit;
	}
	rc = io_brainvision_write(out, &spec, rec_tool_src, r, &cause);
	if (rc != 0)
		fprintf(stderr, "rec-tool: %s\n", cause);
	free(cause);
	free(wc);
	return rc != 0;
}

int
main(int argc, char **argv)
{
	struct io_rec *r;
	char *cause = NULL;
	int rc;

	if (argc < 3) {
		fprintf(stderr, "usage: rec-tool info PATH [FORMAT] | dump PATH DIR | "
				"to-brainvision IN OUT.vhdr [int16|float32] [vectorized]\n");
		return 2;
	}
	if (io_rec_open(argv[2], strcmp(argv[1], "info") == 0 && argc > 3 ? argv[3] : NULL, &r,
			&cause) != 0) {
		fprintf(stderr, "rec-tool: %s\n", cause);
		free(cause);
		return 1;
	}
	if (strcmp(argv[1], "info") == 0)
		rc = rec_tool_info(r);
	else if (strcmp(argv[1], "dump") == 0 && argc > 3)
		rc = rec_tool_dump(r, argv[3]);
	else if (strcmp(argv[1], "to-brainvision") == 0 && argc > 3)
		rc = rec_tool_convert(r, argv[3], argc > 4 ? argv[4] : NULL,
				      argc > 5 ? argv[5] : NULL);
	else
		rc = 2;
	io_rec_close(r);
	return rc;
}
