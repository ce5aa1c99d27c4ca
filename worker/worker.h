/* A worker process: a connection thread that registers with the scheduler and long-polls for
 * tasks, a heartbeat thread, and executor threads that run tasks from a local queue. */
#ifndef ND_WORKER_H
#define ND_WORKER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "proto/proto.h"
#include "proto/proto-tls.h"

struct worker_config {
	const char *url;
	const char *token;
	uint32_t nthreads;
	double connect_timeout_s; /* give up registering after this long (0: never) */
	int exit_when_idle_s;     /* tests: leave after this long without work (0: never) */
	struct proto_tls tls;     /* for a tls+tcp:// url */
};

struct task_run_cache;

struct worker_task {
	uint64_t id;
	uint32_t attempt;
	char *spec;
	char *deps;
	atomic_int cancel;
	double started;
	uint32_t epoch; /* the registration it was assigned under */
	struct worker_task *next;
};

struct worker {
	struct worker_config cfg;
	pthread_mutex_t lock;
	pthread_cond_t work_cond;   /* executors: a task is queued, or stopping */
	pthread_cond_t result_cond; /* connection: a result is ready */
	pthread_cond_t stop_cond;   /* heartbeat thread: stopping */
	struct worker_task *queue_head, *queue_tail;
	struct worker_task **running; /* nthreads slots */
	/* The task the connection thread runs itself, and its cache (worker-exec.c). */
	struct worker_task *inline_task;
	struct task_run_cache *inline_cache;
	uint32_t nqueued, nrunning;
	struct proto_task_result *results;
	uint32_t nresults, results_cap;
	double avg_task_s;
	double last_done; /* monotonic time the last task finished */
	/* Bumped on every new registration: tasks and results of an older one are stale. */
	uint32_t epoch;
	/* The task request in flight, and whether it carries no results (so a drain may abort it
	 * instead of waiting out the scheduler's long-poll hold). */
	struct proto_call *poll;
	bool poll_idle;
	struct proto_call *heartbeat_call; /* aborted by worker_stop */
	double poll_started;
	uint64_t worker_id;
	uint64_t heartbeat_ms;
	atomic_int draining; /* SIGTERM: finish running tasks, take no more */
	atomic_int stopping; /* executors exit */
	pthread_t *threads;
	pthread_t heartbeat_thread;
	char hostname[256];
	char *slurm_job;
};

int worker_start(struct worker *w, const struct worker_config *cfg, char **cause);
/* Run the connection loop until drained (SIGTERM) or a fatal error. Returns 0 or -errno. */
int worker_run(struct worker *w, char **cause);
void worker_stop(struct worker *w);
/* Request a drain: running and queued tasks finish, no new ones are taken, then BYE. Any thread
 * but not a signal handler; calling it again retries aborting a parked task request. */
void worker_drain(struct worker *w);

/* worker-exec.c */
void *worker_exec_thread(void *arg);
/* Recent tasks shorter than this are run by the connection thread that received them. */
#define WORKER_INLINE_S 0.001
/* Queue n tasks in order. Takes ownership of each task's spec and deps (left NULL). With
 * may_inline, the first may be returned instead, counted as running: the caller runs it with
 * worker_exec_run_inline. */
struct worker_task *worker_exec_enqueue(struct worker *w, struct proto_task *tasks, uint32_t n,
					bool may_inline);
void worker_exec_run_inline(struct worker *w, struct worker_task *t);
/* Cancel queued or running tasks by id. */
void worker_exec_cancel(struct worker *w, const uint64_t *ids, uint32_t n);
/* After a new registration: drop queued tasks and unsent results, cancel running tasks, and
 * make their results stale. */
void worker_exec_reset(struct worker *w);
/* Running task ids; caller frees. */
uint64_t *worker_exec_running(struct worker *w, uint32_t *n);

#endif
