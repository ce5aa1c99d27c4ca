/* The Prometheus text served at /metrics (sched-metrics.c). */
#ifndef ND_SCHED_METRICS_H
#define ND_SCHED_METRICS_H

#include "scheduler/state/sched-state.h"

/* Every family with its HELP and TYPE lines (allocated). */
char *sched_metrics_text(struct sched *s);

#endif
