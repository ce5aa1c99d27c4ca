/* The worker's executor threads: take tasks from the local queue, run them, and leave their
 * results for the connection thread to report; cancellation flags reach running tasks. While
 * recent tasks were short, the connection thread runs the first of the tasks it received itself
 * (two thread hand-offs cost more than the task). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "common/trace.h"
#include "common/xmalloc.h"
#include "worker/ops/task-run.h"
#include "worker/worker.h"

/* Whether the connection thread should run a task itself (lock held): the recent tasks took
 * under WORKER_INLINE_S, and the last finished within a second (after an idle spell a new job
 * may have long tasks; the first task of all is of unknown length too). */
static bool
worker_exec_inline_ok(const struct worker *w)
{
	return w->avg_task_s > 0 && w->avg_task_s < WORKER_INLINE_S &&
	       time_mono_s() - w->last_done < 1.0 && !atomic_load(&w->draining);
}

struct worker_task *
worker_exec_enqueue(struct worker *w, struct proto_task *tasks, uint32_t n, bool may_inline)
{
	struct worker_task *head = NULL, *tail = NULL, *mine = NULL;

	if (n == 0)
		return NULL;
	for (uint32_t i = 0; i < n; i++) {
		struct worker_task *wt = xcalloc(1, sizeof *wt);
		wt->id = tasks[i].task;
		wt->attempt = (uint32_t)tasks[i].attempt;
		wt->spec = tasks[i].spec;
		wt->deps = tasks[i].deps;
		tasks[i].spec = tasks[i].deps = NULL;
		atomic_init(&wt->cancel, 0);
		if (tail != NULL)
			tail->next = wt;
		else
			head = wt;
		tail = wt;
	}
	pthread_mutex_lock(&w->lock);
	for (struct worker_task *wt = head; wt != NULL; wt = wt->next)
		wt->epoch = w->epoch;
	if (may_inline && w->inline_task == NULL && worker_exec_inline_ok(w)) {
		mine = head;
		head = head->next;
		mine->next = NULL;
		w->inline_task = mine;
		w->nrunning++;
		if (--n == 0)
			tail = NULL;
	}
	if (n > 0) {
		if (w->queue_tail != NULL)
			w->queue_tail->next = head;
		else
			w->queue_head = head;
		w->queue_tail = tail;
		w->nqueued += n;
		if (n > 1)
			pthread_cond_broadcast(&w->work_cond);
		else
			pthread_cond_signal(&w->work_cond);
	}
	pthread_mutex_unlock(&w->lock);
	return mine;
}

/* Failures that another attempt cannot fix: those their writer marked so (error_permanent: a
 * user's output disk that is full), a bad parameter (EINVAL, EDOM), an input that is missing or
 * malformed (ENOENT, ENOTDIR, EISDIR, EBADMSG, EILSEQ, ENOEXEC), an output that cannot be written
 * (EACCES, EPERM, EROFS, EEXIST). Everything else (EIO, ENOMEM, ENOSPC of a work file, timeouts,
 * a lost peer) may pass and is retried. */
static bool
worker_exec_permanent(int rc)
{
	if (error_is_permanent(rc))
		return true;
	switch (-rc) {
	case EINVAL:
	case EDOM:
	case ENOENT:
	case ENOTDIR:
	case EISDIR:
	case EBADMSG:
	case EILSEQ:
	case ENOEXEC:
	case EACCES:
	case EPERM:
	case EROFS:
	case EEXIST:
		return true;
	default:
		return false;
	}
}

/* Post a finished task's outcome for the connection thread. Called with w->lock held. */
static void
worker_exec_result(struct worker *w, struct worker_task *t, int rc, char *result, char *error,
		   double elapsed)
{
	struct proto_task_result *r;

	/* Fast rise, slow decay: a longer task stops prefetching at once. */
	if (elapsed > w->avg_task_s)
		w->avg_task_s = elapsed;
	else
		w->avg_task_s = 0.9 * w->avg_task_s + 0.1 * elapsed;
	w->last_done = t->started + elapsed;
	if (t->epoch != w->epoch) {
		/* Assigned under an earlier registration: the scheduler no longer expects it. */
		free(result);
		free(error);
		return;
	}
	if (w->nresults == w->results_cap) {
		w->results_cap = w->results_cap ? w->results_cap * 2 : 64;
		w->results = xreallocarray(w->results, w->results_cap, sizeof *w->results);
	}
	r = &w->results[w->nresults++];
	memset(r, 0, sizeof *r);
	r->task = t->id;
	r->attempt = t->attempt;
	r->ok = rc == 0;
	r->permanent = rc != 0 && worker_exec_permanent(rc);
	r->result = result;
	r->error = rc != 0 ? (error != NULL ? error : xstrdup("failed")) : NULL;
	if (rc == 0)
		free(error);
	r->elapsed_us = (uint64_t)(elapsed * 1e6);
	pthread_cond_signal(&w->result_cond);
}

