/* Reading the state database back: its integrity check before a start, the next job id, and the
 * stored jobs and finished tasks after a restart (the writes and their journal are
 * sched-store.c). */
#include "scheduler/state/store/sched-store.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "common/xmalloc.h"
#include "scheduler/state/store/sched-store-db.h"

int
sched_store_check(const char *dir, char **cause)
{
	char *path = xasprintf("%s/state.db", dir);
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	int rc = 0, sr;

	if (access(path, F_OK) != 0) {
		free(path);
		return 0; /* made at the first start */
	}
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "PRAGMA quick_check", -1, &s, NULL) != SQLITE_OK) {
		rc = error_set(cause, -EIO, "state database %s: %s", path,
			       db != NULL ? sqlite3_errmsg(db) : "cannot open");
	} else if ((sr = sqlite3_step(s)) != SQLITE_ROW) {
		rc = error_set(cause, -EIO, "state database %s: %s", path, sqlite3_errmsg(db));
	} else if (strcmp((const char *)sqlite3_column_text(s, 0), "ok") != 0) {
		rc = error_set(cause, -EIO, "state database %s is damaged: %s", path,
			       (const char *)sqlite3_column_text(s, 0));
	}
	sqlite3_finalize(s);
	sqlite3_close(db);
	free(path);
	return rc;
}

uint32_t
sched_store_next_job_id(struct sched_store *st)
{
	sqlite3_stmt *s;
	sqlite3_int64 v = 0;

	if (sqlite3_prepare_v2(sched_store_db(st),
			       "SELECT max(coalesce((SELECT value FROM meta WHERE key ="
			       " 'next_job_id'), 1), coalesce((SELECT max(id) + 1 FROM jobs), 1))",
			       -1, &s, NULL) != SQLITE_OK)
		return 1;
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v >= 1 && v <= UINT32_MAX ? (uint32_t)v : 1;
}

static const char *
sched_store_col_text(sqlite3_stmt *s, int i)
{
	return (const char *)sqlite3_column_text(s, i);
}

int
sched_store_load_jobs(struct sched_store *st, sched_store_job_cb cb, void *arg)
{
	sqlite3_stmt *s;
	int rc;

	if (sqlite3_prepare_v2(
		sched_store_db(st),
		"SELECT id, name, pipeline, input, output, state, priority, error,"
		" submitted, started, finished, ntasks, ndone, nfailed, results FROM jobs"
		" ORDER BY id",
		-1, &s, NULL) != SQLITE_OK)
		return -EIO;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct sched_store_job j = {
		    .id = (uint32_t)sqlite3_column_int64(s, 0),
		    .name = sched_store_col_text(s, 1),
		    .pipeline = sched_store_col_text(s, 2),
		    .input = sched_store_col_text(s, 3),
		    .output = sched_store_col_text(s, 4),
		    .state = sched_store_col_text(s, 5),
		    .priority = sqlite3_column_int(s, 6),
		    .error = sched_store_col_text(s, 7),
		    .submitted = sqlite3_column_double(s, 8),
		    .started = sqlite3_column_double(s, 9),
		    .finished = sqlite3_column_double(s, 10),
		    .ntasks = (uint32_t)sqlite3_column_int64(s, 11),
		    .ndone = (uint32_t)sqlite3_column_int64(s, 12),
		    .nfailed = (uint32_t)sqlite3_column_int64(s, 13),
		    .results = sched_store_col_text(s, 14),
		};
		cb(arg, &j);
	}
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : -EIO;
}

int
sched_store_load_tasks(struct sched_store *st, uint32_t job, sched_store_task_cb cb, void *arg)
{
	sqlite3_stmt *s;
	int rc;

	if (sqlite3_prepare_v2(sched_store_db(st),
			       "SELECT task, ok, result, error, attempts FROM tasks WHERE job = ?1",
			       -1, &s, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_int64(s, 1, job);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		cb(arg, (uint32_t)sqlite3_column_int64(s, 0), sqlite3_column_int(s, 1),
		   sched_store_col_text(s, 2), sched_store_col_text(s, 3),
		   (uint32_t)sqlite3_column_int(s, 4));
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return -EIO;
	if (sqlite3_prepare_v2(sched_store_db(st), "SELECT first, count FROM done_ranges WHERE job = ?1", -1,
			       &s, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_int64(s, 1, job);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		sqlite3_int64 first = sqlite3_column_int64(s, 0),
			      count = sqlite3_column_int64(s, 1);
		if (first < 0 || count < 0 || first + count > (sqlite3_int64)UINT32_MAX + 1)
			continue; /* not a range this store wrote */
		for (sqlite3_int64 k = 0; k < count; k++)
			cb(arg, (uint32_t)(first + k), 1, NULL, NULL, 1);
	}
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : -EIO;
}
