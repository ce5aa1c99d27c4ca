/* Built-in test ops for the runtime: noop, sleep (ms), fail (the first n attempts), alloc (bytes),
 * mark (records each run in the job's work dir), and reduce (a reduction task with no data that
 * reports how many upstream results it saw). They let pipelines exercise the scheduler alone. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/error.h"
#include "common/paths.h"
#include "common/xmalloc.h"
#include "worker/ops/spec/op-def.h"
#include "worker/ops/spec/op-param.h"
#include "worker/ops/spec/op-run.h"

static int
op_test_validate_noop(const json_t *step, const char *path, char **cause)
{
	return op_param_keys(step, path, NULL, cause);
}

static int
op_test_run_noop(struct op_run *run, const json_t *step, char **cause)
{
	return 0;
}

static int
op_test_validate_sleep(const json_t *step, const char *path, char **cause)
{
	static const char *const keys[] = {"ms", NULL};
	double ms;

	if (op_param_keys(step, path, keys, cause) != 0)
		return -EINVAL;
	return op_param_number(step, path, "ms", 1, 0, 86400000, 0, &ms, cause);
}

static int
op_test_run_sleep(struct op_run *run, const json_t *step, char **cause)
{
	double ms = json_number_value(json_object_get(step, "ms"));

	while (ms > 0) {
		double chunk = ms < 20 ? ms : 20;
		struct timespec ts = {(time_t)(chunk / 1000),
				      (long)(((long long)(chunk * 1e6)) % 1000000000)};
		if (op_run_cancelled(run))
			return error_set(cause, -ECANCELED, "cancelled");
		nanosleep(&ts, NULL);
		ms -= chunk;
	}
	return 0;
}

/* The error code the fail op returns (its "errno"), 0 for an unknown name. */
static int
op_test_errno(const char *name)
{
	static const struct {
		const char *name;
		int code;
	} codes[] = {{"EIO", EIO},
		     {"EINVAL", EINVAL},
		     {"ENOENT", ENOENT},
		     {"EACCES", EACCES},
		     {"ENOSPC", ENOSPC}};

	for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
		if (strcmp(codes[i].name, name) == 0)
			return codes[i].code;
	return 0;
}

static int
op_test_validate_fail(const json_t *step, const char *path, char **cause)
{
	static const char *const keys[] = {"attempts", "message", "errno", NULL};
	long long n;
	const char *msg, *code;

	if (op_param_keys(step, path, keys, cause) != 0 ||
	    op_param_int(step, path, "attempts", 0, 0, 1000, 1000, &n, cause) != 0 ||
	    op_param_string(step, path, "message", 0, NULL, &msg, cause) != 0 ||
	    op_param_string(step, path, "errno", 0, "EIO", &code, cause) != 0)
		return -EINVAL;
	if (op_test_errno(code) == 0)
		return error_set(cause, -EINVAL, "%s.errno: one of EIO, EINVAL, ENOENT, EACCES, ENOSPC",
				 path);
	return 0;
}

static int
op_test_run_fail(struct op_run *run, const json_t *step, char **cause)
{
	json_int_t n = json_is_integer(json_object_get(step, "attempts"))
			   ? json_integer_value(json_object_get(step, "attempts"))
			   : 1000;
	const char *msg = json_string_value(json_object_get(step, "message"));

	const char *code = json_string_value(json_object_get(step, "errno"));

	if ((json_int_t)run->attempt <= n)
		return error_set(cause, -op_test_errno(code != NULL ? code : "EIO"), "%s (attempt %u)",
				 msg != NULL ? msg : "failed on purpose", run->attempt);
	return 0;
}

static int
op_test_validate_alloc(const json_t *step, const char *path, char **cause)
{
	static const char *const keys[] = {"bytes", NULL};
	long long n;

	if (op_param_keys(step, path, keys, cause) != 0)
		return -EINVAL;
	return op_param_int(step, path, "bytes", 1, 0, 1LL << 40, 0, &n, cause);
}

static int
op_test_run_alloc(struct op_run *run, const json_t *step, char **cause)
{
	size_t n = (size_t)json_integer_value(json_object_get(step, "bytes"));
	char *p = malloc(n ? n : 1);

	if (p == NULL)
		return error_set(cause, -ENOMEM, "cannot allocate %zu bytes", n);
	for (size_t i = 0; i < n; i += 4096)
		p[i] = (char)i;
	free(p);
	return 0;
}

