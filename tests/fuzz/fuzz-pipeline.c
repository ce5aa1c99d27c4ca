/* libFuzzer target for pipeline validation: any text must build a graph or be refused with a
 * cause, never crash, hang or leak; a built graph must be consistent (stages cover the tasks). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "scheduler/graph/graph.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct graph *g = NULL;
	char *text, *cause = NULL;

	if (size > 65536)
		return 0;
	text = malloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';
	if (graph_build(text, NULL, NULL, "/nonexistent/work", &g, &cause) == 0) {
		uint32_t total = 0;
		for (uint32_t s = 0; s < g->nstages; s++) {
			if (g->stages[s].first != total)
				abort();
			total += g->stages[s].count;
		}
		if (total != g->ntasks)
			abort();
		/* Specs are built for the first and last task of every stage. */
		for (uint32_t s = 0; s < g->nstages && g->ntasks < 1000000; s++) {
			free(graph_task_spec(g, 1, g->stages[s].first));
			free(graph_task_spec(g, 1, g->stages[s].first + g->stages[s].count - 1));
		}
		graph_free(g);
	} else if (cause == NULL) {
		abort();
	}
	free(cause);
	free(text);
	return 0;
}
