/* How long the loop is busy at a stretch, measured from inside: for every pass of the loop, the
 * time between two passes less the time spent waiting for events (libuv's idle-time metric), on
 * the wall clock (which also counts waiting for the CPU or the disk) and on the loop thread's CPU
 * clock (its own work only, whatever else the machine runs). A request that arrives while the
 * loop is busy waits that long, so the longest pass bounds what /health can promise. */
#include "scheduler/sched-loopstat.h"

#include <stdio.h>
#include <time.h>

#include "common/timeutil.h"

/* Upper edges of the histogram, seconds (then +Inf). */
static const double sched_loopstat_edges[SCHED_LOOPSTAT_BUCKETS] = {0.001, 0.01, 0.1, 1, 10};

static uint64_t
sched_loopstat_cpu_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void
sched_loopstat_add(struct sched_loopstat_clock *c, double seconds)
{
	int k = 0;

	while (k < SCHED_LOOPSTAT_BUCKETS && seconds > sched_loopstat_edges[k])
		k++;
	c->bucket[k]++;
	c->sum += seconds;
	if (seconds > c->max)
		c->max = seconds;
}

/* After each poll: the pass that just ended ran from the previous check to this one. */
static void
sched_loopstat_on_check(uv_check_t *h)
{
	struct sched_loopstat *ls = h->data;
	uint64_t wall = time_mono_ns(), cpu = sched_loopstat_cpu_ns();
	uint64_t idle = uv_metrics_idle_time(h->loop);

	if (ls->started) {
		uint64_t span = wall - ls->last_wall, waited = idle - ls->last_idle;
		sched_loopstat_add(&ls->wall, (double)(span > waited ? span - waited : 0) * 1e-9);
		sched_loopstat_add(&ls->cpu, (double)(cpu - ls->last_cpu) * 1e-9);
		ls->passes++;
	}
	ls->started = true;
	ls->last_wall = wall;
	ls->last_cpu = cpu;
	ls->last_idle = idle;
}

int
sched_loopstat_start(struct sched_loopstat *ls, uv_loop_t *loop)
{
	int rc = uv_loop_configure(loop, UV_METRICS_IDLE_TIME);

	if (rc != 0)
		return rc;
	uv_check_init(loop, &ls->check);
	ls->check.data = ls;
	/* The check handle alone must not keep the loop running. */
	uv_unref((uv_handle_t *)&ls->check);
	return uv_check_start(&ls->check, sched_loopstat_on_check);
}

static void
sched_loopstat_family(FILE *f, const char *clock, const struct sched_loopstat_clock *c)
{
	uint64_t cum = 0;

	for (int k = 0; k < SCHED_LOOPSTAT_BUCKETS; k++) {
		cum += c->bucket[k];
		fprintf(f, "neurodag_loop_busy_seconds_bucket{clock=\"%s\",le=\"%g\"} %llu\n", clock,
			sched_loopstat_edges[k], (unsigned long long)cum);
	}
	cum += c->bucket[SCHED_LOOPSTAT_BUCKETS];
	fprintf(f,
		"neurodag_loop_busy_seconds_bucket{clock=\"%s\",le=\"+Inf\"} %llu\n"
		"neurodag_loop_busy_seconds_sum{clock=\"%s\"} %.9f\n"
		"neurodag_loop_busy_seconds_count{clock=\"%s\"} %llu\n",
		clock, (unsigned long long)cum, clock, c->sum, clock, (unsigned long long)cum);
}

void
sched_loopstat_metrics(const struct sched_loopstat *ls, FILE *f)
{
	fprintf(f, "# HELP neurodag_loop_busy_seconds Time the event loop was busy in one pass "
		   "(not waiting for events): wall clock, or the loop thread's CPU time.\n"
		   "# TYPE neurodag_loop_busy_seconds histogram\n");
	sched_loopstat_family(f, "wall", &ls->wall);
	sched_loopstat_family(f, "cpu", &ls->cpu);
	fprintf(f,
		"# HELP neurodag_loop_busy_max_seconds The longest such pass since the start.\n"
		"# TYPE neurodag_loop_busy_max_seconds gauge\n"
		"neurodag_loop_busy_max_seconds{clock=\"wall\"} %.6f\n"
		"neurodag_loop_busy_max_seconds{clock=\"cpu\"} %.6f\n",
		ls->wall.max, ls->cpu.max);
}
