/* Restoring the unfinished jobs from the store after a restart: each job's graph rebuilt from its
 * pipeline, its done tasks marked done with their results (their dependents released once all
 * are marked, so none is queued twice), the rest queued again. A job whose graph cannot be
 * rebuilt fails saying why. */
#include "scheduler/state/sched-jobs.h"

#include <stdlib.h>

#include "common/log.h"
#include "common/timeutil.h"
#include "common/xmalloc.h"
#include "scheduler/state/sched-build.h"
#include "scheduler/state/store/sched-store.h"
#include "scheduler/state/sched-tasks.h"

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
	if (graph_output_path(j->graph) != NULL)
		j->output_key = graph_output_canonical(graph_output_path(j->graph));
	sched_build_counts(j);
	sched_jobs_track(s, j);
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
