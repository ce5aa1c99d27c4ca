/* Building a job's staged task graph from its pipeline, and answering the graph questions the
 * scheduler asks per task: its stage, how many tasks it waits for, who waits for it, its spec. */
#include "scheduler/graph/graph.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/log.h"
#include "common/xmalloc.h"
#include "scheduler/graph/graph-input.h"
#include "worker/ops/trial/data/trial-input.h"
#include "worker/ops/spec/op-param.h"
#include "worker/ops/spec/task-spec.h"

struct graph_builder {
	struct graph *g;
	const json_t *steps;
	const char *workdir;
	uint32_t shape_c, shape_t; /* current unit shape in groups, or 0 after a single task */
	uint32_t cap;
	uint64_t total; /* tasks of every stage so far, including any past GRAPH_MAX_TASKS */
};

static uint32_t
graph_div_up(uint32_t a, uint32_t b)
{
	return (a + b - 1) / b;
}

/* "highpass+upsample+aas": the ops of a stage's steps, built in one pass (a pipeline of many
 * steps must not cost the square of its length). */
static char *
graph_stage_label(const json_t *steps)
{
	size_t len = 0, i;
	json_t *step;
	char *label, *p;

	json_array_foreach(steps, i, step)
		len += strlen(json_string_value(json_object_get(step, "op"))) + 1;
	p = label = xmalloc(len + 1);
	json_array_foreach(steps, i, step)
	{
		const char *op = json_string_value(json_object_get(step, "op"));
		size_t k = strlen(op);

		if (p != label)
			*p++ = '+';
		memcpy(p, op, k);
		p += k;
	}
	*p = '\0';
	return label;
}

/* Add a stage running steps idx[0..n) of kind `kind` with `count` tasks. */
static void
graph_add_stage(struct graph_builder *b, enum op_kind kind, const uint32_t *idx, uint32_t n,
		uint32_t count, uint32_t shape_c, uint32_t shape_t, enum graph_dep dep,
		uint32_t group)
{
	struct graph *g = b->g;
	struct graph_stage *st;
	json_t *spec, *steps;

	/* Task indices are 32-bit: a graph that would have more is refused (graph_stages). */
	b->total += count;
	if (b->total > GRAPH_MAX_TASKS)
		return;
	steps = json_array();
	if (g->nstages == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 8;
		g->stages = xreallocarray(g->stages, b->cap, sizeof *g->stages);
	}
	if (g->nstages == 0)
		dep = GRAPH_DEP_NONE;
	st = &g->stages[g->nstages];
	memset(st, 0, sizeof *st);
	st->kind = kind;
	st->dep = dep;
	st->group = group;
	st->first = g->ntasks;
	st->count = count;
	for (uint32_t i = 0; i < n; i++) {
		json_t *step = json_deep_copy(json_array_get(b->steps, idx[i]));
		if (json_object_get(step, "index") == NULL) /* set by graph_input_prepare */
			json_object_set_new(step, "index", json_integer(idx[i]));
		json_array_append_new(steps, step);
	}
	st->label = graph_stage_label(steps);
	{
		struct task_stage ts = {
		    .kind = kind,
		    .index = (int)g->nstages,
		    .staged = g->staged,
		    .grid = {g->nchan, g->ntrial, g->cpt, g->tpt, shape_c, shape_t},
		    .workdir = b->workdir,
		    .ref_channel = kind == OP_RUN_ONCE ? g->ref_channel : NULL,
		    .steps = steps,
		    .input = json_object_get(g->pipeline, "input"),
		    .output = json_object_get(g->pipeline, "output"),
		};
		spec = task_spec_stage_json(&ts);
		json_decref(steps);
	}
	st->spec = json_dumps(spec, JSON_COMPACT);
	st->spec_len = strlen(st->spec);
	json_decref(spec);
	g->ntasks += count;
	g->nstages++;
	b->shape_c = shape_c;
	b->shape_t = shape_t;
}

static void
graph_add_units(struct graph_builder *b, const uint32_t *idx, uint32_t n)
{
	struct graph *g = b->g;
	uint32_t c = graph_div_up(g->nchan, g->cpt), t = graph_div_up(g->ntrial, g->tpt);
	enum graph_dep dep = (b->shape_c == c && b->shape_t == t) ? GRAPH_DEP_ONE : GRAPH_DEP_ALL;

	graph_add_stage(b, OP_UNIT, idx, n, c * t, c, t, dep, 0);
}

