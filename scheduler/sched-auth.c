/* Authentication: a HELLO gets a CHALLENGE (a fresh nonce and the scheduler's proof that it knows
 * the token); the AUTH that follows on the same pipe must carry the peer's proof, and only then
 * is the pipe a client's or a worker's. The token never travels, so a listener on the wire, or a
 * fake scheduler, learns nothing it could replay. One pending challenge per pipe; a pipe holds at
 * most one registered worker (a second registration replaces the first). */
#include "scheduler/sched-auth.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/token.h"
#include "common/xmalloc.h"
#include "scheduler/state/sched-jobs.h"
#include "scheduler/state/sched-pass.h"
#include "scheduler/sched-reject.h"
#include "scheduler/state/sched-workers.h"

struct sched_auth_pending {
	uint32_t pipe;
	struct proto_hello hello; /* owned */
	char nonce[TOKEN_HEX_LEN + 1];
	struct sched_auth_pending *next;
};

static struct sched_auth_pending **
sched_auth_find(struct sched *s, uint32_t pipe)
{
	struct sched_auth_pending **pp;

	for (pp = &s->auth_pending; *pp != NULL && (*pp)->pipe != pipe; pp = &(*pp)->next)
		;
	return pp;
}

static void
sched_auth_pending_free(struct sched_auth_pending *a)
{
	struct proto_msg m = {.type = PROTO_HELLO};

	m.u.hello = a->hello;
	proto_msg_fini(&m);
	free(a);
}

static struct sched_auth_pending *
sched_auth_take(struct sched *s, uint32_t pipe)
{
	struct sched_auth_pending **pp = sched_auth_find(s, pipe), *a = *pp;

	if (a != NULL) {
		*pp = a->next;
		s->auth_npending--;
	}
	return a;
}

void
sched_auth_hello(struct sched *s, struct proto_server_ctx *ctx, struct proto_msg *m)
{
	struct proto_msg reply = {.type = PROTO_CHALLENGE, .request_id = m->request_id};
	uint32_t pipe = proto_server_ctx_pipe(ctx);
	struct sched_auth_pending *a = sched_auth_take(s, pipe);
	char proof[TOKEN_HEX_LEN + 1];

	if (a != NULL)
		sched_auth_pending_free(a);
	a = xcalloc(1, sizeof *a);
	a->pipe = pipe;
	if (token_nonce(a->nonce) != 0) {
		free(a);
		sched_pass_reply_error(s, ctx, m->request_id, -EIO, "no random bytes for a nonce");
		return;
	}
	a->hello = m->u.hello; /* the message's strings move here */
	memset(&m->u.hello, 0, sizeof m->u.hello);
	token_proof(s->cfg.token, TOKEN_PROOF_SCHEDULER, proto_role_name(a->hello.role),
		    a->hello.nonce, a->nonce, proof);
	a->next = s->auth_pending;
	s->auth_pending = a;
	s->auth_npending++;
	reply.u.challenge.nonce = a->nonce;
	reply.u.challenge.proof = proof;
	sched_pass_reply(s, ctx, &reply);
}

/* The pipe's peer proved the token: it is a client or (replacing any worker it had) a worker. */
static void
sched_auth_register(struct sched *s, struct proto_server_ctx *ctx, uint64_t request_id,
		    const struct proto_hello *h)
{
	struct proto_msg reply = {.type = PROTO_WELCOME, .request_id = request_id};
	uint32_t pipe = proto_server_ctx_pipe(ctx);
	struct sched_pipe *p = sched_pipes_find(s, pipe);

	if (p != NULL && p->role == PROTO_ROLE_WORKER) {
		struct sched_worker *old = sched_workers_find(s, p->worker_id);
		if (old != NULL && old->pipe == pipe)
			sched_jobs_worker_lost(s, old, "registered again on its connection");
	}
	reply.u.welcome.heartbeat_ms = (uint64_t)(s->cfg.heartbeat_interval_s * 1000);
	if (h->role == PROTO_ROLE_WORKER) {
		struct sched_worker *w = sched_workers_add(s, h, pipe);
		reply.u.welcome.worker_id = w->id;
		sched_pipes_set(s, pipe, PROTO_ROLE_WORKER, w->id);
		sched_jobs_check_waiting(s);
		sched_pass_kick(s);
	} else {
		sched_pipes_set(s, pipe, PROTO_ROLE_CLIENT, 0);
	}
	proto_server_pipe_authenticated(s->server, pipe);
	sched_pass_reply(s, ctx, &reply);
}

void
sched_auth_auth(struct sched *s, struct proto_server_ctx *ctx, const struct proto_msg *m)
{
	uint32_t pipe = proto_server_ctx_pipe(ctx);
	struct sched_auth_pending *a = sched_auth_take(s, pipe);
	char expect[TOKEN_HEX_LEN + 1];

	if (a == NULL) {
		sched_reject(s, ctx, m->request_id, -EPROTO,
			     "AUTH without a HELLO on this connection: say HELLO again");
		return;
	}
	token_proof(s->cfg.token, TOKEN_PROOF_PEER, proto_role_name(a->hello.role), a->nonce,
		    a->hello.nonce, expect);
	if (!token_equal(expect, m->u.auth.proof))
		sched_reject(s, ctx, m->request_id, -EACCES,
			     "wrong or missing token: the proof does not match (see the "
			     "scheduler's STATE_DIR/token)");
	else
		sched_auth_register(s, ctx, m->request_id, &a->hello);
	sched_auth_pending_free(a);
}

void
sched_auth_pipe_closed(struct sched *s, uint32_t pipe)
{
	struct sched_auth_pending *a = sched_auth_take(s, pipe);

	if (a == NULL)
		return;
	/* Its own check of our proof failed: most likely it holds a wrong token. */
	s->stats.rejected[REJECT_AUTH]++;
	sched_reject_log(s, pipe, "a %s said HELLO but never proved the token (a wrong token?)",
			 proto_role_name(a->hello.role));
	sched_auth_pending_free(a);
}

void
sched_auth_free(struct sched *s)
{
	while (s->auth_pending != NULL) {
		struct sched_auth_pending *a = s->auth_pending;
		s->auth_pending = a->next;
		sched_auth_pending_free(a);
	}
	s->auth_npending = 0;
}
