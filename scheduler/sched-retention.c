/* Retention: a finished job's work dir (its intermediates) is removed at once, on a libuv worker
 * thread so a large tree never stalls the loop; job records older than --job-retention are pruned
 * from memory and the store; a sweep removes work dirs no unfinished job owns (left by a crash, or
 * recreated by a task still running when its job was cancelled); and the state dir's size and
 * free space are measured off the loop for /metrics and /api/status. */
#include "scheduler/sched-retention.h"

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
#include "scheduler/sched-jobs.h"
#include "scheduler/sched-store.h"

/* How often the loop prunes and sweeps, and measures the state dir. */
#define SCHED_RETENTION_PRUNE_S   60.0
#define SCHED_RETENTION_MEASURE_S 10.0

struct sched_retention_rm {
	uv_work_t req;
	struct sched *s;
	char *path;
	bool existed;
};

static void
sched_retention_rm_work(uv_work_t *req)
{
	struct sched_retention_rm *rm = req->data;
	struct stat st;

	rm->existed = lstat(rm->path, &st) == 0;
	if (rm->existed)
		paths_remove_tree(rm->path);
}

static void
sched_retention_rm_done(uv_work_t *req, int status)
{
	struct sched_retention_rm *rm = req->data;
	struct stat st;

	if (status == 0 && rm->existed && lstat(rm->path, &st) != 0)
		rm->s->work_dirs_removed++;
	else if (status == 0 && rm->existed)
		log_warn("could not remove all of %s", rm->path);
	free(rm->path);
	free(rm);
}

static void
sched_retention_remove(struct sched *s, char *path)
{
	struct sched_retention_rm *rm = xcalloc(1, sizeof *rm);

	rm->req.data = rm;
	rm->s = s;
	rm->path = path;
	if (uv_queue_work(&s->loop, &rm->req, sched_retention_rm_work, sched_retention_rm_done) !=
	    0) {
		paths_remove_tree(path);
		free(path);
		free(rm);
	}
}

void
sched_retention_job_finished(struct sched *s, struct sched_job *j)
{
	if (s->cfg.keep_work_dirs)
		return;
	sched_retention_remove(s, xasprintf("%s/work/%u", s->cfg.state_dir, j->id));
}

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
		sched_retention_remove(s, xasprintf("%s/%s", work, e->d_name));
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
	struct sched_job **pp = &s->jobs, *prev = NULL;
	uint32_t n = 0;

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
		sched_store_job_delete(s->store, j->id, s->next_job_id);
		sched_jobs_free(j);
		n++;
	}
	s->jobs_pruned += n;
	if (n > 0)
		log_info("pruned %u finished jobs older than %g s", n, age);
	return n;
}

struct sched_retention_measure {
	uv_work_t req;
	struct sched *s;
	struct sched_usage u;
};

static uint64_t sched_retention_tree_bytes;

static int
sched_retention_add(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	if (flag == FTW_F)
		sched_retention_tree_bytes += (uint64_t)st->st_blocks * 512;
	return 0;
}

static uint64_t
sched_retention_file_bytes(const char *dir, const char *name)
{
	char *p = xasprintf("%s/%s", dir, name);
	struct stat st;
	uint64_t n = stat(p, &st) == 0 ? (uint64_t)st.st_blocks * 512 : 0;

	free(p);
	return n;
}

static void
sched_retention_measure_work(uv_work_t *req)
{
	struct sched_retention_measure *m = req->data;
	const char *dir = m->s->cfg.state_dir;
	char *work = xasprintf("%s/work", dir);
	struct statvfs vfs;

	/* One measurement at a time (measuring is set on the loop), so the static is safe. */
	sched_retention_tree_bytes = 0;
	nftw(work, sched_retention_add, 16, FTW_PHYS);
	m->u.work_bytes = sched_retention_tree_bytes;
	free(work);
	m->u.db_bytes = sched_retention_file_bytes(dir, "state.db") +
			sched_retention_file_bytes(dir, "state.db-wal") +
			sched_retention_file_bytes(dir, "state.db-shm");
	m->u.log_bytes = sched_retention_file_bytes(dir, "scheduler.log");
	if (statvfs(dir, &vfs) == 0) {
		m->u.free_bytes = (uint64_t)vfs.f_bavail * vfs.f_frsize;
		m->u.total_bytes = (uint64_t)vfs.f_blocks * vfs.f_frsize;
	}
}

static void
sched_retention_measure_done(uv_work_t *req, int status)
{
	struct sched_retention_measure *m = req->data;

	if (status == 0) {
		m->u.measured = true;
		m->s->usage = m->u;
	}
	m->s->usage.measuring = false;
	free(m);
}

