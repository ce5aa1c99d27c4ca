/* The Prometheus metrics text: jobs and tasks by state, the scheduler's counters, the queue-wait
 * and per-op run-time histograms (state/sched-taskstat.c), each worker's slots, running tasks,
 * memory and CPU (from its heartbeats), the state dir, the peers, the loop, the process
 * (process_* as the client libraries name them) and the build. Every family has HELP and TYPE,
 * as `promtool check metrics` asks. */
#include "scheduler/sched-metrics.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include "common/timeutil.h"
#include "scheduler/sched-loopstat.h"
#include "scheduler/sched-reject.h"
#include "scheduler/state/sched-jobs.h"
#include "scheduler/state/sched-statedir.h"
#include "scheduler/state/sched-taskstat.h"
#include "scheduler/state/sched-tasks.h"

static void
sched_metrics_family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void
sched_metrics_counter(FILE *f, const char *name, const char *help, uint64_t v)
{
	sched_metrics_family(f, name, "counter", help);
	fprintf(f, "%s %llu\n", name, (unsigned long long)v);
}

static void
sched_metrics_states(struct sched *s, FILE *f)
{
	uint32_t jc[JOB_CANCELLED + 1] = {0};
	uint64_t tc[TASK_STATE_COUNT] = {0};

	for (struct sched_job *j = s->jobs; j != NULL; j = j->next) {
		jc[j->state]++;
		for (int st = 0; st < TASK_STATE_COUNT; st++)
			tc[st] += j->counts[st];
	}
	sched_metrics_family(f, "neurodag_jobs", "gauge", "Jobs by state.");
	for (int st = JOB_WAITING; st <= JOB_CANCELLED; st++)
		fprintf(f, "neurodag_jobs{state=\"%s\"} %u\n", sched_jobs_state_name(st), jc[st]);
	sched_metrics_family(f, "neurodag_tasks", "gauge", "Tasks by state.");
	for (int st = 0; st < TASK_STATE_COUNT; st++)
		fprintf(f, "neurodag_tasks{state=\"%s\"} %llu\n", sched_tasks_state_name(st),
			(unsigned long long)tc[st]);
	sched_metrics_family(f, "neurodag_workers_connected", "gauge", "Registered workers.");
	fprintf(f, "neurodag_workers_connected %u\n", s->nworkers);
}

static void
sched_metrics_counters(struct sched *s, FILE *f)
{
	static const char *const reasons[REJECT_COUNT] = {
	    "malformed", "auth", "too_big", "version", "unknown_type", "unexpected"};
	const struct sched_stats *st = &s->stats;

	sched_metrics_counter(f, "neurodag_tasks_dispatched_total", "Tasks handed to workers.",
			      st->tasks_dispatched);
	sched_metrics_counter(f, "neurodag_tasks_done_total", "Tasks that succeeded.",
			      st->tasks_done);
	sched_metrics_counter(f, "neurodag_tasks_failed_total",
			      "Task attempts that failed (retried or not).", st->tasks_failed);
	sched_metrics_counter(f, "neurodag_tasks_retried_total", "Task attempts made again.",
			      st->tasks_retried);
	sched_metrics_counter(f, "neurodag_workers_lost_total",
			      "Workers that left: BYE, closed connection or missed heartbeats.",
			      st->workers_lost);
	sched_metrics_counter(f, "neurodag_messages_total", "Messages received from peers.",
			      st->messages);
	sched_metrics_family(f, "neurodag_messages_rejected_total", "counter",
			     "Messages refused, by reason.");
	for (int r = 0; r < REJECT_COUNT; r++)
		fprintf(f, "neurodag_messages_rejected_total{reason=\"%s\"} %llu\n", reasons[r],
			(unsigned long long)st->rejected[r]);
}

