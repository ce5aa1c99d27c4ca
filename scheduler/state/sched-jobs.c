/* Job lifecycle after admission: the worker-wait state, task results (done, retried or failing
 * the job), lost workers' tasks back in the queue, cancellation, completion, and persistence of
 * each transition. New jobs are admitted in sched-admit.c, unfinished ones restored after a
 * restart in sched-restore.c. */
#include "scheduler/state/sched-jobs.h"

#include <errno.h>
#include <malloc.h>
#include <search.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "common/trace.h"
#include "common/xmalloc.h"
#include "common/xsort.h"
#include "scheduler/state/sched-build.h"
#include "scheduler/state/sched-pass.h"
#include "scheduler/state/sched-statedir.h"
#include "scheduler/state/store/sched-store.h"
#include "scheduler/state/sched-taskstat.h"
#include "scheduler/state/sched-tasks.h"
#include "scheduler/state/sched-workers.h"

/* Jobs at least this big give their memory back to the system when they finish. */
#define SCHED_BUILD_TRIM_TASKS (1u << 20)

void
sched_jobs_state_counts(const struct sched *s, uint32_t jc[JOB_CANCELLED + 1],
			uint64_t tc[TASK_STATE_COUNT])
{
	for (const struct sched_job *j = s->jobs; j != NULL; j = j->next) {
		jc[j->state]++;
		for (int st = 0; st < TASK_STATE_COUNT; st++)
			tc[st] += j->counts[st];
	}
}

const char *
sched_jobs_state_name(enum sched_job_state st)
{
	static const char *const names[] = {"waiting", "running", "done", "failed", "cancelled"};
	return names[st];
}

enum sched_job_state
sched_jobs_state_parse(const char *name)
{
	for (int i = JOB_WAITING; i <= JOB_CANCELLED; i++)
		if (name != NULL && strcmp(name, sched_jobs_state_name(i)) == 0)
			return i;
	return JOB_FAILED;
}

void
sched_jobs_row(const struct sched_job *j, struct sched_store_job *row)
{
	memset(row, 0, sizeof *row);
	row->id = j->id;
	row->name = j->name;
	row->pipeline = j->pipeline_text;
	row->input = j->input;
	row->output = j->output;
	row->state = sched_jobs_state_name(j->state);
	row->priority = j->priority;
	row->error = j->error;
	row->submitted = j->submitted;
	row->started = j->started;
	row->finished = j->finished;
	row->ntasks = j->counts_total;
	row->ndone = j->counts[TASK_DONE];
	row->nfailed = j->counts[TASK_FAILED];
}

bool
sched_jobs_finished(const struct sched_job *j)
{
	return j->state == JOB_DONE || j->state == JOB_FAILED || j->state == JOB_CANCELLED;
}

void
sched_jobs_save(struct sched *s, const struct sched_job *j)
{
	struct sched_store_job row;
	char *results = NULL;

	sched_jobs_row(j, &row);
	/* A finished job keeps its inline results in its row: its tasks are not reloaded. */
	if (sched_jobs_finished(j) && json_object_size(j->results) > 0)
		results = json_dumps(j->results, JSON_COMPACT);
	row.results = results;
	sched_store_job_update(s->store, &row);
	free(results);
}

void
sched_jobs_free(struct sched_job *j)
{
	if (j == NULL)
		return;
	free(j->name);
	free(j->pipeline_text);
	free(j->input);
	free(j->output);
	free(j->error);
	free(j->output_key);
	graph_free(j->graph);
	free(j->tasks);
	free(j->stage_counts);
	free(j->stage_time);
	free(j->ready);
	json_decref(j->results);
	free(j->results_text);
	free(j);
}

void
sched_jobs_free_all(struct sched *s)
{
	while (s->jobs != NULL) {
		struct sched_job *j = s->jobs;
		s->jobs = j->next;
		sched_jobs_free(j);
	}
	s->jobs_tail = NULL;
	s->live = (struct dlist){0};
}

