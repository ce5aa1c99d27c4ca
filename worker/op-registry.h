/* The table of ops a pipeline step can name: how the graph builder places each op (global,
 * per unit, run once, reduction), how its parameters are validated, and how a worker runs it. */
#ifndef ND_OP_REGISTRY_H
#define ND_OP_REGISTRY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

const struct op_def *op_registry_find(const char *name);
/* "a, b, c": every known op, for error messages. Caller frees. */
char *op_registry_names(void);
/* Add an op at run time (plugins). The definition must outlive the registry. -EEXIST if taken. */
int op_registry_add(const struct op_def *def, char **cause);

/* Parameter helpers for validate functions: every allowed key listed, types and ranges checked,
 * errors name the JSON path. `keys` is a NULL-terminated list of allowed keys besides "op". */
int op_param_keys(const json_t *step, const char *path, const char *const *keys, char **cause);
int op_param_number(const json_t *step, const char *path, const char *key, int required, double min,
		    double max, double def, double *out, char **cause);
int op_param_int(const json_t *step, const char *path, const char *key, int required, long long min,
		 long long max, long long def, long long *out, char **cause);
int op_param_string(const json_t *step, const char *path, const char *key, int required,
		    const char *def, const char **out, char **cause);
/* A boolean parameter (true/false), default `def` when absent. */
int op_param_bool(const json_t *step, const char *path, const char *key, bool def, bool *out,
		  char **cause);

#endif
