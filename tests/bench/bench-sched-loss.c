/* The scheduler's own cost of losing workers and of finding jobs, without sockets or the TTL:
 * the scheduler's state in this process (as tests/unit/test-sched-requeue.c sets it up), one
 * big no-op job and many small ones dispatched through the real dispatch to many workers
 * holding a few tasks each, then `--lose` of them lost in one go, as the loop's TTL pass does:
 * the CPU of that pass (thread CPU time, median of --repeat, the lost workers replaced between
 * repeats). Then sched_jobs_find over --retained finished jobs and sched_workers_find over the
 * workers: nanoseconds per lookup; and a dispatch pass that hands out nothing, which still walks
 * every worker and every job kept.
 * Prints one line per measurement. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench-clock.h"
#include "common/log.h"
#include "common/paths.h"
#include "common/xmalloc.h"
#include "common/xsort.h"
#include "scheduler/state/sched-build.h"
#include "scheduler/state/sched-dispatch.h"
#include "scheduler/state/sched-jobs.h"
#include "scheduler/state/sched-pass.h"
#include "scheduler/state/sched-workers.h"
#include "scheduler/state/store/sched-store.h"

struct loss_cfg {
	uint32_t big, jobs, job_tasks, workers, held, lose, repeat, retained;
};

/* Stands for a parked poll: replies to it are queued, then dropped unsent. */
static char loss_fake_ctx;

static void
loss_submit(struct sched *s, uint32_t ntasks)
{
	char *text = xasprintf("{\"name\":\"n\",\"input\":{\"format\":\"tasks\",\"count\":%u},"
			       "\"steps\":[{\"op\":\"noop\"}]}",
			       ntasks);
	struct proto_submit sub = {.pipeline = text};
	uint64_t *ids = NULL;
	uint32_t nids = 0;
	char *cause = NULL;

	if (sched_jobs_submit(s, &sub, &ids, &nids, &cause) != 0)
		fatal("submit: %s", cause);
	free(ids);
	free(text);
}

static void
loss_add_workers(struct sched *s, uint32_t n)
{
	struct proto_hello h = {.host = "bench", .version = "bench", .pid = 1, .slots = 4};

	for (uint32_t i = 0; i < n; i++)
		sched_workers_add(s, &h, 0);
	sched_jobs_check_waiting(s);
}

/* Every worker with room asks for tasks up to `held` in all. */
static void
loss_poll(struct sched *s, uint32_t held)
{
	for (struct sched_worker *w = s->workers; w != NULL; w = w->next)
		if (w->assigned < held)
			sched_workers_park(s, w, (struct proto_server_ctx *)&loss_fake_ctx, 0,
					   held - w->assigned, 0);
	sched_dispatch(s);
	for (struct sched_worker *w = s->workers; w != NULL; w = w->next)
		sched_workers_unpark(s, w);
	sched_pass_drop(s);
}

static int
loss_double_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Lose the first `lose` workers of the registry at once; the pass's CPU seconds. */
static double
loss_pass(struct sched *s, uint32_t lose, uint64_t *held)
{
	struct sched_worker **gone = xcalloc(lose, sizeof *gone);
	uint32_t n = 0;
	double t0;

	for (struct sched_worker *w = s->workers; w != NULL && n < lose; w = w->next) {
		gone[n++] = w;
		*held += w->assigned;
	}
	t0 = bench_clock(CLOCK_THREAD_CPUTIME_ID);
	for (uint32_t i = 0; i < n; i++)
		sched_jobs_worker_lost(s, gone[i], "heartbeats missed");
	t0 = bench_clock(CLOCK_THREAD_CPUTIME_ID) - t0;
	free(gone);
	return t0;
}

static void
loss_requeue(struct sched *s, const struct loss_cfg *c)
{
	double *cpu = xcalloc(c->repeat, sizeof *cpu);
	uint64_t held = 0, tasks = c->big + (uint64_t)c->jobs * c->job_tasks;

	for (uint32_t r = 0; r < c->repeat; r++) {
		cpu[r] = loss_pass(s, c->lose, &held);
		loss_add_workers(s, c->lose);
		loss_poll(s, c->held);
	}
	xqsort(cpu, c->repeat, sizeof *cpu, loss_double_cmp);
	printf("lose %u of %u workers (%.0f tasks held each) on %llu tasks in %u jobs: "
	       "loop pass CPU median %.3f ms (min %.3f, max %.3f, %u runs)\n",
	       c->lose, c->workers, (double)held / c->repeat / c->lose, (unsigned long long)tasks,
	       1 + c->jobs, cpu[c->repeat / 2] * 1e3, cpu[0] * 1e3, cpu[c->repeat - 1] * 1e3,
	       c->repeat);
	free(cpu);
}

static void
loss_find(struct sched *s, const struct loss_cfg *c)
{
	uint32_t first = s->next_job_id, n = 0, lookups = 200000;
	uint64_t x = 88172645463325252ull, hits = 0;
	double t0;

	for (uint32_t i = 0; i < c->retained; i++) {
		struct sched_job *j = xcalloc(1, sizeof *j);
		j->id = first + i;
		j->state = JOB_DONE;
		sched_jobs_append(s, j);
	}
	for (struct sched_job *j = s->jobs; j != NULL; j = j->next)
		n++;
	t0 = bench_clock(CLOCK_THREAD_CPUTIME_ID);
	for (uint32_t i = 0; i < lookups; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		hits += sched_jobs_find(s, 1 + (uint32_t)(x % (s->next_job_id - 1))) != NULL;
	}
	t0 = bench_clock(CLOCK_THREAD_CPUTIME_ID) - t0;
	printf("sched_jobs_find over %u jobs (%u finished and kept): %.1f ns per lookup (%llu of "
	       "%u found)\n",
	       n, c->retained, t0 * 1e9 / lookups, (unsigned long long)hits, lookups);
}