static int
graph_execution(struct graph *g, const json_t *ex, char **cause)
{
	static const char *const keys[] = {"mode",     "chan_per_task", "trials_per_task",
					   "min_workers", "priority", "task_timeout",  NULL};
	const char *mode;
	long long v;

	g->cpt = g->tpt = 0; /* the input's default (graph_grid_defaults) */
	g->min_workers = 1;
	if (ex == NULL)
		return 0;
	if (!json_is_object(ex))
		return error_set(cause, -EINVAL, "execution: must be an object");
	if (op_param_keys(ex, "execution", keys, cause) != 0 ||
	    op_param_string(ex, "execution", "mode", 0, "fused", &mode, cause) != 0)
		return -EINVAL;
	if (strcmp(mode, "fused") != 0 && strcmp(mode, "staged") != 0)
		return error_set(cause, -EINVAL, "execution.mode: must be \"fused\" or \"staged\"");
	g->staged = strcmp(mode, "staged") == 0;
	if (op_param_int(ex, "execution", "chan_per_task", 0, 1, 100000, 0, &v, cause) != 0)
		return -EINVAL;
	g->cpt = (uint32_t)v;
	if (op_param_int(ex, "execution", "trials_per_task", 0, 1, 100000000, 0, &v, cause) != 0)
		return -EINVAL;
	g->tpt = (uint32_t)v;
	if (op_param_int(ex, "execution", "min_workers", 0, 0, 100000, 1, &v, cause) != 0)
		return -EINVAL;
	g->min_workers = (uint32_t)v;
	if (op_param_int(ex, "execution", "priority", 0, -1000000, 1000000, 0, &v, cause) != 0)
		return -EINVAL;
	g->priority = (int32_t)v;
	return op_param_number(ex, "execution", "task_timeout", 0, 0.001, 1e9, 0,
			       &g->task_timeout_s, cause);
}

static int
graph_stages(struct graph_builder *b, char **cause)
{
	struct graph *g = b->g;
	size_t n = json_array_size(b->steps);
	uint32_t *pending = xcalloc(n + 1, sizeof *pending), npending = 0;
	uint32_t *once = xcalloc(n + 1, sizeof *once);
	int rc = 0;

	for (size_t i = 0; i < n && rc == 0; i++) {
		json_t *step = json_array_get(b->steps, i);
		const struct op_def *op =
		    op_registry_find(json_string_value(json_object_get(step, "op")));
		uint32_t idx = (uint32_t)i;

		switch (op->kind) {
		case OP_UNIT:
			if (g->staged)
				graph_add_units(b, &idx, 1);
			else
				pending[npending++] = idx;
			break;
		case OP_RUN_ONCE: {
			/* Run-once steps see the reference channel after the unit steps before
			 * them; in fused mode the run-once task recomputes those, and the unit
			 * stage that follows still runs them on every channel. */
			uint32_t nonce = 0;
			memcpy(once, pending, npending * sizeof *once);
			nonce = npending;
			while (i < n) {
				json_t *s2 = json_array_get(b->steps, i);
				const struct op_def *o2 =
				    op_registry_find(json_string_value(json_object_get(s2, "op")));
				if (o2->kind != OP_RUN_ONCE)
					break;
				once[nonce++] = (uint32_t)i++;
			}
			i--;
			graph_add_stage(b, OP_RUN_ONCE, once, nonce, 1, 0, 0, GRAPH_DEP_ALL, 0);
			break;
		}
		case OP_GLOBAL:
			if (npending > 0)
				graph_add_units(b, pending, npending);
			npending = 0;
			graph_add_stage(b, OP_GLOBAL, &idx, 1, 1, 0, 0, GRAPH_DEP_ALL, 0);
			break;
		case OP_REDUCE: {
			const char *over = json_string_value(json_object_get(step, "over"));
			if (npending > 0)
				graph_add_units(b, pending, npending);
			npending = 0;
			if (over != NULL && strcmp(over, "trials") == 0 && b->shape_c > 0 &&
			    b->shape_t > 1)
				graph_add_stage(b, OP_REDUCE, &idx, 1, b->shape_c, b->shape_c, 1,
						GRAPH_DEP_GROUP, b->shape_t);
			else
				graph_add_stage(b, OP_REDUCE, &idx, 1, 1, 0, 0, GRAPH_DEP_ALL, 0);
			break;
		}
		}
	}
	if (npending > 0)
		graph_add_units(b, pending, npending);
	free(pending);
	free(once);
	if (rc == 0 && b->total > GRAPH_MAX_TASKS)
		rc = error_set(cause, -EINVAL,
			       "the pipeline makes %llu tasks, more than a job can have (%u): use "
			       "larger chan_per_task or trials_per_task, fused mode, or split the "
			       "input",
			       (unsigned long long)b->total, GRAPH_MAX_TASKS);
	if (rc == 0 && g->nstages == 0)
		rc = error_set(cause, -EINVAL, "steps: the pipeline has no steps");
	return rc;
}

