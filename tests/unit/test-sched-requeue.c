/* Lost workers and the index of jobs, on a scheduler state without its loop's sockets: many
 * no-op jobs dispatched to many workers (through the real dispatch, replies queued and
 * dropped), some results reported, one job cancelled, then some workers lost. Every task a lost
 * worker held goes back to its job's ready queue exactly once with its attempt count kept, no
 * other task moves, the remaining workers' lists of held tasks match the task tables, and the
 * jobs then finish with every task done once. Also: a loss on the last attempt fails the job,
 * and sched_jobs_find after out-of-order arrivals and retention, and which tasks may queue on
 * a worker beyond its slots. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "scheduler/state/sched-build.h"
#include "scheduler/state/sched-dispatch.h"
#include "scheduler/state/sched-jobs.h"
#include "scheduler/state/sched-pass.h"
#include "scheduler/state/sched-retention.h"
#include "scheduler/state/sched-tasks.h"
#include "scheduler/state/sched-taskstat.h"
#include "scheduler/state/sched-workers.h"
#include "scheduler/state/store/sched-store.h"
#include "test-tmpdir.h"

TEST_TMPDIR_DEFINE("sched-requeue")

#define NJOBS    24
#define NWORKERS 40
#define NLOST    15

/* Stands for a parked poll: replies to it are queued, then dropped unsent. */
static char fake_ctx;

static void
setup_sched(struct sched *s, uint32_t max_attempts)
{
	char *cause = NULL;

	memset(s, 0, sizeof *s);
	log_set_level(LOG_LEVEL_WARN);
	s->cfg.state_dir = tmpdir;
	s->cfg.max_attempts = max_attempts;
	s->cfg.worker_wait_timeout_s = 1e9;
	s->cfg.heartbeat_interval_s = 1;
	s->cfg.worker_ttl_s = 1e9;
	s->next_job_id = s->next_worker_id = 1;
	cr_assert_eq(uv_loop_init(&s->loop), 0);
	sched_build_init(s);
	cr_assert_eq(sched_store_open(&s->store, tmpdir, &cause), 0, "%s", cause);
}

