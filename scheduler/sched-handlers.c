/* Handling each decoded message on the loop thread: authentication per pipe (HELLO and AUTH,
 * sched-auth.c), then the client requests (SUBMIT, STATUS, CANCEL; a job's STATUS with wait_ms
 * is parked until the job finishes) and the worker requests (TASK_REQUEST, HEARTBEAT, BYE).
 * Bad input is answered with an error and counted, never fatal. */
#include "scheduler/sched-handlers.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "common/trace.h"
#include "common/xmalloc.h"
#include "scheduler/sched-auth.h"
#include "scheduler/state/sched-jobs.h"
#include "scheduler/state/sched-pass.h"
#include "scheduler/sched-reject.h"
#include "scheduler/state/sched-retention.h"
#include "scheduler/sched-status.h"
#include "scheduler/state/store/sched-store.h"
#include "scheduler/state/sched-submit.h"
#include "scheduler/state/sched-workers.h"

#define SCHED_VERSION_STRING "neurodag " ND_VERSION

/* A STATUS request for a job parked until the job finishes or its wait is over: `neurodag wait`
 * learns of the end when it happens instead of polling for it. */
struct sched_status_wait {
	struct proto_server_ctx *ctx;
	uint64_t request_id;
	uint32_t job;
	double deadline; /* monotonic seconds */
	struct sched_status_wait *next;
};

static void
sched_status_answer(struct sched *s, struct proto_server_ctx *ctx, uint64_t request_id,
		    const struct sched_status_entry *r, uint32_t job)
{
	struct proto_msg reply = {.type = PROTO_STATUS_REPLY, .request_id = request_id};
	char *msg = NULL;

	if (sched_status_render(s, r, job, JSON_COMPACT, &msg) != 0) {
		msg = xasprintf("no job %u", job);
		sched_pass_reply_error(s, ctx, request_id, -ENOENT, msg);
	} else {
		reply.u.status_reply.content_type = (char *)r->content_type;
		reply.u.status_reply.body = msg;
		sched_pass_reply(s, ctx, &reply);
		sched_pass_trace(s, TRACE_STATUS_SEND, job);
	}
	free(msg);
}

void
sched_handlers_status_waits(struct sched *s, double now)
{
	const struct sched_status_entry *r = sched_status_by_what("job");

	for (struct sched_status_wait **pw = &s->status_waits, *w; (w = *pw) != NULL;) {
		struct sched_job *j = sched_jobs_find(s, w->job);
		if (j != NULL && !sched_jobs_finished(j) && now < w->deadline && !s->stopping) {
			pw = &w->next;
			continue;
		}
		sched_status_answer(s, w->ctx, w->request_id, r, w->job);
		*pw = w->next;
		free(w);
	}
}

void
sched_handlers_status_waits_free(struct sched *s)
{
	while (s->status_waits != NULL) {
		struct sched_status_wait *w = s->status_waits;
		s->status_waits = w->next;
		free(w);
	}
}

static void
sched_handle_status(struct sched *s, struct proto_server_ctx *ctx, const struct proto_msg *m)
{
	const struct sched_status_entry *r = sched_status_by_what(m->u.status.what);
	uint32_t job = (uint32_t)m->u.status.job_id;
	struct sched_job *j = r != NULL && r->job ? sched_jobs_find(s, job) : NULL;
	char *msg = NULL;

	if (j != NULL && m->u.status.wait_ms > 0 && !sched_jobs_finished(j)) {
		struct sched_status_wait *w = xcalloc(1, sizeof *w);
		w->ctx = ctx;
		w->request_id = m->request_id;
		w->job = job;
		w->deadline = time_mono_s() + (double)m->u.status.wait_ms * 1e-3;
		w->next = s->status_waits;
		s->status_waits = w;
		return;
	}
	if (r == NULL) {
		char *whats = sched_status_whats();
		msg = xasprintf("STATUS: 'what' must be %s", whats);
		sched_pass_reply_error(s, ctx, m->request_id, -EINVAL, msg);
		free(whats);
	} else {
		sched_status_answer(s, ctx, m->request_id, r, job);
	}
	free(msg);
}

