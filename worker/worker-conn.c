/* The worker's conversation with the scheduler: HELLO (again after any loss), the long-poll
 * loop that reports results and takes tasks, heartbeats (with its memory and CPU time), and the
 * drain on SIGTERM that finishes running tasks and says BYE. Reconnects with backoff; never
 * forks. */
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "common/error.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "common/trace.h"
#include "common/xmalloc.h"
#include "proto/proto-auth.h"
#include "proto/proto-nng.h"
#include "worker/ops/task-run.h"
#include "worker/worker.h"

/* How long a stopping worker waits for its socket to close. */
#define WORKER_EXIT_CLOSE_MS 100

#define WORKER_CALL_TIMEOUT_MS 30000
/* A draining worker gives up sending results after this long (the scheduler is unreachable). */
#define WORKER_DRAIN_SEND_S 2.0
/* A busy worker told there is nothing to run (an IDLE, or fewer tasks than it asked for) asks
 * again after a result or this long. */
#define WORKER_BUSY_REPOLL_S 0.25
/* A scheduler that cannot record results now (its state dir is full) is asked again after this. */
#define WORKER_UNAVAILABLE_S 1
/* Work to hold per slot, in seconds of the recent average task time. */
#define WORKER_PREFETCH_S 0.05

static struct proto_client worker_client;

int
worker_start(struct worker *w, const struct worker_config *cfg, char **cause)
{
	const char *sj = getenv("SLURM_JOB_ID"), *sa = getenv("SLURM_ARRAY_JOB_ID"),
		   *si = getenv("SLURM_ARRAY_TASK_ID");

	memset(w, 0, sizeof *w);
	w->cfg = *cfg;
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->work_cond, NULL);
	pthread_cond_init(&w->result_cond, NULL);
	pthread_cond_init(&w->stop_cond, NULL);
	if (gethostname(w->hostname, sizeof w->hostname - 1) != 0)
		strcpy(w->hostname, "unknown");
	if (sa != NULL && si != NULL)
		w->slurm_job = xasprintf("%s_%s", sa, si);
	else if (sj != NULL)
		w->slurm_job = xstrdup(sj);
	w->running = xcalloc(cfg->nthreads, sizeof *w->running);
	for (uint32_t i = 0; i < cfg->nthreads; i++)
		w->running[i] = (void *)-1;
	w->threads = xcalloc(cfg->nthreads, sizeof *w->threads);
	for (uint32_t i = 0; i < cfg->nthreads; i++)
		if (pthread_create(&w->threads[i], NULL, worker_exec_thread, w) != 0)
			return error_set(cause, -EAGAIN, "cannot start executor threads");
	return proto_client_open_tls(&worker_client, cfg->url, &w->cfg.tls, cause);
}

void
worker_drain(struct worker *w)
{
	atomic_store(&w->draining, 1);
	pthread_mutex_lock(&w->lock);
	pthread_cond_broadcast(&w->result_cond);
	/* A task request may be parked on the scheduler for its whole hold: abort it once its
	 * results (if any) are sent, or when they could not be sent for a while (the scheduler is
	 * gone; it requeues them). Anything the scheduler assigned to it meanwhile goes back to
	 * the queue at BYE. */
	if (w->poll != NULL && (w->poll_idle || atomic_load(&w->poll->sent) ||
				time_mono_s() - w->poll_started > WORKER_DRAIN_SEND_S))
		proto_call_cancel(w->poll);
	pthread_mutex_unlock(&w->lock);
}

static int
worker_hello(struct worker *w, struct proto_call *call, char **cause)
{
	struct proto_hello h = {.role = PROTO_ROLE_WORKER};
	struct proto_welcome welcome;
	long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
	int rc;

	h.version = "neurodag " ND_VERSION;
	h.host = w->hostname;
	h.pid = (uint64_t)getpid();
	h.slots = w->cfg.nthreads;
	h.mem = pages > 0 && psize > 0 ? (uint64_t)pages * (uint64_t)psize : 0;
	h.slurm_job = w->slurm_job;
	rc = proto_auth_hello(call, &h, w->cfg.token, 5000, &welcome, cause);
	if (rc != 0)
		return rc;
	w->worker_id = welcome.worker_id;
	w->heartbeat_ms = welcome.heartbeat_ms;
	log_info("registered with %s as worker %llu (%u threads)", w->cfg.url,
		 (unsigned long long)w->worker_id, w->cfg.nthreads);
	return 0;
}

