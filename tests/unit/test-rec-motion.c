/* Realignment parameters to framewise displacement: the sum of translations and 50 mm arcs,
 * comments and blank lines skipped, a bad line named by its number. */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test-tmpdir.h"
#include "worker/ops/rec/data/rec-motion.h"

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
}

Test(rec_motion, framewise_displacement)
{
	char dir[64], path[96];
	double *m;
	size_t n;
	char *cause = NULL;

	test_tmpdir_make(dir, sizeof dir, "rec-motion");
	snprintf(path, sizeof path, "%s/rp_a.txt", dir);
	write_file(path, "# SPM\n  0 0 0 0 0 0\n\n 0.1 -0.2 0 0 0 0.01\n0.1 -0.2 0 0 0 0.01\n");
	cr_assert_eq(rec_motion_read(path, &m, &n, &cause), 0, "%s", cause);
	cr_assert_eq(n, 3);
	cr_assert_float_eq(m[0], 0, 0);
	cr_assert_float_eq(m[1], 0.3 + 50 * 0.01, 1e-12);
	cr_assert_float_eq(m[2], 0, 1e-12);
	free(m);
	write_file(path, "0 0 0 0 0 0\n0 0 0 0 0\n");
	cr_assert_eq(rec_motion_read(path, &m, &n, &cause), -EINVAL);
	cr_assert_not_null(strstr(cause, ":2:"), "%s", cause);
	free(cause);
	cause = NULL;
	cr_assert_lt(rec_motion_read("/nonexistent/rp.txt", &m, &n, &cause), 0);
	cr_assert_not_null(strstr(cause, "/nonexistent/rp.txt"), "%s", cause);
	free(cause);
	{
		char *p = rec_motion_path("/data/sub/rec.edf", "rp.txt");

		cr_assert_str_eq(p, "/data/sub/rp.txt");
		free(p);
		p = rec_motion_path("/data/sub/rec.edf", "/abs/rp.txt");
		cr_assert_str_eq(p, "/abs/rp.txt");
		free(p);
	}
	test_tmpdir_remove(dir);
}
