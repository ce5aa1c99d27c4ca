/* A job's task table. For a new job it is allocated at once (calloc: untouched pages cost
 * nothing) and filled in slices of SCHED_BUILD_SLICE tasks from an idle handle, so the loop
 * never stalls on a big job: first every task's dependency count, then the ready queue. Nothing
 * of the job runs before its counts are all set, so no task can be released before its count
 * exists; once the queue phase starts, released tasks are queued by the release itself and
 * skipped by the scan. */
#include "scheduler/state/sched-build.h"

#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"
#include "scheduler/state/sched-pass.h"
#include "scheduler/state/sched-tasks.h"

#define SCHED_BUILD_SLICE 65536

enum { BUILD_DONE, BUILD_COUNTS, BUILD_QUEUE };

/* Dependency counts of tasks [from, to): one per stage except for the tail of a group. */
static void
sched_build_counts_range(struct sched_job *j, uint32_t from, uint32_t to)
{
	const struct graph *g = j->graph;

	while (from < to) {
		uint32_t s = graph_stage_of(g, from);
		const struct graph_stage *st = &g->stages[s];
		uint32_t end = st->first + st->count < to ? st->first + st->count : to;

		if (st->dep == GRAPH_DEP_GROUP) {
			for (uint32_t t = from; t < end; t++)
				j->tasks[t].deps_left = graph_deps_count(g, t);
		} else {
			uint32_t d = graph_deps_count(g, from);
			for (uint32_t t = from; t < end; t++)
				j->tasks[t].deps_left = d;
		}
		from = end;
	}
}

static void
sched_build_queue_range(struct sched_job *j, uint32_t from, uint32_t to)
{
	for (uint32_t i = from; i < to; i++)
		if (j->tasks[i].state == TASK_PENDING && j->tasks[i].deps_left == 0)
			sched_tasks_push_ready(j, i);
}

static void
sched_build_table(struct sched_job *j)
{
	uint32_t n = j->graph->ntasks;

	j->tasks = xcalloc(n, sizeof *j->tasks);
	j->counts_total = n;
	memset(j->counts, 0, sizeof j->counts);
	j->counts[TASK_PENDING] = n;
	free(j->stage_counts);
	j->stage_counts = xcalloc(j->graph->nstages, sizeof *j->stage_counts);
	free(j->stage_time);
	j->stage_time = xcalloc(j->graph->nstages, sizeof *j->stage_time);
	for (uint32_t k = 0; k < j->graph->nstages; k++)
		j->stage_counts[k][TASK_PENDING] = j->graph->stages[k].count;
}

void
sched_build_counts(struct sched_job *j)
{
	sched_build_table(j);
	sched_build_counts_range(j, 0, j->graph->ntasks);
	j->build_phase = BUILD_DONE;
}

void
sched_build_queue(struct sched_job *j)
{
	sched_build_queue_range(j, 0, j->graph->ntasks);
}

/* One slice of the first job still being built; false when none is. */
static bool
sched_build_slice(struct sched *s)
{
	struct sched_job *j;
	uint32_t to;

	for (j = s->jobs; j != NULL && (j->build_phase == BUILD_DONE || j->tasks == NULL);
	     j = j->next)
		;
	if (j == NULL)
		return false;
	to = j->graph->ntasks - j->build_next > SCHED_BUILD_SLICE ? j->build_next + SCHED_BUILD_SLICE
								    : j->graph->ntasks;
	if (j->build_phase == BUILD_COUNTS)
		sched_build_counts_range(j, j->build_next, to);
	else
		sched_build_queue_range(j, j->build_next, to);
	j->build_next = to;
	if (to == j->graph->ntasks) {
		j->build_next = 0;
		j->build_phase = j->build_phase == BUILD_COUNTS ? BUILD_QUEUE : BUILD_DONE;
	}
	if (j->build_phase != BUILD_COUNTS)
		sched_pass_kick(s); /* tasks were queued */
	return true;
}

void
sched_build_init(struct sched *s)
{
	sched_pass_idle_init(s, &s->build, sched_build_slice);
}

/* The ready queue sized for the first stage (all ready at once), so it is not grown by copies
 * while the loop serves others. */
static void
sched_build_reserve(struct sched_job *j)
{
	uint32_t cap = 64;

	while (cap < j->graph->stages[0].count && cap < (1u << 31))
		cap *= 2;
	if (j->ready_cap >= cap)
		return;
	free(j->ready);
	j->ready = xcalloc(cap, sizeof *j->ready);
	j->ready_cap = cap;
	j->ready_head = j->ready_len = 0;
}

void
sched_build_start(struct sched *s, struct sched_job *j)
{
	sched_build_table(j);
	sched_build_reserve(j);
	j->build_phase = BUILD_COUNTS;
	j->build_next = 0;
	if (j->graph->ntasks <= SCHED_BUILD_SLICE) {
		/* Small jobs are ready at once, as before (their first tasks go out this pass). */
		sched_build_counts_range(j, 0, j->graph->ntasks);
		sched_build_queue_range(j, 0, j->graph->ntasks);
		j->build_phase = BUILD_DONE;
		return;
	}
	sched_pass_idle_start(&s->build);
}
