/* Temporary directories for the unit tests: made under /tmp with mkdtemp, paths inside them, and
 * removal of the whole tree, each step asserted. */
#ifndef ND_TEST_TMPDIR_H
#define ND_TEST_TMPDIR_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/paths.h"

/* Make a fresh "/tmp/nd-test-<name>-XXXXXX" and write its name to dir (len bytes). */
static inline void
test_tmpdir_make(char *dir, size_t len, const char *name)
{
	int n = snprintf(dir, len, "/tmp/nd-test-%s-XXXXXX", name);

	cr_assert(n > 0 && (size_t)n < len, "temporary directory name for %s too long", name);
	cr_assert_not_null(mkdtemp(dir), "mkdtemp %s", dir);
}

/* Remove dir and everything in it; asserts that it is gone. */
static inline void
test_tmpdir_remove(const char *dir)
{
	paths_remove_tree(dir);
	cr_assert_neq(access(dir, F_OK), 0, "%s was not removed", dir);
}

/* "<dir>/<name>" in one of four static buffers, so a few can be used at once. */
static inline const char *
test_tmpdir_path(const char *dir, const char *name)
{
	static char buf[4][256];
	static int next;
	char *p = buf[next++ % 4];

	snprintf(p, sizeof buf[0], "%s/%s", dir, name);
	return p;
}

/* The temporary directory of a test program whose tests run with .init = setup_tmp and
 * .fini = teardown_tmp: `tmpdir`, made fresh for each test as /tmp/nd-test-<name>-XXXXXX, and
 * tmp_path(file) inside it. */
#define TEST_TMPDIR_DEFINE(name)                                                                   \
	static char tmpdir[64];                                                                    \
	static void setup_tmp(void)                                                                \
	{                                                                                          \
		test_tmpdir_make(tmpdir, sizeof tmpdir, (name));                                   \
	}                                                                                          \
	static void teardown_tmp(void)                                                             \
	{                                                                                          \
		test_tmpdir_remove(tmpdir);                                                        \
	}                                                                                          \
	static inline const char *tmp_path(const char *file)                                       \
	{                                                                                          \
		return test_tmpdir_path(tmpdir, file);                                             \
	}

#endif
