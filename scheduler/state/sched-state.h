/* The scheduler's state: configuration, jobs with their staged task graphs, workers, and the
 * one libuv loop that owns all of it. Other threads only post into the inbox (sched-core.c).
 * Types only: each file's functions are declared in its own header. */
#ifndef ND_SCHED_H
#define ND_SCHED_H

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "common/dlist.h"
#include "common/idindex.h"
#include "proto/proto-nng.h"
#include "proto/proto-tls.h"
#include "scheduler/graph/graph.h"
#include "scheduler/state/sched-pass.h"

struct sched_inbox;
struct sched_store;
struct sched_http;
struct sched_pass_reply;
struct sched_pass_durable;
struct sched_auth_pending;

struct sched_config {
	const char *listen_url; /* tcp://127.0.0.1:8786 */
	const char *http_addr;  /* 127.0.0.1:8787, or NULL/"" for none */
	bool http_auth_read;    /* HTTP reads need the token too (writes always do) */
	char **http_hosts;      /* further names in the Host header accepted (NULL-terminated) */
	const char *state_dir;
	const char *token; /* required */
	double worker_wait_timeout_s;
	double heartbeat_interval_s;
	double worker_ttl_s;
	uint32_t max_attempts;
	double poll_hold_s;   /* long-poll hold before IDLE */
	struct proto_tls tls; /* for a tls+tcp:// listen_url */
	bool keep_work_dirs;    /* keep finished jobs' work dirs (debugging) */
	double job_retention_s; /* prune finished jobs this long after they end (0: never) */
	uint64_t min_free_bytes; /* refuse new jobs when the state dir has less free space */
	double hello_timeout_s;  /* close a connection that has not authenticated by then */
	uint32_t max_job_tasks;  /* tasks one job may have */
	uint64_t max_tasks;      /* tasks all unfinished jobs may have together */
	double task_timeout_s;   /* a task running longer is given up (0: never) */
	uint64_t max_result_bytes; /* a task's inline result (JSON) may be this long */
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
	char *output_key;    /* the graph's output, canonical (graph_output_canonical), or NULL */
	bool tracked;        /* counted in sched.unfinished_tasks and sched.outputs */
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
	/* Tasks by state in each stage of the graph (nstages rows), kept after the job ends. */
	uint32_t (*stage_counts)[TASK_STATE_COUNT];
	/* Per stage (nstages), the tasks done since the job was loaded and their run time, for
	 * their mean (sched-dispatch.c). */
	struct sched_stage_time {
		double busy_s;
		uint32_t done;
	} *stage_time;
	uint64_t dispatched;
	uint8_t build_phase; /* its task table is being filled in slices (sched-build.c) */
	bool pruned;         /* being taken out of sched.jobs_by_id (retention) */
	uint32_t build_next;
	struct sched_job *next; /* in sched.jobs, submission order */
	struct dlink live_link; /* in sched.live while tracked (unfinished) */
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
	/* Its process's resident memory and CPU seconds, as its last heartbeat said (has_usage). */
	bool has_usage;
	uint64_t rss_bytes;
	double cpu_s;
	struct proto_server_ctx *held; /* parked long poll, or NULL */
	uint64_t held_request_id;
	uint32_t held_free;
	double held_since;
	/* The tasks it holds (handed to it, no result yet, not given up or cancelled) and since
	 * when: what goes back to the queue when it is lost, and the per-task time limit
	 * (sched-timeout.c). Bounded by its slots and prefetch. */
	struct sched_running {
		uint64_t task;
		double since;
	} *run;
	uint32_t nrun, run_cap;
	struct sched_worker *prev, *next; /* in sched.workers */
	/* In sched.seen, oldest last_seen first (the TTL), and while a poll is parked in
	 * sched.parked_new or sched.parked_idle (park_list), oldest held_since first. */
	struct dlink seen_link, park_link;
	struct dlist *park_list;
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

struct sched_stats {
	uint64_t messages;
	uint64_t rejected[REJECT_COUNT];
	uint64_t tasks_dispatched, tasks_done, tasks_failed, tasks_retried;
	uint64_t workers_lost;
};

struct sched_taskstat;

/* The state dir's usage, measured off the loop (sched-retention.c). */
struct sched_usage {
	uint64_t db_bytes, work_bytes, log_bytes, free_bytes, total_bytes;
	bool measuring, measured;
};

struct sched_loopstat;

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
	struct sched_pass_idle build; /* fills big jobs' task tables in slices (sched-build.c) */
	struct sched_pass_idle submit_idle; /* builds submissions of several inputs (sched-submit.c) */
	struct sched_submission *submissions;
	struct sched_loopstat *loopstat; /* the loop's busy time per pass (sched-loopstat.c) */
	uv_signal_t sigterm, sigint;
	bool owns_signals;
	struct proto_server *server;
	struct sched_http *http;
	struct sched_store *store;
	struct sched_inbox *inbox;
	struct sched_job *jobs, *jobs_tail;
	struct idindex jobs_by_id; /* the same jobs, for sched_jobs_find */
	/* The unfinished jobs: their tasks, and a tree (tsearch) of them by output_key. */
	uint64_t unfinished_tasks;
	void *outputs;
	struct sched_worker *workers;
	/* Workers by last message (the TTL finds the silent at the head), and those whose task
	 * request is parked: not yet looked at by dispatch, and looked at with nothing for them
	 * (sched-dispatch.c); the slots of workers not draining. */
	struct dlist seen, parked_new, parked_idle;
	uint64_t slots;
	/* The unfinished (tracked) jobs, the only ones dispatch looks at. */
	struct dlist live;
	struct sched_pipe *pipes;
	struct idindex workers_by_id, pipes_by_id; /* the same, for the lookups of each message */
	uint32_t next_job_id, next_worker_id;
	uint32_t nworkers;
	bool dispatch_pending;
	bool stopping;
	double started;
	struct sched_stats stats;
	/* Queue waits, run times per op and the recent tasks' stream (sched-taskstat.c). */
	struct sched_taskstat *taskstat;
	/* Replies queued during a loop pass, sent after the store commits; those that acknowledge
	 * writes wait while commits fail (sched-pass.c). */
	struct sched_pass_reply *replies, *replies_tail, *held_replies, *held_tail;
	struct sched_pass_durable *durable_ctx;
	/* The store's last commit failed: why (-ENOSPC, -EIO), since when, the next retry. */
	int store_error;
	char *store_cause;
	double store_error_since, store_retry_at;
	double last_wait_log;
	uint32_t rr_last_job;
	/* Tracing (common/trace.h): when the message being handled reached nng's callback and
	 * the loop. */
	uint64_t trace_recv_ns, trace_handle_ns;
	/* Rate limit of warnings about peers (sched-reject.c). */
	struct {
		double tokens, last, held_since;
		uint64_t held, held_total;
	} rlog;
	/* STATUS requests parked until their job finishes (sched-handlers.c). */
	struct sched_status_wait *status_waits;
	/* Challenges sent, waiting for the peer's AUTH (sched-auth.c). */
	struct sched_auth_pending *auth_pending;
	uint32_t auth_npending;
	/* Retention (sched-retention.c). */
	struct sched_usage usage;
	double last_prune, last_measure, last_timeout_check;
	uint64_t work_dirs_removed, jobs_pruned;
};

#endif
