/* The worker's local queue without a scheduler: which task the connection thread runs itself
 * (only while recent tasks were short and recent, never while draining), that such a task shows
 * in the running list and takes cancellation, and that its result is posted like an executor's. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "common/timeutil.h"
#include "common/xmalloc.h"
#include "worker/ops/task-run.h"
#include "worker/worker.h"

static struct worker w;

static void
setup(void)
{
	memset(&w, 0, sizeof w);
	w.cfg.nthreads = 1;
	pthread_mutex_init(&w.lock, NULL);
	pthread_cond_init(&w.work_cond, NULL);
	pthread_cond_init(&w.result_cond, NULL);
	w.running = xcalloc(1, sizeof *w.running);
}

static void
teardown(void)
{
	worker_exec_reset(&w);
	if (w.inline_cache != NULL)
		task_run_cache_free(w.inline_cache);
	free(w.results);
	free(w.running);
}

TestSuite(worker_exec, .init = setup, .fini = teardown);

/* n no-op tasks as the scheduler assigns them (ids 1..n). */
static struct proto_task *
tasks(uint32_t n)
{
	struct proto_task *t = xcalloc(n, sizeof *t);

	for (uint32_t i = 0; i < n; i++) {
		t[i].task = i + 1;
		t[i].attempt = 1;
		t[i].spec = xasprintf(
		    "{\"job\":1,\"task\":%u,\"index\":%u,\"stage\":{\"kind\":\"unit\",\"stage\":0,"
		    "\"grid\":{\"channels\":1,\"trials\":1,\"chan_per_task\":1,"
		    "\"trials_per_task\":1,\"shape\":[1,1]},\"steps\":[{\"op\":\"noop\"}]}}",
		    i + 1, i);
	}
	return t;
}

static void
recently_short(void)
{
	w.avg_task_s = 20e-6;
	w.last_done = time_mono_s();
}

Test(worker_exec, first_task_of_all_goes_to_the_executors)
{
	struct proto_task *t = tasks(2);

	cr_assert_null(worker_exec_enqueue(&w, t, 2, true));
	cr_assert_eq(w.nqueued, 2);
	free(t);
}

Test(worker_exec, short_recent_tasks_run_on_the_receiving_thread)
{
	struct proto_task *t = tasks(3);
	struct worker_task *mine;
	uint64_t *ids;
	uint32_t n;

	recently_short();
	mine = worker_exec_enqueue(&w, t, 3, true);
	cr_assert_not_null(mine);
	cr_assert_eq(mine->id, 1);
	cr_assert_eq(w.nqueued, 2);
	cr_assert_eq(w.nrunning, 1);
	cr_assert_eq(w.queue_head->id, 2);
	/* Heartbeats list it and cancellation reaches it. */
	ids = worker_exec_running(&w, &n);
	cr_assert_eq(n, 3);
	cr_assert_eq(ids[0], 1);
	free(ids);
	worker_exec_cancel(&w, (uint64_t[]){1}, 1);
	cr_assert_eq(atomic_load(&mine->cancel), 1);
	atomic_store(&mine->cancel, 0);
	worker_exec_run_inline(&w, mine);
	cr_assert_null(w.inline_task);
	cr_assert_eq(w.nrunning, 0);
	cr_assert_eq(w.nresults, 1);
	cr_assert_eq(w.results[0].task, 1);
	cr_assert(w.results[0].ok, "%s", w.results[0].error);
	free(t);
}

Test(worker_exec, long_stale_or_draining_goes_to_the_executors)
{
	struct proto_task *t = tasks(3);

	w.avg_task_s = 0.5; /* long */
	w.last_done = time_mono_s();
	cr_assert_null(worker_exec_enqueue(&w, t, 1, true));
	recently_short();
	w.last_done -= 5; /* after an idle spell */
	cr_assert_null(worker_exec_enqueue(&w, t + 1, 1, true));
	recently_short();
	atomic_store(&w.draining, 1);
	cr_assert_null(worker_exec_enqueue(&w, t + 2, 1, true));
	cr_assert_eq(w.nqueued, 3);
	free(t);
}

Test(worker_exec, not_asked_to_inline)
{
	struct proto_task *t = tasks(1);

	recently_short();
	cr_assert_null(worker_exec_enqueue(&w, t, 1, false));
	cr_assert_eq(w.nqueued, 1);
	free(t);
}