static void
close_walk(uv_handle_t *h, void *arg)
{
	(void)arg;
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

static void
teardown_sched(struct sched *s)
{
	sched_pass_drop(s);
	sched_store_close(s->store);
	sched_jobs_outputs_free(s);
	sched_jobs_free_all(s);
	sched_workers_free_all(s);
	uv_walk(&s->loop, close_walk, NULL);
	uv_run(&s->loop, UV_RUN_DEFAULT);
	cr_assert_eq(uv_loop_close(&s->loop), 0);
	sched_taskstat_free(s);
}

static uint32_t
submit_noop(struct sched *s, uint32_t ntasks)
{
	char *text = xasprintf("{\"name\":\"n%u\",\"input\":{\"format\":\"tasks\",\"count\":%u},"
			       "\"steps\":[{\"op\":\"noop\"}]}",
			       ntasks, ntasks);
	struct proto_submit sub = {.pipeline = text};
	uint64_t *ids = NULL;
	uint32_t nids = 0, id;
	char *cause = NULL;

	cr_assert_eq(sched_jobs_submit(s, &sub, &ids, &nids, &cause), 0, "%s", cause);
	cr_assert_eq(nids, 1);
	id = (uint32_t)ids[0];
	free(ids);
	free(text);
	return id;
}

static struct sched_worker *
add_worker(struct sched *s, uint32_t slots)
{
	struct proto_hello h = {.host = "test", .version = "test", .pid = 1, .slots = slots};
	struct sched_worker *w = sched_workers_add(s, &h, 0);

	sched_jobs_check_waiting(s); /* the jobs that waited for workers run */
	return w;
}

/* Every worker asks for up to `free_slots` tasks; dispatch answers. */
static void
poll_all(struct sched *s, uint32_t free_slots)
{
	for (struct sched_worker *w = s->workers; w != NULL; w = w->next)
		sched_workers_park(s, w, (struct proto_server_ctx *)&fake_ctx, 0, free_slots, 0);
	sched_dispatch(s);
	for (struct sched_worker *w = s->workers; w != NULL; w = w->next)
		sched_workers_unpark(s, w);
	sched_pass_drop(s);
}

/* w reports its k-th held task done after elapsed_us (a copy of the entry: the report takes it
 * off the list). */
static void
report_done_after(struct sched *s, struct sched_worker *w, uint32_t k, uint64_t elapsed_us)
{
	uint64_t task = w->run[k].task;
	struct sched_job *j = sched_jobs_find(s, PROTO_TASK_JOB(task));
	struct proto_task_result r = {.task = task, .ok = true, .elapsed_us = elapsed_us};

	cr_assert_not_null(j);
	r.attempt = j->tasks[PROTO_TASK_INDEX(task)].attempts;
	sched_jobs_task_result(s, w, &r);
}

/* The same for a short task (1 ms): its stage's tasks may then queue on a worker. */
static void
report_done(struct sched *s, struct sched_worker *w, uint32_t k)
{
	report_done_after(s, w, k, 1000);
}

/* Each remaining worker's list of held tasks is exactly what the tables say it holds. */
static void
check_held_lists(struct sched *s)
{
	uint64_t assigned = 0, held = 0;

	for (struct sched_job *j = s->jobs; j != NULL; j = j->next)
		if (j->tasks != NULL)
			assigned += j->counts[TASK_ASSIGNED];
	for (struct sched_worker *w = s->workers; w != NULL; w = w->next) {
		cr_assert_eq(w->nrun, w->assigned, "worker %u holds %u tasks, counts %u", w->id,
			     w->nrun, w->assigned);
		for (uint32_t k = 0; k < w->nrun; k++) {
			struct sched_job *j = sched_jobs_find(s, PROTO_TASK_JOB(w->run[k].task));
			uint32_t i = PROTO_TASK_INDEX(w->run[k].task);
			cr_assert(j != NULL && j->tasks != NULL, "worker %u holds a task of a job "
								 "that ended",
				  w->id);
			cr_assert_eq(j->tasks[i].state, TASK_ASSIGNED);
			cr_assert_eq(j->tasks[i].worker, w->id);
		}
		held += w->nrun;
	}
	cr_assert_eq(held, assigned, "%llu held on workers' lists, %llu assigned in the tables",
		     (unsigned long long)held, (unsigned long long)assigned);
}

/* How many times task i of j is in its ready queue. */
static uint32_t
ready_count(const struct sched_job *j, uint32_t i)
{
	uint32_t n = 0;

	for (uint32_t k = 0; k < j->ready_len; k++)
		n += j->ready[(j->ready_head + k) % j->ready_cap].idx == i;
	return n;
}

struct snapshot {
	uint8_t *state, *attempts;
	uint32_t *worker;
};

static void
snapshot_take(const struct sched_job *j, struct snapshot *snap)
{
	uint32_t n = j->graph->ntasks;

	snap->state = xcalloc(n, 1);
	snap->attempts = xcalloc(n, 1);
	snap->worker = xcalloc(n, sizeof *snap->worker);
	for (uint32_t i = 0; i < n; i++) {
		snap->state[i] = j->tasks[i].state;
		snap->attempts[i] = j->tasks[i].attempts;
		snap->worker[i] = j->tasks[i].worker;
	}
}

static void
snapshot_free(struct snapshot *snap)
{
	free(snap->state);
	free(snap->attempts);
	free(snap->worker);
}

static bool
is_lost(const uint32_t *lost, uint32_t n, uint32_t id)
{
	for (uint32_t k = 0; k < n; k++)
		if (lost[k] == id)
			return true;
	return false;
}

/* After the losses: each task the lost workers held is ready once, attempts kept; the others
 * are as they were; each ready task is queued once. Returns how many were requeued. */
static uint32_t
check_requeued(const struct sched_job *j, const struct snapshot *before, const uint32_t *lost,
	       uint32_t nlost)
{
	uint32_t requeued = 0;

	for (uint32_t i = 0; i < j->graph->ntasks; i++) {
		const struct sched_task *t = &j->tasks[i];
		bool was_lost =
		    before->state[i] == TASK_ASSIGNED && is_lost(lost, nlost, before->worker[i]);

		if (was_lost) {
			cr_assert_eq(t->state, TASK_READY, "job %u task %u held by lost worker %u "
							   "is %s",
				     j->id, i, before->worker[i], sched_tasks_state_name(t->state));
			cr_assert_eq(t->worker, 0);
			requeued++;
		} else {
			cr_assert_eq(t->state, before->state[i], "job %u task %u moved", j->id, i);
			cr_assert_eq(t->worker, before->worker[i]);
		}
		cr_assert_eq(t->attempts, before->attempts[i], "job %u task %u", j->id, i);
		cr_assert_eq(ready_count(j, i), t->state == TASK_READY ? 1u : 0u,
			     "job %u task %u (%s) is queued %u times", j->id, i,
			     sched_tasks_state_name(t->state), ready_count(j, i));
	}
	return requeued;
}

/* Drive every job to its end: poll, report all held tasks done, until nothing is held. */
static void
run_to_end(struct sched *s)
{
	for (int round = 0; round < 10000; round++) {
		uint64_t held = 0;

		poll_all(s, 8);
		for (struct sched_worker *w = s->workers; w != NULL; w = w->next) {
			held += w->nrun;
			while (w->nrun > 0)
				report_done(s, w, w->nrun - 1);
		}
		if (held == 0)
			return;
	}
	cr_assert_fail("the jobs did not finish");
}

Test(sched_requeue, lost_workers_tasks_requeued_exactly_once, .init = setup_tmp,
     .fini = teardown_tmp)
{
	struct sched s;
	struct snapshot before[NJOBS];
	uint32_t ids[NJOBS], lost[NLOST], requeued = 0, expected = 0, ndone_before[NJOBS];
	struct sched_worker *w;
	uint64_t done_total = 0;

	setup_sched(&s, 5);
	for (uint32_t k = 0; k < NJOBS; k++)
		ids[k] = submit_noop(&s, 40 + 37 * k);
	for (uint32_t k = 0; k < NWORKERS; k++)
		add_worker(&s, 1 + k % 4);
	/* Two rounds with some results between, so workers hold tasks of several jobs and their
	 * lists have had entries taken out. */
	poll_all(&s, 6);
	for (w = s.workers; w != NULL; w = w->next)
		for (uint32_t k = w->nrun; k-- > 0;)
			if ((w->id + k) % 3 == 0)
				report_done(&s, w, k);
	poll_all(&s, 6);
	cr_assert_eq(sched_jobs_cancel(&s, ids[3], NULL), 0);
	check_held_lists(&s);

	for (uint32_t k = 0; k < NJOBS; k++) {
		struct sched_job *j = sched_jobs_find(&s, ids[k]);
		cr_assert_not_null(j);
		cr_assert_eq(j->id, ids[k]);
		cr_assert(j->tasks != NULL || k == 3, "job %u ended early", j->id);
		if (j->tasks != NULL)
			snapshot_take(j, &before[k]);
	}
	/* Lose every third worker that holds tasks (and one that holds none, if any). */
	uint32_t nlost = 0;
	for (w = s.workers; w != NULL && nlost < NLOST; w = w->next)
		if (w->id % 3 == 1) {
			lost[nlost++] = w->id;
			expected += w->nrun;
		}
	cr_assert_gt(expected, 0);
	for (uint32_t k = 0; k < nlost; k++)
		sched_jobs_worker_lost(&s, sched_workers_find(&s, lost[k]), "test loss");
	cr_assert_eq(s.nworkers, NWORKERS - nlost);
	for (uint32_t k = 0; k < NJOBS; k++) {
		struct sched_job *j = sched_jobs_find(&s, ids[k]);
		if (k == 3) {
			cr_assert_eq(j->state, JOB_CANCELLED);
			continue;
		}
		requeued += check_requeued(j, &before[k], lost, nlost);
		snapshot_free(&before[k]);
		ndone_before[k] = j->counts[TASK_DONE];
	}
	cr_assert_eq(requeued, expected, "%u requeued, the lost workers held %u", requeued,
		     expected);
	check_held_lists(&s);

	run_to_end(&s);
	for (uint32_t k = 0; k < NJOBS; k++) {
		struct sched_job *j = sched_jobs_find(&s, ids[k]);
		cr_assert_eq(j->state, k == 3 ? JOB_CANCELLED : JOB_DONE, "job %u is %s", j->id,
			     sched_jobs_state_name(j->state));
		if (k != 3)
			cr_assert_geq(j->counts[TASK_DONE], ndone_before[k]);
		done_total += j->counts[TASK_DONE];
	}
	cr_assert_eq(s.stats.tasks_done, done_total, "each task done once: %llu results kept, "
						     "%llu tasks done",
		     (unsigned long long)s.stats.tasks_done, (unsigned long long)done_total);
	teardown_sched(&s);
}

Test(sched_requeue, loss_on_the_last_attempt_fails_the_job, .init = setup_tmp,
     .fini = teardown_tmp)
{
	struct sched s;
	uint32_t a, b;
	struct sched_worker *w1, *w2;

	setup_sched(&s, 1);
	a = submit_noop(&s, 10);
	b = submit_noop(&s, 10);
	w1 = add_worker(&s, 1);
	w2 = add_worker(&s, 1);
	/* Once a task of each job is known to be short, the workers queue more than they run. */
	poll_all(&s, 20);
	report_done(&s, w1, 0);
	report_done(&s, w2, 0);
	poll_all(&s, 20);
	cr_assert_gt(w1->nrun, 1, "the worker holds tasks of both jobs");
	cr_assert_gt(w2->nrun, 1);
	sched_jobs_worker_lost(&s, w1, "test loss");
	cr_assert_eq(sched_jobs_find(&s, a)->state, JOB_FAILED);
	cr_assert_eq(sched_jobs_find(&s, b)->state, JOB_FAILED);
	cr_assert_not_null(strstr(sched_jobs_find(&s, a)->error, "worker was lost"), "%s",
			   sched_jobs_find(&s, a)->error);
	/* The other worker's tasks of the failed jobs are cancelled and off its list. */
	cr_assert_eq(w2->nrun, 0);
	cr_assert_eq(w2->assigned, 0);
	teardown_sched(&s);
}

/* Tasks of unknown or long run time go to free slots only; known short ones also queue. */
Test(sched_requeue, only_short_tasks_queue_behind_running_ones, .init = setup_tmp,
     .fini = teardown_tmp)
{
	struct sched s;
	struct sched_worker *w1, *w2;
	uint32_t slow, quick;

	setup_sched(&s, 3);
	slow = submit_noop(&s, 4);
	w1 = add_worker(&s, 1);
	w2 = add_worker(&s, 2);
	poll_all(&s, 4);
	cr_assert_eq(w1->nrun, 1, "a new job's tasks fill the free slots only: %u", w1->nrun);
	cr_assert_eq(w2->nrun, 2, "%u", w2->nrun);
	report_done_after(&s, w2, 1, 8000000);
	report_done_after(&s, w2, 0, 8000000);
	poll_all(&s, 4);
	cr_assert_eq(w1->nrun, 1, "8 s tasks do not queue behind a running one: %u", w1->nrun);
	cr_assert_eq(w2->nrun, 1, "the last one goes to the free slot: %u", w2->nrun);
	cr_assert_eq(sched_jobs_find(&s, slow)->ready_len, 0);

	quick = submit_noop(&s, 40);
	poll_all(&s, 4);
	cr_assert_eq(w2->nrun, 2, "one more in the free slot: %u", w2->nrun);
	report_done(&s, w2, 1);
	poll_all(&s, 4);
	cr_assert_eq(w1->nrun, 5, "known 1 ms tasks queue on a busy worker (1 + 4): %u",
		     w1->nrun);
	cr_assert_eq(sched_jobs_find(&s, quick)->counts[TASK_DONE], 1);
	teardown_sched(&s);
}

static struct sched_job *
bare_job(uint32_t id)
{
	struct sched_job *j = xcalloc(1, sizeof *j);

	j->id = id;
	j->state = JOB_DONE;
	j->finished = 1; /* long ago */
	return j;
}

Test(sched_requeue, jobs_found_by_id_after_late_arrivals_and_pruning, .init = setup_tmp,
     .fini = teardown_tmp)
{
	static const uint32_t order[] = {1, 2, 9, 10, 3, 4, 5, 6, 7, 8, 11, 20, 12};
	struct sched s;

	setup_sched(&s, 3);
	for (size_t k = 0; k < sizeof order / sizeof order[0]; k++)
		sched_jobs_append(&s, bare_job(order[k]));
	for (size_t k = 0; k < sizeof order / sizeof order[0]; k++) {
		struct sched_job *j = sched_jobs_find(&s, order[k]);
		cr_assert_not_null(j, "job %u", order[k]);
		cr_assert_eq(j->id, order[k]);
	}
	cr_assert_null(sched_jobs_find(&s, 0));
	cr_assert_null(sched_jobs_find(&s, 13));
	cr_assert_null(sched_jobs_find(&s, 21));
	cr_assert_eq(s.next_job_id, 21);
	/* Jobs 2..8 still count as running; the others are pruned. */
	for (uint32_t id = 2; id <= 8; id++)
		sched_jobs_find(&s, id)->state = JOB_RUNNING;
	json_decref(sched_retention_gc(&s, 0));
	for (size_t k = 0; k < sizeof order / sizeof order[0]; k++) {
		bool kept = order[k] >= 2 && order[k] <= 8;
		struct sched_job *j = sched_jobs_find(&s, order[k]);
		cr_assert_eq(j != NULL, kept, "job %u", order[k]);
		if (kept)
			cr_assert_eq(j->id, order[k]);
	}
	sched_jobs_append(&s, bare_job(30));
	cr_assert_not_null(sched_jobs_find(&s, 30));
	cr_assert_not_null(sched_jobs_find(&s, 5));
	teardown_sched(&s);
}
