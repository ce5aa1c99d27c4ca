/* The scheduler's reports: status summary, jobs, one job, workers (JSON) and the Prometheus
 * metrics text, and the one table by which the CLI's STATUS requests and the HTTP endpoint find
 * them. */
#include "scheduler/sched-status.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/timeutil.h"
#include "common/xmalloc.h"
#include "scheduler/sched-metrics.h"
#include "scheduler/state/sched-jobs.h"
#include "scheduler/state/sched-statedir.h"
#include "scheduler/state/sched-taskstat.h"
#include "scheduler/state/sched-tasks.h"

static json_t *
sched_status_time(double t)
{
	return t > 0 ? json_real(t) : json_null();
}

static double
sched_status_progress(const struct sched_job *j)
{
	return j->counts_total > 0 ? (double)j->counts[TASK_DONE] / j->counts_total : 0.0;
}

static char *
sched_status_waiting_message(struct sched *s, const struct sched_job *j)
{
	return xasprintf("waiting for at least %u workers (%u connected), timeout after %g s",
			 j->min_workers, s->nworkers, s->cfg.worker_wait_timeout_s);
}

static json_t *
sched_status_job_brief(struct sched *s, struct sched_job *j)
{
	json_t *o = json_pack(
	    "{s:i, s:s, s:s, s:i, s:i, s:i, s:i, s:f, s:o, s:o, s:o}", "id", (int)j->id, "name",
	    j->name, "state", sched_jobs_state_name(j->state), "priority", (int)j->priority,
	    "tasks", (int)j->counts_total, "done", (int)j->counts[TASK_DONE], "failed",
	    (int)j->counts[TASK_FAILED], "progress", sched_status_progress(j), "submitted",
	    sched_status_time(j->submitted), "started", sched_status_time(j->started), "finished",
	    sched_status_time(j->finished));

	if (j->input != NULL)
		json_object_set_new(o, "input", json_string(j->input));
	if (j->error != NULL)
		json_object_set_new(o, "error", json_string(j->error));
	if (sched_status_report(j) != NULL)
		json_object_set_new(o, "report", json_string(sched_status_report(j)));
	if (j->state == JOB_WAITING) {
		char *msg = sched_status_waiting_message(s, j);
		json_object_set_new(o, "waiting", json_string(msg));
		free(msg);
	}
	return o;
}

const char *
sched_status_report(const struct sched_job *j)
{
	const char *key;
	json_t *v;

	json_object_foreach(j->results, key, v)
	{
		const char *rep = json_string_value(json_object_get(v, "report"));
		if (rep != NULL && rep[0] == '/')
			return rep;
	}
	return NULL;
}

static json_t *
sched_status_jobs(struct sched *s, struct sched_job *unused)
{
	json_t *a = json_array();

	for (struct sched_job *j = s->jobs; j != NULL; j = j->next)
		json_array_append_new(a, sched_status_job_brief(s, j));
	return a;
}

/* The files a job made, as its tasks' inline results name them: "outputs", every absolute path
 * under an "output" key, and "report", the first "report" (an HTML correction report; the files
 * it links sit beside it). A step that writes a report returns {"report": "/abs/path.html"}. */
static void
sched_status_job_files(const struct sched_job *j, json_t *o)
{
	json_t *outputs = json_array(), *v, *report = NULL;
	const char *key;

	json_object_foreach(j->results, key, v)
	{
		const char *out = json_string_value(json_object_get(v, "output"));
		const char *rep = json_string_value(json_object_get(v, "report"));

		if (out != NULL && out[0] == '/')
			json_array_append_new(outputs, json_string(out));
		if (rep != NULL && rep[0] == '/' && report == NULL)
			report = json_string(rep);
	}
	if (json_array_size(outputs) == 0 && j->output != NULL && j->state == JOB_DONE)
		json_array_append_new(outputs, json_string(j->output));
	json_object_set_new(o, "outputs", outputs);
	if (report != NULL)
		json_object_set_new(o, "report", report);
}

/* {"pending": n, "ready": n, ...} */
static json_t *
sched_status_states(const uint32_t counts[TASK_STATE_COUNT])
{
	json_t *o = json_object();

	for (int st = 0; st < TASK_STATE_COUNT; st++)
		json_object_set_new(o, sched_tasks_state_name(st), json_integer(counts[st]));
	return o;
}

