/* The worker's conversation with the scheduler: HELLO (again after any loss), the long-poll
 * loop that reports results and takes tasks, heartbeats while busy, and the drain on SIGTERM
 * that finishes running tasks and says BYE. Reconnects with backoff; never forks. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/error.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "common/xmalloc.h"
#include "proto/proto-nng.h"
#include "worker/worker.h"

#define WORKER_CALL_TIMEOUT_MS 30000

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
	return proto_client_open(&worker_client, cfg->url, cause);
}

void
worker_drain(struct worker *w)
{
	atomic_store(&w->draining, 1);
}

static int
worker_hello(struct worker *w, struct proto_call *call, char **cause)
{
	struct proto_msg req = {.type = PROTO_HELLO}, reply;
	long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
	int rc;

	req.u.hello.role = PROTO_ROLE_WORKER;
	req.u.hello.token = (char *)w->cfg.token;
	req.u.hello.version = "neurodag " ND_VERSION;
	req.u.hello.host = w->hostname;
	req.u.hello.pid = (uint64_t)getpid();
	req.u.hello.slots = w->cfg.nthreads;
	req.u.hello.mem = pages > 0 && psize > 0 ? (uint64_t)pages * (uint64_t)psize : 0;
	req.u.hello.slurm_job = w->slurm_job;
	rc = proto_call_run(call, &req, &reply, 5000, cause);
	if (rc != 0)
		return rc;
	if (reply.type != PROTO_WELCOME) {
		proto_msg_fini(&reply);
		return error_set(cause, -EPROTO, "expected WELCOME, got %s",
				 proto_type_name(reply.type));
	}
	w->worker_id = reply.u.welcome.worker_id;
	w->heartbeat_ms = reply.u.welcome.heartbeat_ms;
	proto_msg_fini(&reply);
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
			error_set(cause, rc, "the scheduler at %s refused the token: %s", w->cfg.url,
				  why);
			free(why);
			return rc;
		}
		if (w->cfg.connect_timeout_s > 0 && time_mono_s() - start > w->cfg.connect_timeout_s) {
			error_set(cause, -ETIMEDOUT, "no scheduler at %s after %g s: %s", w->cfg.url,
				  w->cfg.connect_timeout_s, why);
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

static void *
worker_heartbeat_thread(void *arg)
{
	struct worker *w = arg;
	struct proto_call call;

	if (proto_call_open(&worker_client, &call, NULL) != 0)
		return NULL;
	while (!atomic_load(&w->stopping)) {
		struct proto_msg req = {.type = PROTO_HEARTBEAT}, reply;
		uint64_t ms = w->heartbeat_ms > 0 ? w->heartbeat_ms : 2000;
		uint32_t n;

		/* Sleep in short slices so worker_stop does not wait a whole interval. */
		for (uint64_t slept = 0; slept < ms && !atomic_load(&w->stopping); slept += 50) {
			struct timespec ts = {0, 50 * 1000000L};
			nanosleep(&ts, NULL);
		}
		if (atomic_load(&w->stopping))
			break;
		if (w->worker_id == 0)
			continue;
		req.u.heartbeat.running = worker_exec_running(w, &n);
		req.u.heartbeat.nrunning = n;
		req.u.heartbeat.worker_id = w->worker_id;
		if (n > 0 && proto_call_run(&call, &req, &reply, 5000, NULL) == 0) {
			if (reply.type == PROTO_ACK && reply.u.ack.ncancel > 0) {
				log_info("cancelling %u tasks", reply.u.ack.ncancel);
				worker_exec_cancel(w, reply.u.ack.cancel, reply.u.ack.ncancel);
			}
			proto_msg_fini(&reply);
		}
		free(req.u.heartbeat.running);
	}
	proto_call_close(&call);
	return NULL;
}

