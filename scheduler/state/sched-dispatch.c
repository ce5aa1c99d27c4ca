/* Dispatch: hand ready tasks to workers whose task requests are parked, several per reply, jobs
 * ordered by priority and served round-robin within a priority so concurrent jobs interleave
 * fairly, and no worker taking more than its slots' share of what is ready. Requests that get
 * nothing are held (long poll) while the worker is idle. */
#include "scheduler/state/sched-dispatch.h"

#include <stdlib.h>
#include <string.h>

#include "common/timeutil.h"
#include "common/trace.h"
#include "common/xmalloc.h"
#include "common/xsort.h"
#include "scheduler/state/sched-pass.h"
#include "scheduler/state/sched-taskstat.h"
#include "scheduler/state/sched-tasks.h"
#include "scheduler/state/sched-workers.h"

static int
sched_dispatch_job_cmp(const void *a, const void *b)
{
	const struct sched_job *x = *(struct sched_job *const *)a,
			       *y = *(struct sched_job *const *)b;

	if (x->priority != y->priority)
		return x->priority > y->priority ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

static const char *
sched_dispatch_deps(struct sched_job *j)
{
	if (json_object_size(j->results) == 0)
		return NULL;
	if (j->results_text == NULL || j->results_dirty) {
		free(j->results_text);
		j->results_text = json_dumps(j->results, JSON_COMPACT);
		j->results_dirty = false;
	}
	return j->results_text;
}

/* Pop one ready task of j into the assignment for w. */
static void
sched_dispatch_one(struct sched *s, struct sched_job *j, struct sched_worker *w,
		   struct proto_task *out, double now)
{
	struct sched_ready r = j->ready[j->ready_head];
	struct sched_task *t = &j->tasks[r.idx];
	const char *deps;

	j->ready_head = (j->ready_head + 1) % j->ready_cap;
	j->ready_len--;
	sched_tasks_set_state(j, r.idx, TASK_ASSIGNED);
	if (t->attempts < 255)
		t->attempts++;
	t->worker = w->id;
	w->assigned++;
	sched_workers_run_started(w, PROTO_TASK_ID(j->id, r.idx), now);
	j->dispatched++;
	s->stats.tasks_dispatched++;
	sched_taskstat_wait(s, now - r.since);
	out->task = PROTO_TASK_ID(j->id, r.idx);
	TRACE(TRACE_TASK_DISPATCH, out->task);
	out->attempt = t->attempts;
	out->spec = graph_task_spec(j->graph, j->id, r.idx);
	deps = sched_dispatch_deps(j);
	out->deps = deps != NULL ? xstrdup(deps) : NULL;
}

/* Fill up to `want` tasks for w from the runnable jobs (sorted), round-robin within the top
 * priority that has work. */
static uint32_t
sched_dispatch_fill(struct sched *s, struct sched_job **jobs, uint32_t njobs,
		    struct sched_worker *w, uint32_t want, struct proto_task *out)
{
	double now = time_mono_s();
	uint32_t got = 0, lo = 0;

	while (got < want && lo < njobs) {
		uint32_t hi = lo, progressed = 0, start = lo;
		while (hi < njobs && jobs[hi]->priority == jobs[lo]->priority)
			hi++;
		/* Start after the job served last, so no job of a priority starves another. */
		for (uint32_t k = lo; k < hi; k++)
			if (jobs[k]->id > s->rr_last_job) {
				start = k;
				break;
			}
		do {
			progressed = 0;
			for (uint32_t n = 0; n < hi - lo && got < want; n++) {
				struct sched_job *j = jobs[lo + (start - lo + n) % (hi - lo)];
				if (j->ready_len == 0)
					continue;
				sched_dispatch_one(s, j, w, &out[got++], now);
				s->rr_last_job = j->id;
				progressed = 1;
			}
		} while (progressed && got < want);
		lo = hi;
	}
	return got;
}

static void
sched_dispatch_idle(struct sched *s, struct sched_worker *w, uint64_t retry_ms)
{
	struct proto_msg idle = {.type = PROTO_IDLE, .request_id = w->held_request_id};

	idle.u.idle.retry_ms = retry_ms;
	sched_pass_reply(s, w->held, &idle);
	w->held = NULL;
}

void
sched_dispatch(struct sched *s)
{
	struct sched_job **jobs = NULL;
	uint32_t njobs = 0, cap = 0;
	uint64_t ready = 0, slots = 0;

	/* While the store cannot record results, hand out nothing new (parked polls get IDLE). */
	if (s->store_error != 0)
		return;

	for (struct sched_worker *w = s->workers; w != NULL; w = w->next)
		slots += w->draining ? 0 : w->slots;
	for (struct sched_job *j = s->jobs; j != NULL; j = j->next) {
		if (j->state != JOB_RUNNING || j->ready_len == 0)
			continue;
		ready += j->ready_len;
		if (njobs == cap) {
			cap = cap ? cap * 2 : 16;
			jobs = xreallocarray(jobs, cap, sizeof *jobs);
		}
		jobs[njobs++] = j;
	}
	if (njobs > 1)
		xqsort(jobs, njobs, sizeof *jobs, sched_dispatch_job_cmp);
	for (struct sched_worker *w = s->workers; w != NULL; w = w->next) {
		struct proto_msg m = {.type = PROTO_TASK_ASSIGN};
		uint32_t want, got;

		if (w->held == NULL)
			continue;
		want = w->held_free < PROTO_MAX_BATCH ? w->held_free : PROTO_MAX_BATCH;
		/* Its share of the ready tasks by slots, so that when few are ready (a stage of
		 * slow tasks after fast ones) they spread over the workers instead of queueing on
		 * the first that asks with a deep prefetch. */
		if (slots > 0 && want > 0) {
			uint64_t share = (ready * w->slots + slots - 1) / slots;
			if (share < want)
				want = share > 0 ? (uint32_t)share : 1;
		}
		if (want == 0) {
			sched_dispatch_idle(s, w, 0);
			continue;
		}
		m.u.task_assign.tasks = xcalloc(want, sizeof *m.u.task_assign.tasks);
		got = njobs > 0
			  ? sched_dispatch_fill(s, jobs, njobs, w, want, m.u.task_assign.tasks)
			  : 0;
		if (got > 0) {
			m.request_id = w->held_request_id;
			m.u.task_assign.ntasks = got;
			sched_pass_reply(s, w->held, &m);
			w->held = NULL;
		} else if (w->assigned > 0) {
			/* It is busy: answer now so it can report results as they come. */
			sched_dispatch_idle(s, w, 0);
		}
		for (uint32_t i = 0; i < got; i++) {
			free(m.u.task_assign.tasks[i].spec);
			free(m.u.task_assign.tasks[i].deps);
		}
		free(m.u.task_assign.tasks);
	}
	free(jobs);
}

void
sched_dispatch_release_held(struct sched *s, double now)
{
	for (struct sched_worker *w = s->workers; w != NULL; w = w->next)
		if (w->held != NULL && now - w->held_since >= s->cfg.poll_hold_s)
			sched_dispatch_idle(s, w, 0);
}
