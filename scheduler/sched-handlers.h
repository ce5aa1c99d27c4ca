/* Handling each decoded message on the loop thread (sched-handlers.c). */
#ifndef ND_SCHED_HANDLERS_H
#define ND_SCHED_HANDLERS_H

#include "scheduler/state/sched-state.h"

void sched_handlers_message(struct sched *s, struct proto_server_ctx *ctx, nng_msg *msg);
void sched_handlers_pipe_closed(struct sched *s, uint32_t pipe);
/* Answer the parked STATUS requests whose job has finished (or gone) or whose wait is over;
 * called at the end of each loop pass, before the commit. */
void sched_handlers_status_waits(struct sched *s, double now);
/* Forget the parked STATUS requests unanswered (shutdown: their contexts close with the
 * server). */
void sched_handlers_status_waits_free(struct sched *s);

#endif