/* The lookup every worker message makes: its worker by id, over the registry. */
static void
loss_find_worker(struct sched *s)
{
	uint32_t lookups = 200000, n = 0, *ids = xcalloc(s->nworkers, sizeof *ids);
	uint64_t x = 88172645463325252ull, hits = 0;
	double t0;

	for (struct sched_worker *w = s->workers; w != NULL; w = w->next)
		ids[n++] = w->id;
	t0 = bench_clock(CLOCK_THREAD_CPUTIME_ID);
	for (uint32_t i = 0; i < lookups; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		hits += sched_workers_find(s, ids[x % n]) != NULL;
	}
	t0 = bench_clock(CLOCK_THREAD_CPUTIME_ID) - t0;
	free(ids);
	printf("sched_workers_find over %u workers: %.1f ns per lookup (%llu of %u found)\n",
	       s->nworkers, t0 * 1e9 / lookups, (unsigned long long)hits, lookups);
}

/* A dispatch pass with no parked poll: what every pass pays to walk the workers and the jobs. */
static void
loss_dispatch_walk(struct sched *s, const struct loss_cfg *c)
{
	uint32_t passes = 2000;
	double t0 = bench_clock(CLOCK_THREAD_CPUTIME_ID);

	for (uint32_t i = 0; i < passes; i++)
		sched_dispatch(s);
	t0 = bench_clock(CLOCK_THREAD_CPUTIME_ID) - t0;
	printf("dispatch pass with nothing to hand out, %u workers, %u jobs (%u finished and "
	       "kept): %.1f us\n",
	       s->nworkers, 1 + c->jobs + c->retained, c->retained, t0 * 1e6 / passes);
}

static void
loss_usage(void)
{
	fprintf(stderr, "usage: bench-sched-loss [--big N] [--jobs N] [--job-tasks N] [--workers N]\n"
			"         [--held N] [--lose N] [--repeat N] [--retained N]\n");
	exit(2);
}

static void
loss_options(struct loss_cfg *c, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"big", 1, 0, 'b'},  {"jobs", 1, 0, 'j'},   {"job-tasks", 1, 0, 't'},
	    {"workers", 1, 0, 'w'}, {"held", 1, 0, 'h'}, {"lose", 1, 0, 'l'},
	    {"repeat", 1, 0, 'r'}, {"retained", 1, 0, 'k'}, {0, 0, 0, 0}};
	int o;

	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		uint32_t v = (uint32_t)strtoul(optarg != NULL ? optarg : "0", NULL, 10);
		switch (o) {
		case 'b': c->big = v; break;
		case 'j': c->jobs = v; break;
		case 't': c->job_tasks = v; break;
		case 'w': c->workers = v; break;
		case 'h': c->held = v; break;
		case 'l': c->lose = v; break;
		case 'r': c->repeat = v; break;
		case 'k': c->retained = v; break;
		default: loss_usage();
		}
	}
	if (c->workers == 0 || c->lose == 0 || c->lose > c->workers || c->repeat == 0 ||
	    c->held == 0 || c->big == 0)
		loss_usage();
}

int
main(int argc, char **argv)
{
	struct loss_cfg c = {.big = 1000000, .jobs = 196, .job_tasks = 2000, .workers = 1000,
			     .held = 8, .lose = 100, .repeat = 7, .retained = 10000};
	char dir[] = "/tmp/nd-bench-loss-XXXXXX", *cause = NULL;
	struct sched s = {0};

	loss_options(&c, argc, argv);
	log_set_level(LOG_LEVEL_ERROR);
	if (mkdtemp(dir) == NULL)
		fatal("mkdtemp %s", dir);
	s.cfg.state_dir = dir;
	s.cfg.max_attempts = 255;
	s.cfg.worker_wait_timeout_s = 1e9;
	s.cfg.worker_ttl_s = 1e9;
	s.cfg.heartbeat_interval_s = 1;
	s.next_job_id = s.next_worker_id = 1;
	if (uv_loop_init(&s.loop) != 0 || sched_store_open(&s.store, dir, &cause) != 0)
		fatal("state: %s", cause != NULL ? cause : "event loop");
	sched_build_init(&s);
	loss_submit(&s, c.big);
	for (uint32_t i = 0; i < c.jobs; i++)
		loss_submit(&s, c.job_tasks);
	/* The big job's table is filled in slices on the loop's idle turns. */
	while (uv_is_active((uv_handle_t *)&s.build.handle))
		uv_run(&s.loop, UV_RUN_NOWAIT);
	loss_add_workers(&s, c.workers);
	loss_poll(&s, c.held);
	loss_requeue(&s, &c);
	loss_find(&s, &c);
	loss_find_worker(&s);
	loss_dispatch_walk(&s, &c);
	/* The process ends here: its state is left to the system, the state dir removed. */
	sched_store_close(s.store);
	paths_remove_tree(dir);
	return 0;
}