static int
graph_validate_steps(const json_t *steps, char **cause)
{
	size_t i;
	json_t *step;

	if (!json_is_array(steps))
		return error_set(cause, -EINVAL, "steps: required, an array of {\"op\": ...}");
	if (json_array_size(steps) > GRAPH_MAX_STEPS)
		return error_set(cause, -EINVAL,
				 "steps: %zu steps, more than a pipeline may have (%d): split it "
				 "into several jobs",
				 json_array_size(steps), GRAPH_MAX_STEPS);
	json_array_foreach(steps, i, step)
	{
		char path[32];
		const char *name = json_string_value(json_object_get(step, "op"));
		const struct op_def *op;

		snprintf(path, sizeof path, "steps[%zu]", i);
		if (!json_is_object(step))
			return error_set(cause, -EINVAL, "%s: must be an object", path);
		if (name == NULL)
			return error_set(cause, -EINVAL, "%s.op: required, a string", path);
		op = op_registry_find(name);
		if (op == NULL) {
			char *known = op_registry_names();
			error_set(cause, -EINVAL, "%s.op: unknown op '%s' (known: %s)", path, name,
				  known);
			free(known);
			return -EINVAL;
		}
		if (op_param_reserved(step, path, cause) != 0 ||
		    op_def_check(op, step, path, cause) != 0)
			return -EINVAL;
	}
	return 0;
}

/* Add "(line L, column C)" for the JSON path that starts the cause ("steps[2].ms: ..."). */
static int
graph_locate_cause(const char *text, int rc, char **cause)
{
	int line, col;
	char *path, *msg;

	if (cause == NULL || *cause == NULL)
		return rc;
	path = xstrndup(*cause, strcspn(*cause, ": "));
	if (pipeline_locate(text, path, &line, &col)) {
		msg = xasprintf("%s (line %d, column %d)", *cause, line, col);
		free(*cause);
		*cause = msg;
	}
	free(path);
	return rc;
}

/* INPUT and -o replace input.path and output.path; a pipeline that makes its own input (synth,
 * tasks, grid) takes no input file. */
static int
graph_set_paths(json_t *root, const char *input, const char *output, char **cause)
{
	if (input != NULL) {
		json_t *in = json_object_get(root, "input");
		const char *own = json_string_value(json_object_get(in, "format"));
		if (own != NULL && (strcmp(own, "synth") == 0 || strcmp(own, "tasks") == 0 ||
				    strcmp(own, "grid") == 0)) {
			return error_set(
			    cause, -EINVAL,
			    "input %s: this pipeline makes its own input (input.format "
			    "\"%s\") and reads no file: run it without an input, or "
			    "with a pipeline that reads recordings or trials",
			    input, own);
		}
		if (!json_is_object(in))
			json_object_set_new(root, "input", in = json_object());
		json_object_set_new(in, "path", json_string(input));
	}
	if (output != NULL) {
		json_t *o = json_object_get(root, "output");
		if (!json_is_object(o))
			json_object_set_new(root, "output", o = json_object());
		json_object_set_new(o, "path", json_string(output));
	}
	return 0;
}

int
graph_build(const char *text, const char *input, const char *output, const char *workdir,
	    struct graph **out, char **cause)
{
	static const char *const keys[] = {"name", "input", "steps", "output", "execution", NULL};
	struct graph_builder b = {0};
	struct trial_input *tin = NULL;
	struct graph *g;
	json_error_t jerr;
	json_t *root;
	int rc;

	root = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL)
		return error_set(cause, -EINVAL,
				 "pipeline is not valid JSON: %s (line %d, column %d)", jerr.text,
				 jerr.line, jerr.column);
	if (!json_is_object(root)) {
		json_decref(root);
		return error_set(cause, -EINVAL, "pipeline: must be a JSON object");
	}
	g = xcalloc(1, sizeof *g);
	g->pipeline = root;
	if ((rc = graph_set_paths(root, input, output, cause)) != 0) {
		graph_free(g);
		return rc;
	}
	graph_input_formats(root, input != NULL, output != NULL);
	rc = op_param_keys(root, "pipeline", keys, cause);
	if (rc == 0)
		rc = graph_output_take_overwrite(g, root, cause);
	if (rc == 0 && json_object_get(root, "name") != NULL &&
	    !json_is_string(json_object_get(root, "name")))
		rc = error_set(cause, -EINVAL, "name: must be a string");
	if (rc == 0)
		rc = graph_execution(g, json_object_get(root, "execution"), cause);
	if (rc == 0 && trial_input_claims(json_object_get(root, "input")))
		rc = graph_input_trials_open(json_object_get(root, "input"), &tin, &g->nchan,
					     &g->ntrial, cause);
	else if (rc == 0)
		rc = graph_input_units(json_object_get(root, "input"), g, cause);
	if (rc == 0)
		rc = graph_validate_steps(json_object_get(root, "steps"), cause);
	if (rc == 0 && tin != NULL)
		rc = graph_input_trials_prepare(g, root, tin, cause);
	else if (rc == 0 &&
		 (rc = graph_input_trials_reject(json_object_get(root, "steps"), cause)) == 0)
		rc = graph_input_prepare(g, root, cause);
	trial_input_close(tin);
	if (rc == 0) {
		const char *name = json_string_value(json_object_get(root, "name"));
		g->name = xstrdup(name != NULL ? name : "pipeline");
		b.g = g;
		b.steps = json_object_get(root, "steps");
		b.workdir = workdir != NULL ? workdir : "";
		rc = graph_stages(&b, cause);
	}
	if (rc != 0) {
		graph_free(g);
		return graph_locate_cause(text, rc, cause);
	}
	*out = g;
	return 0;
}