/* Run t (lock not held) and post its outcome; returns with the lock held. */
static void
worker_exec_run(struct worker *w, struct task_run_cache *cache, struct worker_task *t)
{
	char *result = NULL, *cause = NULL;
	double t0 = t->started, elapsed;
	int rc;

	TRACE(TRACE_WORKER_START, t->id);
	rc = task_run_cached(cache, t->spec, t->deps, t->attempt, &t->cancel, &result, &cause);
	TRACE(TRACE_WORKER_END, t->id);
	elapsed = time_mono_s() - t0;
	if (rc != 0)
		log_debug("task %llu failed: %s", (unsigned long long)t->id, cause);
	free(t->spec);
	free(t->deps);
	t->spec = t->deps = NULL;
	/* The result and the freed slot appear together to the connection thread. */
	pthread_mutex_lock(&w->lock);
	worker_exec_result(w, t, rc, result, cause, elapsed);
	w->nrunning--;
}

void
worker_exec_run_inline(struct worker *w, struct worker_task *t)
{
	if (w->inline_cache == NULL)
		w->inline_cache = task_run_cache_new();
	t->started = time_mono_s();
	worker_exec_run(w, w->inline_cache, t);
	w->inline_task = NULL;
	pthread_mutex_unlock(&w->lock);
	free(t);
}

void *
worker_exec_thread(void *arg)
{
	struct worker *w = arg;
	struct task_run_cache *cache = task_run_cache_new();
	uint32_t slot;

	pthread_mutex_lock(&w->lock);
	for (slot = 0; w->running[slot] != (void *)-1; slot++)
		;
	w->running[slot] = NULL;
	for (;;) {
		struct worker_task *t;

		while (w->queue_head == NULL && !atomic_load(&w->stopping))
			pthread_cond_wait(&w->work_cond, &w->lock);
		if (w->queue_head == NULL)
			break;
		t = w->queue_head;
		w->queue_head = t->next;
		if (w->queue_head == NULL)
			w->queue_tail = NULL;
		w->nqueued--;
		w->nrunning++;
		w->running[slot] = t;
		t->started = time_mono_s();
		pthread_mutex_unlock(&w->lock);
		worker_exec_run(w, cache, t);
		w->running[slot] = NULL;
		free(t);
	}
	pthread_mutex_unlock(&w->lock);
	task_run_cache_free(cache);
	return NULL;
}

void
worker_exec_cancel(struct worker *w, const uint64_t *ids, uint32_t n)
{
	pthread_mutex_lock(&w->lock);
	for (uint32_t i = 0; i < n; i++) {
		for (uint32_t k = 0; k < w->cfg.nthreads; k++)
			if (w->running[k] != NULL && w->running[k] != (void *)-1 &&
			    w->running[k]->id == ids[i])
				atomic_store(&w->running[k]->cancel, 1);
		for (struct worker_task *t = w->queue_head; t != NULL; t = t->next)
			if (t->id == ids[i])
				atomic_store(&t->cancel, 1);
		if (w->inline_task != NULL && w->inline_task->id == ids[i])
			atomic_store(&w->inline_task->cancel, 1);
	}
	pthread_mutex_unlock(&w->lock);
}

void
worker_exec_reset(struct worker *w)
{
	struct worker_task *t, *next;

	pthread_mutex_lock(&w->lock);
	w->epoch++;
	for (t = w->queue_head; t != NULL; t = next) {
		next = t->next;
		free(t->spec);
		free(t->deps);
		free(t);
	}
	w->queue_head = w->queue_tail = NULL;
	w->nqueued = 0;
	for (uint32_t k = 0; k < w->cfg.nthreads; k++)
		if (w->running[k] != NULL && w->running[k] != (void *)-1)
			atomic_store(&w->running[k]->cancel, 1);
	for (uint32_t i = 0; i < w->nresults; i++) {
		free(w->results[i].result);
		free(w->results[i].error);
	}
	w->nresults = 0;
	pthread_mutex_unlock(&w->lock);
}

uint64_t *
worker_exec_running(struct worker *w, uint32_t *n)
{
	uint64_t *ids;
	uint32_t k = 0;

	pthread_mutex_lock(&w->lock);
	ids = xcalloc(w->nrunning + w->nqueued + 1, sizeof *ids);
	for (uint32_t i = 0; i < w->cfg.nthreads; i++)
		if (w->running[i] != NULL && w->running[i] != (void *)-1)
			ids[k++] = w->running[i]->id;
	if (w->inline_task != NULL)
		ids[k++] = w->inline_task->id;
	for (struct worker_task *t = w->queue_head; t != NULL && k < PROTO_MAX_BATCH; t = t->next)
		ids[k++] = t->id;
	pthread_mutex_unlock(&w->lock);
	*n = k;
	return ids;
}
