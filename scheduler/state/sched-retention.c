/* Retention: job records older than --job-retention are pruned from memory and the store; a
 * sweep removes work dirs no unfinished job owns (left by a crash, or recreated by a task still
 * running when its job was cancelled). The removals and the measurements of the state dir run
 * off the loop (sched-statedir.c). */
#include "scheduler/state/sched-retention.h"

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "common/error.h"
#include "common/log.h"
#include "common/paths.h"
#include "common/timeutil.h"
#include "common/xmalloc.h"
#include "scheduler/state/sched-jobs.h"
#include "scheduler/state/sched-statedir.h"
#include "scheduler/state/store/sched-store.h"

/* How often the loop prunes and sweeps, and measures the state dir. */
#define SCHED_RETENTION_PRUNE_S   60.0
#define SCHED_RETENTION_MEASURE_S 10.0

static bool
sched_retention_unfinished(const struct sched_job *j)
{
	return j != NULL && (j->state == JOB_WAITING || j->state == JOB_RUNNING);
}

/* Remove STATE_DIR/work/ID for every ID no unfinished job owns (with --keep-work-dirs: only
 * those of jobs that have no record any more). Returns how many removals were queued. */
static uint32_t
sched_retention_sweep(struct sched *s)
{
	char *work = xasprintf("%s/work", s->cfg.state_dir);
	DIR *d = opendir(work);
	struct dirent *e;
	uint32_t n = 0;

	while (d != NULL && (e = readdir(d)) != NULL) {
		char *end;
		unsigned long id = strtoul(e->d_name, &end, 10);
		struct sched_job *j;

		if (e->d_name[0] < '0' || e->d_name[0] > '9' || *end != '\0' || id > UINT32_MAX)
			continue;
		j = sched_jobs_find(s, (uint32_t)id);
		if (sched_retention_unfinished(j) || (j != NULL && s->cfg.keep_work_dirs))
			continue;
		sched_statedir_remove(s, xasprintf("%s/%s", work, e->d_name));
		n++;
	}
	if (d != NULL)
		closedir(d);
	free(work);
	return n;
}

/* Drop finished jobs that finished at least `age` seconds ago. Returns how many. */
static uint32_t
sched_retention_prune(struct sched *s, double age)
{
	double now = time_wall_s();
	struct sched_job **pp = &s->jobs, *prev = NULL, **gone = NULL;
	uint32_t n = 0, cap = 0;

	while (*pp != NULL) {
		struct sched_job *j = *pp;
		if (sched_retention_unfinished(j) || j->finished <= 0 || now - j->finished < age) {
			prev = j;
			pp = &j->next;
			continue;
		}
		*pp = j->next;
		if (s->jobs_tail == j)
			s->jobs_tail = prev;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			gone = xreallocarray(gone, cap, sizeof *gone);
		}
		gone[n++] = j;
	}
	/* Out of the index in one pass, then freed. */
	sched_jobs_index_remove(s, gone, n);
	for (uint32_t i = 0; i < n; i++) {
		sched_store_job_delete(s->store, gone[i]->id, s->next_job_id);
		sched_jobs_free(gone[i]);
	}
	free(gone);
	s->jobs_pruned += n;
	if (n > 0)
		log_info("pruned %u finished jobs older than %g s", n, age);
	return n;
}

void
sched_retention_start(struct sched *s)
{
	if (s->cfg.job_retention_s > 0)
		sched_retention_prune(s, s->cfg.job_retention_s);
	sched_retention_sweep(s);
	sched_statedir_measure(s);
	s->last_prune = s->last_measure = time_mono_s();
}

void
sched_retention_tick(struct sched *s, double now)
{
	double every = SCHED_RETENTION_PRUNE_S;

	if (s->cfg.job_retention_s > 0 && s->cfg.job_retention_s / 4 < every)
		every = s->cfg.job_retention_s / 4 > 0.5 ? s->cfg.job_retention_s / 4 : 0.5;
	if (now - s->last_prune >= every) {
		if (s->cfg.job_retention_s > 0)
			sched_retention_prune(s, s->cfg.job_retention_s);
		sched_retention_sweep(s);
		s->last_prune = now;
	}
	if (now - s->last_measure >= SCHED_RETENTION_MEASURE_S) {
		sched_statedir_measure(s);
		s->last_measure = now;
	}
}

json_t *
sched_retention_gc(struct sched *s, double older_than_s)
{
	uint32_t pruned, swept;

	if (older_than_s < 0)
		older_than_s = s->cfg.job_retention_s > 0 ? s->cfg.job_retention_s : -1;
	pruned = older_than_s >= 0 ? sched_retention_prune(s, older_than_s) : 0;
	swept = sched_retention_sweep(s);
	sched_store_reclaim(s->store);
	sched_statedir_measure(s);
	s->last_prune = time_mono_s();
	log_info("gc: %u jobs pruned, %u work dirs removed", pruned, swept);
	return json_pack("{s:i, s:i, s:f}", "jobs_pruned", (int)pruned, "work_dirs_removed",
			 (int)swept, "older_than_s", older_than_s);
}
