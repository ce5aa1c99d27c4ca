/* Job lifecycle: submission (one job per input, validated into a task graph), the worker-wait
 * state, task results (done, retried or failing the job), lost workers' tasks back in the queue,
 * cancellation, completion, persistence of each transition, and restoring unfinished jobs from
 * the store after a restart (done tasks stay done; the rest are requeued). */
#include "scheduler/state/sched-jobs.h"

#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "common/xmalloc.h"
#include "scheduler/state/sched-build.h"
#include "scheduler/state/sched-pass.h"
#include "scheduler/state/sched-statedir.h"
#include "scheduler/state/sched-store.h"
#include "scheduler/state/sched-tasks.h"
#include "scheduler/state/sched-workers.h"

/* Jobs at least this big give their memory back to the system when they finish. */
#define SCHED_BUILD_TRIM_TASKS (1u << 20)

const char *
sched_jobs_state_name(enum sched_job_state st)
{
	static const char *const names[] = {"waiting", "running", "done", "failed", "cancelled"};
	return names[st];
}

static enum sched_job_state
sched_jobs_state_parse(const char *name)
{
	for (int i = JOB_WAITING; i <= JOB_CANCELLED; i++)
		if (name != NULL && strcmp(name, sched_jobs_state_name(i)) == 0)
			return i;
	return JOB_FAILED;
}

static void
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

static bool
sched_jobs_finished(const struct sched_job *j)
{
	return j->state == JOB_DONE || j->state == JOB_FAILED || j->state == JOB_CANCELLED;
}

static void
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
	graph_free(j->graph);
	free(j->tasks);
	free(j->ready);
	json_decref(j->results);
	free(j->results_text);
	free(j);
}

struct sched_job *
sched_jobs_find(struct sched *s, uint32_t id)
{
	for (struct sched_job *j = s->jobs; j != NULL; j = j->next)
		if (j->id == id)
			return j;
	return NULL;
}

static void
sched_jobs_append(struct sched *s, struct sched_job *j)
{
	if (s->jobs_tail != NULL)
		s->jobs_tail->next = j;
	else
		s->jobs = j;
	s->jobs_tail = j;
	if (j->id >= s->next_job_id)
		s->next_job_id = j->id + 1;
}

static char *
sched_jobs_workdir(struct sched *s, uint32_t id)
{
	return xasprintf("%s/work/%u", s->cfg.state_dir, id);
}

/* The scheduler's memory per task: its state and its place in the ready queue. */
#define SCHED_JOBS_TASK_BYTES (sizeof(struct sched_task) + sizeof(struct sched_ready))

/* A new job's size against --max-job-tasks and, with the unfinished jobs and `others` tasks of
 * this submission's other jobs, --max-tasks. */
int
sched_jobs_check_budget(struct sched *s, const struct graph *g, uint64_t others, char **cause)
{
	uint64_t total = g->ntasks + others;

	if (s->cfg.max_job_tasks > 0 && g->ntasks > s->cfg.max_job_tasks)
		return error_set(cause, -EINVAL,
				 "the pipeline makes %u tasks (about %.0f MiB of scheduler memory); "
				 "this scheduler takes at most %u per job (--max-job-tasks): use "
				 "larger chan_per_task or trials_per_task, or split the input",
				 g->ntasks, (double)g->ntasks * SCHED_JOBS_TASK_BYTES / 1048576,
				 s->cfg.max_job_tasks);
	for (struct sched_job *j = s->jobs; j != NULL; j = j->next)
		if (j->state == JOB_RUNNING || j->state == JOB_WAITING)
			total += j->counts_total;
	if (s->cfg.max_tasks > 0 && total > s->cfg.max_tasks)
		return error_set(cause, -EINVAL,
				 "this job's %u tasks would bring the unfinished jobs to %llu tasks, "
				 "over this scheduler's budget of %llu (--max-tasks): try again when "
				 "some have finished",
				 g->ntasks, (unsigned long long)total,
				 (unsigned long long)s->cfg.max_tasks);
	return 0;
}

/* A new job's output: the graph's rules (not the input, no existing file replaced without
 * overwrite), and no other job of this submission or still running writes it. */
