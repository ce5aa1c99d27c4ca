/* The scheduler's loop: one libuv thread owns all state. nng and HTTP threads post into a locked
 * inbox and wake the loop; each pass drains the inbox, runs dispatch if something kicked it,
 * commits the store, and only then sends the replies queued during the pass. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "common/error.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "common/trace.h"
#include "common/xmalloc.h"
#include "scheduler/sched-auth.h"
#include "scheduler/state/sched-build.h"
#include "scheduler/state/sched-submit.h"
#include "scheduler/sched-core.h"
#include "scheduler/state/sched-dispatch.h"
#include "scheduler/sched-handlers.h"
#include "scheduler/sched-http.h"
#include "scheduler/sched-loopstat.h"
#include "scheduler/state/sched-taskstat.h"
#include "scheduler/state/sched-jobs.h"
#include "scheduler/state/sched-pass.h"
#include "scheduler/sched-reject.h"
#include "scheduler/state/sched-retention.h"
#include "scheduler/state/store/sched-store.h"
#include "scheduler/state/sched-timeout.h"
#include "scheduler/state/sched-workers.h"

enum sched_inbox_kind { INBOX_MSG, INBOX_PIPE, INBOX_HTTP, INBOX_STOP };

struct sched_inbox_item {
	enum sched_inbox_kind kind;
	struct proto_server_ctx *ctx;
	nng_msg *msg;
	uint32_t pipe;
	uint64_t recv_ns; /* tracing only */
	struct sched_http_request *http;
	struct sched_inbox_item *next;
};

struct sched_inbox {
	pthread_mutex_t lock;
	bool closed;
	struct sched_inbox_item *head, *tail;
};

/* Returns false when the inbox is closed (shutdown): the caller keeps the item. */
static bool
sched_inbox_post(struct sched *s, struct sched_inbox_item *it)
{
	pthread_mutex_lock(&s->inbox->lock);
	if (s->inbox->closed) {
		pthread_mutex_unlock(&s->inbox->lock);
		return false;
	}
	if (s->inbox->tail != NULL)
		s->inbox->tail->next = it;
	else
		s->inbox->head = it;
	s->inbox->tail = it;
	pthread_mutex_unlock(&s->inbox->lock);
	uv_async_send(&s->wake);
	return true;
}

static void
sched_on_message(struct proto_server_ctx *ctx, nng_msg *msg, void *arg)
{
	struct sched_inbox_item *it = xcalloc(1, sizeof *it);

	it->kind = INBOX_MSG;
	it->ctx = ctx;
	it->msg = msg;
	if (trace_enabled)
		it->recv_ns = time_mono_ns();
	if (!sched_inbox_post(arg, it)) {
		nng_msg_free(msg);
		proto_server_reply_error(ctx, 0, PROTO_STATUS_SHUTTING_DOWN, "shutting down");
		free(it);
	}
}

static void
sched_on_pipe_closed(uint32_t pipe, void *arg)
{
	struct sched_inbox_item *it = xcalloc(1, sizeof *it);

	it->kind = INBOX_PIPE;
	it->pipe = pipe;
	if (!sched_inbox_post(arg, it))
		free(it);
}

static void
sched_on_http(struct sched_http_request *req, void *arg)
{
	struct sched *s = arg;
	struct sched_inbox_item *it = xcalloc(1, sizeof *it);

	it->kind = INBOX_HTTP;
	it->http = req;
	if (!sched_inbox_post(s, it)) {
		sched_http_request_free(req);
		free(it);
	}
}

static void
sched_on_wake(uv_async_t *h)
{
	struct sched *s = h->data;
	struct sched_inbox_item *it, *next;

	pthread_mutex_lock(&s->inbox->lock);
	it = s->inbox->head;
	s->inbox->head = s->inbox->tail = NULL;
	pthread_mutex_unlock(&s->inbox->lock);
	for (; it != NULL; it = next) {
		next = it->next;
		switch (it->kind) {
		case INBOX_MSG:
			if (s->stopping) {
				nng_msg_free(it->msg);
				proto_server_reply_error(it->ctx, 0, PROTO_STATUS_SHUTTING_DOWN,
							 "the scheduler is shutting down");
			} else {
				if (trace_enabled) {
					s->trace_recv_ns = it->recv_ns;
					s->trace_handle_ns = time_mono_ns();
				}
				sched_handlers_message(s, it->ctx, it->msg);
			}
			break;
		case INBOX_PIPE:
			sched_handlers_pipe_closed(s, it->pipe);
			break;
		case INBOX_HTTP:
			sched_http_answer(s, it->http);
			break;
		case INBOX_STOP:
			sched_stop(s);
			break;
		}
		free(it);
	}
}

/* How often a failed commit is tried again. */
#define SCHED_CORE_COMMIT_RETRY_S 1.0

