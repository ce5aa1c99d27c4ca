/* The state dir's disk: a finished job's work dir (its intermediates) removed at once, and any
 * other removal, on a libuv worker thread so a large tree never stalls the loop; the state dir's
 * size and free space measured off the loop for /metrics and /api/status; and the free-space
 * check before new jobs are recorded. */
#include "scheduler/state/sched-statedir.h"

#include <errno.h>
#include <ftw.h>
#include <glob.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "common/error.h"
#include "common/log.h"
#include "common/paths.h"
#include "common/xmalloc.h"

struct sched_statedir_rm {
	uv_work_t req;
	struct sched *s;
	char *path;
	bool existed;
};

static void
sched_statedir_rm_work(uv_work_t *req)
{
	struct sched_statedir_rm *rm = req->data;
	struct stat st;

	rm->existed = lstat(rm->path, &st) == 0;
	if (rm->existed)
		paths_remove_tree(rm->path);
}

static void
sched_statedir_rm_done(uv_work_t *req, int status)
{
	struct sched_statedir_rm *rm = req->data;
	struct stat st;

	if (status == 0 && rm->existed && lstat(rm->path, &st) != 0)
		rm->s->work_dirs_removed++;
	else if (status == 0 && rm->existed)
		log_warn("could not remove all of %s", rm->path);
	free(rm->path);
	free(rm);
}

void
sched_statedir_remove(struct sched *s, char *path)
{
	struct sched_statedir_rm *rm = xcalloc(1, sizeof *rm);

	rm->req.data = rm;
	rm->s = s;
	rm->path = path;
	if (uv_queue_work(&s->loop, &rm->req, sched_statedir_rm_work, sched_statedir_rm_done) !=
	    0) {
		paths_remove_tree(path);
		free(path);
		free(rm);
	}
}

/* The temporary files written beside an output file before it is renamed into place
 * (DIR/.NAME.tmpPID, and .NAME.tmpPID.edf for EDF and BDF; a .spy container's directory
 * DIR/.NAME.spy.tmpPID with its files), left by a worker killed while writing or by a job that
 * failed. */
static void
sched_statedir_temps_of(const char *file, size_t dirlen)
{
	size_t n = strlen(file), k = 0;
	char *pattern = xmalloc(2 * n + 8);
	glob_t g;

	/* the path's own characters match only themselves */
	for (size_t i = 0; i < n; i++) {
		if (strchr("*?[]\\", file[i]) != NULL)
			pattern[k++] = '\\';
		pattern[k++] = file[i];
		if (i == dirlen)
			pattern[k++] = '.';
	}
	memcpy(pattern + k, ".tmp*", 6);
	if (glob(pattern, GLOB_NOSORT, NULL, &g) == 0) {
		for (size_t i = 0; i < g.gl_pathc; i++) {
			struct stat st;
			if (lstat(g.gl_pathv[i], &st) != 0)
				continue;
			if (S_ISDIR(st.st_mode))
				paths_remove_tree(g.gl_pathv[i]);
			else
				unlink(g.gl_pathv[i]);
			if (access(g.gl_pathv[i], F_OK) != 0)
				log_info("removed %s, left by an interrupted export", g.gl_pathv[i]);
		}
		globfree(&g);
	}
	free(pattern);
}

/* An output's files: a BrainVision header's .eeg, .vmrk and .vhdr, else the file itself. */
static void
sched_statedir_export_temps(const char *output)
{
	const char *slash = strrchr(output, '/');
	size_t n = strlen(output);
	char *file;

	if (slash == NULL)
		return;
	if (n <= 5 || strcasecmp(output + n - 5, ".vhdr") != 0) {
		sched_statedir_temps_of(output, (size_t)(slash - output));
		return;
	}
	for (int i = 0; i < 3; i++) {
		static const char *const ext[3] = {"eeg", "vmrk", "vhdr"};
		file = xasprintf("%.*s.%s", (int)(n - 5), output, ext[i]);
		sched_statedir_temps_of(file, (size_t)(slash - output));
		free(file);
	}
}

void
sched_statedir_job_finished(struct sched *s, struct sched_job *j)
{
	const char *out = j->graph != NULL ? graph_output_path(j->graph) : NULL;

	if (out != NULL)
		sched_statedir_export_temps(out);
	if (s->cfg.keep_work_dirs)
		return;
	sched_statedir_remove(s, xasprintf("%s/work/%u", s->cfg.state_dir, j->id));
}

