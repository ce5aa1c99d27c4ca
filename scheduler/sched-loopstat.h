/* The loop's busy time per pass, measured from inside (sched-loopstat.c), for /metrics. */
#ifndef ND_SCHED_LOOPSTAT_H
#define ND_SCHED_LOOPSTAT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <uv.h>

#define SCHED_LOOPSTAT_BUCKETS 5

struct sched_loopstat_clock {
	uint64_t bucket[SCHED_LOOPSTAT_BUCKETS + 1];
	double sum, max;
};

struct sched_loopstat {
	uv_check_t check;
	bool started;
	uint64_t last_wall, last_cpu, last_idle, passes;
	struct sched_loopstat_clock wall, cpu;
};

/* Start measuring `loop` (before uv_run). 0 or a libuv error. */
int sched_loopstat_start(struct sched_loopstat *ls, uv_loop_t *loop);
/* The figures in Prometheus text: neurodag_loop_busy_seconds{clock} and its maximum. */
void sched_loopstat_metrics(const struct sched_loopstat *ls, FILE *f);

#endif
