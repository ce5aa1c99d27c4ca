/* Authentication on the scheduler's side (sched-auth.c): HELLO answered with a CHALLENGE, AUTH
 * checked, the peer registered on success. */
#ifndef ND_SCHED_AUTH_H
#define ND_SCHED_AUTH_H

#include "scheduler/state/sched-state.h"

void sched_auth_hello(struct sched *s, struct proto_server_ctx *ctx, struct proto_msg *m);
void sched_auth_auth(struct sched *s, struct proto_server_ctx *ctx, const struct proto_msg *m);
/* The pipe is gone: forget its pending challenge (a peer that never proved the token). */
void sched_auth_pipe_closed(struct sched *s, uint32_t pipe);
void sched_auth_free(struct sched *s);

#endif
