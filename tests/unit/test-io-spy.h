/* What the .spy unit tests share: a fresh temporary directory per test and the parsed .info of
 * a written file. */
#ifndef ND_TEST_IO_SPY_H
#define ND_TEST_IO_SPY_H

#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#include "test-tmpdir.h"

static char test_dir[] = "/tmp/test-io-spy-XXXXXX";

static void
test_setup(void)
{
	cr_assert_not_null(mkdtemp(test_dir));
}

static void
test_teardown(void)
{
	test_tmpdir_remove(test_dir);
}

TestSuite(io_spy, .init = test_setup, .fini = test_teardown);

static json_t *
test_info(const char *path)
{
	char *ip;
	json_t *j;

	cr_assert(asprintf(&ip, "%s.info", path) > 0);
	j = json_load_file(ip, 0, NULL);
	cr_assert_not_null(j, "cannot parse %s", ip);
	free(ip);
	return j;
}

#endif
