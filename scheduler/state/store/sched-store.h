/* The scheduler's durable state in SQLite (WAL, synchronous=NORMAL): jobs as submitted and
 * every finished task's outcome. Writes are journaled in memory and applied in one transaction
 * per commit; a failed commit keeps the journal for the next one. */
#ifndef ND_SCHED_STORE_H
#define ND_SCHED_STORE_H

#include <stddef.h>
#include <stdint.h>

struct sched_store;

struct sched_store_job {
	uint32_t id;
	const char *name, *pipeline, *input, *output, *state, *error;
	const char *results; /* a finished job's inline results (JSON), or NULL */
	int32_t priority;
	double submitted, started, finished;
	uint32_t ntasks, ndone, nfailed;
};

int sched_store_open(struct sched_store **out, const char *dir, char **cause);
void sched_store_close(struct sched_store *st);
/* Write the journal in one transaction. Returns 0, or -ENOSPC (the disk is full) or -EIO with
 * a cause; then nothing of it was written and the journal is kept for the next commit. */
int sched_store_commit(struct sched_store *st, char **cause);
/* Writes journaled since the store opened (a handler compares it to see whether it wrote). */
uint64_t sched_store_writes(const struct sched_store *st);
/* Writes waiting for a commit. */
size_t sched_store_pending(const struct sched_store *st);

void sched_store_job_insert(struct sched_store *st, const struct sched_store_job *j);
void sched_store_job_update(struct sched_store *st, const struct sched_store_job *j);
/* A finished task. One that succeeded without an inline result is written at the commit as part of
 * a range of task indices; its attempts and run time are not kept (it reloads with attempts 1). */
void sched_store_task_done(struct sched_store *st, uint32_t job, uint32_t task, int ok,
			   const char *result, const char *error, uint32_t attempts,
			   uint64_t elapsed_us);

/* `neurodag-scheduler --check`: open the state database read-only (when it exists) and run
 * SQLite's quick_check. 0, or -EIO with what is wrong. */
int sched_store_check(const char *dir, char **cause);
/* A pruned job: its row, task rows and ranges; next_job_id is kept so ids are never reused. */
void sched_store_job_delete(struct sched_store *st, uint32_t job, uint32_t next_job_id);
/* The first job id not used yet (by a job, or by one pruned since). */
uint32_t sched_store_next_job_id(struct sched_store *st);
/* Return pruned pages to the filesystem and truncate the WAL (`neurodag gc`). */
void sched_store_reclaim(struct sched_store *st);

typedef void (*sched_store_job_cb)(void *arg, const struct sched_store_job *j);
typedef void (*sched_store_task_cb)(void *arg, uint32_t task, int ok, const char *result,
				    const char *error, uint32_t attempts);
int sched_store_load_jobs(struct sched_store *st, sched_store_job_cb cb, void *arg);
/* Every finished task of `job`, ranges expanded (in no particular order). */
int sched_store_load_tasks(struct sched_store *st, uint32_t job, sched_store_task_cb cb, void *arg);

#endif
