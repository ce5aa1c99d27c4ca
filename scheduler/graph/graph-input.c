/* The units of a job's input: how many channels and trials its data has, which sets how many
 * unit tasks each stage gets. Test inputs ("tasks", "grid") declare them; data inputs are read. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/xmalloc.h"
#include "scheduler/graph/graph.h"
#include "scheduler/graph/graph-input.h"
#include "worker/io/rec/io-rec.h"
#include "worker/ops/rec/data/rec-chan.h"
#include "worker/ops/spec/op-param.h"

static int
graph_input_count(const json_t *input, const char *key, uint32_t *out, char **cause)
{
	long long v;

	if (op_param_int(input, "input", key, 1, 1, 100000000, 0, &v, cause) != 0)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

/* A recording: one unit per channel (EEG channels are corrected, the others carried through).
 * The header is read here so a missing, unreadable or broken file refuses the job at submit. */
static int
graph_input_recording(const json_t *input, struct graph *g, char **cause)
{
	static const char *const keys[] = {"format", "path", NULL};
	const struct io_rec_header *h;
	struct io_rec *f;
	const char *path, *format;
	char *c2 = NULL;
	int rc;

	if (op_param_keys(input, "input", keys, cause) != 0 ||
	    op_param_string(input, "input", "path", 1, NULL, &path, cause) != 0)
		return -EINVAL;
	format = json_string_value(json_object_get(input, "format"));
	if ((rc = io_rec_open(path, format, &f, &c2)) != 0) {
		error_set(cause, -EINVAL, "input.path: %s", c2);
		free(c2);
		return -EINVAL;
	}
	h = io_rec_header(f);
	g->nchan = (uint32_t)h->n_channels;
	g->ntrial = 1;
	free(g->rec_chans);
	g->rec_chans = xcalloc(h->n_channels + 1, sizeof *g->rec_chans);
	g->n_rec_chans = h->n_channels;
	for (size_t c = 0; c < h->n_channels; c++) {
		struct graph_rec_chan *dst = &g->rec_chans[c];
		snprintf(dst->label, sizeof dst->label, "%s", h->channels[c].label);
		dst->rate = h->channels[c].rate;
		dst->n = h->channels[c].n_samples;
		dst->corrected = rec_chan_is_corrected(&h->channels[c]);
	}
	io_rec_close(f);
	return 0;
}

bool
graph_input_is_recording(const char *format)
{
	enum io_rec_format f;

	return io_rec_format_parse(format, &f) == 0;
}

static void
graph_input_format_of(json_t *root, const char *key, bool given)
{
	json_t *o = json_object_get(root, key);
	const char *ext = io_rec_format_from_path(json_string_value(json_object_get(o, "path")));

	if (json_is_object(o) && ext != NULL && (given || json_object_get(o, "format") == NULL))
		json_object_set_new(o, "format", json_string(ext));
}

void
graph_input_formats(json_t *root, bool input_given, bool output_given)
{
	graph_input_format_of(root, "input", input_given);
	graph_input_format_of(root, "output", output_given);
}

int
graph_input_units(const json_t *input, struct graph *g, char **cause)
{
	uint32_t *nchan = &g->nchan, *ntrial = &g->ntrial;
	const char *format;

	if (!json_is_object(input))
		return error_set(cause, -EINVAL, "input: must be an object");
	format = json_string_value(json_object_get(input, "format"));
	if (format == NULL)
		return error_set(cause, -EINVAL, "input.format: required, a string (%s)",
				 GRAPH_INPUT_FORMATS);
	if (strcmp(format, "tasks") == 0) {
		static const char *const keys[] = {"format", "count", NULL};
		*ntrial = 1;
		if (op_param_keys(input, "input", keys, cause) != 0)
			return -EINVAL;
		return graph_input_count(input, "count", nchan, cause);
	}
	if (strcmp(format, "grid") == 0) {
		static const char *const keys[] = {"format", "channels", "trials", NULL};
		if (op_param_keys(input, "input", keys, cause) != 0 ||
		    graph_input_count(input, "channels", nchan, cause) != 0 ||
		    graph_input_count(input, "trials", ntrial, cause) != 0)
			return -EINVAL;
		if ((uint64_t)*nchan * *ntrial > 100000000)
			return error_set(cause, -EINVAL, "input: %u x %u units is too many", *nchan,
					 *ntrial);
		return 0;
	}
	if (graph_input_is_recording(format))
		return graph_input_recording(input, g, cause);
	return error_set(cause, -EINVAL, "input.format: unknown format '%s' (known: %s)", format,
			 GRAPH_INPUT_FORMATS);
}

int
graph_input_prepare(struct graph *g, json_t *pipeline, char **cause)
{
	const char *format =
	    json_string_value(json_object_get(json_object_get(pipeline, "input"), "format"));

	/* Recordings and test inputs: one channel and one trial per unit task unless the
	 * pipeline's execution says otherwise (trial inputs size their own grid). */
	if (g->cpt == 0)
		g->cpt = 1;
	if (g->tpt == 0)
		g->tpt = 1;
	if (graph_input_is_recording(format))
		return graph_input_rec_prepare(g, pipeline, cause);
	return 0;
}
