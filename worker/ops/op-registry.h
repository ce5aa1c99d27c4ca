/* The table of ops a pipeline step can name: the built-in tables of every op family plus the
 * plugins registered at run time. */
#ifndef ND_OP_REGISTRY_H
#define ND_OP_REGISTRY_H

#include "worker/ops/spec/op-def.h"

const struct op_def *op_registry_find(const char *name);
/* A validated step's typed parameters, parsed by its op's own parse (the scheduler reads them to
 * shape the graph); NULL when the op is unknown, has none or refuses them. Caller frees. */
void *op_registry_step_params(const json_t *step);
/* "a, b, c": every known op, for error messages. Caller frees. */
char *op_registry_names(void);
/* Add an op at run time (plugins). The definition must outlive the registry. -EEXIST if taken. */
int op_registry_add(const struct op_def *def, char **cause);

#endif
