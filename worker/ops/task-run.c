/* One task: parse its spec, then run each step of its stage through the op registry. A thread
 * that runs many tasks keeps the stages it parsed last, so tasks of a stage skip re-parsing it
 * (also when stages or jobs interleave). */
#include "worker/ops/task-run.h"

#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/xmalloc.h"
#include "worker/ops/op-registry.h"
#include "worker/ops/spec/op-run.h"
#include "worker/ops/task-format.h"

#define TASK_RUN_CACHE_SIZE 8

struct task_run_cache_entry {
	char *stage; /* the stage's JSON text as it appeared in the spec */
	size_t stage_len;
	json_t *root; /* the whole spec parsed; job, task and index are rewritten per task */
};

/* Most recently used first. */
struct task_run_cache {
	struct task_run_cache_entry e[TASK_RUN_CACHE_SIZE];
};

struct task_run_cache *
task_run_cache_new(void)
{
	return xcalloc(1, sizeof(struct task_run_cache));
}

void
task_run_cache_free(struct task_run_cache *cache)
{
	if (cache == NULL)
		return;
	for (int i = 0; i < TASK_RUN_CACHE_SIZE; i++) {
		free(cache->e[i].stage);
		json_decref(cache->e[i].root);
	}
	free(cache);
}

/* Move entry i to the front. */
static void
task_run_cache_touch(struct task_run_cache *cache, int i)
{
	struct task_run_cache_entry hit = cache->e[i];

	memmove(&cache->e[1], &cache->e[0], (size_t)i * sizeof hit);
	cache->e[0] = hit;
}

/* Split a spec in the scheduler's layout {"job":J,"task":T,"index":I,"stage":{...}} into its
 * three numbers and the stage text. False for any other layout (then it is parsed in full). */
static bool
task_run_cache_head(const char *spec, json_int_t v[3], const char **stage, size_t *stage_len)
{
	static const char *const keys[] = {"{\"job\":", ",\"task\":", ",\"index\":", ",\"stage\":"};
	const char *p = spec;
	size_t n;

	for (int i = 0; i < 4; i++) {
		n = strlen(keys[i]);
		if (strncmp(p, keys[i], n) != 0)
			return false;
		p += n;
		if (i == 3)
			break;
		if (*p < '0' || *p > '9')
			return false;
		v[i] = 0;
		for (; *p >= '0' && *p <= '9'; p++) {
			v[i] = v[i] * 10 + (*p - '0');
			if (v[i] > UINT32_MAX)
				return false;
		}
	}
	n = strlen(p);
	if (n < 3 || *p != '{' || p[n - 1] != '}')
		return false;
	*stage = p;
	*stage_len = n - 1;
	return true;
}

static bool
task_run_cache_numbers_are(json_t *root, const json_int_t v[3])
{
	static const char *const keys[] = {"job", "task", "index"};

	for (int i = 0; i < 3; i++) {
		json_t *x = json_object_get(root, keys[i]);
		if (!json_is_integer(x) || json_integer_value(x) != v[i])
			return false;
	}
	return json_is_object(json_object_get(root, "stage"));
}

/* The parsed spec: from the cache when its stage text is the cached one (a new reference either
 * way), else parsed and, when it has the scheduler's layout, cached. */
static json_t *
task_run_cache_parse(struct task_run_cache *cache, const char *spec, json_error_t *jerr)
{
	json_int_t v[3];
	const char *stage;
	size_t len;
	json_t *root;
	bool head = cache != NULL && task_run_cache_head(spec, v, &stage, &len);

	for (int i = 0; head && i < TASK_RUN_CACHE_SIZE && cache->e[i].root != NULL; i++) {
		struct task_run_cache_entry *e = &cache->e[i];
		if (e->stage_len != len || memcmp(e->stage, stage, len) != 0)
			continue;
		json_integer_set(json_object_get(e->root, "job"), v[0]);
		json_integer_set(json_object_get(e->root, "task"), v[1]);
		json_integer_set(json_object_get(e->root, "index"), v[2]);
		root = json_incref(e->root);
		task_run_cache_touch(cache, i);
		return root;
	}
	root = json_loads(spec, 0, jerr);
	if (root != NULL && head && task_run_cache_numbers_are(root, v)) {
		struct task_run_cache_entry *last = &cache->e[TASK_RUN_CACHE_SIZE - 1];
		free(last->stage);
		json_decref(last->root);
		last->stage = xmalloc(len);
		memcpy(last->stage, stage, len);
		last->stage_len = len;
		last->root = json_incref(root);
		task_run_cache_touch(cache, TASK_RUN_CACHE_SIZE - 1);
	}
	return root;
}

