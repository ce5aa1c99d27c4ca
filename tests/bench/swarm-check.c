/* The end of a swarm run: every task of every job done exactly once in the scheduler's own
 * database (its done ranges and task rows, counted task by task), every result a worker had
 * acknowledged among them and every done task acknowledged to some worker; then the figures:
 * throughput, scheduler CPU per task and peak RSS, dispatch fairness between concurrent jobs
 * (Jain's index per 100 ms), heartbeat round trips, and the time to drop silent workers. */
#define _XOPEN_SOURCE 700
#include "tests/bench/swarm-check.h"

#include <errno.h>
#include <ftw.h>
#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/xmalloc.h"
#include "common/xsort.h"
#include "proto/proto.h"

struct swarm_counts {
	uint8_t *done;     /* per task: times done in the database */
	uint8_t *acked;    /* per task: times a worker heard its result accepted (saturating) */
};

struct swarm_result {
	uint64_t tasks, bad_tasks, unacked, ack_unknown, ack_dups;
	uint32_t jobs_not_done;
	double jain_median, jain_min;
	uint32_t jain_bins;
};

void
swarm_check_sample_scheduler(struct swarm_run *r)
{
	char path[64], line[256];
	unsigned long ut = 0, st = 0;
	FILE *f;

	snprintf(path, sizeof path, "/proc/%d/stat", (int)r->sched_pid);
	if ((f = fopen(path, "r")) != NULL) {
		/* utime and stime are fields 14 and 15, after the parenthesised name. */
		if (fgets(line, sizeof line, f) != NULL && strrchr(line, ')') != NULL)
			sscanf(strrchr(line, ')') + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
			       &ut, &st);
		fclose(f);
	}
	r->sched_cpu_s = (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
	snprintf(path, sizeof path, "/proc/%d/status", (int)r->sched_pid);
	if ((f = fopen(path, "r")) != NULL) {
		while (fgets(line, sizeof line, f) != NULL)
			if (strncmp(line, "VmHWM:", 6) == 0)
				r->sched_hwm_kib = atol(line + 6);
		fclose(f);
	}
}

static struct swarm_job *
swarm_check_job(struct swarm_run *r, uint32_t id)
{
	for (uint32_t i = 0; i < r->njobs; i++)
		if (r->jobs[i].id == id)
			return &r->jobs[i];
	return NULL;
}

static void
swarm_check_bump(uint8_t *c, uint32_t n, uint64_t first, uint64_t count, uint64_t *bad)
{
	for (uint64_t i = first; i < first + count; i++) {
		if (i >= n) {
			(*bad)++;
			continue;
		}
		if (c[i] < 255)
			c[i]++;
	}
}

/* Count, task by task, how often the database says each job's tasks were done. */
static int
swarm_check_db(struct swarm_run *r, struct swarm_counts *cnt, struct swarm_result *res)
{
	char *path = xasprintf("%s/state.db", r->state_dir);
	sqlite3 *db = NULL;
	sqlite3_stmt *job = NULL, *ranges = NULL, *rows = NULL;
	int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL);

	free(path);
	if (rc != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "SELECT state, ntasks, ndone FROM jobs WHERE id = ?1", -1, &job,
			       NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "SELECT first, count FROM done_ranges WHERE job = ?1", -1,
			       &ranges, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "SELECT task FROM tasks WHERE job = ?1 AND ok = 1", -1, &rows,
			       NULL) != SQLITE_OK) {
		fprintf(stderr, "bench-swarm: the state database: %s\n", sqlite3_errmsg(db));
		sqlite3_close(db);
		return -1;
	}
	for (uint32_t i = 0; i < r->njobs; i++) {
		struct swarm_job *j = &r->jobs[i];
		sqlite3_bind_int64(job, 1, j->id);
		if (sqlite3_step(job) != SQLITE_ROW ||
		    strcmp((const char *)sqlite3_column_text(job, 0), "done") != 0 ||
		    sqlite3_column_int64(job, 1) != j->tasks || sqlite3_column_int64(job, 2) != j->tasks)
			res->jobs_not_done++;
		sqlite3_reset(job);
		sqlite3_bind_int64(ranges, 1, j->id);
		while (sqlite3_step(ranges) == SQLITE_ROW)
			swarm_check_bump(cnt[i].done, j->tasks, (uint64_t)sqlite3_column_int64(ranges, 0),
					 (uint64_t)sqlite3_column_int64(ranges, 1), &res->bad_tasks);
		sqlite3_reset(ranges);
		sqlite3_bind_int64(rows, 1, j->id);
		while (sqlite3_step(rows) == SQLITE_ROW)
			swarm_check_bump(cnt[i].done, j->tasks, (uint64_t)sqlite3_column_int64(rows, 0), 1,
					 &res->bad_tasks);
		sqlite3_reset(rows);
	}
	sqlite3_finalize(job);
	sqlite3_finalize(ranges);
	sqlite3_finalize(rows);
	sqlite3_close(db);
	return 0;
}