struct sched_job *
sched_jobs_find(struct sched *s, uint32_t id)
{
	return idindex_find(&s->jobs_by_id, id);
}

void
sched_jobs_append(struct sched *s, struct sched_job *j)
{
	if (s->jobs_tail != NULL)
		s->jobs_tail->next = j;
	else
		s->jobs = j;
	s->jobs_tail = j;
	idindex_add(&s->jobs_by_id, j->id, j);
	if (j->id >= s->next_job_id)
		s->next_job_id = j->id + 1;
}

static bool
sched_jobs_pruned(const void *job)
{
	return ((const struct sched_job *)job)->pruned;
}

void
sched_jobs_index_remove(struct sched *s, struct sched_job *const *gone, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		gone[i]->pruned = true;
	idindex_remove_if(&s->jobs_by_id, sched_jobs_pruned);
}

char *
sched_jobs_workdir(struct sched *s, uint32_t id)
{
	return xasprintf("%s/work/%u", s->cfg.state_dir, id);
}

int
sched_jobs_output_cmp(const void *a, const void *b)
{
	return strcmp(((const struct sched_job *)a)->output_key,
		      ((const struct sched_job *)b)->output_key);
}

static void
sched_jobs_output_keep(void *job)
{
	(void)job; /* the tree's entries are the jobs, owned elsewhere */
}

void
sched_jobs_track(struct sched *s, struct sched_job *j)
{
	if (j->tracked)
		return;
	j->tracked = true;
	dlist_push(&s->live, j, offsetof(struct sched_job, live_link));
	s->unfinished_tasks += j->graph != NULL ? j->graph->ntasks : 0;
	if (j->output_key != NULL)
		tsearch(j, &s->outputs, sched_jobs_output_cmp); /* the first of equals stays */
}

void
sched_jobs_untrack(struct sched *s, struct sched_job *j)
{
	void *node;

	if (!j->tracked)
		return;
	j->tracked = false;
	dlist_unlink(&s->live, j, offsetof(struct sched_job, live_link));
	s->unfinished_tasks -= j->graph != NULL ? j->graph->ntasks : 0;
	if (j->output_key != NULL &&
	    (node = tfind(j, &s->outputs, sched_jobs_output_cmp)) != NULL &&
	    *(struct sched_job **)node == j)
		tdelete(j, &s->outputs, sched_jobs_output_cmp);
}

void
sched_jobs_outputs_free(struct sched *s)
{
	tdestroy(s->outputs, sched_jobs_output_keep);
	s->outputs = NULL;
	idindex_free(&s->jobs_by_id);
}

/* The task a worker runs for job j gives its slot back and becomes cancelled. */
static void
sched_jobs_cancel_assigned(struct sched_job *j, struct sched_worker *w, uint32_t i)
{
	if (i >= j->graph->ntasks || j->tasks[i].state != TASK_ASSIGNED ||
	    j->tasks[i].worker != w->id)
		return;
	if (w->assigned > 0)
		w->assigned--;
	sched_tasks_set_state(j, i, TASK_CANCELLED);
}

/* A finishing job's unfinished tasks become cancelled; workers running them hear it in
 * heartbeat replies. The assigned ones are taken off the lists of the tasks workers hold and
 * the others are only counted, so a job of millions of tasks ends without a scan of its table
 * on the loop (its table is freed next). */
