/* The swarm load tool's run (bench-swarm.c) and what is checked and reported at its end
 * (swarm-check.c): exactly-once from the scheduler's database against the results the simulated
 * workers had acknowledged, dispatch fairness between concurrent jobs, heartbeat round trips,
 * the time to drop silent workers, the scheduler's CPU and memory. */
#ifndef ND_BENCH_SWARM_CHECK_H
#define ND_BENCH_SWARM_CHECK_H

#include <pthread.h>
#include <stdbool.h>
#include <sys/types.h>

#include "tests/bench/swarm.h"

struct swarm_job {
	uint32_t id, tasks;
	double submitted, finished; /* seconds since the start */
	double progress;            /* the big job's fraction done, as last polled */
	bool ok;                    /* it ended done */
};

struct swarm_run {
	struct swarm_config cfg;
	struct swarm_shared *sh;
	uint32_t big_tasks, clients, client_jobs, client_tasks;
	double ttl_s, time_limit;
	const char *json_path;
	char *state_dir;
	pid_t sched_pid, *worker_pids;
	pthread_mutex_t lock;
	struct swarm_job *jobs, *big;
	uint32_t njobs;
	bool clients_done;
	double t_start, t_end, silenced_at;
	double *detect_s; /* per silenced worker: seconds until the scheduler dropped it */
	uint32_t lost_detected, peak_workers, worker_procs_failed;
	bool sched_stop_failed;
	double sched_cpu_s;
	long sched_hwm_kib;
};

/* The scheduler's CPU time and peak RSS, while it still runs. */
void swarm_check_sample_scheduler(struct swarm_run *r);
/* Check and print the report (and the JSON file); 0 when every check holds. */
int swarm_check_report(struct swarm_run *r);
/* Remove the run's temporary directory. */
void swarm_check_remove_dir(const char *dir);

#endif
