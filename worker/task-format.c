/* The table of input-format runners that task_run consults; each data domain adds its entry. */
#include "worker/task-format.h"

#include <string.h>

#include "worker/rec-run.h"

static const struct task_format *const task_format_table[] = {
	&rec_run_format,
	&rec_run_format_bdf,
	NULL,
};

const struct task_format *
task_format_find(const char *format)
{
	for (const struct task_format *const *f = task_format_table; format != NULL && *f != NULL;
	     f++)
		if (strcmp((*f)->format, format) == 0)
			return *f;
	return NULL;
}
