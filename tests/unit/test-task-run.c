/* Running a task from its spec: the per-thread stage cache gives the same runs as parsing every
 * spec in full (job, task and index follow each spec; a changed stage is re-parsed; specs in
 * another layout still run). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"
#include "worker/ops/op-registry.h"
#include "worker/ops/spec/op-run.h"
#include "worker/ops/task-run.h"

/* An op that reports what the run saw: the numbers, the spec's task, and its step's "tag". */
static int
test_task_run_echo(struct op_run *run, const json_t *step, char **cause)
{
	run->result = json_pack("{s:I, s:I, s:o, s:O}", "job", (json_int_t)run->spec.job, "index",
				(json_int_t)run->spec.index, "task", json_integer(run->spec.task),
				"tag", json_object_get(step, "tag"));
	return 0;
}

static int
test_task_run_validate(const json_t *step, const char *path, char **cause)
{
	return 0;
}

static const struct op_def test_task_run_op = {.name = "echo",
					       .kind = OP_UNIT,
					       .summary = "test",
					       .validate = test_task_run_validate,
					       .run = test_task_run_echo};

static void
test_task_run_setup(void)
{
	char *cause = NULL;

	if (op_registry_find("echo") == NULL)
		cr_assert_eq(op_registry_add(&test_task_run_op, &cause), 0, "%s", cause);
}

/* The rest of a unit stage's typed spec (task-spec.h). */
#define TEST_TASK_RUN_STAGE                                                                        \
	"\"stage\":0,\"grid\":{\"channels\":1,\"trials\":1,\"chan_per_task\":1,"                  \
	"\"trials_per_task\":1,\"shape\":[1,1]},"

static char *
test_task_run_spec(unsigned job, unsigned task, unsigned index, const char *tag)
{
	return xasprintf("{\"job\":%u,\"task\":%u,\"index\":%u,\"stage\":{\"kind\":\"unit\","
			 TEST_TASK_RUN_STAGE "\"steps\":[{\"op\":\"echo\",\"tag\":\"%s\",\"index\":0}]}}",
			 job, task, index, tag);
}

static char *
test_task_run_one(struct task_run_cache *cache, const char *spec)
{
	char *result = NULL, *cause = NULL;
	int rc = task_run_cached(cache, spec, NULL, 1, NULL, &result, &cause);

	cr_assert_eq(rc, 0, "%s", cause);
	cr_assert_not_null(result);
	return result;
}

TestSuite(task_run, .init = test_task_run_setup);

/* Stages repeat, interleave, and outnumber the cache (11 tags), so entries are hit, moved and
 * evicted. */
Test(task_run, cached_runs_equal_uncached_runs)
{
	struct task_run_cache *cache = task_run_cache_new();

	for (unsigned i = 0; i < 60; i++) {
		char tag[16];
		snprintf(tag, sizeof tag, "t%u", i < 10 ? 0 : (i * i) % 11);
		char *spec = test_task_run_spec(7 + i % 2, 100 + i, i * 3, tag);
		char *cached = test_task_run_one(cache, spec),
		     *plain = test_task_run_one(NULL, spec);
		char *want = xasprintf("{\"job\":%u,\"index\":%u,\"task\":%u,\"tag\":\"%s\"}",
				       7 + i % 2, i * 3, 100 + i, tag);

		cr_assert_str_eq(cached, want);
		cr_assert_str_eq(plain, want);
		free(cached);
		free(plain);
		free(want);
		free(spec);
	}
	task_run_cache_free(cache);
}

Test(task_run, other_layouts_parse_in_full)
{
	struct task_run_cache *cache = task_run_cache_new();
	char *spec = test_task_run_spec(1, 2, 3, "x");
	char *r1 = test_task_run_one(cache, spec), *r2;
	/* Same stage, keys in another order: the numbers must come from this spec. */
	const char *other = "{\"stage\":{\"kind\":\"unit\"," TEST_TASK_RUN_STAGE "\"steps\":[{\"op\":\"echo\",\"tag\":"
			    "\"x\",\"index\":0}]},\"index\":9,\"task\":8,\"job\":1}";

	cr_assert_str_eq(r1, "{\"job\":1,\"index\":3,\"task\":2,\"tag\":\"x\"}");
	r2 = test_task_run_one(cache, other);
	cr_assert_str_eq(r2, "{\"job\":1,\"index\":9,\"task\":8,\"tag\":\"x\"}");
	free(r1);
	free(r2);
	r1 = test_task_run_one(cache, spec);
	cr_assert_str_eq(r1, "{\"job\":1,\"index\":3,\"task\":2,\"tag\":\"x\"}");
	free(r1);
	free(spec);
	task_run_cache_free(cache);
}

Test(task_run, bad_specs_fail_with_a_cause)
{
	struct task_run_cache *cache = task_run_cache_new();
	char *result = NULL, *cause = NULL;

	cr_assert_neq(task_run_cached(cache, "{\"job\":1,\"task\":2,\"index\":3,\"stage\":{", NULL,
				      1, NULL, &result, &cause),
		      0);
	cr_assert_not_null(cause);
	cr_assert_null(result);
	free(cause);
	task_run_cache_free(cache);
}
