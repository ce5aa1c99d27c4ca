/* What one task run hands to the ops it executes: its spec and upstream results, where bulk
 * data lives, the cancellation flag, and the inline result the ops build. */
#ifndef ND_OP_RUN_H
#define ND_OP_RUN_H

#include <jansson.h>
#include <stdatomic.h>
#include <stdint.h>

struct op_run {
	const json_t *spec;  /* the task spec: {"job", "task", "index", "stage": {...}} */
	const json_t *stage; /* spec.stage: kind, steps, input, output, units, workdir */
	const json_t *deps;  /* inline results of the single-task stages before it, or NULL */
	uint32_t job;
	uint32_t index;      /* task index within its stage */
	uint32_t attempt;
	const char *workdir;
	atomic_int *cancel;  /* non-zero: stop at the next chunk */
	json_t *result;      /* inline result (an object) the ops fill; owned by the run */
};

/* Non-zero when the run was cancelled; ops check it between chunks. */
int op_run_cancelled(const struct op_run *run);

#endif
