/* What every op is: how the graph builder places it (global, per unit, run once, reduction),
 * how its parameters are validated, and how a worker runs it. */
#ifndef ND_OP_DEF_H
#define ND_OP_DEF_H

#include <jansson.h>

enum op_kind {
	OP_GLOBAL,   /* one task: reads annotations or every channel */
	OP_UNIT,     /* per channel (and trial) group: fused with its neighbours */
	OP_RUN_ONCE, /* once, on the reference channel; its result feeds every unit task */
	OP_REDUCE,   /* combines the units' partial results */
};

struct op_run;

struct op_def {
	const char *name;
	enum op_kind kind;
	const char *summary;
	/* Check the step's parameters; `path` is its JSON path ("steps[3]"). 0 or -EINVAL. */
	int (*validate)(const json_t *step, const char *path, char **cause);
	/* Run the step on the task's data. 0 or -errno with a cause. */
	int (*run)(struct op_run *run, const json_t *step, char **cause);
};

#endif