struct sched_statedir_measure {
	uv_work_t req;
	struct sched *s;
	struct sched_usage u;
};

static uint64_t sched_statedir_tree_bytes;

static int
sched_statedir_add(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	if (flag == FTW_F)
		sched_statedir_tree_bytes += (uint64_t)st->st_blocks * 512;
	return 0;
}

static uint64_t
sched_statedir_file_bytes(const char *dir, const char *name)
{
	char *p = xasprintf("%s/%s", dir, name);
	struct stat st;
	uint64_t n = stat(p, &st) == 0 ? (uint64_t)st.st_blocks * 512 : 0;

	free(p);
	return n;
}

static void
sched_statedir_measure_work(uv_work_t *req)
{
	struct sched_statedir_measure *m = req->data;
	const char *dir = m->s->cfg.state_dir;
	char *work = xasprintf("%s/work", dir);
	struct statvfs vfs;

	/* One measurement at a time (measuring is set on the loop), so the static is safe. */
	sched_statedir_tree_bytes = 0;
	nftw(work, sched_statedir_add, 16, FTW_PHYS);
	m->u.work_bytes = sched_statedir_tree_bytes;
	free(work);
	m->u.db_bytes = sched_statedir_file_bytes(dir, "state.db") +
			sched_statedir_file_bytes(dir, "state.db-wal") +
			sched_statedir_file_bytes(dir, "state.db-shm");
	m->u.log_bytes = sched_statedir_file_bytes(dir, "scheduler.log");
	if (statvfs(dir, &vfs) == 0) {
		m->u.free_bytes = (uint64_t)vfs.f_bavail * vfs.f_frsize;
		m->u.total_bytes = (uint64_t)vfs.f_blocks * vfs.f_frsize;
	}
}

static void
sched_statedir_measure_done(uv_work_t *req, int status)
{
	struct sched_statedir_measure *m = req->data;

	if (status == 0) {
		m->u.measured = true;
		m->s->usage = m->u;
	}
	m->s->usage.measuring = false;
	free(m);
}

void
sched_statedir_measure(struct sched *s)
{
	struct sched_statedir_measure *m;

	if (s->usage.measuring)
		return;
	m = xcalloc(1, sizeof *m);
	m->req.data = m;
	m->s = s;
	s->usage.measuring = true;
	if (uv_queue_work(&s->loop, &m->req, sched_statedir_measure_work,
			  sched_statedir_measure_done) != 0) {
		s->usage.measuring = false;
		free(m);
	}
}

int
sched_statedir_can_accept(struct sched *s, char **cause)
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
sched_statedir_status(struct sched *s)
{
	const struct sched_usage *u = &s->usage;

	json_t *o = json_pack("{s:b}", "writable", s->store_error == 0);

	if (s->store_error != 0)
		json_object_set_new(o, "error", json_string(s->store_cause));
	if (u->measured)
		json_object_update_new(o, json_pack("{s:I, s:I, s:I, s:I, s:I}", "database_bytes",
						    (json_int_t)u->db_bytes, "work_bytes",
						    (json_int_t)u->work_bytes, "log_bytes",
						    (json_int_t)u->log_bytes, "free_bytes",
						    (json_int_t)u->free_bytes, "total_bytes",
						    (json_int_t)u->total_bytes));
	return o;
}

void
sched_statedir_metrics(struct sched *s, FILE *f)
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
		"# HELP neurodag_state_dir_fs_bytes Size of the state dir's filesystem.\n"
		"# TYPE neurodag_state_dir_fs_bytes gauge\nneurodag_state_dir_fs_bytes %llu\n"
		"# HELP neurodag_work_dirs_removed_total Finished jobs' work dirs removed.\n"
		"# TYPE neurodag_work_dirs_removed_total counter\n"
		"neurodag_work_dirs_removed_total %llu\n"
		"# HELP neurodag_jobs_pruned_total Finished jobs pruned after the retention time.\n"
		"# TYPE neurodag_jobs_pruned_total counter\nneurodag_jobs_pruned_total %llu\n"
		"# HELP neurodag_state_writable Whether the last commit of the state succeeded.\n"
		"# TYPE neurodag_state_writable gauge\nneurodag_state_writable %d\n",
		(unsigned long long)u->db_bytes, (unsigned long long)u->work_bytes,
		(unsigned long long)u->log_bytes, (unsigned long long)u->free_bytes,
		(unsigned long long)u->total_bytes, (unsigned long long)s->work_dirs_removed,
		(unsigned long long)s->jobs_pruned, s->store_error == 0);
}
