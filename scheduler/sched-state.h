/* The scheduler's state: configuration, jobs with their staged task graphs, workers, and the
 * one libuv loop that owns all of it. Other threads only post into the inbox (sched-core.c). */
#ifndef ND_SCHED_H
#define ND_SCHED_H

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "proto/proto-nng.h"
#include "proto/proto-tls.h"
#include "scheduler/graph/graph.h"

struct sched_store;
struct sched_http;

struct sched_config {
	const char *listen_url; /* tcp://127.0.0.1:8786 */
	const char *http_addr;  /* 127.0.0.1:8787, or NULL/"" for none */
	const char *state_dir;
	const char *token; /* required */
	double worker_wait_timeout_s;
	double heartbeat_interval_s;
	double worker_ttl_s;
	uint32_t max_attempts;
	double poll_hold_s;   /* long-poll hold before IDLE */
	struct proto_tls tls; /* for a tls+tcp:// listen_url */
};

enum sched_job_state {
	JOB_WAITING, /* fewer than min_workers registered */
	JOB_RUNNING,
	JOB_DONE,
	JOB_FAILED,
	JOB_CANCELLED,
};

enum sched_task_state {
	TASK_PENDING,
	TASK_READY,
	TASK_ASSIGNED,
	TASK_DONE,
	TASK_FAILED,
	TASK_CANCELLED,
	TASK_STATE_COUNT
};

/* 12 bytes per task: the graph's edges are implied by stage patterns (graph.h). */
struct sched_task {
	uint8_t state;
	uint8_t attempts;
	uint16_t _pad;
	uint32_t deps_left;
	uint32_t worker; /* worker id while assigned */
};

struct sched_ready {
	uint32_t idx;
	double since; /* monotonic seconds when it became ready */
};

struct sched_job {
	uint32_t id;
	char *name;
	enum sched_job_state state;
	int32_t priority;
	uint32_t min_workers;
	char *pipeline_text; /* as submitted (after CLI path rewriting) */
	char *input;         /* input path or NULL */
	char *output;        /* output path or NULL */
	char *error;         /* why it failed */
	struct graph *graph;
	struct sched_task *tasks;
	uint32_t counts[TASK_STATE_COUNT];
	uint32_t counts_total;
	/* Ready queue: a FIFO of task indices with the time they became ready. */
	struct sched_ready *ready;
	uint32_t ready_head, ready_len, ready_cap;
	json_t *results;    /* inline results of single-task stages: {"<task>": value} */
	char *results_text; /* results as sent to workers (cached) */
	bool results_dirty;
	double submitted, started, finished, wait_since;
	double busy_s; /* sum of task run times */
	uint64_t dispatched;
	struct sched_job *next; /* in sched.jobs, submission order */
};

struct sched_worker {
	uint32_t id;
	uint32_t pipe;
	char *host;
	char *version;
	char *slurm_job;
	uint32_t pid;
	uint32_t slots;
	uint64_t mem;
	uint32_t assigned; /* tasks assigned and not finished */
	double registered, last_seen;
	uint64_t done, failed;
	bool draining;
	struct proto_server_ctx *held; /* parked long poll, or NULL */
	uint64_t held_request_id;
	uint32_t held_free;
	double held_since;
	struct sched_worker *next;
};

enum sched_reject {
	REJECT_MALFORMED,
	REJECT_AUTH,
	REJECT_TOO_BIG,
	REJECT_VERSION,
	REJECT_UNKNOWN_TYPE,
	REJECT_UNEXPECTED,
	REJECT_COUNT
};

#define SCHED_LATENCY_BUCKETS 14

struct sched_stats {
	uint64_t messages;
	uint64_t rejected[REJECT_COUNT];
	uint64_t tasks_dispatched, tasks_done, tasks_failed, tasks_retried;
	uint64_t workers_lost;
	/* dispatch latency: ready -> assigned, seconds, cumulative buckets */
	uint64_t latency_bucket[SCHED_LATENCY_BUCKETS + 1];
	double latency_sum;
	uint64_t latency_count;
};

struct sched_pipe {
	uint32_t pipe;
	enum proto_role role;
	uint32_t worker_id;
	struct sched_pipe *next;
};

