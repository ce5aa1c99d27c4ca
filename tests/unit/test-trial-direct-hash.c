/* The running SHA-1 of a container written in place (trial-direct-hash.c): byte ranges added in
 * any order, some twice (a task run again) or overlapping the hashed head, the record passed
 * through its JSON text between calls as between processes, give the digest of the whole file
 * (io_spy_info_sha1, OpenSSL's EVP); ranges never added are hashed at the finish; a file whose
 * size changed since the start is refused. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test-rng.h"
#include "test-tmpdir.h"
#include "worker/io/io-spy-info.h"
#include "worker/ops/trial/data/trial-direct.h"

static char dir[64];

static void
setup(void)
{
	test_tmpdir_make(dir, sizeof dir, "direct-hash");
}

static void
teardown(void)
{
	test_tmpdir_remove(dir);
}

TestSuite(trial_direct_hash, .init = setup, .fini = teardown);

/* A file of n pseudo-random bytes; returns its path (caller frees). */
static char *
make_file(size_t n, uint64_t seed)
{
	char *path = NULL;
	unsigned char *b = malloc(n + 1);
	uint64_t s = seed;
	FILE *f;

	cr_assert(asprintf(&path, "%s/c.bin", dir) > 0);
	for (size_t i = 0; i < n; i++)
		b[i] = (unsigned char)(test_lcg_uniform(&s) * 256);
	f = fopen(path, "wb");
	cr_assert_not_null(f);
	cr_assert_eq(fwrite(b, 1, n, f), n);
	fclose(f);
	free(b);
	return path;
}

/* The record after a round trip through its JSON text. */
static json_t *
reload(json_t *rec)
{
	char *text = json_dumps(rec, JSON_COMPACT);
	json_t *back = json_loads(text, 0, NULL);

	cr_assert_not_null(back);
	free(text);
	json_decref(rec);
	return back;
}

static void
check_digest(const char *path, json_t *rec, int fd)
{
	char got[41], want[41], *cause = NULL;

	cr_assert_eq(trial_direct_hash_finish(rec, fd, path, got, &cause), 0, "%s", cause);
	cr_assert_eq(io_spy_info_sha1(path, want, &cause), 0, "%s", cause);
	cr_assert_str_eq(got, want);
}

Test(trial_direct_hash, ranges_in_any_order_give_the_file_digest)
{
	/* head 1000 bytes, data [1000, 1000 + 8 * 300001), tail 777 bytes */
	const uint64_t d0 = 1000, part = 300001, d1 = d0 + 8 * part, size = d1 + 777;
	const int order[] = {3, 0, 7, 1, 1, 5, 2, 6, 4, 0};
	char *path = make_file(size, 7), *cause = NULL;
	int fd = open(path, O_RDONLY);
	json_t *rec = json_object();

	cr_assert(fd >= 0);
	cr_assert_eq(trial_direct_hash_start(rec, fd, path, size, d0, d1, &cause), 0, "%s", cause);
	cr_assert_eq(json_integer_value(json_object_get(rec, "hashed")), (json_int_t)d0);
	for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
		uint64_t r[1][2] = {{d0 + order[i] * part, d0 + (order[i] + 1) * part}};
		rec = reload(rec);
		cr_assert_eq(
		    trial_direct_hash_add(rec, fd, path, (const uint64_t(*)[2])r, 1, &cause), 0,
		    "%s", cause);
	}
	/* every range in: the head reaches the end of the file */
	cr_assert_eq(json_integer_value(json_object_get(rec, "hashed")), (json_int_t)size);
	cr_assert_eq(json_array_size(json_object_get(rec, "ready")), 0);
	check_digest(path, reload(rec), fd);
	close(fd);
	free(path);
}

Test(trial_direct_hash, ranges_never_added_are_hashed_at_the_finish)
{
	const uint64_t d0 = 4096, d1 = d0 + 3 * 65536, size = d1 + 100;
	char *path = make_file(size, 11), *cause = NULL;
	int fd = open(path, O_RDONLY);
	uint64_t r[1][2] = {{d0 + 2 * 65536, d1}};
	json_t *rec = json_object();

	cr_assert(fd >= 0);
	cr_assert_eq(trial_direct_hash_start(rec, fd, path, size, d0, d1, &cause), 0, "%s", cause);
	cr_assert_eq(trial_direct_hash_add(rec, fd, path, (const uint64_t(*)[2])r, 1, &cause), 0,
		     "%s", cause);
	/* [d0, d0 + 2 * 65536) is missing: the head stays at d0, the rest waits */
	cr_assert_eq(json_integer_value(json_object_get(rec, "hashed")), (json_int_t)d0);
	cr_assert_eq(json_array_size(json_object_get(rec, "ready")), 1);
	check_digest(path, rec, fd);
	close(fd);
	free(path);
}

Test(trial_direct_hash, a_file_of_another_size_is_refused)
{
	const uint64_t size = 5000;
	char *path = make_file(size, 3), *cause = NULL, hex[41];
	int fd = open(path, O_RDONLY);
	json_t *rec = json_object();

	cr_assert(fd >= 0);
	cr_assert_eq(trial_direct_hash_start(rec, fd, path, size - 1, 100, 200, &cause), 0, "%s",
		     cause);
	cr_assert_neq(trial_direct_hash_finish(rec, fd, path, hex, &cause), 0);
	cr_assert_not_null(cause);
	cr_assert_not_null(strstr(cause, "bytes"), "%s", cause);
	free(cause);
	json_decref(rec);
	close(fd);
	free(path);
}