/* Register, retrying with backoff while the scheduler is unreachable. A wrong token is final. */
static int
worker_register(struct worker *w, struct proto_call *call, char **cause)
{
	double start = time_mono_s(), delay = 0.05;

	for (;;) {
		char *why = NULL;
		int rc = worker_hello(w, call, &why);

		if (rc == 0)
			return 0;
		if (rc == -EACCES) {
			error_set(cause, rc, "cannot authenticate with the scheduler at %s: %s",
				  w->cfg.url, why);
			free(why);
			return rc;
		}
		if (rc == -ETIMEDOUT && proto_tls_url(w->cfg.url)) {
			/* A refused TLS handshake looks like silence to the REQ socket: ask. */
			char *tls_why = NULL;
			if (proto_client_probe(w->cfg.url, &w->cfg.tls, &tls_why) == -EPERM) {
				error_set(cause, -EPERM, "%s", tls_why);
				free(tls_why);
				free(why);
				return -EPERM;
			}
			free(tls_why);
		}
		if (w->cfg.connect_timeout_s > 0 &&
		    time_mono_s() - start > w->cfg.connect_timeout_s) {
			error_set(cause, -ETIMEDOUT, "no scheduler at %s after %g s: %s",
				  w->cfg.url, w->cfg.connect_timeout_s, why);
			free(why);
			return -ETIMEDOUT;
		}
		if (atomic_load(&w->draining)) {
			free(why);
			return -ECANCELED;
		}
		log_debug("scheduler not reachable (%s), retrying", why);
		free(why);
		struct timespec ts = {(time_t)delay, (long)((delay - (time_t)delay) * 1e9)};
		nanosleep(&ts, NULL);
		delay = delay * 2 > 2.0 ? 2.0 : delay * 2;
	}
}

/* Wait on cond for at most `s` seconds (lock held). */
static void
worker_wait(pthread_cond_t *cond, pthread_mutex_t *lock, double s)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += (time_t)s;
	ts.tv_nsec += (long)((s - (double)(time_t)s) * 1e9);
	while (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_cond_timedwait(cond, lock, &ts);
}

/* This process's resident memory (/proc/self/statm) and CPU time (all threads), for the
 * scheduler's per-worker metrics. */
