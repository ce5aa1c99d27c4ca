/* The task spec: what the scheduler tells a worker about one task. The graph builder fills a
 * task_stage and writes it once per stage; a worker reads it back into the same struct. The
 * JSON key names live only in task-spec.c. */
#ifndef ND_TASK_SPEC_H
#define ND_TASK_SPEC_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "worker/ops/spec/op-def.h"

/* The job's task grid: units of the input and how many of each a unit task takes. */
struct task_grid {
	uint32_t channels, trials;
	uint32_t chan_per_task, trials_per_task;
	uint32_t shape_c, shape_t; /* this stage's tasks in channel × trial groups; 0 after a
				    * single-task stage */
};

/* The constant part of every task spec of a stage. The JSON members point into the JSON the
 * stage was read from (or are borrowed by task_spec_stage_json). */
struct task_stage {
	enum op_kind kind;
	int index;   /* the stage's number in the job */
	bool staged; /* execution mode: one stage per unit step (else fused) */
	struct task_grid grid;
	const char *workdir;     /* the job's work dir for bulk intermediates */
	const char *ref_channel; /* run-once stages: the reference channel's label, or NULL */
	const json_t *steps;     /* the stage's steps, each with its "index" */
	const json_t *input;     /* the pipeline's input object */
	const json_t *output;    /* the pipeline's output object, or JSON null */
};

/* One task: its job, global task number, index within its stage, and its stage. */
struct task_spec {
	uint32_t job, task, index;
	struct task_stage stage;
};

/* The stage as JSON (a new reference; the steps, input and output are referenced). */
json_t *task_spec_stage_json(const struct task_stage *st);
/* Read a whole task spec {"job", "task", "index", "stage": {...}}. 0 or -EINVAL with a cause. */
int task_spec_read(const json_t *spec, struct task_spec *out, char **cause);
/* "global", "unit", "run_once", "reduce". */
const char *task_spec_kind_name(enum op_kind kind);

#endif