/* Read every worker process's acknowledged task ids into the per-task counts. */
static void
swarm_check_acked(struct swarm_run *r, struct swarm_counts *cnt, struct swarm_result *res)
{
	uint64_t buf[4096];

	for (uint32_t p = 0; p < r->cfg.procs; p++) {
		char *path = xasprintf("%s/accepted-%u.bin", r->cfg.dir, p);
		FILE *f = fopen(path, "rb");
		size_t n;

		free(path);
		if (f == NULL)
			continue;
		while ((n = fread(buf, sizeof *buf, 4096, f)) > 0)
			for (size_t k = 0; k < n; k++) {
				struct swarm_job *j = swarm_check_job(r, PROTO_TASK_JOB(buf[k]));
				uint32_t idx = PROTO_TASK_INDEX(buf[k]);
				if (j == NULL || idx >= j->tasks) {
					res->ack_unknown++;
					continue;
				}
				uint8_t *a = &cnt[j - r->jobs].acked[idx];
				res->ack_dups += *a > 0;
				if (*a < 255)
					(*a)++;
			}
		fclose(f);
	}
}

static int
swarm_check_double_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Jain's index of the tasks handed to each job per bin, over bins in which at least two jobs
 * were running from start to end. */
static void
swarm_check_fairness(struct swarm_run *r, struct swarm_result *res)
{
	uint32_t first = (uint32_t)(r->t_start / SWARM_BIN_S), last = (uint32_t)(r->t_end / SWARM_BIN_S);
	double *jain = xcalloc(last - first + 1, sizeof *jain);
	uint32_t nj = 0;

	for (uint32_t b = first; b < last && b < SWARM_MAX_BINS; b++) {
		double lo = b * SWARM_BIN_S, hi = lo + SWARM_BIN_S, sum = 0, sum2 = 0;
		uint32_t n = 0;
		for (uint32_t i = 0; i < r->njobs; i++) {
			const struct swarm_job *j = &r->jobs[i];
			if (j->submitted > lo || j->finished < hi || j->id >= SWARM_MAX_JOBS)
				continue;
			double x = r->sh->dispatched[j->id][b];
			sum += x;
			sum2 += x * x;
			n++;
		}
		if (n >= 2 && sum2 > 0)
			jain[nj++] = sum * sum / (n * sum2);
	}
	xqsort(jain, nj, sizeof *jain, swarm_check_double_cmp);
	res->jain_bins = nj;
	res->jain_median = nj ? jain[nj / 2] : 0;
	res->jain_min = nj ? jain[0] : 0;
	free(jain);
}

/* The upper edge (seconds) of the heartbeat bucket that holds quantile q. */
static double
swarm_check_hb_quantile(const struct swarm_shared *sh, double q)
{
	uint64_t total = 0, seen = 0;
	double edge = 50e-6;

	for (int k = 0; k <= SWARM_HB_BUCKETS; k++)
		total += sh->hb_bucket[k];
	for (int k = 0; k <= SWARM_HB_BUCKETS; k++, edge *= 2) {
		seen += sh->hb_bucket[k];
		if (total > 0 && (double)seen >= q * (double)total)
			return edge;
	}
	return 0;
}