static json_t *
sched_status_job(struct sched *s, struct sched_job *j)
{
	json_t *o = sched_status_job_brief(s, j), *stages = json_array();
	double end = j->finished > 0 ? j->finished : time_wall_s();

	json_object_set_new(o, "tasks_by_state", sched_status_states(j->counts));
	if (j->output != NULL)
		json_object_set_new(o, "output", json_string(j->output));
	json_object_set_new(o, "elapsed_s", json_real(end - j->submitted));
	json_object_set_new(o, "busy_s", json_real(j->busy_s));
	json_object_set_new(o, "min_workers", json_integer(j->min_workers));
	if (j->graph != NULL)
		for (uint32_t i = 0; i < j->graph->nstages; i++) {
			static const char *const kinds[] = {"global", "unit", "run_once", "reduce"};
			const struct graph_stage *st = &j->graph->stages[i];
			json_t *so = json_pack("{s:s, s:s, s:i}", "label", st->label, "kind",
					       kinds[st->kind], "tasks", (int)st->count);
			if (j->stage_counts != NULL)
				json_object_set_new(so, "states",
						    sched_status_states(j->stage_counts[i]));
			json_array_append_new(stages, so);
		}
	json_object_set_new(o, "stages", stages);
	json_object_set(o, "results", j->results);
	sched_status_job_files(j, o);
	return o;
}

static json_t *
sched_status_workers(struct sched *s, struct sched_job *unused)
{
	json_t *a = json_array();
	double now = time_mono_s();

	for (struct sched_worker *w = s->workers; w != NULL; w = w->next) {
		json_t *o = json_pack(
		    "{s:i, s:s, s:i, s:i, s:i, s:f, s:f, s:I, s:I, s:s, s:b}", "id", (int)w->id,
		    "host", w->host, "pid", (int)w->pid, "slots", (int)w->slots, "running",
		    (int)w->assigned, "last_heartbeat_s_ago", now - w->last_seen, "connected_s",
		    now - w->registered, "done", (json_int_t)w->done, "failed",
		    (json_int_t)w->failed, "version", w->version, "draining", w->draining);
		if (w->slurm_job != NULL)
			json_object_set_new(o, "slurm_job", json_string(w->slurm_job));
		if (w->has_usage) {
			json_object_set_new(o, "rss_bytes", json_integer((json_int_t)w->rss_bytes));
			json_object_set_new(o, "cpu_s", json_real(w->cpu_s));
		}
		json_array_append_new(a, o);
	}
	return a;
}

/* The tasks workers run now: [[worker, job, task, op label, start (wall s)]...]. */
static json_t *
sched_status_running(struct sched *s)
{
	json_t *a = json_array();
	double wall = time_wall_s(), mono = time_mono_s();

	for (struct sched_worker *w = s->workers; w != NULL; w = w->next)
		for (uint32_t i = 0; i < w->nrun; i++) {
			uint64_t id = w->run[i].task;
			struct sched_job *j = sched_jobs_find(s, PROTO_TASK_JOB(id));
			uint32_t idx = PROTO_TASK_INDEX(id);
			const char *label = "";

			if (j != NULL && j->graph != NULL && idx < j->graph->ntasks)
				label = j->graph->stages[graph_stage_of(j->graph, idx)].label;
			json_array_append_new(
			    a, json_pack("[i, i, i, s, f]", (int)w->id, (int)PROTO_TASK_JOB(id),
					 (int)idx, label, wall - (mono - w->run[i].since)));
		}
	return a;
}

/* The task stream (sched-taskstat.c), the running tasks and each unfinished job's progress by
 * stage, for the dashboard. */
static json_t *
sched_status_tasks(struct sched *s, struct sched_job *unused)
{
	json_t *o = sched_taskstat_stream(s), *progress = json_array();

	for (struct sched_job *j = s->jobs; j != NULL; j = j->next) {
		if (j->graph == NULL || j->stage_counts == NULL ||
		    (j->state != JOB_RUNNING && j->state != JOB_WAITING))
			continue;
		for (uint32_t i = 0; i < j->graph->nstages; i++) {
			const uint32_t *c = j->stage_counts[i];
			json_array_append_new(
			    progress, json_pack("{s:i, s:s, s:i, s:i, s:i, s:i}", "job", (int)j->id,
						"op", j->graph->stages[i].label, "tasks",
						(int)j->graph->stages[i].count, "done", (int)c[TASK_DONE],
						"running", (int)c[TASK_ASSIGNED], "failed",
						(int)c[TASK_FAILED]));
		}
	}
	json_object_set_new(o, "progress", progress);
	json_object_set_new(o, "running", sched_status_running(s));
	return o;
}