void
graph_free(struct graph *g)
{
	if (g == NULL)
		return;
	for (uint32_t i = 0; i < g->nstages; i++) {
		free(g->stages[i].label);
		free(g->stages[i].spec);
	}
	free(g->stages);
	free(g->name);
	free(g->ref_channel);
	free(g->rec_chans);
	json_decref(g->pipeline);
	free(g);
}

uint32_t
graph_stage_of(const struct graph *g, uint32_t task)
{
	uint32_t lo = 0, hi = g->nstages;

	while (hi - lo > 1) {
		uint32_t mid = (lo + hi) / 2;
		if (g->stages[mid].first <= task)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

uint32_t
graph_deps_count(const struct graph *g, uint32_t task)
{
	uint32_t s = graph_stage_of(g, task);
	const struct graph_stage *st = &g->stages[s];

	switch (st->dep) {
	case GRAPH_DEP_NONE:
		return 0;
	case GRAPH_DEP_ALL:
		return g->stages[s - 1].count;
	case GRAPH_DEP_ONE:
		return 1;
	case GRAPH_DEP_GROUP: {
		uint32_t prev = g->stages[s - 1].count, i = task - st->first;
		uint32_t lo = i * st->group, hi = lo + st->group < prev ? lo + st->group : prev;
		return hi - lo;
	}
	}
	return 0;
}

void
graph_dependents(const struct graph *g, uint32_t task, graph_task_cb cb, void *arg)
{
	uint32_t s = graph_stage_of(g, task), i = task - g->stages[s].first;
	const struct graph_stage *next;

	if (s + 1 >= g->nstages)
		return;
	next = &g->stages[s + 1];
	switch (next->dep) {
	case GRAPH_DEP_NONE:
		break;
	case GRAPH_DEP_ALL:
		for (uint32_t k = 0; k < next->count; k++)
			cb(next->first + k, arg);
		break;
	case GRAPH_DEP_ONE:
		cb(next->first + i, arg);
		break;
	case GRAPH_DEP_GROUP:
		cb(next->first + i / next->group, arg);
		break;
	}
}

/* Append `s` (length n) at p; returns the end. */
static char *
graph_put(char *p, const char *s, size_t n)
{
	memcpy(p, s, n);
	return p + n;
}

static char *
graph_put_u32(char *p, uint32_t v)
{
	char digits[10];
	int n = 0;

	do {
		digits[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0);
	while (n > 0)
		*p++ = digits[--n];
	return p;
}

/* Called once per dispatched task: built with copies, not printf, since the stage part is long. */
char *
graph_task_spec(const struct graph *g, uint32_t job, uint32_t task)
{
	static const char k_job[] = "{\"job\":", k_task[] = ",\"task\":", k_index[] = ",\"index\":",
			  k_stage[] = ",\"stage\":";
	const struct graph_stage *st = &g->stages[graph_stage_of(g, task)];
	char *spec = xmalloc(sizeof k_job + sizeof k_task + sizeof k_index + sizeof k_stage + 30 +
			     st->spec_len + 2);
	char *p = spec;

	p = graph_put_u32(graph_put(p, k_job, sizeof k_job - 1), job);
	p = graph_put_u32(graph_put(p, k_task, sizeof k_task - 1), task);
	p = graph_put_u32(graph_put(p, k_index, sizeof k_index - 1), task - st->first);
	p = graph_put(graph_put(p, k_stage, sizeof k_stage - 1), st->spec, st->spec_len);
	*p++ = '}';
	*p = '\0';
	return spec;
}

bool
graph_keeps_result(const struct graph *g, uint32_t task)
{
	return g->stages[graph_stage_of(g, task)].count == 1;
}
