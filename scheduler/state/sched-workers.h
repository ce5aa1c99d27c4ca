/* The worker registry and the pipe -> role table for authentication (sched-workers.c), each
 * found by id in log n. A lost worker's tasks are requeued by sched_jobs_worker_lost
 * (sched-jobs.c). */
#ifndef ND_SCHED_WORKERS_H
#define ND_SCHED_WORKERS_H

#include <stdbool.h>

#include "scheduler/state/sched-state.h"

struct sched_worker *sched_workers_add(struct sched *s, const struct proto_hello *h, uint32_t pipe);
struct sched_worker *sched_workers_find(struct sched *s, uint32_t id);
/* Take w out of the registry (answering its parked poll) and log why; false when w was not in
 * it. The caller requeues its tasks, then frees it. */
bool sched_workers_remove(struct sched *s, struct sched_worker *w, const char *why);
void sched_workers_free(struct sched_worker *w);
/* A worker whose last message is older than the TTL (the oldest), or NULL: O(1). */
struct sched_worker *sched_workers_expired(struct sched *s, double now);
/* Every worker counts as seen now (after replies were held while commits failed). */
void sched_workers_refresh(struct sched *s, double now);
/* w sent a message now: it goes last in the TTL's order. */
void sched_workers_seen(struct sched *s, struct sched_worker *w, double now);
/* Park w's task request (any parked before is the caller's to answer first) for dispatch. */
void sched_workers_park(struct sched *s, struct sched_worker *w, struct proto_server_ctx *ctx,
			uint64_t request_id, uint32_t free_slots, double now);
/* Take w's parked request off the parked lists: its context, or NULL when none was parked. */
struct proto_server_ctx *sched_workers_unpark(struct sched *s, struct sched_worker *w);
/* Dispatch looked at w's new request and had nothing for it: it waits among the idle. */
void sched_workers_park_idle(struct sched *s, struct sched_worker *w);
/* Task `task` (PROTO_TASK_ID) was handed to w now; its result came (or it was given up). */
void sched_workers_run_started(struct sched_worker *w, uint64_t task, double now);
void sched_workers_run_finished(struct sched_worker *w, uint64_t task);
struct sched_pipe *sched_pipes_find(struct sched *s, uint32_t pipe);
void sched_pipes_set(struct sched *s, uint32_t pipe, enum proto_role role, uint32_t worker_id);
/* At shutdown: every worker and pipe entry, and their indexes by id. */
void sched_workers_free_all(struct sched *s);

#endif
