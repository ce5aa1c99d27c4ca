/* What one task run hands to the ops it executes: its spec and upstream results, where bulk
 * data lives, the cancellation flag, and the inline result the ops build. */
#ifndef ND_OP_RUN_H
#define ND_OP_RUN_H

#include <jansson.h>
#include <stdatomic.h>
#include <stdint.h>

#include "worker/ops/spec/task-spec.h"

struct op_run {
	struct task_spec spec; /* job, task, index within its stage, and the stage */
	const json_t *deps;    /* inline results of the single-task stages before it, or NULL */
	uint32_t attempt;
	atomic_int *cancel; /* non-zero: stop at the next chunk */
	json_t *result;     /* inline result (an object) the ops fill; owned by the run */
	const struct op_def *op; /* the op of the step being run (set before each step) */
	const void *params;      /* its typed parameters (op_def.parse), or NULL */
	/* Data the input format's runner loaded for this task (task-format.h); each domain keeps
	 * its own state so recording ops and trial ops stay independent. */
	struct rec_run *rec;     /* recordings (EDF): channels of this task, triggers */
	struct trial_run *trial; /* trial data (.spy, synth, EDF epochs) */
};

/* Non-zero when the run was cancelled; ops check it between chunks. */
int op_run_cancelled(const struct op_run *run);

#endif