static json_t *
swarm_check_json(const struct swarm_run *r, const struct swarm_result *res, double wall)
{
	const struct swarm_shared *sh = r->sh;
	double *d = r->detect_s;
	uint32_t nd = r->lost_detected;

	return json_pack(
	    "{s:i, s:i, s:I, s:i, s:f, s:f, s:f, s:f, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I,"
	    " s:f, s:f, s:i, s:i, s:f, s:f, s:I, s:I, s:I, s:I, s:I}",
	    "workers", (int)r->cfg.workers, "procs", (int)r->cfg.procs, "tasks",
	    (json_int_t)res->tasks, "jobs", (int)r->njobs, "wall_s", wall, "tasks_per_s",
	    wall > 0 ? (double)res->tasks / wall : 0, "sched_cpu_us_per_task",
	    res->tasks ? r->sched_cpu_s * 1e6 / (double)res->tasks : 0, "sched_hwm_mib",
	    r->sched_hwm_kib / 1024.0, "registrations", (json_int_t)sh->registered, "joins",
	    (json_int_t)sh->joins, "leaves", (json_int_t)sh->leaves, "drops", (json_int_t)sh->drops,
	    "requests", (json_int_t)sh->requests, "executed", (json_int_t)sh->executed,
	    "heartbeats", (json_int_t)sh->heartbeats, "heartbeats_ok", (json_int_t)sh->heartbeats_ok,
	    "errors", (json_int_t)sh->errors, "heartbeat_p50_ms",
	    swarm_check_hb_quantile(sh, 0.5) * 1e3, "heartbeat_p99_ms",
	    swarm_check_hb_quantile(sh, 0.99) * 1e3, "lost", (int)r->cfg.lose, "lost_detected",
	    (int)nd, "detect_median_s", nd ? d[nd / 2] : 0.0, "detect_max_s", nd ? d[nd - 1] : 0.0,
	    "done_not_once", (json_int_t)res->bad_tasks, "done_never_acked",
	    (json_int_t)res->unacked, "acked_unknown", (json_int_t)res->ack_unknown,
	    "acked_twice", (json_int_t)res->ack_dups, "jobs_not_done",
	    (json_int_t)res->jobs_not_done);
}

