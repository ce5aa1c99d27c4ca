/* The tasks' figures: the queue-wait histogram (ready to assigned, from milliseconds to hours,
 * since a job's last tasks wait for all the others), run-time histograms per op (a stage's
 * label, "highpass+upsample+aas"), and the task stream, a ring of the last SCHED_TASKSTAT_RING
 * finished tasks that the dashboard draws per worker over time. Fixed size whatever the load. */
#include "scheduler/state/sched-taskstat.h"

#include <stdlib.h>
#include <string.h>

#include "common/timeutil.h"
#include "common/xmalloc.h"

#define SCHED_HIST_MAX 16

struct sched_hist {
	uint64_t bucket[SCHED_HIST_MAX + 1];
	double sum;
	uint64_t count;
};

struct sched_stream_task {
	double start, end;
	uint32_t worker, job, task;
	uint16_t op;
	bool ok;
};

struct sched_taskstat {
	struct sched_hist wait;
	char *op[SCHED_TASKSTAT_OPS + 1]; /* the last one is "other" */
	uint32_t nops;
	struct sched_hist run[SCHED_TASKSTAT_OPS + 1];
	struct sched_stream_task ring[SCHED_TASKSTAT_RING];
	uint32_t head, len;
};

/* Upper bucket edges, seconds. */
static const double sched_wait_edges[] = {0.001, 0.01, 0.1, 0.5,  1,    5,    15,
					  60,    300,  900, 1800, 3600, 7200, 14400};
static const double sched_run_edges[] = {0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1,
					 5,     10,    30,   60,   300, 900, 3600};
#define SCHED_WAIT_N (sizeof sched_wait_edges / sizeof sched_wait_edges[0])
#define SCHED_RUN_N  (sizeof sched_run_edges / sizeof sched_run_edges[0])

static struct sched_taskstat *
sched_taskstat_get(struct sched *s)
{
	if (s->taskstat == NULL)
		s->taskstat = xcalloc(1, sizeof *s->taskstat);
	return s->taskstat;
}

static void
sched_hist_add(struct sched_hist *h, const double *edges, size_t n, double v)
{
	size_t k = 0;

	while (k < n && v > edges[k])
		k++;
	h->bucket[k]++;
	h->sum += v;
	h->count++;
}

void
sched_taskstat_wait(struct sched *s, double seconds)
{
	sched_hist_add(&sched_taskstat_get(s)->wait, sched_wait_edges, SCHED_WAIT_N, seconds);
}

/* The op index of a label, added when new; "other" past SCHED_TASKSTAT_OPS. */
static uint16_t
sched_taskstat_op(struct sched_taskstat *ts, const char *label)
{
	for (uint32_t i = 0; i < ts->nops; i++)
		if (strcmp(ts->op[i], label) == 0)
			return (uint16_t)i;
	if (ts->nops == SCHED_TASKSTAT_OPS) {
		if (ts->op[SCHED_TASKSTAT_OPS] == NULL)
			ts->op[SCHED_TASKSTAT_OPS] = xstrdup("other");
		return SCHED_TASKSTAT_OPS;
	}
	ts->op[ts->nops] = xstrdup(label);
	return (uint16_t)ts->nops++;
}

void
sched_taskstat_ended(struct sched *s, const struct sched_worker *w, const struct sched_job *j,
		     uint32_t idx, uint64_t elapsed_us, bool ok)
{
	struct sched_taskstat *ts = sched_taskstat_get(s);
	const char *label = j->graph->stages[graph_stage_of(j->graph, idx)].label;
	uint16_t op = sched_taskstat_op(ts, label);
	double run = (double)elapsed_us * 1e-6, now = time_wall_s();
	struct sched_stream_task *t;

	sched_hist_add(&ts->run[op], sched_run_edges, SCHED_RUN_N, run);
	t = &ts->ring[(ts->head + ts->len) % SCHED_TASKSTAT_RING];
	if (ts->len < SCHED_TASKSTAT_RING)
		ts->len++;
	else
		ts->head = (ts->head + 1) % SCHED_TASKSTAT_RING;
	*t = (struct sched_stream_task){now - run, now, w->id, j->id, idx, op, ok};
}

