/* The state dir's disk (sched-statedir.c): removals and measurements off the loop, the
 * free-space check, and what /metrics and /api/status say about it. */
#ifndef ND_SCHED_STATEDIR_H
#define ND_SCHED_STATEDIR_H

#include <jansson.h>
#include <stdio.h>

#include "scheduler/state/sched-state.h"

/* Remove the tree at `path` (taken over) on a worker thread, counted when it is gone. */
void sched_statedir_remove(struct sched *s, char *path);
/* A job just finished: remove its work dir (off the loop thread) unless --keep-work-dirs, and
 * the temporary files interrupted exports left beside its output. */
void sched_statedir_job_finished(struct sched *s, struct sched_job *j);
/* Measure the state dir's parts and free space off the loop (one measurement at a time). */
void sched_statedir_measure(struct sched *s);
/* Whether new jobs can be recorded: 0, or -ENOSPC when the store cannot write or the state dir
 * has less free space than --min-free-space. */
int sched_statedir_can_accept(struct sched *s, char **cause);
/* The retention and state-dir lines of /metrics. */
void sched_statedir_metrics(struct sched *s, FILE *f);
/* The state dir's usage for /api/status (caller decrefs). */
json_t *sched_statedir_status(struct sched *s);

#endif