static void
worker_usage(struct proto_heartbeat *h)
{
	struct rusage ru;
	unsigned long long pages = 0, rss = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f == NULL || fscanf(f, "%llu %llu", &pages, &rss) != 2 ||
	    getrusage(RUSAGE_SELF, &ru) != 0) {
		if (f != NULL)
			fclose(f);
		return;
	}
	fclose(f);
	h->has_usage = true;
	h->rss_bytes = (uint64_t)rss * (uint64_t)sysconf(_SC_PAGESIZE);
	h->cpu_us = (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000u +
		    (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

static void *
worker_heartbeat_thread(void *arg)
{
	struct worker *w = arg;
	struct proto_call call;

	if (proto_call_open(&worker_client, &call, NULL) != 0)
		return NULL;
	for (;;) {
		struct proto_msg req = {.type = PROTO_HEARTBEAT}, reply;
		uint64_t ms = w->heartbeat_ms > 0 ? w->heartbeat_ms : 2000;
		uint32_t n;
		int stop;

		pthread_mutex_lock(&w->lock);
		if (!atomic_load(&w->stopping))
			worker_wait(&w->stop_cond, &w->lock, (double)ms / 1000);
		stop = atomic_load(&w->stopping);
		w->heartbeat_call = stop ? NULL : &call;
		pthread_mutex_unlock(&w->lock);
		if (stop)
			break;
		if (w->worker_id == 0)
			continue;
		req.u.heartbeat.running = worker_exec_running(w, &n);
		req.u.heartbeat.nrunning = n;
		req.u.heartbeat.worker_id = w->worker_id;
		worker_usage(&req.u.heartbeat);
		/* A heartbeat older than the next one is worthless: wait at most two intervals. */
		if (proto_call_run(&call, &req, &reply, (int)(ms < 2500 ? 2 * ms : 5000),
					    NULL) == 0) {
			if (reply.type == PROTO_ACK && reply.u.ack.ncancel > 0) {
				log_info("cancelling %u tasks", reply.u.ack.ncancel);
				worker_exec_cancel(w, reply.u.ack.cancel, reply.u.ack.ncancel);
			}
			proto_msg_fini(&reply);
		}
		free(req.u.heartbeat.running);
	}
	pthread_mutex_lock(&w->lock);
	w->heartbeat_call = NULL;
	pthread_mutex_unlock(&w->lock);
	proto_call_close(&call);
	return NULL;
}

/* How many tasks to hold locally (called with the lock held): more when tasks are short, so
 * round trips are amortised; only one per slot while the task length is unknown (after an idle
 * spell, when a new job may have different tasks) or a running task is already long, so long
 * tasks are not hoarded while other workers idle. */
static uint32_t
worker_capacity(struct worker *w)
{
	uint32_t slots = w->cfg.nthreads, per = 1, cap;
	double now = time_mono_s();

	if (w->nqueued + w->nrunning == 0 && now - w->last_done > 1.0)
		return slots;
	for (uint32_t i = 0; i < slots; i++)
		if (w->running[i] != NULL && w->running[i] != (void *)-1 &&
		    now - w->running[i]->started > 0.05)
			return slots;
	/* About WORKER_PREFETCH_S of work per slot at the recent average task time (at most 256
	 * per slot): no-op tasks get 256, 2 ms tasks 26, 40 ms tasks 2. */
	if (w->avg_task_s > 0) {
		double n = 1 + WORKER_PREFETCH_S / w->avg_task_s;
		per = n >= 256 ? 256 : (uint32_t)n;
	}
	cap = slots * per;
	return cap < PROTO_MAX_BATCH ? cap : PROTO_MAX_BATCH;
}

static void
worker_results_free(struct proto_task_result *r, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		free(r[i].result);
		free(r[i].error);
	}
	free(r);
}

static void
worker_wait_result(struct worker *w, double s)
{
	worker_wait(&w->result_cond, &w->lock, s);
}

/* The scheduler could not record the results it was sent (its state dir is full): put them back
 * in front of those that came since, for the next request. */
static void
worker_results_keep(struct worker *w, struct proto_task_result *r, uint32_t n)
{
	pthread_mutex_lock(&w->lock);
	r = xreallocarray(r, (size_t)n + w->nresults, sizeof *r);
	memcpy(r + n, w->results, w->nresults * sizeof *r);
	free(w->results);
	w->results = r;
	w->nresults += n;
	w->results_cap = w->nresults;
	pthread_mutex_unlock(&w->lock);
}

/* Forget everything from the registration that was lost, then register again. */
static int
worker_reregister(struct worker *w, struct proto_call *call, char **cause)
{
	w->worker_id = 0;
	worker_exec_reset(w);
	return worker_register(w, call, cause);
}

/* Wait (lock held) while busy with nothing to report: when the queue is full, when draining, or
 * shortly after the scheduler said it has nothing (it answers busy workers at once, so asking
 * again right away would spin). */
static void
worker_poll_wait(struct worker *w, double nothing_until)
{
	for (;;) {
		double now = time_mono_s();
		int draining = atomic_load(&w->draining);

		if (w->nresults > 0 || w->nqueued + w->nrunning == 0)
			return;
		if (draining || w->nqueued + w->nrunning >= worker_capacity(w) / 2 + 1)
			worker_wait_result(w, 0.2);
		else if (now < nothing_until)
			worker_wait_result(w, nothing_until - now);
		else
			return;
	}
}

/* Hand the first batch of results (lock held) to the request; keep the rest for the next. */
static void
worker_poll_results(struct worker *w, struct proto_task_request *r)
{
	r->results = w->results;
	r->nresults = w->nresults > PROTO_MAX_BATCH ? PROTO_MAX_BATCH : w->nresults;
	if (r->nresults < w->nresults) {
		struct proto_task_result *rest = xcalloc(w->nresults - r->nresults, sizeof *rest);
		memcpy(rest, w->results + r->nresults, (w->nresults - r->nresults) * sizeof *rest);
		w->results = rest;
		w->nresults -= r->nresults;
		w->results_cap = w->nresults;
	} else {
		w->results = NULL;
		w->nresults = w->results_cap = 0;
	}
}

/* Fill the next task request: results to report and free slots. Returns false when draining is
 * over (nothing queued, running or to report). */
static bool
worker_poll_begin(struct worker *w, struct proto_call *call, struct proto_task_request *r,
		  double nothing_until, uint32_t *inflight)
{
	uint32_t cap;
	int draining;

	pthread_mutex_lock(&w->lock);
	worker_poll_wait(w, nothing_until);
	worker_poll_results(w, r);
	*inflight = w->nqueued + w->nrunning;
	cap = worker_capacity(w);
	draining = atomic_load(&w->draining);
	if (draining && *inflight == 0 && r->nresults == 0) {
		pthread_mutex_unlock(&w->lock);
		return false;
	}
	atomic_store(&call->sent, 0);
	w->poll = call;
	w->poll_idle = r->nresults == 0;
	w->poll_started = time_mono_s();
	pthread_mutex_unlock(&w->lock);
	r->worker_id = w->worker_id;
	r->free_slots = draining || *inflight >= cap ? 0 : cap - *inflight;
	return true;
}

/* The scheduler's answer to a request for `asked` tasks: tasks to queue, or nothing for now.
 * Returns false when the worker has been idle past exit_when_idle_s. */
static bool
worker_poll_answer(struct worker *w, const struct proto_msg *reply, uint32_t asked,
		   uint32_t inflight, double *idle_since, double *nothing_until)
{
	if (reply->type == PROTO_TASK_ASSIGN) {
		struct worker_task *mine = worker_exec_enqueue(w, reply->u.task_assign.tasks,
							       reply->u.task_assign.ntasks, true);
		if (mine != NULL)
			worker_exec_run_inline(w, mine);
		*idle_since = time_mono_s();
		/* Fewer than asked: the scheduler has no more for now, so report the first result
		 * rather than ask again at once (and fetch an IDLE). */
		*nothing_until =
		    reply->u.task_assign.ntasks < asked ? *idle_since + WORKER_BUSY_REPOLL_S : 0;
	} else if (w->cfg.exit_when_idle_s > 0 && inflight == 0 &&
		   time_mono_s() - *idle_since > w->cfg.exit_when_idle_s) {
		return false;
	} else if (inflight > 0) {
		*nothing_until = time_mono_s() + WORKER_BUSY_REPOLL_S;
	}
	return true;
}

static void
worker_say_bye(struct worker *w, struct proto_call *call)
{
	struct proto_msg bye = {.type = PROTO_BYE}, reply;

	bye.u.bye.worker_id = w->worker_id;
	if (proto_call_run(call, &bye, &reply, 2000, NULL) == 0) {
		proto_msg_fini(&reply);
		log_info("drained: said BYE");
	} else {
		log_info("drained; the scheduler did not hear BYE");
	}
}

int
worker_run(struct worker *w, char **cause)
{
	struct proto_call call;
	double idle_since = time_mono_s(), nothing_until = 0;
	bool gone = false, more = true;
	int rc;

	if ((rc = proto_call_open(&worker_client, &call, cause)) != 0)
		return rc;
	if ((rc = worker_register(w, &call, cause)) != 0)
		goto out;
	pthread_create(&w->heartbeat_thread, NULL, worker_heartbeat_thread, w);
	while (more) {
		struct proto_msg req = {.type = PROTO_TASK_REQUEST}, reply;
		struct proto_task_request *r = &req.u.task_request;
		uint32_t inflight;
		char *why = NULL;

		if (!worker_poll_begin(w, &call, r, nothing_until, &inflight))
			break;
		for (uint32_t i = 0; trace_enabled && i < r->nresults; i++)
			trace_now(TRACE_WORKER_SEND, r->results[i].task);
		rc = proto_call_run(&call, &req, &reply, WORKER_CALL_TIMEOUT_MS, &why);
		for (uint32_t i = 0; trace_enabled && rc == 0 && reply.type == PROTO_TASK_ASSIGN &&
				     i < reply.u.task_assign.ntasks;
		     i++)
			trace_now(TRACE_WORKER_RECV, reply.u.task_assign.tasks[i].task);
		pthread_mutex_lock(&w->lock);
		w->poll = NULL;
		w->poll_idle = false;
		pthread_mutex_unlock(&w->lock);
		if (rc == -EAGAIN && !atomic_load(&w->draining)) {
			log_warn("the scheduler cannot take results now (%s); keeping %u, asking "
				 "again in %d s",
				 why, r->nresults, WORKER_UNAVAILABLE_S);
			free(why);
			worker_results_keep(w, r->results, r->nresults);
			struct timespec ts = {(time_t)WORKER_UNAVAILABLE_S, 0};
			nanosleep(&ts, NULL);
			continue;
		}
		worker_results_free(r->results, r->nresults);
		if (rc == -ECANCELED && atomic_load(&w->draining)) {
			free(why);
			rc = 0;
			if (!atomic_load(&call.sent)) {
				/* Aborted before it went out: nobody to say BYE to either. */
				log_warn(
				    "draining: the scheduler is unreachable; %u results are lost "
				    "(their tasks run again elsewhere)",
				    r->nresults);
				gone = true;
				break;
			}
			continue;
		}
		if (rc != 0) {
			/* Lost contact or forgotten: register again. The scheduler requeued (or
			 * will requeue) what it had assigned to us, so our queue and results are
			 * stale. */
			log_warn("lost contact with the scheduler (%s); registering again", why);
			free(why);
			if ((rc = worker_reregister(w, &call, cause)) != 0)
				break;
			continue;
		}
		more = worker_poll_answer(w, &reply, r->free_slots, inflight, &idle_since,
					  &nothing_until);
		proto_msg_fini(&reply);
	}
	if (rc == 0 && w->worker_id != 0 && !gone)
		worker_say_bye(w, &call);
out:
	proto_call_close(&call);
	return rc == -ECANCELED ? 0 : rc;
}

void
worker_stop(struct worker *w)
{
	pthread_mutex_lock(&w->lock);
	atomic_store(&w->stopping, 1);
	pthread_cond_broadcast(&w->work_cond);
	pthread_cond_broadcast(&w->stop_cond);
	if (w->heartbeat_call != NULL)
		proto_call_cancel(w->heartbeat_call);
	pthread_mutex_unlock(&w->lock);
	for (uint32_t i = 0; i < w->cfg.nthreads; i++)
		pthread_join(w->threads[i], NULL);
	if (w->heartbeat_thread)
		pthread_join(w->heartbeat_thread, NULL);
	/* The process exits next and the scheduler has had our BYE: a close that nng 1.5.2 leaves
	 * hanging (proto-nng.c) must not hold the exit, which `neurodag run` waits for. */
	if (proto_client_close_within(&worker_client, WORKER_EXIT_CLOSE_MS) != 0)
		log_debug("closing the connection did not finish within %d ms; exiting anyway",
			  WORKER_EXIT_CLOSE_MS);
	worker_results_free(w->results, w->nresults);
	while (w->queue_head != NULL) {
		struct worker_task *t = w->queue_head;
		w->queue_head = t->next;
		free(t->spec);
		free(t->deps);
		free(t);
	}
	if (w->inline_cache != NULL)
		task_run_cache_free(w->inline_cache);
	free(w->running);
	free(w->threads);
	free(w->slurm_job);
}