static int
task_run_steps(struct op_run *run, const json_t *steps, char **cause)
{
	size_t i;
	json_t *step;
	int rc = 0;

	json_array_foreach(steps, i, step)
	{
		const char *name = json_string_value(json_object_get(step, "op"));
		const struct op_def *op = name != NULL ? op_registry_find(name) : NULL;

		if (op == NULL)
			return error_set(cause, -ENOENT,
					 "step %lld: op '%s' is not known to this worker",
					 json_integer_value(json_object_get(step, "index")),
					 name != NULL ? name : "?");
		char path[32];
		void *params;

		if (op_run_cancelled(run))
			return error_set(cause, -ECANCELED, "cancelled");
		snprintf(path, sizeof path, "steps[%lld]",
			 json_integer_value(json_object_get(step, "index")));
		if ((rc = op_def_parse(op, step, path, &params, cause)) != 0)
			return rc;
		run->op = op;
		run->params = params;
		rc = op->run(run, step, cause);
		run->params = NULL;
		free(params);
		if (rc != 0)
			return error_wrap(cause, rc, "step %lld (%s): ",
					  json_integer_value(json_object_get(step, "index")), name);
	}
	return 0;
}

int
task_run(const char *spec, const char *deps, uint32_t attempt, atomic_int *cancel, char **result,
	 char **cause)
{
	return task_run_cached(NULL, spec, deps, attempt, cancel, result, cause);
}

int
task_run_cached(struct task_run_cache *cache, const char *spec, const char *deps, uint32_t attempt,
		atomic_int *cancel, char **result, char **cause)
{
	struct op_run run = {0};
	json_error_t jerr;
	json_t *root, *depsj = NULL;
	const json_t *steps;
	const struct task_format *format = NULL;
	size_t nparts;
	int rc = 0;

	*result = NULL;
	root = task_run_cache_parse(cache, spec, &jerr);
	if (root == NULL)
		return error_set(cause, -EINVAL, "task spec is not JSON: %s", jerr.text);
	if (deps != NULL && (depsj = json_loads(deps, 0, &jerr)) == NULL) {
		json_decref(root);
		return error_set(cause, -EINVAL, "task dependencies are not JSON: %s", jerr.text);
	}
	if ((rc = task_spec_read(root, &run.spec, cause)) != 0)
		goto out;
	run.deps = depsj;
	run.attempt = attempt;
	run.cancel = cancel;
	steps = run.spec.stage.steps;
	format = task_format_find(run.spec.stage.input);
	if (format != NULL && (rc = format->begin(&run, cause)) != 0) {
		format->end(&run, rc, NULL); /* frees what begin had loaded */
		goto out;
	}
	nparts = format != NULL && format->parts != NULL ? format->parts(&run) : 1;
	for (size_t part = 0; part < nparts && rc == 0; part++) {
		if (format != NULL && format->load != NULL &&
		    (rc = format->load(&run, part, cause)) != 0)
			break;
		rc = task_run_steps(&run, steps, cause);
		if (format != NULL && format->save != NULL) {
			int rc2 = format->save(&run, part, rc, cause);
			if (rc == 0)
				rc = rc2;
		}
	}
	if (format != NULL) {
		int rc2 = format->end(&run, rc, cause);
		if (rc == 0)
			rc = rc2;
	}
	if (rc == 0 && run.result != NULL)
		*result = json_dumps(run.result, JSON_COMPACT);
out:
	json_decref(run.result);
	json_decref(depsj);
	json_decref(root);
	return rc;
}
