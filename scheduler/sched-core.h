/* The scheduler's lifecycle: sched_new validates and opens everything; sched_run blocks in the
 * loop until sched_stop (any thread, even before sched_run) or SIGTERM/SIGINT when
 * handle_signals. */
#ifndef ND_SCHED_CORE_H
#define ND_SCHED_CORE_H

#include <stdbool.h>

#include "scheduler/state/sched-state.h"

int sched_new(struct sched **out, const struct sched_config *cfg, bool handle_signals,
	      char **cause);
int sched_run(struct sched *s);
void sched_stop(struct sched *s);
void sched_free(struct sched *s);

#endif
