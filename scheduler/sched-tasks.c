/* Task state inside a job: the ready FIFO, state counters, finished results (retry, fail, or
 * release dependents), and requeueing the tasks of a lost worker. */
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/timeutil.h"
#include "common/xmalloc.h"
#include "scheduler/sched-store.h"
#include "scheduler/sched-state.h"

const char *
sched_task_state_name(enum sched_task_state st)
{
	static const char *const names[] = {"pending", "ready",  "assigned",
					    "done",    "failed", "cancelled"};
	return st < TASK_STATE_COUNT ? names[st] : "?";
}

void
sched_job_set_task_state(struct sched_job *j, uint32_t idx, enum sched_task_state st)
{
	struct sched_task *t = &j->tasks[idx];

	j->counts[t->state]--;
	j->counts[st]++;
	t->state = (uint8_t)st;
}

void
sched_job_push_ready(struct sched_job *j, uint32_t idx)
{
	if (j->ready_len == j->ready_cap) {
		uint32_t cap = j->ready_cap ? j->ready_cap * 2 : 64;
		struct sched_ready *q = xcalloc(cap, sizeof *q);
		for (uint32_t i = 0; i < j->ready_len; i++)
			q[i] = j->ready[(j->ready_head + i) % j->ready_cap];
		free(j->ready);
		j->ready = q;
		j->ready_cap = cap;
		j->ready_head = 0;
	}
	j->ready[(j->ready_head + j->ready_len) % j->ready_cap].idx = idx;
	j->ready[(j->ready_head + j->ready_len) % j->ready_cap].since = time_mono_s();
	j->ready_len++;
	sched_job_set_task_state(j, idx, TASK_READY);
}

struct sched_release {
	struct sched_job *job;
};

static void
sched_tasks_release(uint32_t task, void *arg)
{
	struct sched_job *j = ((struct sched_release *)arg)->job;

	if (j->tasks[task].deps_left > 0 && --j->tasks[task].deps_left == 0 &&
	    j->tasks[task].state == TASK_PENDING)
		sched_job_push_ready(j, task);
}

void
sched_jobs_task_done(struct sched_job *j, uint32_t idx)
{
	struct sched_release rel = {j};

	sched_job_set_task_state(j, idx, TASK_DONE);
	graph_dependents(j->graph, idx, sched_tasks_release, &rel);
}

void
sched_job_keep_result(struct sched_job *j, uint32_t idx, const char *text)
{
	json_t *v;
	char key[16];

	if (text == NULL || !graph_keeps_result(j->graph, idx))
		return;
	v = json_loads(text, JSON_DECODE_ANY, NULL);
	if (v == NULL)
		v = json_string(text);
	snprintf(key, sizeof key, "%u", idx);
	json_object_set_new(j->results, key, v);
	j->results_dirty = true;
}

void
sched_jobs_task_result(struct sched *s, struct sched_worker *w, const struct proto_task_result *r)
{
	struct sched_job *j = sched_jobs_find(s, PROTO_TASK_JOB(r->task));
	uint32_t idx = PROTO_TASK_INDEX(r->task);
	struct sched_task *t;

	if (j == NULL || j->tasks == NULL || idx >= j->graph->ntasks)
		return; /* a job that is gone or finished: acknowledged and dropped */
	t = &j->tasks[idx];
	if (t->state != TASK_ASSIGNED || t->worker != w->id || t->attempts != r->attempt)
		return; /* a duplicate or a stale attempt */
	if (w->assigned > 0)
		w->assigned--;
	t->worker = 0;
	j->busy_s += (double)r->elapsed_us * 1e-6;
	if (r->ok) {
		w->done++;
		s->stats.tasks_done++;
		sched_store_task_done(s->store, j->id, idx, 1, r->result, NULL, t->attempts,
				      r->elapsed_us);
		sched_job_keep_result(j, idx, r->result);
		sched_jobs_task_done(j, idx);
		if (j->counts[TASK_DONE] == j->graph->ntasks)
			sched_jobs_finish(s, j, JOB_DONE, NULL);
		return;
	}
	w->failed++;
	s->stats.tasks_failed++;
	if (t->attempts < s->cfg.max_attempts) {
		s->stats.tasks_retried++;
		log_warn("job %u task %u (%s) failed on worker %u, attempt %u of %u: %s", j->id,
			 idx, j->graph->stages[graph_stage_of(j->graph, idx)].label, w->id,
			 t->attempts, s->cfg.max_attempts,
			 r->error != NULL ? r->error : "no reason given");
		sched_job_push_ready(j, idx);
		return;
	}
	sched_store_task_done(s->store, j->id, idx, 0, NULL, r->error, t->attempts, r->elapsed_us);
	sched_job_set_task_state(j, idx, TASK_FAILED);
	{
		char *why = xasprintf("task %u (%s) failed after %u attempts: %s", idx,
				      j->graph->stages[graph_stage_of(j->graph, idx)].label,
				      t->attempts, r->error != NULL ? r->error : "no reason given");
		sched_jobs_finish(s, j, JOB_FAILED, why);
		free(why);
	}
}

void
sched_jobs_requeue_worker(struct sched *s, struct sched_worker *w)
{
	for (struct sched_job *j = s->jobs; j != NULL; j = j->next) {
		if (j->tasks == NULL || j->counts[TASK_ASSIGNED] == 0)
			continue;
		for (uint32_t i = 0; i < j->graph->ntasks; i++) {
			struct sched_task *t = &j->tasks[i];
			if (t->state != TASK_ASSIGNED || t->worker != w->id)
				continue;
			t->worker = 0;
			if (t->attempts >= s->cfg.max_attempts) {
				char *why = xasprintf(
				    "task %u (%s): its worker was lost on each of %u attempts", i,
				    j->graph->stages[graph_stage_of(j->graph, i)].label,
				    t->attempts);
				sched_job_set_task_state(j, i, TASK_FAILED);
				sched_jobs_finish(s, j, JOB_FAILED, why);
				free(why);
				break;
			}
			s->stats.tasks_retried++;
			sched_job_push_ready(j, i);
		}
	}
}
