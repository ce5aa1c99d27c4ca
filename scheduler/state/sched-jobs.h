/* Jobs: admission (sched-admit.c), their lifecycle and what workers send back: the worker-wait
 * state, task results (done, retry or fail), lost workers, cancellation, completion
 * (sched-jobs.c), and restoring them after a restart (sched-restore.c). */
#ifndef ND_SCHED_JOBS_H
#define ND_SCHED_JOBS_H

#include "scheduler/state/sched-state.h"

struct sched_store_job;

/* Validate and accept a submission at once: one job per input, all or none. */
int sched_jobs_submit(struct sched *s, const struct proto_submit *sub, uint64_t **ids,
		      uint32_t *nids, char **cause);
/* The parts of a submission, for one validated input by input (sched-submit.c): whether the
 * scheduler takes submissions now and this one's size; input i made into job `id` (checked
 * against the budget with `made_tasks` of the others made so far, and its output against the
 * unfinished jobs' and those of the others made so far, *pending, where it is added: each in
 * log n), *out the caller's; the made jobs accepted, their ids into ids[0..n). */
int sched_jobs_can_take(struct sched *s, const struct proto_submit *sub, char **cause);
int sched_jobs_make(struct sched *s, const struct proto_submit *sub, uint32_t id, uint32_t i,
		    void **pending, uint64_t made_tasks, struct sched_job **out, char **cause);
/* Forget a submission's outputs (before its made jobs are freed). */
void sched_jobs_pending_free(void **pending);
int sched_jobs_check_budget(struct sched *s, const struct graph *g, uint64_t others,
			    char **cause);
void sched_jobs_accept(struct sched *s, struct sched_job **made, uint32_t n, double arrived,
		       uint64_t *ids);
struct sched_job *sched_jobs_find(struct sched *s, uint32_t id);
int sched_jobs_cancel(struct sched *s, uint32_t id, char **cause);
void sched_jobs_task_result(struct sched *s, struct sched_worker *w,
			    const struct proto_task_result *r);
/* w is gone (BYE, closed pipe, TTL): its tasks go back to the queue and w is freed. */
void sched_jobs_worker_lost(struct sched *s, struct sched_worker *w, const char *why);
/* Every unfinished job against the workers connected (the wait state, its timeout); one new
 * job only. */
void sched_jobs_check_waiting(struct sched *s);
void sched_jobs_check_new(struct sched *s, struct sched_job *j);
void sched_jobs_restore(struct sched *s);
const char *sched_jobs_state_name(enum sched_job_state st);
/* Jobs by state (jc) and their tasks by state (tc), summed over every job held. */
void sched_jobs_state_counts(const struct sched *s, uint32_t jc[JOB_CANCELLED + 1],
			     uint64_t tc[TASK_STATE_COUNT]);
void sched_jobs_free(struct sched_job *j);
/* Every job held, at shutdown (the job index is the caller's to free). */
void sched_jobs_free_all(struct sched *s);

/* An unfinished job (accepted or restored) counts in the scheduler's task total and its output
 * in the index of outputs being written (sched.outputs, ordered by sched_jobs_output_cmp);
 * untracked when it finishes. */
int sched_jobs_output_cmp(const void *a, const void *b);
void sched_jobs_track(struct sched *s, struct sched_job *j);
void sched_jobs_untrack(struct sched *s, struct sched_job *j);
/* At shutdown: the outputs' tree and the index of jobs by id. */
void sched_jobs_outputs_free(struct sched *s);

/* Shared by the three files. */
enum sched_job_state sched_jobs_state_parse(const char *name);
bool sched_jobs_finished(const struct sched_job *j);
void sched_jobs_row(const struct sched_job *j, struct sched_store_job *row);
/* Store the job's row (a finished job's with its inline results). */
void sched_jobs_save(struct sched *s, const struct sched_job *j);
/* At the end of s->jobs and in its place in s->jobs_by_id; next_job_id kept past its id. */
void sched_jobs_append(struct sched *s, struct sched_job *j);
/* Take n jobs out of s->jobs_by_id (before they are freed; one pass over the index). */
void sched_jobs_index_remove(struct sched *s, struct sched_job *const *gone, uint32_t n);
/* STATE_DIR/work/ID (caller frees). */
char *sched_jobs_workdir(struct sched *s, uint32_t id);
/* End a job: DONE, FAILED (with why) or CANCELLED; frees its task table, keeps its summary. */
void sched_jobs_finish(struct sched *s, struct sched_job *j, enum sched_job_state st,
		       const char *why);

#endif