static void
sched_retention_measure(struct sched *s)
{
	struct sched_retention_measure *m;

	if (s->usage.measuring)
		return;
	m = xcalloc(1, sizeof *m);
	m->req.data = m;
	m->s = s;
	s->usage.measuring = true;
	if (uv_queue_work(&s->loop, &m->req, sched_retention_measure_work,
			  sched_retention_measure_done) != 0) {
		s->usage.measuring = false;
		free(m);
	}
}

void
sched_retention_start(struct sched *s)
{
	if (s->cfg.job_retention_s > 0)
		sched_retention_prune(s, s->cfg.job_retention_s);
	sched_retention_sweep(s);
	sched_retention_measure(s);
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
		sched_retention_measure(s);
		s->last_measure = now;
	}
}

int
sched_retention_can_accept(struct sched *s, char **cause)
{
	struct statvfs vfs;
	uint64_t avail;

	if (s->store_error != 0)
		return error_set(cause, -ENOSPC,
				 "the scheduler cannot record new jobs now: %s (free space in %s)",
				 s->store_cause, s->cfg.state_dir);
	if (s->cfg.min_free_bytes == 0 || statvfs(s->cfg.state_dir, &vfs) != 0)
		return 0;
	avail = (uint64_t)vfs.f_bavail * vfs.f_frsize;
	if (avail < s->cfg.min_free_bytes)
		return error_set(cause, -ENOSPC,
				 "state dir full (ENOSPC): %s has %.1f MiB free, under "
				 "--min-free-space %.0f MiB; new jobs are refused",
				 s->cfg.state_dir, (double)avail / 1048576,
				 (double)s->cfg.min_free_bytes / 1048576);
	return 0;
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
	sched_retention_measure(s);
	s->last_prune = time_mono_s();
	log_info("gc: %u jobs pruned, %u work dirs removed", pruned, swept);
	return json_pack("{s:i, s:i, s:f}", "jobs_pruned", (int)pruned, "work_dirs_removed",
			 (int)swept, "older_than_s", older_than_s);
}

json_t *
sched_retention_status(struct sched *s)
{
	const struct sched_usage *u = &s->usage;

	json_t *o = json_pack("{s:b}", "writable", s->store_error == 0);

	if (s->store_error != 0)
		json_object_set_new(o, "error", json_string(s->store_cause));
	if (u->measured)
		json_object_update_new(
		    o, json_pack("{s:I, s:I, s:I, s:I, s:I}", "database_bytes",
				 (json_int_t)u->db_bytes, "work_bytes", (json_int_t)u->work_bytes,
				 "log_bytes", (json_int_t)u->log_bytes, "free_bytes",
				 (json_int_t)u->free_bytes, "total_bytes",
				 (json_int_t)u->total_bytes));
	return o;
}

void
sched_retention_metrics(struct sched *s, FILE *f)
{
	const struct sched_usage *u = &s->usage;

	fprintf(f,
		"# HELP neurodag_state_dir_bytes Disk space used in the state dir, by part.\n"
		"# TYPE neurodag_state_dir_bytes gauge\n"
		"neurodag_state_dir_bytes{part=\"database\"} %llu\n"
		"neurodag_state_dir_bytes{part=\"work\"} %llu\n"
		"neurodag_state_dir_bytes{part=\"log\"} %llu\n"
		"# HELP neurodag_state_dir_free_bytes Free space on the state dir's filesystem.\n"
		"# TYPE neurodag_state_dir_free_bytes gauge\n"
		"neurodag_state_dir_free_bytes %llu\n"
		"# TYPE neurodag_state_dir_fs_bytes gauge\nneurodag_state_dir_fs_bytes %llu\n"
		"# TYPE neurodag_work_dirs_removed_total counter\n"
		"neurodag_work_dirs_removed_total %llu\n"
		"# TYPE neurodag_jobs_pruned_total counter\nneurodag_jobs_pruned_total %llu\n"
		"# HELP neurodag_state_writable Whether the last commit of the state succeeded.\n"
		"# TYPE neurodag_state_writable gauge\nneurodag_state_writable %d\n",
		(unsigned long long)u->db_bytes, (unsigned long long)u->work_bytes,
		(unsigned long long)u->log_bytes, (unsigned long long)u->free_bytes,
		(unsigned long long)u->total_bytes, (unsigned long long)s->work_dirs_removed,
		(unsigned long long)s->jobs_pruned, s->store_error == 0);
}