static void
sched_jobs_cancel_unfinished(struct sched *s, struct sched_job *j)
{
	if (j->tasks == NULL)
		return;
	for (struct sched_worker *w = s->workers; w != NULL && j->counts[TASK_ASSIGNED] > 0;
	     w = w->next)
		for (uint32_t k = 0; k < w->nrun && j->counts[TASK_ASSIGNED] > 0;) {
			if (PROTO_TASK_JOB(w->run[k].task) != j->id) {
				k++;
				continue;
			}
			sched_jobs_cancel_assigned(j, w, PROTO_TASK_INDEX(w->run[k].task));
			w->run[k] = w->run[--w->nrun];
		}
	/* Every assignment is on its worker's run list; should one not be, scan. */
	for (uint32_t i = 0; j->counts[TASK_ASSIGNED] > 0 && i < j->graph->ntasks; i++) {
		struct sched_worker *w = j->tasks[i].state == TASK_ASSIGNED
					     ? sched_workers_find(s, j->tasks[i].worker)
					     : NULL;
		if (w != NULL)
			sched_jobs_cancel_assigned(j, w, i);
		else if (j->tasks[i].state == TASK_ASSIGNED)
			sched_tasks_set_state(j, i, TASK_CANCELLED);
	}
	j->counts[TASK_CANCELLED] += j->counts[TASK_PENDING] + j->counts[TASK_READY];
	j->counts[TASK_PENDING] = j->counts[TASK_READY] = 0;
}

/* End a job: DONE, FAILED (with why) or CANCELLED; frees its task table, keeps its summary. */
void
sched_jobs_finish(struct sched *s, struct sched_job *j, enum sched_job_state st, const char *why)
{
	if (sched_jobs_finished(j))
		return;
	sched_jobs_untrack(s, j);
	j->state = st;
	j->finished = time_wall_s();
	TRACE(TRACE_JOB_DONE, j->id);
	free(j->error);
	j->error = why != NULL ? xstrdup(why) : NULL;
	sched_jobs_cancel_unfinished(s, j);
	sched_jobs_save(s, j);
	free(j->tasks);
	j->tasks = NULL;
	free(j->ready);
	j->ready = NULL;
	j->ready_len = j->ready_cap = j->ready_head = 0;
	j->build_phase = 0;
	/* A big job's tables are returned to the system, not kept by the allocator. */
	if (j->counts_total >= SCHED_BUILD_TRIM_TASKS)
		malloc_trim(0);
	sched_statedir_job_finished(s, j);
	if (st == JOB_DONE)
		log_info("job %u (%s) done: %u tasks in %.3f s", j->id, j->name, j->counts_total,
			 j->finished - j->submitted);
	else
		log_warn("job %u (%s) %s%s%s", j->id, j->name, sched_jobs_state_name(st),
			 why != NULL ? ": " : "", why != NULL ? why : "");
	sched_pass_kick(s);
}

int
sched_jobs_cancel(struct sched *s, uint32_t id, char **cause)
{
	struct sched_job *j = sched_jobs_find(s, id);

	if (j == NULL)
		return error_set(cause, -ENOENT, "no job %u", id);
	sched_jobs_finish(s, j, JOB_CANCELLED, "cancelled by a user");
	return 0;
}

/* An unfinished job against the workers connected now: RUNNING when there are enough, else
 * WAITING, failed once it has waited --worker-wait-timeout. Whether it waits. */
static bool
sched_jobs_check_one(struct sched *s, struct sched_job *j, double now)
{
	if (s->nworkers >= j->min_workers) {
		if (j->state == JOB_WAITING) {
			log_info("job %u: %u/%u workers available, starting computation", j->id,
				 s->nworkers, j->min_workers);
			j->state = JOB_RUNNING;
			sched_jobs_save(s, j);
		}
		if (j->started == 0 && s->nworkers > 0) {
			j->started = time_wall_s();
			sched_jobs_save(s, j);
		}
		return false;
	}
	if (j->state == JOB_RUNNING) {
		j->state = JOB_WAITING;
		j->wait_since = now;
		sched_jobs_save(s, j);
		log_info("job %u: waiting for at least %u workers (%u connected), timeout after %g s",
			 j->id, j->min_workers, s->nworkers, s->cfg.worker_wait_timeout_s);
	}
	if (now - j->wait_since >= s->cfg.worker_wait_timeout_s) {
		char *why = xasprintf("no worker registered within %g s (needs at least %u, %u "
				      "connected)",
				      s->cfg.worker_wait_timeout_s, j->min_workers, s->nworkers);
		sched_jobs_finish(s, j, JOB_FAILED, why);
		free(why);
		return false;
	}
	return true;
}

