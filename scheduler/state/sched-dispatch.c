/* Dispatch: hand ready tasks to workers whose task requests are parked, several per reply, jobs
 * ordered by priority and served round-robin within a priority so concurrent jobs interleave
 * fairly, and no worker taking more than its slots' share of what is ready. Requests that get
 * nothing are held (long poll) while the worker is idle. Only the unfinished jobs and the parked
 * requests are looked at (sched.live, sched.parked_new and parked_idle). */
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

/* A task beyond a worker's slots waits in its queue behind the running ones: hand one out so
 * only when its stage's tasks are known to be short (done ones took under this on average; the
 * workers ask for WORKER_PREFETCH_S of work per slot). A new job's first tasks, or a stage of
 * long tasks after short ones, spread over the free slots instead of queueing on the worker
 * that asked first. */
#define SCHED_PREFETCH_MEAN_S 0.05

static bool
sched_dispatch_may_queue(const struct sched_job *j)
{
	const struct sched_stage_time *st;

	if (j->stage_time == NULL)
		return false;
	st = &j->stage_time[graph_stage_of(j->graph, j->ready[j->ready_head].idx)];
	return st->done > 0 && st->busy_s < SCHED_PREFETCH_MEAN_S * st->done;
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
		/* Start after the job served last, so no job of a priority starves another
		 * (ids ascend within a priority). */
		for (uint32_t a = lo, b = hi; a < b;) {
			uint32_t mid = a + (b - a) / 2;
			if (jobs[mid]->id > s->rr_last_job)
				start = b = mid;
			else
				a = mid + 1;
		}
		do {
			progressed = 0;
			for (uint32_t n = 0; n < hi - lo && got < want; n++) {
				struct sched_job *j = jobs[lo + (start - lo + n) % (hi - lo)];
				if (j->ready_len == 0 ||
				    (w->assigned >= w->slots && !sched_dispatch_may_queue(j)))
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
	sched_pass_reply(s, sched_workers_unpark(s, w), &idle);
}

/* The runnable jobs (unfinished, running, with ready tasks), by priority then id, and their
 * ready tasks in all. */
static uint32_t
sched_dispatch_runnable(struct sched *s, struct sched_job ***jobs, uint64_t *ready)
{
	uint32_t njobs = 0, cap = 0;

	*jobs = NULL;
	*ready = 0;
	for (struct sched_job *j = s->live.head; j != NULL; j = j->live_link.next) {
		if (j->state != JOB_RUNNING || j->ready_len == 0)
			continue;
		*ready += j->ready_len;
		if (njobs == cap) {
			cap = cap ? cap * 2 : 16;
			*jobs = xreallocarray(*jobs, cap, sizeof **jobs);
		}
		(*jobs)[njobs++] = j;
	}
	if (njobs > 1)
		xqsort(*jobs, njobs, sizeof **jobs, sched_dispatch_job_cmp);
	return njobs;
}

/* Answer w's parked request with tasks, or IDLE when it is busy or wants none; returns the
 * tasks handed out, and leaves it parked only when it is idle and got nothing. */
static uint32_t
sched_dispatch_worker(struct sched *s, struct sched_job **jobs, uint32_t njobs, uint64_t ready,
		      struct sched_worker *w)
{
	struct proto_msg m = {.type = PROTO_TASK_ASSIGN};
	uint32_t want = w->held_free < PROTO_MAX_BATCH ? w->held_free : PROTO_MAX_BATCH, got;

	/* Its share of the ready tasks by slots, so that when few are ready (a stage of slow
	 * tasks after fast ones) they spread over the workers instead of queueing on the first
	 * that asks with a deep prefetch. */
	if (s->slots > 0 && want > 0) {
		uint64_t share = (ready * w->slots + s->slots - 1) / s->slots;
		if (share < want)
			want = share > 0 ? (uint32_t)share : 1;
	}
	if (want == 0) {
		sched_dispatch_idle(s, w, 0);
		return 0;
	}
	m.u.task_assign.tasks = xcalloc(want, sizeof *m.u.task_assign.tasks);
	got = njobs > 0 ? sched_dispatch_fill(s, jobs, njobs, w, want, m.u.task_assign.tasks) : 0;
	if (got > 0) {
		m.request_id = w->held_request_id;
		m.u.task_assign.ntasks = got;
		sched_pass_reply(s, sched_workers_unpark(s, w), &m);
	} else if (w->assigned > 0) {
		/* It is busy: answer now so it can report results as they come. */
		sched_dispatch_idle(s, w, 0);
	} else {
		sched_workers_park_idle(s, w);
	}
	for (uint32_t i = 0; i < got; i++) {
		free(m.u.task_assign.tasks[i].spec);
		free(m.u.task_assign.tasks[i].deps);
	}
	free(m.u.task_assign.tasks);
	return got;
}

/* Every request parked since the last pass is answered or joins the idle ones; the idle ones,
 * oldest first, are looked at only while tasks are left. So a pass costs what it hands out and
 * the new requests, not the workers or the jobs kept. */
void
sched_dispatch(struct sched *s)
{
	struct sched_job **jobs;
	struct sched_worker *w, *next;
	uint64_t ready, left;
	uint32_t njobs;

	/* While the store cannot record results, hand out nothing new (parked polls get IDLE). */
	if (s->store_error != 0 || (s->parked_new.head == NULL && s->parked_idle.head == NULL))
		return;
	njobs = sched_dispatch_runnable(s, &jobs, &ready);
	left = ready;
	while ((w = s->parked_new.head) != NULL) {
		uint32_t got = sched_dispatch_worker(s, jobs, njobs, ready, w);
		left -= got < left ? got : left;
	}
	for (w = s->parked_idle.head; w != NULL && left > 0; w = next) {
		uint32_t got;
		next = w->park_link.next;
		got = sched_dispatch_worker(s, jobs, njobs, ready, w);
		left -= got < left ? got : left;
	}
	free(jobs);
}

/* The parked requests are in the order they came: the old ones are at the heads. */
void
sched_dispatch_release_held(struct sched *s, double now)
{
	struct dlist *lists[] = {&s->parked_idle, &s->parked_new};
	struct sched_worker *w;

	for (int k = 0; k < 2; k++)
		while ((w = lists[k]->head) != NULL && now - w->held_since >= s->cfg.poll_hold_s)
			sched_dispatch_idle(s, w, 0);
}