static void
sched_hist_print(FILE *f, const char *name, const char *labels, const struct sched_hist *h,
		 const double *edges, size_t n)
{
	uint64_t cum = 0;
	const char *sep = labels[0] != '\0' ? "," : "";

	for (size_t k = 0; k < n; k++) {
		cum += h->bucket[k];
		fprintf(f, "%s_bucket{%s%sle=\"%g\"} %llu\n", name, labels, sep, edges[k],
			(unsigned long long)cum);
	}
	cum += h->bucket[n];
	fprintf(f, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, labels, sep, (unsigned long long)cum);
	fprintf(f, "%s_sum%s%s%s %.9f\n%s_count%s%s%s %llu\n", name, labels[0] ? "{" : "", labels,
		labels[0] ? "}" : "", h->sum, name, labels[0] ? "{" : "", labels,
		labels[0] ? "}" : "", (unsigned long long)h->count);
}

char *
sched_taskstat_label(const char *key, const char *v)
{
	size_t n = strlen(key) + 4 + 2 * strlen(v);
	char *out = xmalloc(n), *p = out + sprintf(out, "%s=\"", key);

	for (; *v != '\0'; v++) {
		if (*v == '\\' || *v == '"' || *v == '\n')
			*p++ = '\\';
		*p++ = *v == '\n' ? 'n' : *v;
	}
	strcpy(p, "\"");
	return out;
}

void
sched_taskstat_metrics(struct sched *s, FILE *f)
{
	struct sched_taskstat *ts = sched_taskstat_get(s);

	fprintf(f, "# HELP neurodag_task_queue_wait_seconds Time a ready task waited for a "
		   "worker.\n# TYPE neurodag_task_queue_wait_seconds histogram\n");
	sched_hist_print(f, "neurodag_task_queue_wait_seconds", "", &ts->wait, sched_wait_edges,
			 SCHED_WAIT_N);
	fprintf(f, "# HELP neurodag_task_run_seconds Time a task ran on its worker, by op (the "
		   "stage's steps).\n# TYPE neurodag_task_run_seconds histogram\n");
	for (uint32_t i = 0; i <= SCHED_TASKSTAT_OPS; i++) {
		if (ts->op[i] == NULL)
			continue;
		char *label = sched_taskstat_label("op", ts->op[i]);
		sched_hist_print(f, "neurodag_task_run_seconds", label, &ts->run[i],
				 sched_run_edges, SCHED_RUN_N);
		free(label);
	}
}

json_t *
sched_taskstat_stream(struct sched *s)
{
	struct sched_taskstat *ts = sched_taskstat_get(s);
	json_t *ops = json_array(), *tasks = json_array();
	double now = time_wall_s();
	uint32_t first = 0, served = 0;

	for (uint32_t i = 0; i <= SCHED_TASKSTAT_OPS; i++)
		json_array_append_new(ops, json_string(ts->op[i] != NULL ? ts->op[i] : ""));
	/* The newest SCHED_TASKSTAT_SERVED within the window, oldest first. */
	for (uint32_t k = ts->len; k > 0 && served < SCHED_TASKSTAT_SERVED; k--, served++) {
		const struct sched_stream_task *t =
		    &ts->ring[(ts->head + k - 1) % SCHED_TASKSTAT_RING];
		if (t->end < now - SCHED_TASKSTAT_WINDOW_S)
			break;
		first = k - 1;
	}
	for (uint32_t k = served > 0 ? first : ts->len; k < ts->len; k++) {
		const struct sched_stream_task *t = &ts->ring[(ts->head + k) % SCHED_TASKSTAT_RING];
		json_array_append_new(tasks, json_pack("[i, i, i, i, f, f, b]", (int)t->worker,
						       (int)t->job, (int)t->task, (int)t->op,
						       t->start, t->end, t->ok));
	}
	return json_pack("{s:f, s:o, s:o}", "now", now, "ops", ops, "tasks", tasks);
}

void
sched_taskstat_free(struct sched *s)
{
	if (s->taskstat == NULL)
		return;
	for (uint32_t i = 0; i <= SCHED_TASKSTAT_OPS; i++)
		free(s->taskstat->op[i]);
	free(s->taskstat);
	s->taskstat = NULL;
}
