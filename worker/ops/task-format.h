/* Input-format runners: before a task's steps run, the runner for the job's input.format loads
 * the data this task works on (its channels, its trials) into the op_run; after them, it saves
 * the task's outputs. Test inputs ("tasks", "grid") carry no data and have no runner. */
#ifndef ND_TASK_FORMAT_H
#define ND_TASK_FORMAT_H

#include <jansson.h>

#include "worker/ops/spec/op-run.h"

struct task_format {
	const char *format; /* input.format */
	/* Load the task's data (stage kind in run->stage.kind). 0 or -errno with a cause. */
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

/* The runner for a stage's input object (by input.format), or NULL when it carries no data. */
const struct task_format *task_format_find(const json_t *input);

#endif
