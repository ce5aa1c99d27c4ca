/* Retention (sched-retention.c): old job records pruned, stray work dirs swept, the `neurodag gc`
 * request. */
#ifndef ND_SCHED_RETENTION_H
#define ND_SCHED_RETENTION_H

#include <jansson.h>

#include "scheduler/state/sched-state.h"

/* At start: remove work dirs that no unfinished job owns, prune, measure. */
void sched_retention_start(struct sched *s);
/* From the loop's timer: prune and sweep now and then, measure the state dir. */
void sched_retention_tick(struct sched *s, double now);
/* GC: prune finished jobs older than older_than_s now (negative: the configured retention),
 * sweep the work dirs; the report says what was done (caller decrefs). */
json_t *sched_retention_gc(struct sched *s, double older_than_s);

#endif