/* Commit the pass; on failure keep serving: what acknowledges a write waits (sched-pass.c), new
 * jobs are refused (sched-statedir.c), and the commit is tried again every second. */
static void
sched_core_commit(struct sched *s)
{
	double now = time_mono_s();
	char *cause = NULL;
	int rc;

	if (s->store_error != 0 && now < s->store_retry_at) {
		sched_pass_send(s, false);
		return;
	}
	TRACE(TRACE_COMMIT_BEGIN, 0);
	rc = sched_store_commit(s->store, &cause);
	TRACE(TRACE_COMMIT_END, 0);
	if (rc == 0) {
		if (s->store_error != 0)
			sched_workers_refresh(s, now);
		if (s->store_error != 0)
			log_warn("the state database is writable again after %.1f s; %zu held "
				 "replies sent",
				 now - s->store_error_since, sched_pass_held(s));
		s->store_error = 0;
		free(s->store_cause);
		s->store_cause = NULL;
		sched_pass_send(s, true);
		sched_http_committed(s->http);
		return;
	}
	if (s->store_error == 0 || strcmp(cause, s->store_cause) != 0)
		log_error("%s; new jobs are refused and results wait until it can write again "
			  "(%zu writes kept in memory, retried every %g s)",
			  cause, sched_store_pending(s->store), SCHED_CORE_COMMIT_RETRY_S);
	if (s->store_error == 0)
		s->store_error_since = now;
	s->store_error = rc;
	free(s->store_cause);
	s->store_cause = cause;
	s->store_retry_at = now + SCHED_CORE_COMMIT_RETRY_S;
	sched_pass_send(s, false);
}

/* Before the loop sleeps: dispatch, commit, then answer. */
static void
sched_on_prepare(uv_prepare_t *h)
{
	struct sched *s = h->data;

	if (!s->stopping && sched_pass_take_kick(s))
		sched_dispatch(s);
	if (s->status_waits != NULL)
		sched_handlers_status_waits(s, time_mono_s());
	sched_core_commit(s);
}

static void
sched_on_tick(uv_timer_t *h)
{
	struct sched *s = h->data;
	double now = time_mono_s();

	struct sched_worker *w;

	/* While commits fail, workers whose replies are held cannot show signs of life. */
	while (s->store_error == 0 && (w = sched_workers_expired(s, now)) != NULL)
		sched_jobs_worker_lost(s, w, "no heartbeat within the TTL");
	sched_dispatch_release_held(s, now);
	sched_jobs_check_waiting(s);
	sched_retention_tick(s, now);
	sched_reject_tick(s, now);
	sched_timeout_tick(s, now);
	if (s->server != NULL)
		proto_server_reap(s->server);
	sched_pass_kick(s);
}

static void
sched_on_signal(uv_signal_t *h, int signum)
{
	struct sched *s = h->data;

	log_info("received %s, shutting down", signum == SIGTERM ? "SIGTERM" : "SIGINT");
	sched_stop(s);
}

/* Unauthenticated pipes may hold at most half the descriptors left after a reserve for the
 * HTTP endpoint, the store, the log and authenticated peers. */
#define SCHED_CORE_FD_RESERVE 256

static void
sched_core_limits(struct sched *s)
{
	struct proto_server_limits lim = PROTO_SERVER_LIMITS_DEFAULT;
	struct rlimit rl;

	if (s->cfg.hello_timeout_s > 0)
		lim.hello_deadline_s = s->cfg.hello_timeout_s;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
		rlim_t room = rl.rlim_cur > 2 * SCHED_CORE_FD_RESERVE
				  ? (rl.rlim_cur - SCHED_CORE_FD_RESERVE) / 2
				  : rl.rlim_cur / 4;
		if (room < lim.max_unauth)
			lim.max_unauth = room > 8 ? (uint32_t)room : 8;
		if (lim.max_unauth_per_addr > lim.max_unauth)
			lim.max_unauth_per_addr = lim.max_unauth;
	}
	proto_server_set_limits(s->server, &lim);
}

