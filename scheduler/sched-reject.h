/* Refusing bad messages (sched-reject.c): counted by reason, answered with an error, logged at a
 * bounded rate, and the pipe of a peer that has not authenticated closed after a few. */
#ifndef ND_SCHED_REJECT_H
#define ND_SCHED_REJECT_H

#include "scheduler/sched-state.h"

/* Count, log (rate-limited), answer with PROTO_ERROR for rc (-errno); close an unauthenticated
 * pipe after its few allowed errors. */
void sched_reject(struct sched *s, struct proto_server_ctx *ctx, uint64_t request_id, int rc,
		  const char *why);
/* A warning about a peer on `pipe`, within the same rate limit. */
void sched_reject_log(struct sched *s, uint32_t pipe, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* From the loop's timer: say how many lines the limit held back. */
void sched_reject_tick(struct sched *s, double now);

#endif
