/* Simulated workers of the swarm load tool: one thread per worker, each with its own connection,
 * speaking the real protocol (HELLO and AUTH with the token, long-poll TASK_REQUEST carrying the
 * previous batch's results, HEARTBEAT while holding tasks, BYE). Tasks are no-ops. At random a
 * worker's connection drops without a word, or it leaves with BYE, and it joins again as a new
 * worker; when told, the first `lose` workers go silent for good (their connections stay open,
 * so only the heartbeat TTL can find them). */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/timeutil.h"
#include "common/xmalloc.h"
#include "proto/proto-auth.h"
#include "proto/proto-codec.h"
#include "tests/bench/swarm.h"

struct swarm_worker {
	const struct swarm_config *cfg;
	struct swarm_shared *sh;
	uint32_t index;
	uint64_t rng;
	uint64_t *accepted;
	size_t naccepted, accepted_cap;
	pthread_t thread;
};

#define SWARM_ADD(field, n) __atomic_add_fetch(&(field), (n), __ATOMIC_RELAXED)
#define SWARM_LOAD(field)   __atomic_load_n(&(field), __ATOMIC_ACQUIRE)

static double
swarm_rand(struct swarm_worker *w)
{
	/* xorshift64* */
	w->rng ^= w->rng >> 12;
	w->rng ^= w->rng << 25;
	w->rng ^= w->rng >> 27;
	return (double)((w->rng * 2685821657736338717ULL) >> 11) / 9007199254740992.0;
}

static void
swarm_sleep(double s)
{
	struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};

	nanosleep(&ts, NULL);
}

static void
swarm_accept(struct swarm_worker *w, const struct proto_task_result *r, uint32_t n)
{
	if (w->naccepted + n > w->accepted_cap) {
		w->accepted_cap = (w->naccepted + n) * 2;
		w->accepted = xreallocarray(w->accepted, w->accepted_cap, sizeof *w->accepted);
	}
	for (uint32_t i = 0; i < n; i++)
		w->accepted[w->naccepted++] = r[i].task;
	SWARM_ADD(w->sh->accepted, n);
}

/* The tasks of an assignment, run (no-ops) into results; counts them per job and time bin. */
static struct proto_task_result *
swarm_run_tasks(struct swarm_worker *w, const struct proto_task_assign *a)
{
	struct proto_task_result *res = xcalloc(a->ntasks ? a->ntasks : 1, sizeof *res);
	uint32_t bin = (uint32_t)((time_mono_s() - w->sh->t0) / SWARM_BIN_S);

	for (uint32_t i = 0; i < a->ntasks; i++) {
		uint32_t job = PROTO_TASK_JOB(a->tasks[i].task);
		res[i].task = a->tasks[i].task;
		res[i].attempt = a->tasks[i].attempt;
		res[i].ok = true;
		res[i].elapsed_us = 1;
		if (job < SWARM_MAX_JOBS && bin < SWARM_MAX_BINS)
			SWARM_ADD(w->sh->dispatched[job][bin], 1);
	}
	SWARM_ADD(w->sh->assigned, a->ntasks);
	SWARM_ADD(w->sh->executed, a->ntasks);
	return res;
}

static void
swarm_heartbeat(struct swarm_worker *w, struct proto_call *call, uint64_t id,
		const struct proto_task_result *held, uint32_t n)
{
	struct proto_msg req = {.type = PROTO_HEARTBEAT}, reply;
	uint64_t *running = xcalloc(n ? n : 1, sizeof *running);
	double t = time_mono_s(), edge = 50e-6;
	int k;

	for (uint32_t i = 0; i < n; i++)
		running[i] = held[i].task;
	req.u.heartbeat.worker_id = id;
	req.u.heartbeat.running = running;
	req.u.heartbeat.nrunning = n;
	SWARM_ADD(w->sh->heartbeats, 1);
	if (proto_call_run(call, &req, &reply, 10000, NULL) == 0) {
		t = time_mono_s() - t;
		for (k = 0; k < SWARM_HB_BUCKETS && t > edge; k++)
			edge *= 2;
		SWARM_ADD(w->sh->hb_bucket[k], 1);
		SWARM_ADD(w->sh->heartbeats_ok, 1);
		proto_msg_fini(&reply);
	}
	free(running);
}

static int
swarm_register(struct swarm_worker *w, struct proto_call *call, struct proto_welcome *welcome)
{
	struct proto_hello h = {.role = PROTO_ROLE_WORKER};
	char host[64];
	char *cause = NULL;
	int rc;

	snprintf(host, sizeof host, "swarm-%u", w->index);
	h.version = "neurodag " ND_VERSION;
	h.host = host;
	h.pid = (uint64_t)getpid();
	h.slots = 1;
	rc = proto_auth_hello(call, &h, w->cfg->token, 10000, welcome, &cause);
	free(cause);
	return rc;
}

/* Whether this worker is one of those told to go silent, and now is the time. */
static bool
swarm_silenced(struct swarm_worker *w, uint64_t id)
{
	if (w->index >= w->cfg->lose || !SWARM_LOAD(w->sh->silence))
		return false;
	__atomic_store_n(&w->sh->silent_ids[w->index], (uint32_t)id, __ATOMIC_RELEASE);
	return true;
}

/* One registration: poll until stop, a drop, a leave or silence. Returns true when the worker
 * should join again. */
