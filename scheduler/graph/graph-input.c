/* The units of a job's input: how many channels and trials its data has, which sets how many
 * unit tasks each stage gets. Test inputs ("tasks", "grid") declare them; data inputs are read. */
#include <errno.h>
#include <string.h>

#include "common/error.h"
#include "common/xmalloc.h"
#include "scheduler/graph/graph.h"
#include "scheduler/graph/graph-input.h"
#include "worker/io/io-edf.h"
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
graph_input_recording(const json_t *input, uint32_t *nchan, uint32_t *ntrial, char **cause)
{
	static const char *const keys[] = {"format", "path", NULL};
	struct io_edf_file *f;
	const char *path;
	char *c2 = NULL;
	int rc;

	if (op_param_keys(input, "input", keys, cause) != 0 ||
	    op_param_string(input, "input", "path", 1, NULL, &path, cause) != 0)
		return -EINVAL;
	if ((rc = io_edf_open(path, &f, &c2)) != 0) {
		error_set(cause, -EINVAL, "input.path: %s", c2);
		free(c2);
		return -EINVAL;
	}
	*nchan = (uint32_t)io_edf_header(f)->n_channels;
	*ntrial = 1;
	io_edf_close(f);
	return 0;
}

int
graph_input_units(const json_t *input, uint32_t *nchan, uint32_t *ntrial, char **cause)
{
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
	if (strcmp(format, "edf") == 0 || strcmp(format, "bdf") == 0)
		return graph_input_recording(input, nchan, ntrial, cause);
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
	if (format != NULL && (strcmp(format, "edf") == 0 || strcmp(format, "bdf") == 0))
		return graph_input_rec_prepare(g, pipeline, cause);
	return 0;
}
