/* SQLite persistence for jobs and finished tasks. Writes are journaled in memory during a loop
 * pass and applied in one transaction at the commit; a commit that fails (a full disk, an I/O
 * error) is rolled back and the journal kept, so the next commit writes all of it: nothing the
 * scheduler holds in memory is lost while the disk cannot take it, and nothing is acknowledged
 * before it is durable. Tasks that finish without an inline result are written as ranges of task
 * indices, so a pass that finishes thousands of tasks writes a few rows. */
#include "scheduler/state/store/sched-store.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/log.h"
#include "common/xmalloc.h"
#include "common/xsort.h"
#include "scheduler/state/store/sched-store-db.h"

enum {
	ST_JOB_INSERT,
	ST_JOB_UPDATE,
	ST_TASK_DONE,
	ST_RANGE_DONE,
	ST_JOB_DELETE,
	ST_TASKS_DELETE,
	ST_RANGES_DELETE,
	ST_META_SET,
	ST_COUNT
};

struct sched_store_done {
	uint32_t job, task;
};

/* One journaled write: a job row (insert or update), a task row, or a pruned job. */
struct sched_store_op {
	int kind; /* ST_JOB_INSERT, ST_JOB_UPDATE, ST_TASK_DONE or ST_JOB_DELETE */
	struct sched_store_job job; /* strings owned */
	uint32_t task, attempts, next_job_id;
	int ok;
	char *result, *error;
	uint64_t elapsed_us;
};

struct sched_store {
	sqlite3 *db;
	sqlite3_stmt *stmt[ST_COUNT];
	struct sched_store_op *ops;
	size_t nops, ops_cap;
	/* Tasks done without a result since the last commit, written as ranges at the commit. */
	struct sched_store_done *done;
	size_t ndone, done_cap;
	uint64_t writes; /* journaled writes ever (sched_store_writes) */
};

static const char sched_store_schema[] =
    "PRAGMA journal_mode=WAL;"
    "PRAGMA synchronous=NORMAL;"
    "CREATE TABLE IF NOT EXISTS jobs ("
    "  id INTEGER PRIMARY KEY, name TEXT NOT NULL, pipeline TEXT NOT NULL, input TEXT,"
    "  output TEXT, state TEXT NOT NULL, priority INTEGER NOT NULL, error TEXT,"
    "  submitted REAL NOT NULL, started REAL, finished REAL,"
    "  ntasks INTEGER NOT NULL DEFAULT 0, ndone INTEGER NOT NULL DEFAULT 0,"
    "  nfailed INTEGER NOT NULL DEFAULT 0, results TEXT);"
    "CREATE TABLE IF NOT EXISTS tasks ("
    "  job INTEGER NOT NULL, task INTEGER NOT NULL, ok INTEGER NOT NULL, result TEXT,"
    "  error TEXT, attempts INTEGER NOT NULL, elapsed_us INTEGER NOT NULL,"
    "  PRIMARY KEY (job, task)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS done_ranges ("
    "  job INTEGER NOT NULL, first INTEGER NOT NULL, count INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS done_ranges_job ON done_ranges (job);"
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL)"
    "  WITHOUT ROWID;";

static const char *const sched_store_sql[ST_COUNT] = {
    [ST_JOB_INSERT] = "INSERT OR REPLACE INTO jobs (id, name, pipeline, input, output, state,"
		      " priority, error, submitted, started, finished, ntasks, ndone, nfailed)"
		      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
    [ST_JOB_UPDATE] = "UPDATE jobs SET state = ?2, error = ?3, started = ?4, finished = ?5,"
		      " ntasks = ?6, ndone = ?7, nfailed = ?8, results = ?9 WHERE id = ?1",
    [ST_TASK_DONE] = "INSERT OR REPLACE INTO tasks (job, task, ok, result, error, attempts,"
		     " elapsed_us) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [ST_RANGE_DONE] = "INSERT INTO done_ranges (job, first, count) VALUES (?1, ?2, ?3)",
    [ST_JOB_DELETE] = "DELETE FROM jobs WHERE id = ?1",
    [ST_TASKS_DELETE] = "DELETE FROM tasks WHERE job = ?1",
    [ST_RANGES_DELETE] = "DELETE FROM done_ranges WHERE job = ?1",
    [ST_META_SET] = "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)",
};

