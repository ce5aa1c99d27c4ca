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
	atomic_int *cancel;      /* non-zero: stop at the next chunk */
	json_t *result;          /* inline result (an object) the ops fill; owned by the run */
	const struct op_def *op; /* the op of the step being run (set before each step) */
	const void *params;      /* its typed parameters (op_def.parse), or NULL */
	/* Data the input format's runner loaded for this task (struct task_format); each domain
	 * keeps its own state so recording ops and trial ops stay independent. */
	struct rec_task *rec;    /* recordings (EDF): channels of this task, triggers */
	struct trial_run *trial; /* trial data (.spy, synth, EDF epochs) */
};

/* Non-zero when the run was cancelled; ops check it between chunks. */
int op_run_cancelled(const struct op_run *run);

/* An input format's runner: before a task's steps run, the runner for the job's input.format
 * loads the data this task works on (its channels, its trials) into the op_run; after them, it
 * saves the task's outputs. Each data domain defines its runners; the ops folder keeps the table
 * (task-format.c). */
struct task_format {
	const char *format; /* input.format */
	/* Load the task's data (stage kind in run->spec.stage.kind). 0 or -errno with a cause. */
	int (*begin)(struct op_run *run, char **cause);
	/* Save outputs when rc == 0, and free what begin loaded in every case. */
	int (*end)(struct op_run *run, int rc, char **cause);
	/* NULL, or whether this runner takes the input object: several runners may share a format
	 * name (edf recordings, edf with "trials"); the first that matches wins. */
	int (*match)(const json_t *input);
	/* Optional: a task made of several parts (a channel group) runs all its steps on one part
	 * at a time, so only one part is in memory: `parts` says how many (after begin), `load`
	 * brings part i in before the steps, `save` writes it out (rc == 0) and frees it. */
	size_t (*parts)(struct op_run *run);
	int (*load)(struct op_run *run, size_t part, char **cause);
	int (*save)(struct op_run *run, size_t part, int rc, char **cause);
};

#endif
