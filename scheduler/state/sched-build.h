/* A job's task table (sched-build.c): built in slices for a new job, at once on restore. */
#ifndef ND_SCHED_BUILD_H
#define ND_SCHED_BUILD_H

#include "scheduler/state/sched-state.h"

/* A new job: allocate its table; dependency counts and the ready queue follow in slices. */
void sched_build_start(struct sched *s, struct sched_job *j);
/* Restore: every dependency count now (before done tasks are marked), then the ready queue. */
void sched_build_counts(struct sched_job *j);
void sched_build_queue(struct sched_job *j);
/* The loop's idle handle (sched-core.c initializes it). */
void sched_build_init(struct sched *s);

#endif
