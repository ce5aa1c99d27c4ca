/* Retention (sched-retention.c): finished jobs' work dirs removed, old job records pruned, the
 * `neurodag gc` request, and the state dir's size and free space for /metrics. */
#ifndef ND_SCHED_RETENTION_H
#define ND_SCHED_RETENTION_H

#include <stdio.h>

#include "scheduler/sched-state.h"

/* At start: remove work dirs that no unfinished job owns, prune, measure. */
void sched_retention_start(struct sched *s);
/* A job just finished: remove its work dir (off the loop thread) unless --keep-work-dirs. */
void sched_retention_job_finished(struct sched *s, struct sched_job *j);
/* Whether new jobs can be recorded: 0, or -ENOSPC when the store cannot write or the state dir
 * has less free space than --min-free-space. */
int sched_retention_can_accept(struct sched *s, char **cause);
/* From the loop's timer: prune and sweep now and then, measure the state dir. */
void sched_retention_tick(struct sched *s, double now);
/* GC: prune finished jobs older than older_than_s now (negative: the configured retention),
 * sweep the work dirs; the report says what was done (caller decrefs). */
json_t *sched_retention_gc(struct sched *s, double older_than_s);
/* The retention and state-dir lines of /metrics. */
void sched_retention_metrics(struct sched *s, FILE *f);
/* The state dir's usage for /api/status (caller decrefs). */
json_t *sched_retention_status(struct sched *s);

#endif