static json_t *
sched_status_summary(struct sched *s, struct sched_job *unused)
{
	json_t *jobs = json_object(), *tasks = json_object(), *waiting = json_array();
	uint32_t jc[JOB_CANCELLED + 1] = {0};
	uint64_t tc[TASK_STATE_COUNT] = {0};

	for (struct sched_job *j = s->jobs; j != NULL; j = j->next) {
		jc[j->state]++;
		for (int st = 0; st < TASK_STATE_COUNT; st++)
			tc[st] += j->counts[st];
		if (j->state == JOB_WAITING) {
			char *msg = sched_status_waiting_message(s, j);
			json_array_append_new(
			    waiting, json_pack("{s:i, s:s}", "job", (int)j->id, "message", msg));
			free(msg);
		}
	}
	for (int st = JOB_WAITING; st <= JOB_CANCELLED; st++)
		json_object_set_new(jobs, sched_jobs_state_name(st), json_integer(jc[st]));
	for (int st = 0; st < TASK_STATE_COUNT; st++)
		json_object_set_new(tasks, sched_tasks_state_name(st),
				    json_integer((json_int_t)tc[st]));
	return json_pack("{s:s, s:f, s:i, s:o, s:o, s:o, s:s, s:o}", "version", ND_VERSION,
			 "uptime_s", time_mono_s() - s->started, "workers", (int)s->nworkers,
			 "jobs", jobs, "tasks", tasks, "waiting", waiting, "listen",
			 s->cfg.listen_url, "state_dir", sched_statedir_status(s));
}

static const struct sched_status_entry sched_status_table[] = {
    {"status", "/api/status", SCHED_STATUS_JSON, false, false, sched_status_summary, NULL},
    {"jobs", "/api/jobs", SCHED_STATUS_JSON, false, true, sched_status_jobs, NULL},
    {"job", "/api/jobs/", SCHED_STATUS_JSON, true, false, sched_status_job, NULL},
    {"workers", "/api/workers", SCHED_STATUS_JSON, false, false, sched_status_workers, NULL},
    {"tasks", "/api/tasks", SCHED_STATUS_JSON, false, false, sched_status_tasks, NULL},
    {"metrics", "/metrics", "text/plain; version=0.0.4", false, false, NULL, sched_metrics_text},
};

#define SCHED_STATUS_COUNT (sizeof sched_status_table / sizeof sched_status_table[0])

const struct sched_status_entry *
sched_status_by_what(const char *what)
{
	for (size_t i = 0; what != NULL && i < SCHED_STATUS_COUNT; i++)
		if (strcmp(sched_status_table[i].what, what) == 0)
			return &sched_status_table[i];
	return NULL;
}

const struct sched_status_entry *
sched_status_by_path(const char *path, uint32_t *job)
{
	for (size_t i = 0; i < SCHED_STATUS_COUNT; i++) {
		const struct sched_status_entry *r = &sched_status_table[i];
		size_t n = strlen(r->path);

		if (strncmp(path, r->path, n) != 0)
			continue;
		if (r->job && path[n] != '\0') {
			char *end;
			unsigned long id = strtoul(path + n, &end, 10);
			*job = *end == '\0' && id <= UINT32_MAX ? (uint32_t)id : 0;
			return r;
		}
		if (!r->job && (path[n] == '\0' || (r->dir && strcmp(path + n, "/") == 0)))
			return r;
	}
	return NULL;
}

int
sched_status_render(struct sched *s, const struct sched_status_entry *r, uint32_t job,
		    size_t json_flags, char **body)
{
	struct sched_job *j = NULL;
	json_t *v;

	if (r->text != NULL) {
		*body = r->text(s);
		return 0;
	}
	if (r->job && (j = sched_jobs_find(s, job)) == NULL)
		return -ENOENT;
	v = r->json(s, j);
	*body = json_dumps(v, json_flags);
	json_decref(v);
	return 0;
}

static char *
sched_status_list(bool paths)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	for (size_t i = 0; i < SCHED_STATUS_COUNT; i++) {
		const struct sched_status_entry *r = &sched_status_table[i];
		if (paths)
			fprintf(f, "%s%s%s", i > 0 ? " " : "", r->path, r->job ? "{id}" : "");
		else
			fprintf(f, "%s%s",
				i == 0                       ? ""
				: i + 1 < SCHED_STATUS_COUNT ? ", "
							     : " or ",
				r->what);
	}
	fclose(f);
	return buf;
}

char *
sched_status_whats(void)
{
	return sched_status_list(false);
}

char *
sched_status_paths(void)
{
	return sched_status_list(true);
}
