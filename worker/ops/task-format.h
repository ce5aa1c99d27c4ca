/* The table of input-format runners (struct task_format, op-run.h) that task_run consults.
 * Test inputs ("tasks", "grid") carry no data and have no runner. */
#ifndef ND_TASK_FORMAT_H
#define ND_TASK_FORMAT_H

#include <jansson.h>

#include "worker/ops/spec/op-run.h"

/* The runner for a stage's input object (by input.format), or NULL when it carries no data. */
const struct task_format *task_format_find(const json_t *input);

#endif