void
sched_jobs_check_new(struct sched *s, struct sched_job *j)
{
	sched_jobs_check_one(s, j, time_mono_s());
}

/* Every 10 s while jobs wait, one line says how many (a line per job made thousands). */
void
sched_jobs_check_waiting(struct sched *s)
{
	double now = time_mono_s();
	uint32_t waiting = 0;

	for (struct sched_job *j = s->jobs; j != NULL; j = j->next)
		if ((j->state == JOB_WAITING || j->state == JOB_RUNNING) &&
		    sched_jobs_check_one(s, j, now))
			waiting++;
	if (waiting > 0 && now - s->last_wait_log >= 10.0) {
		log_info("%u job%s waiting for workers (%u connected), each failed after %g s of "
			 "waiting",
			 waiting, waiting == 1 ? "" : "s", s->nworkers, s->cfg.worker_wait_timeout_s);
		s->last_wait_log = now;
	}
}

/* An attempt of task idx ended without a result: the worker's report r, or NULL when its worker
 * was lost. Queue it again while attempts remain, else fail its job. Returns whether the job
 * failed (its task table is gone then). */
static bool
sched_jobs_retry_or_fail(struct sched *s, struct sched_job *j, uint32_t idx, uint32_t worker,
			 const struct proto_task_result *r)
{
	struct sched_task *t = &j->tasks[idx];
	const char *label = j->graph->stages[graph_stage_of(j->graph, idx)].label;
	const char *error = r != NULL && r->error != NULL ? r->error : "no reason given";
	char *why;

	if (t->attempts < s->cfg.max_attempts && (r == NULL || !r->permanent)) {
		s->stats.tasks_retried++;
		if (r != NULL)
			log_warn("job %u task %u (%s) failed on worker %u, attempt %u of %u: %s",
				 j->id, idx, label, worker, t->attempts, s->cfg.max_attempts,
				 error);
		sched_tasks_push_ready(j, idx);
		return false;
	}
	if (r != NULL) {
		sched_store_task_done(s->store, j->id, idx, 0, NULL, r->error, t->attempts,
				      r->elapsed_us);
		why = r->permanent && t->attempts < s->cfg.max_attempts
			  ? xasprintf("task %u (%s) failed, not retried (bad input, parameter or "
				      "output): %s",
				      idx, label, error)
			  : xasprintf("task %u (%s) failed after %u attempts: %s", idx, label,
				      t->attempts, error);
	} else {
		why = xasprintf("task %u (%s): its worker was lost on each of %u attempts", idx,
				label, t->attempts);
	}
	sched_tasks_set_state(j, idx, TASK_FAILED);
	sched_jobs_finish(s, j, JOB_FAILED, why);
	free(why);
	return true;
}

/* Why a reported result cannot be kept (caller frees), or NULL: over --max-result-size, or not
 * JSON. */
static char *
sched_jobs_result_invalid(struct sched *s, const struct proto_task_result *r)
{
	size_t n = r->result != NULL ? strlen(r->result) : 0;
	json_error_t err;
	json_t *v;

	if (r->result == NULL)
		return NULL;
	if (s->cfg.max_result_bytes > 0 && n > s->cfg.max_result_bytes)
		return xasprintf("its result is %zu bytes, over the scheduler's --max-result-size of "
				 "%llu KiB",
				 n, (unsigned long long)s->cfg.max_result_bytes >> 10);
	if ((v = json_loads(r->result, JSON_DECODE_ANY, &err)) == NULL)
		return xasprintf("its result is not valid JSON (%s at byte %d)", err.text,
				 err.position);
	json_decref(v);
	return NULL;
}

