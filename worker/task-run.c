/* One task: parse its spec, then run each step of its stage through the op registry. */
#include "worker/task-run.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>

#include "common/error.h"
#include "worker/op-registry.h"
#include "worker/op-run.h"
#include "worker/task-format.h"

static int
task_run_steps(struct op_run *run, const json_t *steps, char **cause)
{
	size_t i;
	json_t *step;
	int rc = 0;

	json_array_foreach(steps, i, step) {
		const char *name = json_string_value(json_object_get(step, "op"));
		const struct op_def *op = name != NULL ? op_registry_find(name) : NULL;

		if (op == NULL)
			return error_set(cause, -ENOENT, "step %lld: op '%s' is not known to this worker",
					 json_integer_value(json_object_get(step, "index")),
					 name != NULL ? name : "?");
		if (op_run_cancelled(run))
			return error_set(cause, -ECANCELED, "cancelled");
		rc = op->run(run, step, cause);
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
	struct op_run run = {0};
	json_error_t jerr;
	json_t *root, *depsj = NULL, *steps;
	const struct task_format *format = NULL;
	size_t nparts;
	int rc = 0;

	*result = NULL;
	root = json_loads(spec, 0, &jerr);
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
