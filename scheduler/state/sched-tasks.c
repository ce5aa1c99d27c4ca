/* Task state inside a job: state counters (the job's and each stage's), the ready FIFO, the inline results later tasks
 * receive, and the release of dependents when a task is done. */
#include "scheduler/state/sched-tasks.h"

#include <stdio.h>
#include <stdlib.h>

#include "common/timeutil.h"
#include "common/xmalloc.h"

const char *
sched_tasks_state_name(enum sched_task_state st)
{
	static const char *const names[] = {"pending", "ready",  "assigned",
					    "done",    "failed", "cancelled"};
	return st < TASK_STATE_COUNT ? names[st] : "?";
}

void
sched_tasks_set_state(struct sched_job *j, uint32_t idx, enum sched_task_state st)
{
	struct sched_task *t = &j->tasks[idx];

	j->counts[t->state]--;
	j->counts[st]++;
	if (j->stage_counts != NULL) {
		uint32_t k = graph_stage_of(j->graph, idx);
		j->stage_counts[k][t->state]--;
		j->stage_counts[k][st]++;
	}
	t->state = (uint8_t)st;
}

void
sched_tasks_push_ready(struct sched_job *j, uint32_t idx)
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
	sched_tasks_set_state(j, idx, TASK_READY);
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
		sched_tasks_push_ready(j, task);
}

void
sched_tasks_done(struct sched_job *j, uint32_t idx)
{
	struct sched_release rel = {j};

	sched_tasks_set_state(j, idx, TASK_DONE);
	graph_dependents(j->graph, idx, sched_tasks_release, &rel);
}

void
sched_tasks_keep_result(struct sched_job *j, uint32_t idx, const char *text)
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
