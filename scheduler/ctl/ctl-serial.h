/* `neurodag run --serial`: the job's task graph run in this process, stage by stage, with no
 * scheduler or workers: for debugging and as the speed baseline. */
#ifndef ND_CTL_SERIAL_H
#define ND_CTL_SERIAL_H

#include <stdbool.h>

/* json: an enum ctl_output (a report per input, indented or one a line). */
int ctl_serial_run(const char *pipeline, char **inputs, int ninputs, const char *output, int json,
		   bool overwrite);

#endif
