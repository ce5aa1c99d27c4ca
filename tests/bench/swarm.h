/* The swarm load tool's shared state: what the driver (bench-swarm.c) and the processes of
 * simulated workers (swarm-worker.c) share through one anonymous shared mapping made before
 * fork, and the worker side's entry point. Counters are updated with atomic builtins. */
#ifndef ND_BENCH_SWARM_H
#define ND_BENCH_SWARM_H

#include <stdint.h>

#define SWARM_MAX_JOBS 512
#define SWARM_BIN_S    0.1 /* dispatch counts per job are kept per 100 ms */
#define SWARM_MAX_BINS 6000
#define SWARM_HB_BUCKETS 24 /* heartbeat round trips: 50 µs · 2^k */

struct swarm_config {
	const char *url;
	const char *token;
	const char *dir;      /* where each worker process writes its accepted task ids */
	uint32_t workers;     /* simulated workers in all */
	uint32_t procs;       /* processes they are spread over */
	uint32_t batch;       /* tasks asked for per request */
	double loss;          /* per request: the worker's connection drops (and it joins again) */
	double leave;         /* per request: the worker says BYE (and joins again later) */
	uint32_t lose;        /* workers that go silent at once when told (lost, never back) */
	uint64_t seed;
};

struct swarm_shared {
	double t0; /* monotonic seconds at the start */
	int stop;
	int silence; /* set: the first `lose` workers stop talking */
	uint32_t silent_ids[4096]; /* their scheduler worker ids, 0 until known */
	uint64_t registered, joins, leaves, drops, requests, assigned, executed, accepted;
	uint64_t heartbeats, heartbeats_ok, hb_bucket[SWARM_HB_BUCKETS + 1];
	uint64_t errors;
	/* Tasks handed out per job (by scheduler job id) per SWARM_BIN_S of time. */
	uint32_t dispatched[SWARM_MAX_JOBS][SWARM_MAX_BINS];
};

/* Run workers [first, first + n) of cfg in this process until shared->stop; write the ids of
 * the tasks whose results the scheduler acknowledged to DIR/accepted-PROC.bin. */
int swarm_workers_run(const struct swarm_config *cfg, struct swarm_shared *sh, uint32_t proc,
		      uint32_t first, uint32_t n);

#endif
