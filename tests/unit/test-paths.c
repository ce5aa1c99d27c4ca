/* common/paths: publishing an output under its own name (paths_publish, paths_publish_json) and
 * the disk-full reason a write stream gives back (paths_close_stream, on /dev/full). */
#include <criterion/criterion.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/error.h"
#include "common/paths.h"
#include "tests/unit/test-tmpdir.h"

TEST_TMPDIR_DEFINE("paths")

static void
write_text(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	cr_assert_not_null(fp, "create %s", path);
	fputs(text, fp);
	cr_assert_eq(fclose(fp), 0);
}

static char *
read_text(const char *path)
{
	static char buf[256];
	FILE *fp = fopen(path, "r");
	size_t n;

	cr_assert_not_null(fp, "open %s", path);
	n = fread(buf, 1, sizeof buf - 1, fp);
	buf[n] = '\0';
	fclose(fp);
	return buf;
}

Test(paths, publish_replaces_and_removes_the_temporary, .init = setup_tmp, .fini = teardown_tmp)
{
	char *out = strdup(tmp_path("out.txt")), *tmp = paths_hidden_temp(out, NULL);
	char *cause = NULL;

	/* both modes put the whole file in place; only the flushes differ */
	for (int mode = PATHS_WORK_FILE; mode <= PATHS_OUTPUT; mode++) {
		write_text(out, "old");
		write_text(tmp, "new");
		cr_assert_eq(paths_publish(tmp, out, 0, mode, &cause), 0, "%s", cause);
		cr_assert_str_eq(read_text(out), "new");
		cr_assert_neq(access(tmp, F_OK), 0, "the temporary name is gone");
	}
	free(tmp);
	free(out);
}

Test(paths, a_failed_write_keeps_the_old_file, .init = setup_tmp, .fini = teardown_tmp)
{
	char *out = strdup(tmp_path("out.txt")), *tmp = paths_hidden_temp(out, NULL);
	char *cause = NULL;

	write_text(out, "old");
	write_text(tmp, "half");
	cr_assert_eq(paths_publish(tmp, out, -ENOSPC, PATHS_WORK_FILE, &cause), -ENOSPC);
	cr_assert_null(cause, "the writer's cause is the one kept");
	cr_assert_str_eq(read_text(out), "old");
	cr_assert_neq(access(tmp, F_OK), 0, "the half-written file is removed");
	free(tmp);
	free(out);
}

Test(paths, a_full_output_disk_is_permanent_a_full_work_dir_is_not, .init = setup_tmp,
     .fini = teardown_tmp)
{
	static const int full[] = {ENOSPC, EDQUOT, EFBIG};
	char *out = strdup(tmp_path("out.txt")), *tmp = paths_hidden_temp(out, NULL);

	for (size_t i = 0; i < sizeof full / sizeof full[0]; i++) {
		write_text(tmp, "half");
		int rc = paths_publish(tmp, out, -full[i], PATHS_OUTPUT, NULL);
		cr_assert(error_is_permanent(rc), "%s of an output is permanent", strerror(full[i]));
		cr_assert_eq(error_errno(rc), -full[i], "the reason is kept");
		cr_assert_neq(access(tmp, F_OK), 0, "the half-written file is removed");
		write_text(tmp, "half");
		rc = paths_publish(tmp, out, -full[i], PATHS_WORK_FILE, NULL);
		cr_assert_eq(rc, -full[i], "%s of a work file may be retried", strerror(full[i]));
	}
	write_text(tmp, "half");
	cr_assert_eq(paths_publish(tmp, out, -EIO, PATHS_OUTPUT, NULL), -EIO,
		     "other failures of an output are as they were");
	cr_assert(!error_is_permanent(0) && error_errno(0) == 0);
	cr_assert_eq(error_errno(error_permanent(-ENOSPC)), -ENOSPC);
	free(tmp);
	free(out);
}

Test(paths, a_failed_rename_names_the_file, .init = setup_tmp, .fini = teardown_tmp)
{
	char *out = strdup(tmp_path("busy")), *tmp = paths_hidden_temp(out, NULL);
	char *cause = NULL;

	cr_assert_eq(mkdir(out, 0755), 0);
	write_text(tmp_path("busy/inside"), "x");
	write_text(tmp, "new");
	cr_assert_lt(paths_publish(tmp, out, 0, PATHS_OUTPUT, &cause), 0,
		     "a non-empty directory stays");
	cr_assert_not_null(cause);
	cr_assert_not_null(strstr(cause, out), "the cause names the output: %s", cause);
	cr_assert_neq(access(tmp, F_OK), 0, "the temporary file is removed");
	free(cause);
	free(tmp);
	free(out);
}

Test(paths, publish_json_writes_a_whole_document, .init = setup_tmp, .fini = teardown_tmp)
{
	const char *out = tmp_path("doc.json");
	json_t *v = json_pack("{s:i, s:s}", "n", 3, "s", "x"), *back;
	char *cause = NULL;

	cr_assert_eq(paths_publish_json(v, out, JSON_COMPACT, PATHS_OUTPUT, &cause), 0, "%s", cause);
	back = json_load_file(out, 0, NULL);
	cr_assert(json_equal(v, back), "the document reads back");
	cr_assert_str_eq(read_text(tmp_path("doc.json")), "{\"n\":3,\"s\":\"x\"}");
	json_decref(back);
	json_decref(v);
}

Test(paths, publish_json_into_a_missing_directory_fails, .init = setup_tmp,
     .fini = teardown_tmp)
{
	json_t *v = json_integer(1);
	char *cause = NULL;

	cr_assert_eq(paths_publish_json(v, tmp_path("none/doc.json"), 0, PATHS_OUTPUT, &cause),
		     -ENOENT);
	cr_assert_not_null(strstr(cause, "none/.doc.json.tmp"), "names the file: %s", cause);
	free(cause);
	json_decref(v);
}

Test(paths, a_full_disk_gives_enospc_naming_the_file)
{
	FILE *fp = fopen("/dev/full", "w");
	char big[65536], *cause = NULL;

	if (fp == NULL)
		cr_skip_test("no /dev/full here");
	memset(big, 'x', sizeof big);
	fwrite(big, 1, sizeof big, fp);
	cr_assert_eq(paths_close_stream(fp, "/out/x.edf", &cause), -ENOSPC);
	cr_assert_not_null(strstr(cause, "/out/x.edf"), "%s", cause);
	cr_assert_not_null(strstr(cause, strerror(ENOSPC)), "%s", cause);
	free(cause);
	/* a short write that only the close flushes */
	fp = fopen("/dev/full", "w");
	fputs("{}", fp);
	cause = NULL;
	cr_assert_eq(paths_close_stream(fp, "/out/y.json", &cause), -ENOSPC);
	free(cause);
}