static int
op_test_validate_mark(const json_t *step, const char *path, char **cause)
{
	static const char *const keys[] = {"ms", NULL};
	double ms;

	if (op_param_keys(step, path, keys, cause) != 0)
		return -EINVAL;
	return op_param_number(step, path, "ms", 0, 0, 86400000, 0, &ms, cause);
}

/* Sleep `ms` (cancellable), then append "TASK ATTEMPT WALLTIME" to WORKDIR/marks: tests count
 * the runs and see their order. */
static int
op_test_run_mark(struct op_run *run, const json_t *step, char **cause)
{
	char line[96], *file;
	struct timespec now;
	int fd, rc, n;

	if ((rc = op_test_run_sleep(run, step, cause)) != 0)
		return rc;
	if (run->spec.stage.workdir == NULL)
		return error_set(cause, -EINVAL, "mark: the task has no work dir");
	if ((rc = paths_mkdirs(run->spec.stage.workdir, 0755, cause)) != 0)
		return rc;
	file = xasprintf("%s/marks", run->spec.stage.workdir);
	fd = open(file, O_WRONLY | O_CREAT | O_APPEND, 0644);
	if (fd < 0) {
		rc = error_set(cause, -errno, "cannot open %s: %s", file, strerror(errno));
		free(file);
		return rc;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	n = snprintf(line, sizeof line, "%lld %u %lld.%06ld\n",
		     (long long)run->spec.task, run->attempt,
		     (long long)now.tv_sec, now.tv_nsec / 1000);
	if (write(fd, line, (size_t)n) != n)
		rc = error_set(cause, -EIO, "cannot write %s", file);
	close(fd);
	free(file);
	return rc;
}

static int
op_test_run_reduce(struct op_run *run, const json_t *step, char **cause)
{
	json_decref(run->result);
	run->result = json_pack("{s:I}", "inputs",
				(json_int_t)(run->deps != NULL ? json_object_size(run->deps) : 0));
	return 0;
}

static int
op_test_validate_reduce(const json_t *step, const char *path, char **cause)
{
	static const char *const keys[] = {"over", NULL};
	const char *over;

	if (op_param_keys(step, path, keys, cause) != 0 ||
	    op_param_string(step, path, "over", 0, "all", &over, cause) != 0)
		return -EINVAL;
	if (strcmp(over, "trials") != 0 && strcmp(over, "all") != 0)
		return error_set(cause, -EINVAL, "%s.over: must be \"trials\" or \"all\"", path);
	return 0;
}

static const struct op_def op_test_noop = {
    .name = "noop",
    .kind = OP_UNIT,
    .summary = "does nothing (runtime tests)",
    .validate = op_test_validate_noop,
    .run = op_test_run_noop,
};
static const struct op_def op_test_sleep = {
    .name = "sleep",
    .kind = OP_UNIT,
    .summary = "sleeps `ms` milliseconds",
    .validate = op_test_validate_sleep,
    .run = op_test_run_sleep,
};
static const struct op_def op_test_fail = {
    .name = "fail",
    .kind = OP_UNIT,
    .summary = "fails its first `attempts` attempts (default: always) with `errno` (EIO)",
    .validate = op_test_validate_fail,
    .run = op_test_run_fail,
};
static const struct op_def op_test_alloc = {
    .name = "alloc",
    .kind = OP_UNIT,
    .summary = "allocates and touches `bytes`",
    .validate = op_test_validate_alloc,
    .run = op_test_run_alloc,
};
static const struct op_def op_test_mark = {
    .name = "mark",
    .kind = OP_UNIT,
    .summary = "sleeps `ms` (default 0), then appends its task id to "
					   "WORKDIR/marks",
    .validate = op_test_validate_mark,
    .run = op_test_run_mark,
};
static const struct op_def op_test_reduce = {
    .name = "reduce",
    .kind = OP_REDUCE,
    .summary = "a reduction over trials (per channel) or all units; "
					     "its result counts the upstream results it received",
    .validate = op_test_validate_reduce,
    .run = op_test_run_reduce,
};

const struct op_def *const op_test_table[] = {
    &op_test_noop, &op_test_sleep,  &op_test_fail, &op_test_alloc,
    &op_test_mark, &op_test_reduce, NULL,
};
