/* Admitting new jobs: one job per input of a submission, validated into a task graph, checked
 * against the task budgets (--max-job-tasks, --max-tasks) and against the outputs of the other
 * jobs (of this submission, and unfinished), then accepted: stored, its task table started,
 * the worker-wait state entered. A submission is all or nothing. */
#include "scheduler/state/sched-jobs.h"

#include <errno.h>
#include <stdlib.h>
#include <search.h>
#include <string.h>

#include "common/error.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "common/trace.h"
#include "common/xmalloc.h"
#include "scheduler/state/sched-build.h"
#include "scheduler/state/sched-statedir.h"
#include "scheduler/state/store/sched-store.h"

/* The scheduler's memory per task: its state and its place in the ready queue. */
#define SCHED_JOBS_TASK_BYTES (sizeof(struct sched_task) + sizeof(struct sched_ready))

/* A new job's size against --max-job-tasks and, with the unfinished jobs and `others` tasks of
 * this submission's other jobs, --max-tasks. */
int
sched_jobs_check_budget(struct sched *s, const struct graph *g, uint64_t others, char **cause)
{
	uint64_t total = g->ntasks + others + s->unfinished_tasks;

	if (s->cfg.max_job_tasks > 0 && g->ntasks > s->cfg.max_job_tasks)
		return error_set(cause, -EINVAL,
				 "the pipeline makes %u tasks (about %.0f MiB of scheduler memory); "
				 "this scheduler takes at most %u per job (--max-job-tasks): use "
				 "larger chan_per_task or trials_per_task, or split the input",
				 g->ntasks, (double)g->ntasks * SCHED_JOBS_TASK_BYTES / 1048576,
				 s->cfg.max_job_tasks);
	if (s->cfg.max_tasks > 0 && total > s->cfg.max_tasks)
		return error_set(cause, -EINVAL,
				 "this job's %u tasks would bring the unfinished jobs to %llu tasks, "
				 "over this scheduler's budget of %llu (--max-tasks): try again when "
				 "some have finished",
				 g->ntasks, (unsigned long long)total,
				 (unsigned long long)s->cfg.max_tasks);
	return 0;
}

static void
sched_jobs_pending_keep(void *job)
{
	(void)job; /* the tree's entries are the made jobs, freed by their submission */
}

void
sched_jobs_pending_free(void **pending)
{
	tdestroy(*pending, sched_jobs_pending_keep);
	*pending = NULL;
}

/* A new job's output: the graph's rules (not the input, no existing file replaced without
 * overwrite), and no other job of this submission (*pending, where it is added) or unfinished
 * writes it: looked up by canonical name, so another spelling of the path or a symbolic link
 * to it is the same output. (Two hard links are two files once written: outputs are written
 * to a temporary file renamed over the name.) */
static int
sched_jobs_check_output(struct sched *s, struct sched_job *j, void **pending, bool overwrite,
			char **cause)
{
	const char *out = graph_output_path(j->graph);
	int rc = graph_check_output(j->graph, overwrite, cause);
	void *node;

	if (rc != 0 || out == NULL)
		return rc;
	j->output_key = graph_output_canonical(out);
	if ((node = tfind(j, &s->outputs, sched_jobs_output_cmp)) != NULL)
		return error_set(cause, -EINVAL, "output.path: job %u, still running, writes %s",
				 (*(struct sched_job **)node)->id, out);
	node = tsearch(j, pending, sched_jobs_output_cmp);
	if (node != NULL && *(struct sched_job **)node != j)
		return error_set(cause, -EINVAL,
				 "output.path: %s is the output of another input of this "
				 "submission",
				 out);
	return 0;
}

int
sched_jobs_make(struct sched *s, const struct proto_submit *sub, uint32_t id, uint32_t i,
		void **pending, uint64_t made_tasks, struct sched_job **out, char **cause)
{
	struct sched_job *j = xcalloc(1, sizeof *j);
	const char *input = sub->ninputs > 0 ? sub->inputs[i] : NULL;
	char *workdir = sched_jobs_workdir(s, id);
	int rc = graph_build(sub->pipeline, input, sub->output, workdir, &j->graph, cause);

	free(workdir);
	if (rc == 0 && ((rc = sched_jobs_check_budget(s, j->graph, made_tasks, cause)) != 0 ||
			(rc = sched_jobs_check_output(s, j, pending, sub->overwrite, cause)) != 0)) {
		graph_free(j->graph);
		free(j->output_key);
	}
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
		sched_jobs_track(s, j);
		log_info("job %u (%s) submitted: %u tasks in %u stages%s%s", j->id, j->name,
			 j->graph->ntasks, j->graph->nstages, j->input != NULL ? ", input " : "",
			 j->input != NULL ? j->input : "");
		sched_jobs_check_new(s, j);
		if (trace_enabled) {
			trace_at(TRACE_SUBMIT_RECV, j->id, s->trace_recv_ns);
			trace_at(TRACE_SUBMIT_HANDLE, j->id, s->trace_handle_ns);
			trace_now(TRACE_JOB_READY, j->id);
		}
	}
}

int
sched_jobs_submit(struct sched *s, const struct proto_submit *sub, uint64_t **ids, uint32_t *nids,
		  char **cause)
{
	uint32_t n = sub->ninputs > 0 ? sub->ninputs : 1;
	struct sched_job **made;
	double arrived = time_wall_s(); /* a job's time counts its graph building too */
	uint64_t made_tasks = 0;
	void *pending = NULL;
	int rc = sched_jobs_can_take(s, sub, cause);

	if (rc != 0)
		return rc;
	/* Validate every input before accepting any, so a submission is all or nothing. */
	made = xcalloc(n, sizeof *made);
	for (uint32_t i = 0; i < n && rc == 0; i++)
		if ((rc = sched_jobs_make(s, sub, s->next_job_id + i, i, &pending, made_tasks,
					  &made[i], cause)) == 0)
			made_tasks += made[i]->graph->ntasks;
	sched_jobs_pending_free(&pending);
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
