/* The table of input-format runners that task_run consults; each data domain adds its entry. */
#include "worker/ops/task-format.h"

#include <string.h>

#include "worker/ops/rec/data/rec-runner.h"
#include "worker/ops/trial/data/trial-runner.h"

/* Entries with a match function come before the plain entry of the same format. */
static const struct task_format *const task_format_table[] = {
    &trial_runner_format_spy, &trial_runner_format_synth, &trial_runner_format_edf,
    &rec_runner_format,       &rec_runner_format_bdf,     &rec_runner_format_brainvision,
    &rec_runner_format_eeglab, NULL,
};

const struct task_format *
task_format_find(const json_t *input)
{
	const char *format = json_string_value(json_object_get(input, "format"));

	for (const struct task_format *const *f = task_format_table; format != NULL && *f != NULL;
	     f++)
		if (strcmp((*f)->format, format) == 0 &&
		    ((*f)->match == NULL || (*f)->match(input)))
			return *f;
	return NULL;
}
