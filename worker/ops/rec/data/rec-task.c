/* The data one task of a recording pipeline holds: the input open for the task, its channels,
 * its task-level trigger state, and the per-op timing and peak memory it reports. */
#include "worker/ops/rec/data/rec-task.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/error.h"

int
rec_task_open(const char *path, const char *format, struct io_rec **out, char **cause)
{
	for (int tries = 0;; tries++) {
		char *c2 = NULL;
		int rc = io_rec_open(path, format, out, &c2);

		if (rc != -EBUSY || tries >= 6000) {
			if (rc != 0)
				error_set(cause, rc, "%s", c2);
			free(c2);
			return rc;
		}
		free(c2);
		nanosleep(&(struct timespec){0, 10000000}, NULL);
	}
}

void
rec_task_time(struct op_run *run, const char *op, double seconds)
{
	json_t *v = json_object_get(run->rec->timing, op);

	json_object_set_new(run->rec->timing, op,
			    json_real((v != NULL ? json_number_value(v) : 0) + seconds));
}

size_t
rec_task_proc_kb(const char *path, const char *key)
{
	FILE *f = fopen(path, "r");
	char line[256];
	size_t klen = strlen(key);
	unsigned long long kb = 0;

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof line, f) != NULL)
		if (strncmp(line, key, klen) == 0 && line[klen] == ':' &&
		    sscanf(line + klen + 1, " %llu kB", &kb) == 1)
			break;
	fclose(f);
	return (size_t)kb;
}

size_t
rec_task_hwm_kb(void)
{
	return rec_task_proc_kb("/proc/self/status", "VmHWM");
}

void
rec_task_peak(struct op_run *run, const char *op, size_t before_kb)
{
	size_t kb = rec_task_hwm_kb();
	json_t *v = json_object_get(run->rec->peak, op);
	double mb = (double)kb / 1024.0;

	if (kb <= before_kb || (v != NULL && json_number_value(v) >= mb))
		return;
	json_object_set_new(run->rec->peak, op, json_real(mb));
}