static void
sched_handle_cancel(struct sched *s, struct proto_server_ctx *ctx, const struct proto_msg *m)
{
	struct proto_msg reply = {.type = PROTO_ACK, .request_id = m->request_id};
	char *cause = NULL;
	int rc = sched_jobs_cancel(s, (uint32_t)m->u.cancel.job_id, &cause);

	if (rc != 0)
		sched_pass_reply_error(s, ctx, m->request_id, rc, cause);
	else
		sched_pass_reply(s, ctx, &reply);
	free(cause);
	sched_pass_kick(s);
}

static void
sched_handle_gc(struct sched *s, struct proto_server_ctx *ctx, const struct proto_msg *m)
{
	struct proto_msg reply = {.type = PROTO_STATUS_REPLY, .request_id = m->request_id};
	json_t *j = sched_retention_gc(
	    s, m->u.gc.has_older_than ? (double)m->u.gc.older_than_ms / 1000 : -1);

	reply.u.status_reply.content_type = SCHED_STATUS_JSON;
	reply.u.status_reply.body = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	sched_pass_reply(s, ctx, &reply);
	free(reply.u.status_reply.body);
}

/* The worker a worker message speaks for; rejects ids that do not belong to the pipe. */
static struct sched_worker *
sched_handlers_worker(struct sched *s, struct proto_server_ctx *ctx, const struct proto_msg *m,
		      uint64_t worker_id)
{
	struct sched_worker *w = sched_workers_find(s, (uint32_t)worker_id);

	if (w == NULL || worker_id > UINT32_MAX || w->pipe != proto_server_ctx_pipe(ctx)) {
		sched_reject(s, ctx, m->request_id, -EACCES,
				      "unknown worker id on this connection: register again");
		return NULL;
	}
	sched_workers_seen(s, w, time_mono_s());
	return w;
}

static void
sched_handle_task_request(struct sched *s, struct proto_server_ctx *ctx, const struct proto_msg *m)
{
	const struct proto_task_request *r = &m->u.task_request;
	struct sched_worker *w = sched_handlers_worker(s, ctx, m, r->worker_id);

	if (w == NULL)
		return;
	if (s->store_error != 0 && r->nresults > 0) {
		/* Results are accepted only once they can be recorded: the worker keeps them. */
		char *why = xasprintf("%s: keep the results and send them again", s->store_cause);
		sched_pass_reply_error(s, ctx, m->request_id, -EAGAIN, why);
		free(why);
		return;
	}
	for (uint32_t i = 0; i < r->nresults; i++)
		sched_jobs_task_result(s, w, &r->results[i]);
	if (w->held != NULL) {
		/* A second poll while one is parked: answer the old one first. */
		struct proto_msg idle = {.type = PROTO_IDLE, .request_id = w->held_request_id};
		sched_pass_reply(s, sched_workers_unpark(s, w), &idle);
	}
	sched_workers_park(s, w, ctx, m->request_id, w->draining ? 0 : (uint32_t)r->free_slots,
			   time_mono_s());
	sched_pass_kick(s);
}

static void
sched_handle_heartbeat(struct sched *s, struct proto_server_ctx *ctx, const struct proto_msg *m)
{
	struct sched_worker *w = sched_handlers_worker(s, ctx, m, m->u.heartbeat.worker_id);
	struct proto_msg reply = {.type = PROTO_ACK, .request_id = m->request_id};
	uint64_t *cancel = NULL;
	uint32_t ncancel = 0;

	if (w == NULL)
		return;
	if (m->u.heartbeat.has_usage) {
		w->has_usage = true;
		w->rss_bytes = m->u.heartbeat.rss_bytes;
		w->cpu_s = (double)m->u.heartbeat.cpu_us * 1e-6;
	}
	/* Running tasks whose job is no longer running get cancelled on the worker. */
	for (uint32_t i = 0; i < m->u.heartbeat.nrunning; i++) {
		uint64_t t = m->u.heartbeat.running[i];
		struct sched_job *j = sched_jobs_find(s, PROTO_TASK_JOB(t));
		if (j == NULL || j->state == JOB_CANCELLED || j->state == JOB_FAILED ||
		    j->tasks == NULL || PROTO_TASK_INDEX(t) >= j->graph->ntasks ||
		    j->tasks[PROTO_TASK_INDEX(t)].state != TASK_ASSIGNED ||
		    j->tasks[PROTO_TASK_INDEX(t)].worker != w->id) {
			cancel = xreallocarray(cancel, ncancel + 1, sizeof *cancel);
			cancel[ncancel++] = t;
		}
	}
	reply.u.ack.cancel = cancel;
	reply.u.ack.ncancel = ncancel;
	sched_pass_reply(s, ctx, &reply);
	free(cancel);
}

