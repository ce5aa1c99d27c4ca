/* Job lifecycle and what workers send back: submission, the worker-wait state, task results
 * (done, retry or fail), lost workers, cancellation, completion, restore (sched-jobs.c). */
#ifndef ND_SCHED_JOBS_H
#define ND_SCHED_JOBS_H

#include "scheduler/state/sched-state.h"

int sched_jobs_submit(struct sched *s, const struct proto_submit *sub, uint64_t **ids,
		      uint32_t *nids, char **cause);
struct sched_job *sched_jobs_find(struct sched *s, uint32_t id);
int sched_jobs_cancel(struct sched *s, uint32_t id, char **cause);
void sched_jobs_task_result(struct sched *s, struct sched_worker *w,
			    const struct proto_task_result *r);
/* w is gone (BYE, closed pipe, TTL): its tasks go back to the queue and w is freed. */
void sched_jobs_worker_lost(struct sched *s, struct sched_worker *w, const char *why);
void sched_jobs_check_waiting(struct sched *s);
void sched_jobs_restore(struct sched *s);
const char *sched_jobs_state_name(enum sched_job_state st);
void sched_jobs_free(struct sched_job *j);

#endif