static int
sched_jobs_check_output(struct sched *s, const struct graph *g, struct sched_job **made,
			uint32_t nmade, bool overwrite, char **cause)
{
	const char *out = graph_output_path(g);
	int rc = graph_check_output(g, overwrite, cause);

	if (rc != 0 || out == NULL)
		return rc;
	for (uint32_t k = 0; k < nmade; k++)
		if (graph_output_path(made[k]->graph) != NULL &&
		    strcmp(graph_output_path(made[k]->graph), out) == 0)
			return error_set(cause, -EINVAL,
					 "output.path: %s is the output of another input of this "
					 "submission",
					 out);
	for (struct sched_job *j = s->jobs; j != NULL; j = j->next)
		if (j->graph != NULL && (j->state == JOB_RUNNING || j->state == JOB_WAITING) &&
		    graph_output_path(j->graph) != NULL &&
		    graph_output_same_file(graph_output_path(j->graph), out))
			return error_set(cause, -EINVAL,
					 "output.path: job %u, still running, writes %s", j->id,
					 out);
	return 0;
}

int
sched_jobs_make(struct sched *s, const struct proto_submit *sub, uint32_t id, uint32_t i,
		struct sched_job **made, uint64_t made_tasks, struct sched_job **out, char **cause)
{
	struct sched_job *j = xcalloc(1, sizeof *j);
	const char *input = sub->ninputs > 0 ? sub->inputs[i] : NULL;
	char *workdir = sched_jobs_workdir(s, id);
	int rc = graph_build(sub->pipeline, input, sub->output, workdir, &j->graph, cause);

	free(workdir);
	if (rc == 0 && ((rc = sched_jobs_check_budget(s, j->graph, made_tasks, cause)) != 0 ||
			(rc = sched_jobs_check_output(s, j->graph, made, i, sub->overwrite,
						      cause)) != 0))
		graph_free(j->graph);
	if (rc != 0) {
		if (sub->ninputs > 1)
			error_wrap(cause, rc, "input %s: ", input);
		free(j);
		return rc;
	}
	j->id = id;
	j->name = xstrdup(j->graph->name);
	j->priority = j->graph->priority;
	j->min_workers = j->graph->min_workers;
	j->pipeline_text = xstrdup(sub->pipeline);
	j->input = input != NULL ? xstrdup(input) : NULL;
	j->output = sub->output != NULL ? xstrdup(sub->output) : NULL;
	j->results = json_object();
	*out = j;
	return 0;
}

void
sched_jobs_accept(struct sched *s, struct sched_job **made, uint32_t n, double arrived,
		  uint64_t *ids)
{
	for (uint32_t i = 0; i < n; i++) {
		struct sched_job *j = made[i];
		struct sched_store_job row;

		sched_build_start(s, j);
		j->submitted = arrived;
		j->state = JOB_RUNNING;
		j->wait_since = time_mono_s();
		sched_jobs_append(s, j);
		sched_jobs_row(j, &row);
		sched_store_job_insert(s->store, &row);
		ids[i] = j->id;
		log_info("job %u (%s) submitted: %u tasks in %u stages%s%s", j->id, j->name,
			 j->graph->ntasks, j->graph->nstages, j->input != NULL ? ", input " : "",
			 j->input != NULL ? j->input : "");
	}
	sched_jobs_check_waiting(s);
}

int
sched_jobs_submit(struct sched *s, const struct proto_submit *sub, uint64_t **ids, uint32_t *nids,
		  char **cause)
{
	uint32_t n = sub->ninputs > 0 ? sub->ninputs : 1;
	struct sched_job **made;
	double arrived = time_wall_s(); /* a job's time counts its graph building too */
	uint64_t made_tasks = 0;
	int rc = sched_jobs_can_take(s, sub, cause);

	if (rc != 0)
		return rc;
	/* Validate every input before accepting any, so a submission is all or nothing. */
	made = xcalloc(n, sizeof *made);
	for (uint32_t i = 0; i < n && rc == 0; i++)
		if ((rc = sched_jobs_make(s, sub, s->next_job_id + i, i, made, made_tasks, &made[i],
					  cause)) == 0)
			made_tasks += made[i]->graph->ntasks;
	if (rc != 0) {
		for (uint32_t i = 0; i < n; i++)
			sched_jobs_free(made[i]);
		free(made);
		return rc;
	}
	*ids = xcalloc(n, sizeof **ids);
	*nids = n;
	sched_jobs_accept(s, made, n, arrived, *ids);
	free(made);
	return 0;
}