static void
sched_handle_bye(struct sched *s, struct proto_server_ctx *ctx, const struct proto_msg *m)
{
	struct sched_worker *w = sched_handlers_worker(s, ctx, m, m->u.bye.worker_id);
	struct proto_msg reply = {.type = PROTO_ACK, .request_id = m->request_id};

	if (w == NULL)
		return;
	sched_pass_reply(s, ctx, &reply);
	sched_jobs_worker_lost(s, w, "said BYE");
}

void
sched_handlers_message(struct sched *s, struct proto_server_ctx *ctx, nng_msg *raw)
{
	struct proto_msg m;
	struct sched_pipe *p;
	char *cause = NULL;
	uint64_t writes = sched_store_writes(s->store);
	int rc;

	s->stats.messages++;
	rc = proto_decode(nng_msg_body(raw), nng_msg_len(raw), &m, &cause);
	nng_msg_free(raw);
	if (rc != 0) {
		sched_reject(s, ctx, m.request_id, rc, cause);
		free(cause);
		return;
	}
	p = sched_pipes_find(s, proto_server_ctx_pipe(ctx));
	if (m.type == PROTO_HELLO) {
		sched_auth_hello(s, ctx, &m);
	} else if (m.type == PROTO_AUTH) {
		sched_auth_auth(s, ctx, &m);
	} else if (p == NULL) {
		sched_reject(s, ctx, m.request_id, -EACCES,
				      "not authenticated: say HELLO (then AUTH) first");
	} else {
		int worker_msg = m.type == PROTO_TASK_REQUEST || m.type == PROTO_HEARTBEAT ||
				 m.type == PROTO_BYE;
		int client_msg = m.type == PROTO_SUBMIT || m.type == PROTO_STATUS ||
				 m.type == PROTO_CANCEL || m.type == PROTO_GC;

		if (worker_msg && p->role != PROTO_ROLE_WORKER)
			sched_reject(s, ctx, m.request_id, -EPROTO,
					      "only workers may send this message");
		else if (!worker_msg && !client_msg)
			sched_reject(s, ctx, m.request_id, -EPROTO,
					      "this message is not a request");
		else if (m.type == PROTO_SUBMIT)
			sched_submit(s, ctx, &m);
		else if (m.type == PROTO_STATUS)
			sched_handle_status(s, ctx, &m);
		else if (m.type == PROTO_CANCEL)
			sched_handle_cancel(s, ctx, &m);
		else if (m.type == PROTO_GC)
			sched_handle_gc(s, ctx, &m);
		else if (m.type == PROTO_TASK_REQUEST)
			sched_handle_task_request(s, ctx, &m);
		else if (m.type == PROTO_HEARTBEAT)
			sched_handle_heartbeat(s, ctx, &m);
		else
			sched_handle_bye(s, ctx, &m);
	}
	/* A submission or reported results that were written are acknowledged after the commit. */
	if ((m.type == PROTO_SUBMIT || m.type == PROTO_TASK_REQUEST) &&
	    sched_store_writes(s->store) != writes)
		sched_pass_durable(s, ctx);
	proto_msg_fini(&m);
}

void
sched_handlers_pipe_closed(struct sched *s, uint32_t pipe)
{
	struct sched_pipe *p = sched_pipes_find(s, pipe);

	sched_auth_pipe_closed(s, pipe);
	if (p == NULL)
		return;
	if (p->role == PROTO_ROLE_WORKER) {
		struct sched_worker *w = sched_workers_find(s, p->worker_id);
		if (w != NULL && w->pipe == pipe)
			sched_jobs_worker_lost(s, w, "its connection closed");
	}
	sched_pipes_set(s, pipe, 0, 0);
}