/* The error of the last call on db as -errno with a sentence: a full disk is -ENOSPC. */
static int
sched_store_error(struct sched_store *st, const char *what, char **cause)
{
	int code = sqlite3_errcode(st->db) & 0xff, sys = sqlite3_system_errno(st->db);
	int rc = code == SQLITE_FULL || sys == ENOSPC ? -ENOSPC : sys == EDQUOT ? -EDQUOT : -EIO;

	if (rc == -ENOSPC)
		return error_set(cause, rc, "state dir full (ENOSPC): %s: %s", what,
				 sqlite3_errmsg(st->db));
	return error_set(cause, rc, "state database: %s: %s%s%s", what, sqlite3_errmsg(st->db),
			 sys != 0 ? ": " : "", sys != 0 ? strerror(sys) : "");
}

static bool
sched_store_empty(sqlite3 *db)
{
	sqlite3_stmt *s;
	bool empty = false;

	if (sqlite3_prepare_v2(db, "PRAGMA page_count", -1, &s, NULL) != SQLITE_OK)
		return false;
	empty = sqlite3_step(s) == SQLITE_ROW && sqlite3_column_int64(s, 0) == 0;
	sqlite3_finalize(s);
	return empty;
}

int
sched_store_open(struct sched_store **out, const char *dir, char **cause)
{
	struct sched_store *st = xcalloc(1, sizeof *st);
	char *path = xasprintf("%s/state.db", dir), *err = NULL;
	int rc;

	/* Only the loop thread uses the connection: no per-call mutex. */
	rc = sqlite3_open_v2(
	    path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		rc = error_set(cause, -EIO, "cannot open the state database %s: %s", path,
			       st->db != NULL ? sqlite3_errmsg(st->db) : sqlite3_errstr(rc));
		goto fail;
	}
	sqlite3_extended_result_codes(st->db, 1);
	sqlite3_busy_timeout(st->db, 5000);
	/* A new database lets gc return pruned pages. Only then: on an existing one the pragma
	 * writes, which fails while the disk is full. */
	if (sched_store_empty(st->db) &&
	    sqlite3_exec(st->db, "PRAGMA auto_vacuum=INCREMENTAL", NULL, NULL, NULL) != SQLITE_OK) {
		rc = sched_store_error(st, path, cause);
		goto fail;
	}
	if (sqlite3_exec(st->db, sched_store_schema, NULL, NULL, &err) != SQLITE_OK) {
		sqlite3_free(err);
		rc = sched_store_error(st, path, cause);
		goto fail;
	}
	for (int i = 0; i < ST_COUNT; i++)
		if (sqlite3_prepare_v3(st->db, sched_store_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
				       &st->stmt[i], NULL) != SQLITE_OK) {
			rc = sched_store_error(st, path, cause);
			goto fail;
		}
	free(path);
	*out = st;
	return 0;
fail:
	free(path);
	sched_store_close(st);
	return rc;
}

static void
sched_store_op_free(struct sched_store_op *op)
{
	free((char *)op->job.name);
	free((char *)op->job.pipeline);
	free((char *)op->job.input);
	free((char *)op->job.output);
	free((char *)op->job.state);
	free((char *)op->job.error);
	free((char *)op->job.results);
	free(op->result);
	free(op->error);
}

static void
sched_store_ops_clear(struct sched_store *st)
{
	for (size_t i = 0; i < st->nops; i++)
		sched_store_op_free(&st->ops[i]);
	st->nops = 0;
	st->ndone = 0;
}

