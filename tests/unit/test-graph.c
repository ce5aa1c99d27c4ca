/* The task graph's per-task specs: every task's spec is {"job","task","index","stage"} with the
 * stage's constant JSON, byte for byte what the printf form gives, and parses as JSON; a graph of
 * more tasks than 32-bit indices hold is refused, not wrapped around. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"
#include "scheduler/graph/graph.h"

Test(graph, task_specs_name_job_task_index_and_stage)
{
	const char *pipeline =
	    "{\"name\":\"g\",\"input\":{\"format\":\"grid\",\"channels\":12,\"trials\":11},"
	    "\"steps\":[{\"op\":\"noop\"},{\"op\":\"noop\"},{\"op\":\"reduce\",\"over\":\"trials\"}"
	    ","
	    "{\"op\":\"reduce\",\"over\":\"all\"}],\"execution\":{\"mode\":\"staged\"}}";
	struct graph *g = NULL;
	char *cause = NULL;
	static const uint32_t jobs[] = {1, 9, 10, 4294967295u};

	cr_assert_eq(graph_build(pipeline, NULL, NULL, "/tmp/w", &g, &cause), 0, "%s", cause);
	cr_assert_eq(g->ntasks, 12 * 11 * 2 + 12 + 1);
	for (uint32_t t = 0; t < g->ntasks; t++) {
		uint32_t s = graph_stage_of(g, t), job = jobs[t % 4];
		char *spec = graph_task_spec(g, job, t);
		char *want = xasprintf("{\"job\":%u,\"task\":%u,\"index\":%u,\"stage\":%s}", job, t,
				       t - g->stages[s].first, g->stages[s].spec);
		json_t *j = json_loads(spec, 0, NULL);

		cr_assert_str_eq(spec, want);
		cr_assert_not_null(j, "task %u: %s", t, spec);
		cr_assert_eq(json_integer_value(json_object_get(j, "task")), t);
		json_decref(j);
		free(spec);
		free(want);
	}
	graph_free(g);
}

Test(graph, more_tasks_than_indices_hold_are_refused)
{
	/* 43 staged stages of 1e8 tasks: 4.3e9, which wrapped to 5,032,704 in 32 bits. */
	char *steps = xstrdup(""), *pipeline, *cause = NULL;
	struct graph *g = NULL;

	for (int i = 0; i < 43; i++) {
		char *more = xasprintf("%s%s{\"op\":\"noop\"}", steps, i ? "," : "");
		free(steps);
		steps = more;
	}
	pipeline = xasprintf("{\"input\":{\"format\":\"tasks\",\"count\":100000000},"
			     "\"execution\":{\"mode\":\"staged\"},\"steps\":[%s]}",
			     steps);
	cr_assert_eq(graph_build(pipeline, NULL, NULL, "/tmp/w", &g, &cause), -EINVAL);
	cr_assert_null(g);
	cr_assert_not_null(strstr(cause, "4300000000 tasks"), "%s", cause);
	free(cause);
	free(pipeline);
	free(steps);
	/* Under the limit, the stages add up. */
	pipeline = xstrdup("{\"input\":{\"format\":\"tasks\",\"count\":100000000},"
			   "\"execution\":{\"mode\":\"staged\"},\"steps\":[{\"op\":\"noop\"},"
			   "{\"op\":\"noop\"}]}");
	cr_assert_eq(graph_build(pipeline, NULL, NULL, "/tmp/w", &g, &cause), 0, "%s", cause);
	cr_assert_eq(g->ntasks, 200000000u);
	graph_free(g);
	free(pipeline);
}
