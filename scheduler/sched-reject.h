/* Refusing bad messages (sched-reject.c): counted by reason, answered with an error, logged at a
 * bounded rate. */
#ifndef ND_SCHED_REJECT_H
#define ND_SCHED_REJECT_H

#include <stdio.h>

#include "scheduler/state/sched-state.h"

/* Count, log (rate-limited), answer with PROTO_ERROR for rc (-errno). */
void sched_reject(struct sched *s, struct proto_server_ctx *ctx, uint64_t request_id, int rc,
		  const char *why);
/* A warning about a peer on `pipe`, within the same rate limit. */
void sched_reject_log(struct sched *s, uint32_t pipe, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The peers' lines of /metrics: pipes open, closed before authenticating, warnings held back. */
void sched_reject_metrics(struct sched *s, FILE *f);
/* From the loop's timer: say how many lines the limit held back. */
void sched_reject_tick(struct sched *s, double now);

#endif
