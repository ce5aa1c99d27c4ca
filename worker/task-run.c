/* One task: parse its spec, then run each step of its stage through the op registry. A thread
 * that runs many tasks keeps the last parsed stage, so tasks of one stage skip re-parsing it. */
#include "worker/task-run.h"

#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/xmalloc.h"
#include "worker/op-registry.h"
#include "worker/op-run.h"
#include "worker/task-format.h"

struct task_run_cache {
	char *stage;      /* the stage's JSON text as it appeared in the spec */
	size_t stage_len;
	json_t *root;     /* the whole spec parsed; job, task and index are rewritten per task */
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
	free(cache->stage);
	json_decref(cache->root);
	free(cache);
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

	if (head && cache->root != NULL && cache->stage_len == len &&
	    memcmp(cache->stage, stage, len) == 0) {
		json_integer_set(json_object_get(cache->root, "job"), v[0]);
		json_integer_set(json_object_get(cache->root, "task"), v[1]);
		json_integer_set(json_object_get(cache->root, "index"), v[2]);
		return json_incref(cache->root);
	}
	root = json_loads(spec, 0, jerr);
	if (root != NULL && head && task_run_cache_numbers_are(root, v)) {
		free(cache->stage);
		json_decref(cache->root);
		cache->stage = xmalloc(len);
		memcpy(cache->stage, stage, len);
		cache->stage_len = len;
		cache->root = json_incref(root);
	}
	return root;
}

int
task_run(const char *spec, const char *deps, uint32_t attempt, atomic_int *cancel, char **result,
	 char **cause)
{
	return task_run_cached(NULL, spec, deps, attempt, cancel, result, cause);
}

int
task_run_cached(struct task_run_cache *cache, const char *spec, const char *deps,
		uint32_t attempt, atomic_int *cancel, char **result, char **cause)
{
	struct op_run run = {0};
	json_error_t jerr;
	json_t *root, *depsj = NULL, *steps, *step;
	const struct task_format *format = NULL;
	size_t i;
	int rc = 0;

	*result = NULL;
	root = task_run_cache_parse(cache, spec, &jerr);
	if (root == NULL)
		return error_set(cause, -EINVAL, "task spec is not JSON: %s", jerr.text);
	if (deps != NULL && (depsj = json_loads(deps, 0, &jerr)) == NULL) {
		json_decref(root);
		return error_set(cause, -EINVAL, "task dependencies are not JSON: %s", jerr.text);
	}
	run.spec = root;
	run.stage = json_object_get(root, "stage");
	run.deps = depsj;
	run.job = (uint32_t)json_integer_value(json_object_get(root, "job"));
	run.index = (uint32_t)json_integer_value(json_object_get(root, "index"));
	run.attempt = attempt;
	run.workdir = json_string_value(json_object_get(run.stage, "workdir"));
	run.cancel = cancel;
	steps = json_object_get(run.stage, "steps");
	if (!json_is_array(steps)) {
		rc = error_set(cause, -EINVAL, "task spec has no steps");
		goto out;
	}
	format = task_format_find(
		json_string_value(json_object_get(json_object_get(run.stage, "input"), "format")));
	if (format != NULL && (rc = format->begin(&run, cause)) != 0)
		goto out;
	json_array_foreach(steps, i, step) {
		const char *name = json_string_value(json_object_get(step, "op"));
		const struct op_def *op = name != NULL ? op_registry_find(name) : NULL;

		if (op == NULL) {
			rc = error_set(cause, -ENOENT, "step %lld: op '%s' is not known to this worker",
				       json_integer_value(json_object_get(step, "index")),
				       name != NULL ? name : "?");
			break;
		}
		if (op_run_cancelled(&run)) {
			rc = error_set(cause, -ECANCELED, "cancelled");
			break;
		}
		rc = op->run(&run, step, cause);
		if (rc != 0) {
			error_wrap(cause, rc, "step %lld (%s): ",
				   json_integer_value(json_object_get(step, "index")), name);
			break;
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
