/* The end of a loop pass: replies queued during it, sent in order once the store has committed
 * what they acknowledge, and the flag that asks for a dispatch round before the loop sleeps. */
#include "scheduler/sched-pass.h"

#include <stdlib.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "scheduler/sched-state.h"

struct sched_pass_reply {
	struct proto_server_ctx *ctx;
	nng_msg *msg;
	struct sched_pass_reply *next;
};

void
sched_pass_kick(struct sched *s)
{
	s->dispatch_pending = true;
}

bool
sched_pass_take_kick(struct sched *s)
{
	bool kicked = s->dispatch_pending;

	s->dispatch_pending = false;
	return kicked;
}

void
sched_pass_reply(struct sched *s, struct proto_server_ctx *ctx, struct proto_msg *msg)
{
	struct sched_pass_reply *r = xcalloc(1, sizeof *r);

	if (proto_nng_msg_encode(msg, &r->msg) != 0)
		fatal("cannot encode a %s reply", proto_type_name(msg->type));
	r->ctx = ctx;
	if (s->replies_tail != NULL)
		s->replies_tail->next = r;
	else
		s->replies = r;
	s->replies_tail = r;
}

void
sched_pass_reply_error(struct sched *s, struct proto_server_ctx *ctx, uint64_t request_id, int rc,
		       const char *message)
{
	struct proto_msg e = {.type = PROTO_ERROR, .request_id = request_id};

	e.u.error.status = proto_status_from_errno(rc);
	if (e.u.error.status == PROTO_STATUS_OK)
		e.u.error.status = PROTO_STATUS_INTERNAL;
	e.u.error.message = (char *)(message != NULL ? message : "error");
	sched_pass_reply(s, ctx, &e);
}

void
sched_pass_send(struct sched *s)
{
	struct sched_pass_reply *r = s->replies, *next;

	s->replies = s->replies_tail = NULL;
	for (; r != NULL; r = next) {
		next = r->next;
		proto_server_reply_raw(r->ctx, r->msg);
		free(r);
	}
}

void
sched_pass_drop(struct sched *s)
{
	struct sched_pass_reply *r = s->replies, *next;

	s->replies = s->replies_tail = NULL;
	for (; r != NULL; r = next) {
		next = r->next;
		nng_msg_free(r->msg);
		free(r);
	}
}