static void
swarm_check_print(const struct swarm_run *r, const struct swarm_result *res, json_t *o)
{
	printf("bench-swarm: %u workers in %u processes, %u jobs (%u + %u x %u x %u tasks), "
	       "%u clients\n",
	       r->cfg.workers, r->cfg.procs, r->njobs, r->big_tasks, r->clients - 1,
	       r->client_jobs, r->client_tasks, r->clients);
	printf("  tasks %llu in %.2f s: %.0f tasks/s; scheduler CPU %.2f us/task, peak RSS %.1f MiB\n",
	       (unsigned long long)res->tasks, json_real_value(json_object_get(o, "wall_s")),
	       json_real_value(json_object_get(o, "tasks_per_s")),
	       json_real_value(json_object_get(o, "sched_cpu_us_per_task")),
	       json_real_value(json_object_get(o, "sched_hwm_mib")));
	printf("  workers: %llu registrations (peak %u listed), %llu rejoins, %llu BYE, %llu "
	       "dropped connections, %llu requests, %llu tasks run (%llu more than once)\n",
	       (unsigned long long)r->sh->registered, r->peak_workers,
	       (unsigned long long)r->sh->joins, (unsigned long long)r->sh->leaves,
	       (unsigned long long)r->sh->drops, (unsigned long long)r->sh->requests,
	       (unsigned long long)r->sh->executed,
	       (unsigned long long)(r->sh->executed > res->tasks ? r->sh->executed - res->tasks : 0));
	printf("  heartbeats: %llu sent, %llu answered, round trip p50 <= %.2f ms, p99 <= %.2f ms\n",
	       (unsigned long long)r->sh->heartbeats, (unsigned long long)r->sh->heartbeats_ok,
	       json_real_value(json_object_get(o, "heartbeat_p50_ms")),
	       json_real_value(json_object_get(o, "heartbeat_p99_ms")));
	printf("  silent workers: %u of %u dropped by the scheduler (TTL %.1f s), after median "
	       "%.2f s, max %.2f s\n",
	       r->lost_detected, r->cfg.lose, r->ttl_s,
	       json_real_value(json_object_get(o, "detect_median_s")),
	       json_real_value(json_object_get(o, "detect_max_s")));
	printf("  fairness: Jain's index of tasks handed per job per %.0f ms, over %u bins with >= 2 "
	       "jobs running: median %.3f, min %.3f\n",
	       SWARM_BIN_S * 1e3, res->jain_bins, res->jain_median, res->jain_min);
	printf("  exactly once: %llu tasks; done other than once %llu, done but never acknowledged "
	       "%llu, acknowledged but unknown %llu, jobs not done %u (acknowledged twice: %llu, "
	       "stale resends)\n",
	       (unsigned long long)res->tasks, (unsigned long long)res->bad_tasks,
	       (unsigned long long)res->unacked, (unsigned long long)res->ack_unknown,
	       res->jobs_not_done, (unsigned long long)res->ack_dups);
}

int
swarm_check_report(struct swarm_run *r)
{
	struct swarm_counts *cnt = xcalloc(r->njobs ? r->njobs : 1, sizeof *cnt);
	struct swarm_result res = {0};
	bool ok;
	json_t *o;

	xqsort(r->detect_s, r->lost_detected, sizeof *r->detect_s, swarm_check_double_cmp);
	for (uint32_t i = 0; i < r->njobs; i++) {
		cnt[i].done = xcalloc(r->jobs[i].tasks, 1);
		cnt[i].acked = xcalloc(r->jobs[i].tasks, 1);
		res.tasks += r->jobs[i].tasks;
	}
	ok = swarm_check_db(r, cnt, &res) == 0;
	swarm_check_acked(r, cnt, &res);
	for (uint32_t i = 0; i < r->njobs; i++)
		for (uint32_t t = 0; t < r->jobs[i].tasks; t++) {
			res.bad_tasks += cnt[i].done[t] != 1;
			res.unacked += cnt[i].done[t] == 1 && cnt[i].acked[t] == 0;
		}
	swarm_check_fairness(r, &res);
	o = swarm_check_json(r, &res, r->t_end - r->t_start);
	swarm_check_print(r, &res, o);
	if (r->json_path != NULL && json_dump_file(o, r->json_path, JSON_INDENT(1)) != 0)
		fprintf(stderr, "bench-swarm: cannot write %s\n", r->json_path);
	json_decref(o);
	/* A result the scheduler recorded whose reply a worker never got is possible only when a
	 * request failed (a dropped connection after sending). */
	ok = ok && res.bad_tasks == 0 && res.jobs_not_done == 0 && res.ack_unknown == 0 &&
	     (res.unacked == 0 || r->sh->errors > 0) && r->lost_detected == r->cfg.lose &&
	     r->njobs == 1 + (r->clients - 1) * r->client_jobs && !r->sched_stop_failed &&
	     r->worker_procs_failed == 0;
	printf("bench-swarm: %s\n", ok ? "every check holds" : "FAILED");
	for (uint32_t i = 0; i < r->njobs; i++) {
		free(cnt[i].done);
		free(cnt[i].acked);
	}
	free(cnt);
	return ok ? 0 : -1;
}

static int
swarm_check_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void
swarm_check_remove_dir(const char *dir)
{
	nftw(dir, swarm_check_rm, 16, FTW_DEPTH | FTW_PHYS);
}
