/* The end of a loop pass: replies queued during it, sent once the store has committed what they
 * acknowledge, and the flag that asks for a dispatch round before the loop sleeps. A reply that
 * acknowledges a write (marked durable) waits, when the commit failed, until a later commit
 * succeeds; the others go out at once. Answers to workers' task requests go out before the
 * others: a client told ACCEPTED polls at once, and its request would otherwise contend with
 * the send that hands its first task to a worker. */
#include "scheduler/state/sched-pass.h"

#include <stdlib.h>

#include "common/log.h"
#include "common/trace.h"
#include "common/xmalloc.h"
#include "scheduler/state/sched-state.h"

struct sched_pass_reply {
	struct proto_server_ctx *ctx;
	nng_msg *msg;
	bool durable;
	bool to_worker; /* TASK_ASSIGN or IDLE: sent first */
	int trace_point; /* tracing: the point to record when sent, or -1 */
	uint64_t trace_key;
	struct sched_pass_reply *next;
};

/* Contexts whose next reply acknowledges a write (a parked task request that carried results). */
struct sched_pass_durable {
	struct proto_server_ctx *ctx;
	struct sched_pass_durable *next;
};

static bool
sched_pass_take_durable(struct sched *s, struct proto_server_ctx *ctx)
{
	for (struct sched_pass_durable **pp = &s->durable_ctx; *pp != NULL; pp = &(*pp)->next)
		if ((*pp)->ctx == ctx) {
			struct sched_pass_durable *d = *pp;
			*pp = d->next;
			free(d);
			return true;
		}
	return false;
}

void
sched_pass_durable(struct sched *s, struct proto_server_ctx *ctx)
{
	struct sched_pass_durable *d;

	for (struct sched_pass_reply *r = s->replies; r != NULL; r = r->next)
		if (r->ctx == ctx) {
			r->durable = true;
			return;
		}
	d = xcalloc(1, sizeof *d);
	d->ctx = ctx;
	d->next = s->durable_ctx;
	s->durable_ctx = d;
}

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
	r->to_worker = msg->type == PROTO_TASK_ASSIGN || msg->type == PROTO_IDLE;
	r->trace_point = -1;
	r->durable = s->durable_ctx != NULL && sched_pass_take_durable(s, ctx);
	if (s->replies_tail != NULL)
		s->replies_tail->next = r;
	else
		s->replies = r;
	s->replies_tail = r;
	if (trace_enabled && msg->type == PROTO_TASK_ASSIGN && msg->u.task_assign.ntasks > 0)
		sched_pass_trace(s, TRACE_TASK_SEND, msg->u.task_assign.tasks[0].task);
	if (trace_enabled && msg->type == PROTO_ACCEPTED && msg->u.accepted.njobs > 0)
		sched_pass_trace(s, TRACE_ACCEPTED_SEND, msg->u.accepted.jobs[0]);
}

void
sched_pass_trace(struct sched *s, int point, uint64_t key)
{
	if (s->replies_tail != NULL) {
		s->replies_tail->trace_point = point;
		s->replies_tail->trace_key = key;
	}
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

static void
sched_pass_append(struct sched_pass_reply **head, struct sched_pass_reply **tail,
		  struct sched_pass_reply *r)
{
	r->next = NULL;
	if (*tail != NULL)
		(*tail)->next = r;
	else
		*head = r;
	*tail = r;
}

/* Send the replies of list r that go to workers (to_worker) or the others, unlinking them; those
 * that must wait for a commit move to the keep list. */
static void
sched_pass_send_some(struct sched_pass_reply **list, bool to_worker, bool committed,
		     struct sched_pass_reply **keep, struct sched_pass_reply **keep_tail)
{
	struct sched_pass_reply **pp = list, *r;

	while ((r = *pp) != NULL) {
		if (r->to_worker != to_worker) {
			pp = &r->next;
			continue;
		}
		*pp = r->next;
		if (!committed && r->durable) {
			sched_pass_append(keep, keep_tail, r);
			continue;
		}
		if (r->trace_point >= 0)
			trace_now((enum trace_point)r->trace_point, r->trace_key);
		proto_server_reply_raw(r->ctx, r->msg);
		free(r);
	}
}

void
sched_pass_send(struct sched *s, bool committed)
{
	struct sched_pass_reply *r, *keep = NULL, *keep_tail = NULL;

	/* Replies held from passes whose commit failed go first, once a commit succeeds. */
	if (committed && s->held_replies != NULL) {
		s->held_tail->next = s->replies;
		if (s->replies == NULL)
			s->replies_tail = s->held_tail;
		s->replies = s->held_replies;
		s->held_replies = s->held_tail = NULL;
	}
	r = s->replies;
	s->replies = s->replies_tail = NULL;
	sched_pass_send_some(&r, true, committed, &keep, &keep_tail);
	sched_pass_send_some(&r, false, committed, &keep, &keep_tail);
	if (keep != NULL) {
		if (s->held_tail != NULL)
			s->held_tail->next = keep;
		else
			s->held_replies = keep;
		s->held_tail = keep_tail;
	}
}

size_t
sched_pass_held(const struct sched *s)
{
	size_t n = 0;

	for (const struct sched_pass_reply *r = s->held_replies; r != NULL; r = r->next)
		n++;
	return n;
}

static void
sched_pass_free_list(struct sched_pass_reply *r)
{
	for (struct sched_pass_reply *next; r != NULL; r = next) {
		next = r->next;
		nng_msg_free(r->msg);
		free(r);
	}
}

void
sched_pass_drop(struct sched *s)
{
	sched_pass_free_list(s->replies);
	sched_pass_free_list(s->held_replies);
	s->replies = s->replies_tail = s->held_replies = s->held_tail = NULL;
	while (s->durable_ctx != NULL) {
		struct sched_pass_durable *d = s->durable_ctx;
		s->durable_ctx = d->next;
		free(d);
	}
}

static void
sched_pass_on_idle(uv_idle_t *h)
{
	struct sched_pass_idle *w = h->data;

	if (w->s->stopping || !w->slice(w->s))
		uv_idle_stop(h);
}

void
sched_pass_idle_init(struct sched *s, struct sched_pass_idle *w, bool (*slice)(struct sched *s))
{
	w->s = s;
	w->slice = slice;
	w->handle.data = w;
	uv_idle_init(&s->loop, &w->handle);
}

void
sched_pass_idle_start(struct sched_pass_idle *w)
{
	uv_idle_start(&w->handle, sched_pass_on_idle);
}