void
sched_jobs_task_result(struct sched *s, struct sched_worker *w, const struct proto_task_result *r)
{
	struct sched_job *j = sched_jobs_find(s, PROTO_TASK_JOB(r->task));
	uint32_t idx = PROTO_TASK_INDEX(r->task);
	struct sched_task *t;
	char *why;

	if (j == NULL || j->tasks == NULL || idx >= j->graph->ntasks)
		return; /* a job that is gone or finished: acknowledged and dropped */
	t = &j->tasks[idx];
	if (t->state != TASK_ASSIGNED || t->worker != w->id || t->attempts != r->attempt)
		return; /* a duplicate or a stale attempt */
	if (trace_enabled) {
		trace_at(TRACE_RESULT_RECV, r->task, s->trace_recv_ns);
		trace_at(TRACE_RESULT_HANDLE, r->task, s->trace_handle_ns);
	}
	sched_workers_run_finished(w, r->task);
	if (w->assigned > 0)
		w->assigned--;
	t->worker = 0;
	j->busy_s += (double)r->elapsed_us * 1e-6;
	why = r->ok ? sched_jobs_result_invalid(s, r) : NULL;
	if (r->ok && why == NULL && j->stage_time != NULL) {
		struct sched_stage_time *st = &j->stage_time[graph_stage_of(j->graph, idx)];
		st->busy_s += (double)r->elapsed_us * 1e-6;
		st->done++;
	}
	sched_taskstat_ended(s, w, j, idx, r->elapsed_us, r->ok && why == NULL);
	if (why != NULL) {
		/* Stored and passed on to later tasks: an unusable result fails the attempt. */
		struct proto_task_result bad = *r;
		bad.ok = false;
		bad.error = why;
		w->failed++;
		s->stats.tasks_failed++;
		sched_jobs_retry_or_fail(s, j, idx, w->id, &bad);
		free(why);
		return;
	}
	if (!r->ok) {
		w->failed++;
		s->stats.tasks_failed++;
		sched_jobs_retry_or_fail(s, j, idx, w->id, r);
		return;
	}
	w->done++;
	s->stats.tasks_done++;
	sched_store_task_done(s->store, j->id, idx, 1, r->result, NULL, t->attempts, r->elapsed_us);
	sched_tasks_keep_result(j, idx, r->result);
	sched_tasks_done(j, idx);
	if (j->counts[TASK_DONE] == j->graph->ntasks)
		sched_jobs_finish(s, j, JOB_DONE, NULL);
}

static int
sched_jobs_run_cmp(const void *a, const void *b)
{
	uint64_t x = ((const struct sched_running *)a)->task,
		 y = ((const struct sched_running *)b)->task;

	return x < y ? -1 : x > y;
}

/* The tasks w held go back to the queue, or fail their job after the last attempt: found on
 * its own list (so a loss costs its tasks, not the jobs' tables), in job then task order. An
 * entry whose task is no longer w's (its job ended) is skipped. w is out of the registry, so
 * a job failing here leaves w's list alone. */
static void
sched_jobs_requeue_worker(struct sched *s, struct sched_worker *w)
{
	if (w->nrun > 1)
		xqsort(w->run, w->nrun, sizeof *w->run, sched_jobs_run_cmp);
	for (uint32_t k = 0; k < w->nrun; k++) {
		struct sched_job *j = sched_jobs_find(s, PROTO_TASK_JOB(w->run[k].task));
		uint32_t i = PROTO_TASK_INDEX(w->run[k].task);
		struct sched_task *t;

		if (j == NULL || j->tasks == NULL || i >= j->graph->ntasks)
			continue;
		t = &j->tasks[i];
		if (t->state != TASK_ASSIGNED || t->worker != w->id)
			continue;
		t->worker = 0;
		sched_jobs_retry_or_fail(s, j, i, w->id, NULL);
	}
	w->nrun = 0;
	w->assigned = 0;
}

void
sched_jobs_worker_lost(struct sched *s, struct sched_worker *w, const char *why)
{
	if (!sched_workers_remove(s, w, why))
		return;
	sched_jobs_requeue_worker(s, w);
	sched_workers_free(w);
	sched_jobs_check_waiting(s);
	sched_pass_kick(s);
}