struct sched {
	struct sched_config cfg;
	uv_loop_t loop;
	uv_async_t wake;
	uv_prepare_t flush;
	uv_timer_t tick;
	uv_timer_t kick;
	uv_signal_t sigterm, sigint;
	bool owns_signals;
	struct proto_server *server;
	struct sched_http *http;
	struct sched_store *store;
	struct sched_inbox *inbox;
	struct sched_job *jobs, *jobs_tail;
	struct sched_worker *workers;
	struct sched_pipe *pipes;
	uint32_t next_job_id, next_worker_id;
	uint32_t nworkers;
	bool dispatch_pending;
	bool stopping;
	double started;
	struct sched_stats stats;
	/* Replies queued during a loop pass, sent after the store commits. */
	struct sched_reply *replies, *replies_tail;
	double last_wait_log;
	uint32_t rr_last_job;
};

/* sched-core.c: lifecycle. sched_new validates and opens everything; sched_run blocks in the
 * loop until sched_stop (any thread, even before sched_run) or SIGTERM/SIGINT when
 * handle_signals. */
int sched_new(struct sched **out, const struct sched_config *cfg, bool handle_signals,
	      char **cause);
int sched_run(struct sched *s);
struct sched_http_request;
void sched_post_http(struct sched *s, struct sched_http_request *req);
void sched_stop(struct sched *s);
void sched_free(struct sched *s);
void sched_kick(struct sched *s);
/* Queue a reply for the end of this loop pass; takes ownership of the message's heap fields. */
void sched_reply(struct sched *s, struct proto_server_ctx *ctx, struct proto_msg *msg);
void sched_reply_error(struct sched *s, struct proto_server_ctx *ctx, uint64_t request_id, int rc,
		       const char *message);

/* sched-handlers.c */
void sched_handlers_message(struct sched *s, struct proto_server_ctx *ctx, nng_msg *msg);
void sched_handlers_pipe_closed(struct sched *s, uint32_t pipe);

/* sched-jobs.c */
int sched_jobs_submit(struct sched *s, const struct proto_submit *sub, uint64_t **ids,
		      uint32_t *nids, char **cause);
struct sched_job *sched_jobs_find(struct sched *s, uint32_t id);
int sched_jobs_cancel(struct sched *s, uint32_t id, char **cause);
void sched_jobs_task_result(struct sched *s, struct sched_worker *w,
			    const struct proto_task_result *r);
void sched_jobs_requeue_worker(struct sched *s, struct sched_worker *w);
void sched_jobs_task_done(struct sched_job *j, uint32_t idx);
/* End a job: DONE, FAILED (with why) or CANCELLED; frees its task table, keeps its summary. */
void sched_jobs_finish(struct sched *s, struct sched_job *j, enum sched_job_state st,
		       const char *why);
void sched_jobs_check_waiting(struct sched *s);
void sched_jobs_restore(struct sched *s);
const char *sched_job_state_name(enum sched_job_state st);
const char *sched_task_state_name(enum sched_task_state st);
void sched_job_set_task_state(struct sched_job *j, uint32_t idx, enum sched_task_state st);
void sched_job_push_ready(struct sched_job *j, uint32_t idx);
/* Keep a finished task's inline result (JSON text) when later tasks receive it. */
void sched_job_keep_result(struct sched_job *j, uint32_t idx, const char *text);
void sched_job_free(struct sched_job *j);

/* sched-dispatch.c */
void sched_dispatch(struct sched *s);
void sched_dispatch_release_held(struct sched *s, double now);

/* sched-workers.c */
struct sched_worker *sched_workers_add(struct sched *s, const struct proto_hello *h, uint32_t pipe);
struct sched_worker *sched_workers_find(struct sched *s, uint32_t id);
void sched_workers_lost(struct sched *s, struct sched_worker *w, const char *why);
void sched_workers_expire(struct sched *s, double now);
struct sched_pipe *sched_pipes_find(struct sched *s, uint32_t pipe);
void sched_pipes_set(struct sched *s, uint32_t pipe, enum proto_role role, uint32_t worker_id);

/* sched-status.c: JSON reports shared by the CLI (STATUS) and the HTTP endpoint. */
json_t *sched_status_summary(struct sched *s);
json_t *sched_status_jobs(struct sched *s);
json_t *sched_status_job(struct sched *s, struct sched_job *j);
json_t *sched_status_workers(struct sched *s);
char *sched_status_metrics(struct sched *s);

#endif