/* How many tasks to hold locally: more when tasks are short, so round trips are amortised. */
static uint32_t
worker_capacity(struct worker *w)
{
	uint32_t slots = w->cfg.nthreads;

	if (w->avg_task_s > 0 && w->avg_task_s < 0.002)
		return slots * 256 < PROTO_MAX_BATCH ? slots * 256 : PROTO_MAX_BATCH;
	if (w->avg_task_s > 0 && w->avg_task_s < 0.05)
		return slots * 8;
	return slots;
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

int
worker_run(struct worker *w, char **cause)
{
	struct proto_call call;
	double idle_since = time_mono_s();
	int rc;

	if ((rc = proto_call_open(&worker_client, &call, cause)) != 0)
		return rc;
	if ((rc = worker_register(w, &call, cause)) != 0)
		goto out;
	pthread_create(&w->heartbeat_thread, NULL, worker_heartbeat_thread, w);
	for (;;) {
		struct proto_msg req = {.type = PROTO_TASK_REQUEST}, reply;
		struct proto_task_request *r = &req.u.task_request;
		uint32_t inflight, cap;
		int draining = atomic_load(&w->draining);
		char *why = NULL;

		pthread_mutex_lock(&w->lock);
		/* Wait while busy with a full queue and nothing to report. */
		while (w->nresults == 0 && w->nqueued + w->nrunning > 0 &&
		       (draining || w->nqueued + w->nrunning >= worker_capacity(w) / 2 + 1)) {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += 200000000;
			if (ts.tv_nsec >= 1000000000) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000;
			}
			pthread_cond_timedwait(&w->result_cond, &w->lock, &ts);
			draining = atomic_load(&w->draining);
		}
		r->results = w->results;
		r->nresults = w->nresults > PROTO_MAX_BATCH ? PROTO_MAX_BATCH : w->nresults;
		if (r->nresults < w->nresults) {
			/* Report the first batch now; keep the rest for the next request. */
			struct proto_task_result *rest =
				xcalloc(w->nresults - r->nresults, sizeof *rest);
			memcpy(rest, w->results + r->nresults,
			       (w->nresults - r->nresults) * sizeof *rest);
			w->results = rest;
			w->nresults -= r->nresults;
			w->results_cap = w->nresults;
		} else {
			w->results = NULL;
			w->nresults = w->results_cap = 0;
		}
		inflight = w->nqueued + w->nrunning;
		cap = worker_capacity(w);
		pthread_mutex_unlock(&w->lock);

		if (draining && inflight == 0 && r->nresults == 0)
			break;
		r->worker_id = w->worker_id;
		r->free_slots = draining || inflight >= cap ? 0 : cap - inflight;
		rc = proto_call_run(&call, &req, &reply, WORKER_CALL_TIMEOUT_MS, &why);
		worker_results_free(r->results, r->nresults);
		if (rc != 0) {
			/* Lost contact or forgotten: register again. Results of tasks the scheduler
			 * requeued meanwhile would be stale, so they are dropped with the request. */
			log_warn("lost contact with the scheduler (%s); registering again", why);
			free(why);
			w->worker_id = 0;
			if ((rc = worker_register(w, &call, cause)) != 0)
				break;
			continue;
		}
		if (reply.type == PROTO_TASK_ASSIGN) {
			for (uint32_t i = 0; i < reply.u.task_assign.ntasks; i++)
				worker_exec_enqueue(w, &reply.u.task_assign.tasks[i]);
			idle_since = time_mono_s();
		} else if (w->cfg.exit_when_idle_s > 0 && inflight == 0 &&
			   time_mono_s() - idle_since > w->cfg.exit_when_idle_s) {
			proto_msg_fini(&reply);
			break;
		}
		proto_msg_fini(&reply);
	}
	if (rc == 0 && w->worker_id != 0) {
		struct proto_msg bye = {.type = PROTO_BYE}, reply;
		bye.u.bye.worker_id = w->worker_id;
		if (proto_call_run(&call, &bye, &reply, 2000, NULL) == 0)
			proto_msg_fini(&reply);
		log_info("drained: said BYE");
	}
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
	pthread_mutex_unlock(&w->lock);
	for (uint32_t i = 0; i < w->cfg.nthreads; i++)
		pthread_join(w->threads[i], NULL);
	if (w->heartbeat_thread)
		pthread_join(w->heartbeat_thread, NULL);
	proto_client_close(&worker_client);
	worker_results_free(w->results, w->nresults);
	while (w->queue_head != NULL) {
		struct worker_task *t = w->queue_head;
		w->queue_head = t->next;
		free(t->spec);
		free(t->deps);
		free(t);
	}
	free(w->running);
	free(w->threads);
	free(w->slurm_job);
}
