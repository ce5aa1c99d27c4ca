/* The scheduler's SQLite store: finished tasks written in a pass come back after closing and
 * reopening (result-less ones through their ranges, others with their result and attempts), per
 * job, and nothing of an uncommitted pass is lost by a clean close. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/xmalloc.h"
#include "scheduler/state/store/sched-store.h"
#include "test-tmpdir.h"

#define TEST_NTASKS 5000

struct test_seen {
	int count[TEST_NTASKS];
	char *result[TEST_NTASKS];
	uint32_t attempts[TEST_NTASKS];
	int ok[TEST_NTASKS];
	int out_of_range;
};

static void
test_sched_store_task(void *arg, uint32_t task, int ok, const char *result, const char *error,
		      uint32_t attempts)
{
	struct test_seen *s = arg;

	if (task >= TEST_NTASKS) {
		s->out_of_range++;
		return;
	}
	s->count[task]++;
	s->ok[task] = ok;
	s->attempts[task] = attempts;
	if (result != NULL)
		s->result[task] = xstrdup(result);
}

static char *
test_sched_store_dir(void)
{
	char dir[64];

	test_tmpdir_make(dir, sizeof dir, "store");
	return xstrdup(dir);
}

static void
test_sched_store_rmdir(char *dir)
{
	test_tmpdir_remove(dir);
	free(dir);
}

/* Tasks of job 1 finish out of order over several passes: every third in reverse, then the
 * rest; task 16 has a result, task 23 failed; job 2 finishes a few of its own. */
Test(sched_store, done_tasks_come_back_after_reopening)
{
	char *dir = test_sched_store_dir(), *cause = NULL;
	struct sched_store *st;
	struct test_seen *seen = xcalloc(1, sizeof *seen), *seen2 = xcalloc(1, sizeof *seen2);

	cr_assert_eq(sched_store_open(&st, dir, &cause), 0, "%s", cause);
	for (int t = TEST_NTASKS - 1; t >= 0; t -= 3) {
		sched_store_task_done(st, 1, (uint32_t)t, 1, t == 16 ? "{\"x\":1}" : NULL, NULL, 1,
				      10);
		if (t % 300 == 0)
			cr_assert_eq(sched_store_commit(st, &cause), 0, "%s", cause);
	}
	cr_assert_eq(sched_store_commit(st, &cause), 0, "%s", cause);
	for (int t = 0; t < TEST_NTASKS; t++)
		if ((TEST_NTASKS - 1 - t) % 3 != 0)
			sched_store_task_done(st, 1, (uint32_t)t, t != 23, NULL,
					      t == 23 ? "boom" : NULL, t == 23 ? 3 : 2, 10);
	sched_store_task_done(st, 2, 4, 1, NULL, NULL, 1, 10);
	sched_store_task_done(st, 2, 5, 1, NULL, NULL, 1, 10);
	sched_store_task_done(st, 2, 9, 1, NULL, NULL, 1, 10);
	sched_store_close(st); /* commits the open pass */

	cr_assert_eq(sched_store_open(&st, dir, &cause), 0, "%s", cause);
	cr_assert_eq(sched_store_load_tasks(st, 1, test_sched_store_task, seen), 0);
	cr_assert_eq(sched_store_load_tasks(st, 2, test_sched_store_task, seen2), 0);
	sched_store_close(st);

	cr_assert_eq(seen->out_of_range, 0);
	for (int t = 0; t < TEST_NTASKS; t++) {
		cr_assert_eq(seen->count[t], 1, "task %d loaded %d times", t, seen->count[t]);
		cr_assert_eq(seen->ok[t], t != 23, "task %d", t);
	}
	cr_assert_str_eq(seen->result[16], "{\"x\":1}");
	cr_assert_eq(seen->attempts[23], 3);
	cr_assert_null(seen->result[18]);
	for (int t = 0; t < TEST_NTASKS; t++)
		cr_assert_eq(seen2->count[t], t == 4 || t == 5 || t == 9, "job 2 task %d", t);
	for (int t = 0; t < TEST_NTASKS; t++)
		free(seen->result[t]);
	free(seen);
	free(seen2);
	test_sched_store_rmdir(dir);
}
