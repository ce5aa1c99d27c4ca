/* Per-task run time limits. A task that hangs while its worker keeps sending heartbeats would
 * otherwise stay assigned for ever: each worker keeps what it was handed and when (its run list,
 * sched-workers.c), and once a second the tasks past their job's limit (execution.task_timeout,
 * else --task-timeout) fail that attempt as if the worker had reported it, so they are retried
 * elsewhere or fail the job; the worker hears in its next heartbeat reply that they are no
 * longer its own and stops them. */
#include "scheduler/state/sched-timeout.h"

#include <stdio.h>
#include <stdlib.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "scheduler/state/sched-jobs.h"
#include "scheduler/state/sched-workers.h"

#define SCHED_TIMEOUT_EVERY_S 1.0

/* The limit of j's tasks, in seconds (0: none). */
static double
sched_timeout_limit(const struct sched *s, const struct sched_job *j)
{
	return j->graph->task_timeout_s > 0 ? j->graph->task_timeout_s : s->cfg.task_timeout_s;
}

/* Check w's tasks; true when one failed (the registry may have changed: start over). */
static bool
sched_timeout_worker(struct sched *s, struct sched_worker *w, double now)
{
	for (uint32_t i = 0; i < w->nrun; i++) {
		uint64_t id = w->run[i].task;
		struct sched_job *j = sched_jobs_find(s, PROTO_TASK_JOB(id));
		uint32_t idx = PROTO_TASK_INDEX(id);
		struct proto_task_result r = {.task = id};
		double limit;
		char *why;

		if (j == NULL || j->tasks == NULL || idx >= j->graph->ntasks ||
		    j->tasks[idx].state != TASK_ASSIGNED || j->tasks[idx].worker != w->id) {
			w->run[i--] = w->run[--w->nrun]; /* finished or given up otherwise */
			continue;
		}
		limit = sched_timeout_limit(s, j);
		if (limit <= 0 || now - w->run[i].since <= limit)
			continue;
		why = xasprintf("timed out: still running after %g s (execution.task_timeout or "
				"the scheduler's --task-timeout)",
				limit);
		log_warn("job %u task %u has run %.1f s on worker %u, past its limit of %g s: "
			 "giving it up",
			 j->id, idx, now - w->run[i].since, w->id, limit);
		r.attempt = j->tasks[idx].attempts;
		r.error = why;
		r.elapsed_us = (uint64_t)((now - w->run[i].since) * 1e6);
		sched_jobs_task_result(s, w, &r);
		free(why);
		return true;
	}
	return false;
}

/* Whether any unfinished job has a limit: else the workers are not walked at all. */
static bool
sched_timeout_any(const struct sched *s)
{
	if (s->cfg.task_timeout_s > 0)
		return true;
	for (const struct sched_job *j = s->live.head; j != NULL; j = j->live_link.next)
		if (j->graph != NULL && j->graph->task_timeout_s > 0)
			return true;
	return false;
}

void
sched_timeout_tick(struct sched *s, double now)
{
	if (now - s->last_timeout_check < SCHED_TIMEOUT_EVERY_S || !sched_timeout_any(s))
		return;
	s->last_timeout_check = now;
	for (struct sched_worker *w = s->workers; w != NULL;)
		w = sched_timeout_worker(s, w, now) ? s->workers : w->next;
}
