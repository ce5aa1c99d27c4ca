/* Per-task run time limits (sched-timeout.c): what each worker runs, since when, and giving up
 * on tasks that run past their job's limit although their worker is alive. */
#ifndef ND_SCHED_TIMEOUT_H
#define ND_SCHED_TIMEOUT_H

#include "scheduler/state/sched-state.h"

/* From the loop's timer: tasks past their limit fail this attempt (and are retried). */
void sched_timeout_tick(struct sched *s, double now);

#endif