static bool
swarm_session(struct swarm_worker *w, struct proto_call *call, uint64_t id, uint64_t hb_ms)
{
	struct proto_task_result *held = NULL;
	uint32_t nheld = 0;
	double last_hb = time_mono_s();
	bool again = true;

	while (!SWARM_LOAD(w->sh->stop)) {
		struct proto_msg req = {.type = PROTO_TASK_REQUEST}, reply;
		bool leaving = swarm_rand(w) < w->cfg->leave;
		int rc;

		if (swarm_silenced(w, id)) {
			while (!SWARM_LOAD(w->sh->stop))
				swarm_sleep(0.05);
			again = false;
			break;
		}
		if (swarm_rand(w) < w->cfg->loss) {
			SWARM_ADD(w->sh->drops, 1); /* its held tasks are the scheduler's to requeue */
			break;
		}
		if (nheld > 0 && time_mono_s() - last_hb >= (double)hb_ms / 1000) {
			swarm_heartbeat(w, call, id, held, nheld);
			last_hb = time_mono_s();
		}
		req.u.task_request.worker_id = id;
		req.u.task_request.free_slots = leaving ? 0 : w->cfg->batch;
		req.u.task_request.results = held;
		req.u.task_request.nresults = nheld;
		SWARM_ADD(w->sh->requests, 1);
		rc = proto_call_run(call, &req, &reply, 30000, NULL);
		if (rc != 0) {
			SWARM_ADD(w->sh->errors, 1);
			break;
		}
		swarm_accept(w, held, nheld);
		free(held);
		held = NULL;
		nheld = 0;
		if (reply.type == PROTO_TASK_ASSIGN) {
			held = swarm_run_tasks(w, &reply.u.task_assign);
			nheld = reply.u.task_assign.ntasks;
		}
		proto_msg_fini(&reply);
		if (leaving && nheld == 0) {
			struct proto_msg bye = {.type = PROTO_BYE};
			bye.u.bye.worker_id = id;
			if (proto_call_run(call, &bye, &reply, 5000, NULL) == 0)
				proto_msg_fini(&reply);
			SWARM_ADD(w->sh->leaves, 1);
			swarm_sleep(0.05 + 0.2 * swarm_rand(w));
			break;
		}
	}
	free(held);
	return again;
}

static void *
swarm_worker_thread(void *arg)
{
	struct swarm_worker *w = arg;
	bool first = true;

	while (!SWARM_LOAD(w->sh->stop)) {
		struct proto_client client;
		struct proto_call call;
		struct proto_welcome welcome;
		bool again;

		if (proto_client_open(&client, w->cfg->url, NULL) != 0) {
			swarm_sleep(0.1);
			continue;
		}
		if (proto_call_open(&client, &call, NULL) != 0 ||
		    swarm_register(w, &call, &welcome) != 0) {
			SWARM_ADD(w->sh->errors, 1);
			proto_client_close_within(&client, 100);
			swarm_sleep(0.1);
			continue;
		}
		SWARM_ADD(w->sh->registered, 1);
		if (!first)
			SWARM_ADD(w->sh->joins, 1);
		first = false;
		again = swarm_session(w, &call, welcome.worker_id,
				      welcome.heartbeat_ms ? welcome.heartbeat_ms : 1000);
		proto_call_close(&call);
		/* nng 1.5.2 can hang closing a REQ socket: give up after a moment. */
		proto_client_close_within(&client, 100);
		if (!again)
			break;
	}
	return NULL;
}

static int
swarm_write_accepted(const struct swarm_config *cfg, uint32_t proc, struct swarm_worker *ws,
		     uint32_t n)
{
	char *path = xasprintf("%s/accepted-%u.bin", cfg->dir, proc);
	FILE *f = fopen(path, "wb");
	int rc = 0;

	free(path);
	if (f == NULL)
		return -errno;
	for (uint32_t i = 0; i < n; i++)
		if (ws[i].naccepted > 0 &&
		    fwrite(ws[i].accepted, sizeof *ws[i].accepted, ws[i].naccepted, f) !=
			ws[i].naccepted)
			rc = -EIO;
	if (fclose(f) != 0)
		rc = -EIO;
	return rc;
}

int
swarm_workers_run(const struct swarm_config *cfg, struct swarm_shared *sh, uint32_t proc,
		  uint32_t first, uint32_t n)
{
	struct swarm_worker *ws = xcalloc(n, sizeof *ws);
	pthread_attr_t attr;
	int rc;

	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 256 << 10);
	for (uint32_t i = 0; i < n; i++) {
		ws[i].cfg = cfg;
		ws[i].sh = sh;
		ws[i].index = first + i;
		ws[i].rng = cfg->seed * 0x9E3779B97F4A7C15ULL + first + i + 1;
		if (pthread_create(&ws[i].thread, &attr, swarm_worker_thread, &ws[i]) != 0) {
			fprintf(stderr, "bench-swarm: cannot start worker thread %u\n", first + i);
			n = i;
			__atomic_store_n(&sh->stop, 1, __ATOMIC_RELEASE);
			break;
		}
	}
	pthread_attr_destroy(&attr);
	for (uint32_t i = 0; i < n; i++)
		pthread_join(ws[i].thread, NULL);
	rc = swarm_write_accepted(cfg, proc, ws, n);
	for (uint32_t i = 0; i < n; i++)
		free(ws[i].accepted);
	free(ws);
	return rc;
}
