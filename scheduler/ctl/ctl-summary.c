/* What a finished job made, in a few lines for a person: per recording the artifact reduction
 * (median dB and µV residual against the clean reference when there is one, and the
 * reference-free figures), per spectral job its output's class and shape; then the report and
 * the output paths, absolute. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "scheduler/ctl/ctl.h"

static const char *
ctl_summary_base(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash != NULL ? slash + 1 : path;
}

static bool
ctl_summary_num(json_t *o, const char *key, double *v)
{
	json_t *x = json_object_get(o, key);

	if (!json_is_number(x) || !isfinite(json_number_value(x)))
		return false;
	*v = json_number_value(x);
	return true;
}

/* The metrics step's figures (op-rec-metrics.c): medians over the channels. */
static void
ctl_summary_metrics(FILE *out, const char *what, json_t *m)
{
	double db, uv, ratio, art;
	const char *sep = "";

	fprintf(out, "%s:", what);
	if (ctl_summary_num(m, "artifact_reduction_db", &db)) {
		fprintf(out, " artifact reduction %.2f dB", db);
		if (ctl_summary_num(m, "residual_uv", &uv))
			fprintf(out, ", residual %.3f \u00b5V", uv);
		fprintf(out, " (medians over %lld channels);",
			json_integer_value(json_object_get(m, "channels")));
	}
	fprintf(out, " reference-free:");
	if (ctl_summary_num(m, "rms_ratio", &ratio)) {
		fprintf(out, " RMS uncorrected/corrected %.2f", ratio);
		sep = ",";
	}
	if (ctl_summary_num(m, "median_artifact_ratio", &art))
		fprintf(out, "%s median artifact %.2f\u00d7 the artifact-free period's", sep, art);
	fputc('\n', out);
}

static void
ctl_summary_shape(FILE *out, const char *what, json_t *r)
{
	size_t i;
	json_t *d;

	fprintf(out, "%s: %s of shape ", what,
		json_is_string(json_object_get(r, "class"))
		    ? json_string_value(json_object_get(r, "class"))
		    : "data");
	json_array_foreach(json_object_get(r, "shape"), i, d)
	    fprintf(out, "%s%lld", i > 0 ? " \u00d7 " : "", json_integer_value(d));
	fputc('\n', out);
}

void
ctl_summary_print(FILE *out, json_t *job)
{
	const char *input = json_string_value(json_object_get(job, "input"));
	const char *name = json_string_value(json_object_get(job, "name"));
	const char *what = input != NULL ? ctl_summary_base(input) : name != NULL ? name : "job";
	const char *key, *output = json_string_value(json_object_get(job, "output"));
	json_t *v;
	size_t i;

	json_object_foreach(json_object_get(job, "results"), key, v)
	{
		if (json_is_object(json_object_get(v, "metrics")))
			ctl_summary_metrics(out, what, json_object_get(v, "metrics"));
		else if (json_is_array(json_object_get(v, "shape")))
			ctl_summary_shape(out, what, v);
	}
	if (json_is_string(json_object_get(job, "report")))
		fprintf(out, "report: %s\n", json_string_value(json_object_get(job, "report")));
	if (output != NULL && strcmp(json_string_value(json_object_get(job, "state")), "done") == 0)
		fprintf(out, "output: %s\n", output);
	else if (output == NULL)
		json_array_foreach(json_object_get(job, "outputs"), i, v)
		    fprintf(out, "output: %s\n", json_string_value(v));
}
