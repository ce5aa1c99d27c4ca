/* The implicit steps of a recording pipeline, added after validation so errors still point at
 * the user's own steps: an aas_realign (run once on the reference channel) before each aas that
 * realigns, the pass band of the pipeline as the default for metrics' ground-truth comparison,
 * an export_edf at the end when the pipeline names an output but no export step, and then a
 * report beside the output (unless output.report is false or a report step is there). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/error.h"
#include "common/xmalloc.h"
#include "scheduler/graph/graph-input.h"
#include "scheduler/graph/graph.h"
#include "worker/io/rec/io-rec.h"
#include "worker/ops/op-registry.h"
#include "worker/ops/rec/op-rec-params.h"
#include "worker/ops/spec/op-param.h"

static int
graph_input_rec_output(const json_t *output, char **cause)
{
	static const char *const keys[] = {"format", "path", "binary_format", "report", NULL};
	const char *fmt, *path, *bf;

	if (output == NULL)
		return 0;
	if (!json_is_object(output))
		return error_set(cause, -EINVAL,
				 "output: must be an object {\"format\", \"path\"}");
	if (op_param_keys(output, "output", keys, cause) != 0 ||
	    op_param_string(output, "output", "format", 0, "edf", &fmt, cause) != 0 ||
	    op_param_string(output, "output", "path", 0, NULL, &path, cause) != 0)
		return -EINVAL;
	if (strcmp(fmt, "edf") != 0 && strcmp(fmt, "bdf") != 0 && strcmp(fmt, "brainvision") != 0)
		return error_set(
		    cause, -EINVAL, "output.format: must be \"edf\", \"bdf\" or \"brainvision\"%s",
		    strcmp(fmt, "eeglab") == 0 ? " (EEGLAB files are read, not written)" : "");
	if (op_param_string(output, "output", "binary_format", 0, NULL, &bf, cause) != 0)
		return -EINVAL;
	if (json_object_get(output, "report") != NULL &&
	    !json_is_boolean(json_object_get(output, "report")))
		return error_set(cause, -EINVAL,
				 "output.report: true (an HTML report beside the output, the "
				 "default) or false");
	if (bf != NULL && (strcmp(fmt, "brainvision") != 0 ||
			   (strcmp(bf, "INT_16") != 0 && strcmp(bf, "IEEE_FLOAT_32") != 0)))
		return error_set(cause, -EINVAL,
				 "output.binary_format: \"INT_16\" or \"IEEE_FLOAT_32\", for "
				 "brainvision output only");
	if (path != NULL && strcmp(fmt, "brainvision") == 0 &&
	    io_rec_format_from_path(path) != NULL &&
	    strcmp(io_rec_format_from_path(path), "brainvision") != 0)
		return error_set(cause, -EINVAL, "output.path: a BrainVision header ends in .vhdr");
	return 0;
}

/* The extension of an output file named after its input, for the output's format (a .vhdr
 * header for BrainVision, .edf or .bdf). */
static void
graph_input_rec_output_ext(char **file, const char *fmt)
{
	const char *have = io_rec_format_from_path(*file);
	const char *ext = fmt == NULL                       ? NULL
			  : strcmp(fmt, "brainvision") == 0 ? "vhdr"
			  : strcmp(fmt, "bdf") == 0         ? "bdf"
							    : "edf";
	char *dot = strrchr(*file, '.'), *renamed;

	if (ext == NULL || (have != NULL && strcmp(have, fmt) == 0) || dot == NULL ||
	    strchr(dot, '/') != NULL)
		return;
	renamed = xasprintf("%.*s.%s", (int)(dot - *file), *file, ext);
	free(*file);
	*file = renamed;
}

/* An output directory (several inputs, one job each): the file is DIR/<input's name>, with the
 * extension of the output's format. */
static int
graph_input_rec_output_dir(json_t *pipeline, char **cause)
{
	json_t *output = json_object_get(pipeline, "output");
	const char *path = json_string_value(json_object_get(output, "path"));
	const char *in =
	    json_string_value(json_object_get(json_object_get(pipeline, "input"), "path"));
	const char *base;
	struct stat st;
	char *file;
	size_t len;

	if (path == NULL || in == NULL)
		return 0;
	len = strlen(path);
	if (!(len > 0 && path[len - 1] == '/') && !(stat(path, &st) == 0 && S_ISDIR(st.st_mode)))
		return 0;
	base = strrchr(in, '/') != NULL ? strrchr(in, '/') + 1 : in;
	file = xasprintf("%.*s/%s", (int)(len > 1 && path[len - 1] == '/' ? len - 1 : len), path,
			 base);
	graph_input_rec_output_ext(&file, json_string_value(json_object_get(output, "format")));
	if (strcmp(file, in) == 0) {
		error_set(cause, -EINVAL,
			  "output.path: the output directory %s holds the input %s: it would be "
			  "overwritten",
			  path, in);
		free(file);
		return -EINVAL;
	}
	json_object_set_new(output, "path", json_string(file));
	free(file);
	return 0;
}

