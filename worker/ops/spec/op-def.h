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
	/* Check the step's parameters; `path` is its JSON path ("steps[3]"). 0 or -EINVAL.
	 * Ops with a parse function may leave it NULL. */
	int (*validate)(const json_t *step, const char *path, char **cause);
	/* Run the step on the task's data (typed parameters in run->params when the op has a
	 * parse function). 0 or -errno with a cause. */
	int (*run)(struct op_run *run, const json_t *step, char **cause);
	/* Typed parameters: the one place a step's parameters are read. parse fills a struct of
	 * params_size bytes (defaults for absent keys) and makes every check that needs no data;
	 * the scheduler calls it to validate a pipeline, the worker to run the step. Strings in
	 * the struct point into `step`, which must outlive it. */
	size_t params_size;
	int (*parse)(const json_t *step, const char *path, void *params, char **cause);
};

/* Validate a step: parse into a scratch struct, then the op's validate. 0 or -EINVAL. */
int op_def_check(const struct op_def *op, const json_t *step, const char *path, char **cause);
/* Parse a step for running: *params is NULL for an op without parse, else a struct the
 * caller frees. 0 or -EINVAL with a cause. */
int op_def_parse(const struct op_def *op, const json_t *step, const char *path, void **params,
		 char **cause);

#endif
