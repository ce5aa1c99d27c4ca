/* What the tasks did, for /metrics and the dashboard (sched-taskstat.c): how long ready tasks
 * waited for a worker, how long each op ran, and a ring of the most recent finished tasks
 * (worker, job, task, op, start, end, outcome): the task stream. */
#ifndef ND_SCHED_TASKSTAT_H
#define ND_SCHED_TASKSTAT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "scheduler/state/sched-state.h"

/* Tasks the stream keeps; older ones drop out. */
#define SCHED_TASKSTAT_RING 4096
/* Distinct op labels with their own run-time histogram; later ones count under "other". */
#define SCHED_TASKSTAT_OPS 64
/* The stream served to the dashboard: at most this many tasks, ended in the last window. */
#define SCHED_TASKSTAT_SERVED    2000
#define SCHED_TASKSTAT_WINDOW_S  600.0

/* A ready task waited `seconds` before it was handed out. */
void sched_taskstat_wait(struct sched *s, double seconds);
/* Task idx of job j ended on worker w after elapsed_us, ok or not. */
void sched_taskstat_ended(struct sched *s, const struct sched_worker *w, const struct sched_job *j,
			  uint32_t idx, uint64_t elapsed_us, bool ok);
/* The queue-wait and per-op run-time histograms in Prometheus text. */
void sched_taskstat_metrics(struct sched *s, FILE *f);
/* The task stream: {"now", "ops": [labels], "tasks": [[worker, job, task, op, start, end,
 * ok]...]}, op an index into ops, times wall seconds. */
json_t *sched_taskstat_stream(struct sched *s);
void sched_taskstat_free(struct sched *s);
/* `key="value"` with \, " and newlines in value escaped as the text format asks (allocated). */
char *sched_taskstat_label(const char *key, const char *value);

#endif