/* A step's typed parameters (the op's own parse), or NULL when it has none. Caller frees. */
static void *
graph_input_rec_params(const json_t *step)
{
	const struct op_def *op = op_registry_find(json_string_value(json_object_get(step, "op")));
	void *params = NULL;

	if (op != NULL && op_def_parse(op, step, "steps", &params, NULL) != 0)
		params = NULL;
	return params;
}

/* The pipeline's first high-pass and low-pass edges (0 when absent). */
static void
graph_input_rec_band(const json_t *steps, double *hp, double *lp)
{
	size_t i;
	json_t *s;

	*hp = *lp = 0;
	json_array_foreach(steps, i, s)
	{
		const char *op = json_string_value(json_object_get(s, "op"));
		struct op_rec_band_params *b;

		if (strcmp(op, "highpass") != 0 && strcmp(op, "lowpass") != 0 &&
		    strcmp(op, "bandpass") != 0)
			continue;
		if ((b = graph_input_rec_params(s)) == NULL)
			continue;
		if (strcmp(op, "highpass") == 0 && *hp == 0)
			*hp = b->lo;
		else if (strcmp(op, "lowpass") == 0 && *lp == 0)
			*lp = b->hi;
		else if (strcmp(op, "bandpass") == 0 && *hp == 0 && *lp == 0) {
			*hp = b->lo;
			*lp = b->hi;
		}
		free(b);
	}
}

/* The run-once steps' reference channel: that of the first aligner naming one, or NULL. */
static char *
graph_input_rec_ref_channel(const json_t *steps)
{
	char *label = NULL;
	size_t i;
	json_t *s;

	json_array_foreach(steps, i, s)
	{
		const char *op = json_string_value(json_object_get(s, "op"));
		struct op_rec_align_params *a;

		if (strcmp(op, "align_slices") != 0 && strcmp(op, "align_subsample") != 0)
			continue;
		a = graph_input_rec_params(s);
		if (a != NULL && a->ref_channel != NULL)
			label = xstrdup(a->ref_channel);
		free(a);
		if (label != NULL)
			break;
	}
	return label;
}

static int
graph_input_rec_has_after(const json_t *steps, size_t i, const char *op)
{
	for (size_t k = i + 1; k < json_array_size(steps); k++)
		if (strcmp(json_string_value(json_object_get(json_array_get(steps, k), "op")),
			   op) == 0)
			return 1;
	return 0;
}

int
graph_input_rec_prepare(struct graph *g, json_t *pipeline, char **cause)
{
	json_t *steps = json_object_get(pipeline, "steps"), *out = json_array(), *s;
	const json_t *output = json_object_get(pipeline, "output");
	const char *path = json_string_value(json_object_get(output, "path"));
	double hp, lp;
	int exported = 0, reported = 0;
	size_t i;

	if (graph_input_rec_output(output, cause) != 0 ||
	    graph_input_rec_output_dir(pipeline, cause) != 0 ||
	    graph_input_rec_rates(g, steps, cause) != 0) {
		json_decref(out);
		return -EINVAL;
	}
	graph_input_rec_band(steps, &hp, &lp);
	g->ref_channel = graph_input_rec_ref_channel(steps);
	json_array_foreach(steps, i, s)
	{
		const char *op = json_string_value(json_object_get(s, "op"));

		json_object_set_new(s, "index", json_integer((json_int_t)i));
		/* The estimated noise only feeds anc: without an anc after them, aas and pca keep
		 * none (less memory, no noise to resample). */
		if ((strcmp(op, "aas") == 0 || strcmp(op, "pca") == 0) &&
		    !graph_input_rec_has_after(steps, i, "anc"))
			json_object_set_new(s, "_noise", json_false());
		if (strcmp(op, "aas") == 0) {
			struct op_rec_aas_params *a = graph_input_rec_params(s);
			if (a != NULL && a->realign) {
				/* The realignment runs with the aas step's own parameters. */
				json_t *r = json_deep_copy(s);
				json_object_set_new(r, "op", json_string("aas_realign"));
				json_array_append_new(out, r);
			}
			free(a);
		}
		if (strcmp(op, "metrics") == 0 && json_object_get(s, "ground_truth") != NULL) {
			if (json_object_get(s, "truth_hp") == NULL)
				json_object_set_new(s, "truth_hp", json_real(hp));
			if (json_object_get(s, "truth_lp") == NULL)
				json_object_set_new(s, "truth_lp", json_real(lp));
		}
		exported |= strcmp(op, "export_edf") == 0;
		reported |= strcmp(op, "report") == 0;
		json_array_append(out, s);
	}
	if (!exported && path != NULL)
		json_array_append_new(out, json_pack("{s:s, s:I}", "op", "export_edf", "index",
						     (json_int_t)json_array_size(steps)));
	if (!reported && path != NULL && !json_is_false(json_object_get(output, "report")))
		json_array_append_new(out, json_pack("{s:s, s:I}", "op", "report", "index",
						     (json_int_t)json_array_size(steps)));
	json_object_set_new(pipeline, "steps", out);
	free(g->rec_chans);
	g->rec_chans = NULL;
	g->n_rec_chans = 0;
	return 0;
}