int
sched_new(struct sched **out, const struct sched_config *cfg, bool handle_signals, char **cause)
{
	struct sched *s = xcalloc(1, sizeof *s);
	int rc;

	s->cfg = *cfg;
	if (s->cfg.poll_hold_s <= 0 || s->cfg.poll_hold_s > s->cfg.heartbeat_interval_s)
		s->cfg.poll_hold_s =
		    s->cfg.heartbeat_interval_s < 1.0 ? s->cfg.heartbeat_interval_s : 1.0;
	s->started = time_mono_s();
	s->next_job_id = 1;
	s->next_worker_id = 1;
	s->inbox = xcalloc(1, sizeof *s->inbox);
	pthread_mutex_init(&s->inbox->lock, NULL);
	if ((rc = uv_loop_init(&s->loop)) != 0) {
		free(s->inbox);
		free(s);
		return error_set(cause, rc, "cannot start the event loop: %s", uv_strerror(rc));
	}
	s->wake.data = s->flush.data = s->tick.data = s;
	uv_async_init(&s->loop, &s->wake, sched_on_wake);
	uv_prepare_init(&s->loop, &s->flush);
	uv_prepare_start(&s->flush, sched_on_prepare);
	uv_timer_init(&s->loop, &s->tick);
	sched_build_init(s);
	sched_submit_init(s);
	s->loopstat = xcalloc(1, sizeof *s->loopstat);
	if ((rc = sched_loopstat_start(s->loopstat, &s->loop)) != 0)
		log_warn("the loop's busy time is not measured: %s", uv_strerror(rc));
	if (handle_signals) {
		s->owns_signals = true;
		s->sigterm.data = s->sigint.data = s;
		uv_signal_init(&s->loop, &s->sigterm);
		uv_signal_init(&s->loop, &s->sigint);
		uv_signal_start(&s->sigterm, sched_on_signal, SIGTERM);
		uv_signal_start(&s->sigint, sched_on_signal, SIGINT);
	}
	if ((rc = sched_store_open(&s->store, cfg->state_dir, cause)) != 0)
		goto fail;
	sched_jobs_restore(s);
	if (sched_store_next_job_id(s->store) > s->next_job_id)
		s->next_job_id = sched_store_next_job_id(s->store);
	sched_retention_start(s);
	if ((rc = proto_server_open_tls(&s->server, cfg->listen_url, &cfg->tls, sched_on_message,
					sched_on_pipe_closed, s, cause)) != 0)
		goto fail;
	sched_core_limits(s);
	if (cfg->http_addr != NULL && *cfg->http_addr != '\0') {
		struct sched_http_config hc = {cfg->http_addr, cfg->token, cfg->http_auth_read,
					       cfg->http_hosts};
		if ((rc = sched_http_start(&hc, sched_on_http, s, &s->http, cause)) != 0)
			goto fail;
	}
	uv_timer_start(&s->tick, sched_on_tick, 100, 100);
	sched_pass_kick(s);
	log_info("listening on %s%s%s, state in %s", cfg->listen_url,
		 s->http != NULL ? ", status on http://" : "",
		 s->http != NULL ? cfg->http_addr : "", cfg->state_dir);
	*out = s;
	return 0;
fail:
	s->stopping = true;
	sched_free(s);
	return rc;
}

/* The scheduler whose loop runs on this thread, if any: sched_stop acts directly only there. */
static _Thread_local struct sched *sched_core_current;

int
sched_run(struct sched *s)
{
	int rc;

	sched_core_current = s;
	rc = uv_run(&s->loop, UV_RUN_DEFAULT);
	sched_core_current = NULL;
	return rc;
}

static void
sched_close_walk(uv_handle_t *h, void *arg)
{
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

void
sched_stop(struct sched *s)
{
	if (sched_core_current != s) {
		/* Another thread, or before the loop runs: the loop stops when it reads this. */
		struct sched_inbox_item *it = xcalloc(1, sizeof *it);
		it->kind = INBOX_STOP;
		if (!sched_inbox_post(s, it))
			free(it);
		return;
	}
	if (s->stopping)
		return;
	s->stopping = true;
	uv_timer_stop(&s->tick);
	uv_stop(&s->loop);
}

void
sched_free(struct sched *s)
{
	struct sched_inbox_item *it, *itn;

	if (s == NULL)
		return;
	/* Close the inbox, answer what is queued, then stop the servers' threads. */
	pthread_mutex_lock(&s->inbox->lock);
	s->inbox->closed = true;
	it = s->inbox->head;
	s->inbox->head = s->inbox->tail = NULL;
	pthread_mutex_unlock(&s->inbox->lock);
	for (; it != NULL; it = itn) {
		itn = it->next;
		if (it->kind == INBOX_MSG)
			nng_msg_free(it->msg);
		if (it->kind == INBOX_HTTP)
			sched_http_request_free(it->http);
		free(it);
	}
	sched_http_stop(s->http);
	proto_server_close(s->server);
	sched_handlers_status_waits_free(s);
	sched_pass_drop(s);
	sched_submit_fini(s);
	sched_auth_free(s);
	if (s->store != NULL)
		sched_store_close(s->store);
	sched_jobs_outputs_free(s);
	sched_jobs_free_all(s);
	sched_workers_free_all(s);
	uv_walk(&s->loop, sched_close_walk, NULL);
	uv_run(&s->loop, UV_RUN_DEFAULT);
	uv_loop_close(&s->loop);
	free(s->loopstat);
	sched_taskstat_free(s);
	free(s->store_cause);
	pthread_mutex_destroy(&s->inbox->lock);
	free(s->inbox);
	free(s);
}
