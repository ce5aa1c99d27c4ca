/* Handling each decoded message on the loop thread (sched-handlers.c). */
#ifndef ND_SCHED_HANDLERS_H
#define ND_SCHED_HANDLERS_H

#include "scheduler/state/sched-state.h"

void sched_handlers_message(struct sched *s, struct proto_server_ctx *ctx, nng_msg *msg);
void sched_handlers_pipe_closed(struct sched *s, uint32_t pipe);

#endif