void
sched_store_close(struct sched_store *st)
{
	char *cause = NULL;

	if (st == NULL)
		return;
	if (st->db != NULL && sched_store_commit(st, &cause) != 0) {
		log_error("%s: the last %zu writes are lost", cause, st->nops + st->ndone);
		free(cause);
	}
	sched_store_ops_clear(st);
	for (int i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(st->stmt[i]);
	sqlite3_close(st->db);
	free(st->ops);
	free(st->done);
	free(st);
}

static struct sched_store_op *
sched_store_op_new(struct sched_store *st, int kind)
{
	struct sched_store_op *op;

	if (st->nops == st->ops_cap) {
		st->ops_cap = st->ops_cap ? st->ops_cap * 2 : 64;
		st->ops = xreallocarray(st->ops, st->ops_cap, sizeof *st->ops);
	}
	op = &st->ops[st->nops++];
	memset(op, 0, sizeof *op);
	op->kind = kind;
	st->writes++;
	return op;
}

static char *
sched_store_dup(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

static void
sched_store_job_copy(struct sched_store_job *dst, const struct sched_store_job *src)
{
	*dst = *src;
	dst->name = sched_store_dup(src->name);
	dst->pipeline = sched_store_dup(src->pipeline);
	dst->input = sched_store_dup(src->input);
	dst->output = sched_store_dup(src->output);
	dst->state = sched_store_dup(src->state);
	dst->error = sched_store_dup(src->error);
	dst->results = sched_store_dup(src->results);
}

static int
sched_store_done_cmp(const void *a, const void *b)
{
	const struct sched_store_done *x = a, *y = b;

	if (x->job != y->job)
		return x->job < y->job ? -1 : 1;
	return x->task < y->task ? -1 : x->task > y->task;
}

static int
sched_store_step(struct sched_store *st, sqlite3_stmt *s, char **cause)
{
	int rc = sqlite3_step(s);

	rc = rc == SQLITE_DONE ? 0 : sched_store_error(st, "write failed", cause);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return rc;
}

/* Write the result-less done tasks as (job, first, count) ranges. */
static int
sched_store_flush_done(struct sched_store *st, char **cause)
{
	sqlite3_stmt *s = st->stmt[ST_RANGE_DONE];
	size_t i = 0;
	int rc = 0;

	if (st->ndone > 1)
		xqsort(st->done, st->ndone, sizeof *st->done, sched_store_done_cmp);
	while (i < st->ndone && rc == 0) {
		size_t k = i + 1;
		while (k < st->ndone && st->done[k].job == st->done[i].job &&
		       (uint64_t)st->done[k].task <= (uint64_t)st->done[k - 1].task + 1)
			k++;
		sqlite3_bind_int64(s, 1, st->done[i].job);
		sqlite3_bind_int64(s, 2, st->done[i].task);
		sqlite3_bind_int64(s, 3,
				   (sqlite3_int64)(st->done[k - 1].task - st->done[i].task) + 1);
		rc = sched_store_step(st, s, cause);
		i = k;
	}
	return rc;
}

static void
sched_store_text(sqlite3_stmt *s, int i, const char *v)
{
	if (v != NULL)
		sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, i);
}

static void
sched_store_time(sqlite3_stmt *s, int i, double v)
{
	if (v > 0)
		sqlite3_bind_double(s, i, v);
	else
		sqlite3_bind_null(s, i);
}

/* The columns a job's progress changes, from parameter i on: started, finished, ntasks, ndone,
 * nfailed. */
static void
sched_store_progress(sqlite3_stmt *s, int i, const struct sched_store_job *j)
{
	sched_store_time(s, i, j->started);
	sched_store_time(s, i + 1, j->finished);
	sqlite3_bind_int64(s, i + 2, j->ntasks);
	sqlite3_bind_int64(s, i + 3, j->ndone);
	sqlite3_bind_int64(s, i + 4, j->nfailed);
}

static int
sched_store_apply_insert(struct sched_store *st, const struct sched_store_job *j, char **cause)
{
	sqlite3_stmt *s = st->stmt[ST_JOB_INSERT];

	sqlite3_bind_int64(s, 1, j->id);
	sched_store_text(s, 2, j->name);
	sched_store_text(s, 3, j->pipeline);
	sched_store_text(s, 4, j->input);
	sched_store_text(s, 5, j->output);
	sched_store_text(s, 6, j->state);
	sqlite3_bind_int(s, 7, j->priority);
	sched_store_text(s, 8, j->error);
	sqlite3_bind_double(s, 9, j->submitted);
	sched_store_progress(s, 10, j);
	return sched_store_step(st, s, cause);
}

static int
sched_store_apply_update(struct sched_store *st, const struct sched_store_job *j, char **cause)
{
	sqlite3_stmt *s = st->stmt[ST_JOB_UPDATE];

	sqlite3_bind_int64(s, 1, j->id);
	sched_store_text(s, 2, j->state);
	sched_store_text(s, 3, j->error);
	sched_store_progress(s, 4, j);
	sched_store_text(s, 9, j->results);
	return sched_store_step(st, s, cause);
}

static int
sched_store_apply_task(struct sched_store *st, const struct sched_store_op *op, char **cause)
{
	sqlite3_stmt *s = st->stmt[ST_TASK_DONE];

	sqlite3_bind_int64(s, 1, op->job.id);
	sqlite3_bind_int64(s, 2, op->task);
	sqlite3_bind_int(s, 3, op->ok);
	sched_store_text(s, 4, op->result);
	sched_store_text(s, 5, op->error);
	sqlite3_bind_int(s, 6, (int)op->attempts);
	sqlite3_bind_int64(s, 7, (sqlite3_int64)op->elapsed_us);
	return sched_store_step(st, s, cause);
}

static int
sched_store_apply_delete(struct sched_store *st, const struct sched_store_op *op, char **cause)
{
	static const int which[] = {ST_JOB_DELETE, ST_TASKS_DELETE, ST_RANGES_DELETE};
	sqlite3_stmt *s;
	int rc = 0;

	for (size_t i = 0; i < sizeof which / sizeof which[0] && rc == 0; i++) {
		s = st->stmt[which[i]];
		sqlite3_bind_int64(s, 1, op->job.id);
		rc = sched_store_step(st, s, cause);
	}
	if (rc != 0)
		return rc;
	/* Job ids are never reused, though the job with the highest one is gone. */
	s = st->stmt[ST_META_SET];
	sqlite3_bind_text(s, 1, "next_job_id", -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, op->next_job_id);
	return sched_store_step(st, s, cause);
}

static int
sched_store_apply(struct sched_store *st, const struct sched_store_op *op, char **cause)
{
	switch (op->kind) {
	case ST_JOB_INSERT:
		return sched_store_apply_insert(st, &op->job, cause);
	case ST_JOB_UPDATE:
		return sched_store_apply_update(st, &op->job, cause);
	case ST_TASK_DONE:
		return sched_store_apply_task(st, op, cause);
	default:
		return sched_store_apply_delete(st, op, cause);
	}
}

int
sched_store_commit(struct sched_store *st, char **cause)
{
	int rc = 0;

	if (st->nops == 0 && st->ndone == 0)
		return 0;
	if (sqlite3_exec(st->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		return sched_store_error(st, "cannot begin a transaction", cause);
	for (size_t i = 0; i < st->nops && rc == 0; i++)
		rc = sched_store_apply(st, &st->ops[i], cause);
	if (rc == 0)
		rc = sched_store_flush_done(st, cause);
	if (rc == 0 && sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		rc = sched_store_error(st, "commit failed", cause);
	if (rc != 0) {
		/* Nothing of it is durable: undo what SQLite kept and write it all next time. */
		if (!sqlite3_get_autocommit(st->db))
			sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
		return rc;
	}
	sched_store_ops_clear(st);
	return 0;
}

uint64_t
sched_store_writes(const struct sched_store *st)
{
	return st->writes;
}

size_t
sched_store_pending(const struct sched_store *st)
{
	return st->nops + st->ndone;
}

void
sched_store_job_insert(struct sched_store *st, const struct sched_store_job *j)
{
	sched_store_job_copy(&sched_store_op_new(st, ST_JOB_INSERT)->job, j);
}

void
sched_store_job_update(struct sched_store *st, const struct sched_store_job *j)
{
	sched_store_job_copy(&sched_store_op_new(st, ST_JOB_UPDATE)->job, j);
}

void
sched_store_task_done(struct sched_store *st, uint32_t job, uint32_t task, int ok,
		      const char *result, const char *error, uint32_t attempts, uint64_t elapsed_us)
{
	struct sched_store_op *op;

	if (ok && result == NULL && error == NULL) {
		if (st->ndone == st->done_cap) {
			st->done_cap = st->done_cap ? st->done_cap * 2 : 1024;
			st->done = xreallocarray(st->done, st->done_cap, sizeof *st->done);
		}
		st->done[st->ndone].job = job;
		st->done[st->ndone].task = task;
		st->ndone++;
		st->writes++;
		return;
	}
	op = sched_store_op_new(st, ST_TASK_DONE);
	op->job.id = job;
	op->task = task;
	op->ok = ok;
	op->result = sched_store_dup(result);
	op->error = sched_store_dup(error);
	op->attempts = attempts;
	op->elapsed_us = elapsed_us;
}

void
sched_store_job_delete(struct sched_store *st, uint32_t job, uint32_t next_job_id)
{
	struct sched_store_op *op = sched_store_op_new(st, ST_JOB_DELETE);

	op->job.id = job;
	op->next_job_id = next_job_id;
}

void
sched_store_reclaim(struct sched_store *st)
{
	/* Outside a transaction: commit the journal first. */
	if (sched_store_commit(st, NULL) != 0)
		return;
	sqlite3_exec(st->db, "PRAGMA incremental_vacuum; PRAGMA wal_checkpoint(TRUNCATE);", NULL,
		     NULL, NULL);
}

sqlite3 *
sched_store_db(struct sched_store *st)
{
	return st->db;
}
