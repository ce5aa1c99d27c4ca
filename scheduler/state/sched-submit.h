/* Submissions of several inputs built across loop passes, all or nothing (sched-submit.c). */
#ifndef ND_SCHED_SUBMIT_H
#define ND_SCHED_SUBMIT_H

#include "scheduler/state/sched-state.h"

/* Take a SUBMIT: answered on ctx now (one input) or once every input is built. */
void sched_submit(struct sched *s, struct proto_server_ctx *ctx, const struct proto_msg *m);
/* The loop's idle handle (sched-core.c); the submissions still being built are dropped by fini
 * (their requests are aborted with the server). */
void sched_submit_init(struct sched *s);
void sched_submit_fini(struct sched *s);

#endif