/* Each job of a submission keeps its pipeline: their sum is bounded. */
#define SCHED_JOBS_SUBMIT_TEXT_BYTES (256u << 20)

int
sched_jobs_can_take(struct sched *s, const struct proto_submit *sub, char **cause)
{
	uint64_t text = (uint64_t)strlen(sub->pipeline) * (sub->ninputs > 0 ? sub->ninputs : 1);

	if (text > SCHED_JOBS_SUBMIT_TEXT_BYTES)
		return error_set(cause, -EINVAL,
				 "%u inputs of a %zu-byte pipeline: each job keeps its pipeline, "
				 "%llu MiB in all, over the %u MiB one submission may take: submit "
				 "fewer inputs at a time",
				 sub->ninputs, strlen(sub->pipeline),
				 (unsigned long long)(text >> 20), SCHED_JOBS_SUBMIT_TEXT_BYTES >> 20);
	return sched_statedir_can_accept(s, cause);
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
 * heartbeat replies. The assigned ones are found on the workers' run lists and the others are
 * only counted, so a job of millions of tasks ends without a scan of its table on the loop
 * (its table is freed next). */
static void
sched_jobs_cancel_unfinished(struct sched *s, struct sched_job *j)
{
	if (j->tasks == NULL)
		return;
	for (struct sched_worker *w = s->workers; w != NULL; w = w->next)
		for (uint32_t k = 0; k < w->nrun && j->counts[TASK_ASSIGNED] > 0; k++)
			if (PROTO_TASK_JOB(w->run[k].task) == j->id)
				sched_jobs_cancel_assigned(j, w, PROTO_TASK_INDEX(w->run[k].task));
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
static void
sched_jobs_finish(struct sched *s, struct sched_job *j, enum sched_job_state st, const char *why)
{
	if (sched_jobs_finished(j))
		return;
	j->state = st;
	j->finished = time_wall_s();
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

void
sched_jobs_check_waiting(struct sched *s)
{
	double now = time_mono_s();
	int log_now = now - s->last_wait_log >= 10.0;

	for (struct sched_job *j = s->jobs; j != NULL; j = j->next) {
		if (j->state != JOB_WAITING && j->state != JOB_RUNNING)
			continue;
		if (s->nworkers >= j->min_workers) {
			if (j->state == JOB_WAITING) {
				log_info("job %u: %u/%u workers available, starting computation",
					 j->id, s->nworkers, j->min_workers);
				j->state = JOB_RUNNING;
				sched_jobs_save(s, j);
			}
			if (j->started == 0 && s->nworkers > 0) {
				j->started = time_wall_s();
				sched_jobs_save(s, j);
			}
			continue;
		}
		if (j->state == JOB_RUNNING) {
			j->state = JOB_WAITING;
			j->wait_since = now;
			sched_jobs_save(s, j);
			log_now = 1;
		}
		if (now - j->wait_since >= s->cfg.worker_wait_timeout_s) {
			char *why =
			    xasprintf("no worker registered within %g s (needs at least %u, "
				      "%u connected)",
				      s->cfg.worker_wait_timeout_s, j->min_workers, s->nworkers);
			sched_jobs_finish(s, j, JOB_FAILED, why);
			free(why);
		} else if (log_now) {
			log_info("job %u: waiting for at least %u workers (%u connected), timeout "
				 "after %g s",
				 j->id, j->min_workers, s->nworkers, s->cfg.worker_wait_timeout_s);
			s->last_wait_log = now;
		}
	}
}

struct sched_restore {
	struct sched *s;
	struct sched_job *job;
};

static void
sched_jobs_restore_task(void *arg, uint32_t task, int ok, const char *result, const char *error,
			uint32_t attempts)
{
	struct sched_job *j = ((struct sched_restore *)arg)->job;

	if (task >= j->graph->ntasks || j->tasks[task].state != TASK_PENDING || !ok)
		return;
	j->tasks[task].attempts = (uint8_t)(attempts > 255 ? 255 : attempts);
	sched_tasks_keep_result(j, task, result);
	sched_tasks_set_state(j, task, TASK_DONE);
}

static void
sched_jobs_restore_release(uint32_t task, void *arg)
{
	struct sched_job *j = arg;

	if (j->tasks[task].deps_left > 0)
		j->tasks[task].deps_left--;
}

static void
sched_jobs_restore_job(void *arg, const struct sched_store_job *row)
{
	struct sched_restore *r = arg;
	struct sched *s = r->s;
	struct sched_job *j = xcalloc(1, sizeof *j);
	char *cause = NULL, *workdir;

	j->id = row->id;
	j->name = xstrdup(row->name);
	j->pipeline_text = xstrdup(row->pipeline);
	j->input = row->input != NULL ? xstrdup(row->input) : NULL;
	j->output = row->output != NULL ? xstrdup(row->output) : NULL;
	j->error = row->error != NULL ? xstrdup(row->error) : NULL;
	j->state = sched_jobs_state_parse(row->state);
	j->priority = row->priority;
	j->submitted = row->submitted;
	j->started = row->started;
	j->finished = row->finished;
	j->counts_total = row->ntasks;
	j->counts[TASK_DONE] = row->ndone;
	j->counts[TASK_FAILED] = row->nfailed;
	j->results = row->results != NULL ? json_loads(row->results, 0, NULL) : NULL;
	if (!json_is_object(j->results)) {
		json_decref(j->results);
		j->results = json_object();
	}
	sched_jobs_append(s, j);
	if (sched_jobs_finished(j))
		return;
	workdir = sched_jobs_workdir(s, j->id);
	if (graph_build(j->pipeline_text, j->input, j->output, workdir, &j->graph, &cause) != 0) {
		j->state = JOB_FAILED;
		j->error = xasprintf("cannot restore after a restart: %s", cause);
		j->finished = time_wall_s();
		sched_jobs_save(s, j);
		free(cause);
		free(workdir);
		return;
	}
	free(workdir);
	j->min_workers = j->graph->min_workers;
	sched_build_counts(j);
	r->job = j;
	sched_store_load_tasks(s->store, j->id, sched_jobs_restore_task, r);
	/* Release dependents only once every done task is marked, so none is queued twice. */
	for (uint32_t i = 0; i < j->graph->ntasks; i++)
		if (j->tasks[i].state == TASK_DONE)
			graph_dependents(j->graph, i, sched_jobs_restore_release, j);
	sched_build_queue(j);
	j->state = JOB_RUNNING;
	j->wait_since = time_mono_s();
	log_info("job %u (%s) resumed: %u of %u tasks already done", j->id, j->name,
		 j->counts[TASK_DONE], j->graph->ntasks);
	if (j->counts[TASK_DONE] == j->graph->ntasks)
		sched_jobs_finish(s, j, JOB_DONE, NULL);
}

void
sched_jobs_restore(struct sched *s)
{
	struct sched_restore r = {s, NULL};

	if (sched_store_load_jobs(s->store, sched_jobs_restore_job, &r) != 0)
		log_error("could not read the jobs from the state database");
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

	if (t->attempts < s->cfg.max_attempts) {
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
		why = xasprintf("task %u (%s) failed after %u attempts: %s", idx, label,
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
	sched_workers_run_finished(w, r->task);
	if (w->assigned > 0)
		w->assigned--;
	t->worker = 0;
	j->busy_s += (double)r->elapsed_us * 1e-6;
	if (r->ok && (why = sched_jobs_result_invalid(s, r)) != NULL) {
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

/* The tasks w was running go back to the queue, or fail their job after the last attempt. */
static void
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
			if (sched_jobs_retry_or_fail(s, j, i, w->id, NULL))
				break;
		}
	}
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
