/* What a pass of the scheduler's loop leaves for its end: the replies queued while handling
 * messages (sent only after the store commits) and the request to run dispatch. Every handler
 * calls into this file; it calls none of them. */
#ifndef ND_SCHED_PASS_H
#define ND_SCHED_PASS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "proto/proto-nng.h"

struct sched;

/* Work done in slices between loop passes: `slice` runs on every idle turn of the loop until it
 * returns false (nothing left) or the scheduler stops. */
struct sched_pass_idle {
	uv_idle_t handle;
	struct sched *s;
	bool (*slice)(struct sched *s);
};

void sched_pass_idle_init(struct sched *s, struct sched_pass_idle *w,
			  bool (*slice)(struct sched *s));
/* Run the slices (again); a no-op while they run. */
void sched_pass_idle_start(struct sched_pass_idle *w);

/* Run dispatch at the end of this pass. */
void sched_pass_kick(struct sched *s);
/* Whether dispatch was asked for since the last call (and clear the request). */
bool sched_pass_take_kick(struct sched *s);
/* Queue a reply for the end of this loop pass; takes ownership of the message's heap fields. */
void sched_pass_reply(struct sched *s, struct proto_server_ctx *ctx, struct proto_msg *msg);
/* Tracing (common/trace.h): record point (an enum trace_point) for key when the reply queued
 * last is handed to nng. */
void sched_pass_trace(struct sched *s, int point, uint64_t key);
void sched_pass_reply_error(struct sched *s, struct proto_server_ctx *ctx, uint64_t request_id,
			    int rc, const char *message);
/* ctx's reply acknowledges a write made while handling its request: the one queued already, or
 * the next one (a parked poll). Such a reply is sent only after a successful commit. */
void sched_pass_durable(struct sched *s, struct proto_server_ctx *ctx);
/* After the commit: send the queued replies, or when it failed (committed false) only those
 * that acknowledge no write, holding the others for the next successful commit. */
void sched_pass_send(struct sched *s, bool committed);
/* How many replies wait for a successful commit. */
size_t sched_pass_held(const struct sched *s);
/* Free the queued replies unsent (shutdown). */
void sched_pass_drop(struct sched *s);

#endif
