/* Serial execution of a job's graph in one process: stages in order (an order every dependency
 * respects), single-task stages' results passed on as later tasks' dependencies. */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/paths.h"
#include "common/timeutil.h"
#include "common/xmalloc.h"
#include "scheduler/ctl/ctl-serial.h"
#include "scheduler/ctl/ctl.h"
#include "scheduler/graph/graph.h"
#include "worker/ops/task-run.h"

/* The summary `neurodag run` prints through a scheduler, from the graph and its results. */
static void
ctl_serial_summary(const struct graph *g, bool ok, json_t *results)
{
	json_t *job = json_pack("{s:s, s:s, s:O}", "name", g->name, "state", ok ? "done" : "failed",
				"results", results);
	const char *key;
	json_t *v;

	if (graph_input_path(g) != NULL)
		json_object_set_new(job, "input", json_string(graph_input_path(g)));
	if (graph_output_path(g) != NULL)
		json_object_set_new(job, "output", json_string(graph_output_path(g)));
	json_object_foreach(results, key, v) /* the correction report a step wrote */
		if (json_is_string(json_object_get(v, "report")) &&
		    json_object_get(job, "report") == NULL)
			json_object_set(job, "report", json_object_get(v, "report"));
	ctl_summary_print(stdout, job);
	json_decref(job);
}

static int
ctl_serial_one(const char *text, const char *input, const char *output, int json, bool overwrite)
{
	struct graph *g = NULL;
	char *cause = NULL, *workdir = NULL;
	char tmpl[] = "/tmp/neurodag-serial-XXXXXX";
	json_t *results;
	double t0 = time_mono_s();
	int rc = 0;

	if (mkdtemp(tmpl) != NULL)
		workdir = xstrdup(tmpl);
	if (graph_build(text, input, output, workdir, &g, &cause) != 0 ||
	    graph_check_output(g, overwrite, &cause) != 0) {
		fprintf(stderr, "neurodag run: %s\n", cause);
		free(cause);
		graph_free(g);
		if (workdir != NULL)
			paths_remove_tree(workdir);
		free(workdir);
		return CTL_EXIT_USAGE;
	}
	results = json_object();
	for (uint32_t t = 0; t < g->ntasks && rc == 0; t++) {
		char *spec = graph_task_spec(g, 0, t), *deps = NULL, *result = NULL;

		if (json_object_size(results) > 0)
			deps = json_dumps(results, JSON_COMPACT);
		for (uint32_t attempt = 1; attempt <= 3; attempt++) {
			free(cause);
			cause = NULL;
			rc = task_run(spec, deps, attempt, NULL, &result, &cause);
			if (rc == 0)
				break;
		}
		if (rc == 0 && result != NULL && graph_keeps_result(g, t)) {
			char key[16];
			json_t *v = json_loads(result, JSON_DECODE_ANY, NULL);
			snprintf(key, sizeof key, "%u", t);
			json_object_set_new(results, key, v != NULL ? v : json_string(result));
		}
		if (rc != 0) {
			fprintf(stderr, "neurodag run: task %u (%s) failed: %s\n", t,
				g->stages[graph_stage_of(g, t)].label, cause);
		}
		free(result);
		free(spec);
		free(deps);
	}
	if (json) {
		json_t *rep = json_pack("{s:s, s:s, s:i, s:f, s:O}", "name", g->name, "state",
					rc == 0 ? "done" : "failed", "tasks", (int)g->ntasks,
					"elapsed_s", time_mono_s() - t0, "results", results);
		char *t = json_dumps(rep, json == CTL_OUT_JSON_LINES ? JSON_COMPACT : JSON_INDENT(2));
		printf("%s\n", t);
		free(t);
		json_decref(rep);
	} else {
		fprintf(stderr, "%s: %s, %u tasks in %.3f s (serial)\n", g->name,
			rc == 0 ? "done" : "failed", g->ntasks, time_mono_s() - t0);
		ctl_serial_summary(g, rc == 0, results);
	}
	if (workdir != NULL)
		paths_remove_tree(workdir);
	free(workdir);
	free(cause);
	json_decref(results);
	graph_free(g);
	return rc == 0 ? CTL_EXIT_OK : CTL_EXIT_FAILED;
}

int
ctl_serial_run(const char *pipeline, char **inputs, int ninputs, const char *output, int json,
	       bool overwrite)
{
	char *text = NULL, *cause = NULL, *out_rel;
	int rc = 0;

	mallopt(M_MMAP_THRESHOLD, 1 << 20); /* as in workers (worker-cli.c) */
	if (ctl_read_file(pipeline, &text, &cause) != 0) {
		fprintf(stderr, "neurodag run: %s\n", cause);
		free(cause);
		return CTL_EXIT_USAGE;
	}
	/* Paths in the pipeline file are relative to it, as in `neurodag submit`. */
	out_rel =
	    output != NULL ? paths_absolute(output) : ctl_pipeline_path(text, pipeline, "output");
	if (ninputs == 0) {
		char *in_rel = ctl_pipeline_path(text, pipeline, "input");
		rc = ctl_serial_one(text, in_rel, out_rel, json, overwrite);
		free(in_rel);
	}
	/* --json with several inputs: their reports in one array, as through a scheduler. */
	bool array = json == CTL_OUT_JSON && ninputs > 1;
	if (array)
		printf("[\n");
	for (int i = 0; i < ninputs && rc == 0; i++) {
		char *in = paths_absolute(inputs[i]);
		if (array && i > 0)
			printf(",\n");
		rc = ctl_serial_one(text, in, out_rel, json, overwrite);
		free(in);
	}
	if (array)
		printf("]\n");
	free(out_rel);
	free(text);
	return rc;
}
