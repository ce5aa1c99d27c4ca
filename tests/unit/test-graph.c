/* The task graph's per-task specs: every task's spec is {"job","task","index","stage"} with the
 * stage's constant JSON, byte for byte what the printf form gives, and parses as JSON. */
#include <criterion/criterion.h>
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
