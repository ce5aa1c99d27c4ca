/* Running one task from its spec: look up each step's op and run the stage's steps in order.
 * Used by worker threads and by `neurodag run --serial`. */
#ifndef ND_TASK_RUN_H
#define ND_TASK_RUN_H

#include <stdatomic.h>
#include <stdint.h>

/* Run the task described by `spec` (JSON text) with upstream results `deps` (JSON text or NULL).
 * On success *result is the inline result (JSON text, caller frees) or NULL. Returns 0 or -errno
 * with a cause naming the step. */
int task_run(const char *spec, const char *deps, uint32_t attempt, atomic_int *cancel,
	     char **result, char **cause);

/* A parsed-stage cache for one thread: the tasks of a stage share their stage JSON, so a thread
 * that runs them one after another parses it once. Not thread-safe; one per executor thread. */
struct task_run_cache;
struct task_run_cache *task_run_cache_new(void);
void task_run_cache_free(struct task_run_cache *cache);
/* task_run with a cache (NULL: none). */
int task_run_cached(struct task_run_cache *cache, const char *spec, const char *deps,
		    uint32_t attempt, atomic_int *cancel, char **result, char **cause);

#endif