/* One family per figure, a series per worker (id, host). */
static void
sched_metrics_workers(struct sched *s, FILE *f)
{
	static const struct {
		const char *name, *type, *help;
	} fam[] = {
	    {"neurodag_worker_slots", "gauge", "Tasks a worker runs at once."},
	    {"neurodag_worker_running_tasks", "gauge", "Tasks assigned to a worker, unfinished."},
	    {"neurodag_worker_resident_memory_bytes", "gauge",
	     "A worker process's resident memory, as its last heartbeat said."},
	    {"neurodag_worker_cpu_seconds_total", "counter",
	     "A worker process's CPU time (user and system), as its last heartbeat said."},
	    {"neurodag_worker_tasks_done_total", "counter", "Tasks a worker finished."},
	};

	for (size_t k = 0; k < sizeof fam / sizeof fam[0]; k++) {
		sched_metrics_family(f, fam[k].name, fam[k].type, fam[k].help);
		for (struct sched_worker *w = s->workers; w != NULL; w = w->next) {
			double v[] = {w->slots, w->assigned, (double)w->rss_bytes, w->cpu_s,
				      (double)w->done};
			if (k >= 2 && k <= 3 && !w->has_usage)
				continue;
			char *host = sched_taskstat_label("host", w->host);
			fprintf(f, "%s{worker=\"%u\",%s} %.17g\n", fam[k].name, w->id, host, v[k]);
			free(host);
		}
	}
}

static unsigned
sched_metrics_open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	unsigned n = 0;

	if (d == NULL)
		return 0;
	while (readdir(d) != NULL)
		n++;
	closedir(d);
	return n > 3 ? n - 3 : 0; /* less ".", ".." and the dir's own descriptor */
}

static void
sched_metrics_process(struct sched *s, FILE *f)
{
	struct rusage ru = {0};
	struct rlimit rl = {0};
	unsigned long long pages = 0, rss = 0;
	FILE *statm = fopen("/proc/self/statm", "r");

	if (statm != NULL) {
		if (fscanf(statm, "%llu %llu", &pages, &rss) != 2)
			rss = 0;
		fclose(statm);
	}
	getrusage(RUSAGE_SELF, &ru);
	getrlimit(RLIMIT_NOFILE, &rl);
	sched_metrics_family(f, "process_cpu_seconds_total", "counter",
			     "Total user and system CPU time spent in seconds.");
	fprintf(f, "process_cpu_seconds_total %.6f\n",
		(double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
		    (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6);
	sched_metrics_family(f, "process_resident_memory_bytes", "gauge",
			     "Resident memory size in bytes.");
	fprintf(f, "process_resident_memory_bytes %llu\n",
		rss * (unsigned long long)sysconf(_SC_PAGESIZE));
	sched_metrics_family(f, "process_open_fds", "gauge", "Number of open file descriptors.");
	fprintf(f, "process_open_fds %u\n", sched_metrics_open_fds());
	sched_metrics_family(f, "process_max_fds", "gauge",
			     "Maximum number of open file descriptors.");
	fprintf(f, "process_max_fds %llu\n", (unsigned long long)rl.rlim_cur);
	sched_metrics_family(f, "process_start_time_seconds", "gauge",
			     "Start time of the process since unix epoch in seconds.");
	fprintf(f, "process_start_time_seconds %.3f\n",
		time_wall_s() - (time_mono_s() - s->started));
	sched_metrics_family(f, "neurodag_build_info", "gauge",
			     "Always 1; the labels say which build runs.");
	fprintf(f, "neurodag_build_info{version=\"%s\"} 1\n", ND_VERSION);
}

char *
sched_metrics_text(struct sched *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	sched_metrics_states(s, f);
	sched_metrics_counters(s, f);
	sched_taskstat_metrics(s, f);
	sched_metrics_workers(s, f);
	sched_statedir_metrics(s, f);
	sched_reject_metrics(s, f);
	if (s->loopstat != NULL)
		sched_loopstat_metrics(s->loopstat, f);
	sched_metrics_process(s, f);
	fclose(f);
	return buf;
}
