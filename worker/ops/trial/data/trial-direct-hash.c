/* The running SHA-1 of a container written in place. The record holds "hashed" (the length of
 * the head already hashed), "ctx" (OpenSSL's SHA-1 state after it, as hex: the low-level
 * SHA1_* interface, whose state is a plain structure that can be saved between processes of the
 * same build, where EVP's cannot) and "ready" (written ranges beyond the head, sorted). A task
 * run again adds ranges already hashed: they are dropped, their bytes are the same. */

/* SHA1_Init/Update/Final are deprecated in OpenSSL 3 for EVP, which has no saveable state. */
#define OPENSSL_API_COMPAT 10101

#include "worker/ops/trial/data/trial-direct.h"

#include <errno.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "common/xmalloc.h"

#define TRIAL_DIRECT_HASH_BLOCK (1u << 20)

static json_t *
trial_direct_hash_hex(const void *p, size_t n)
{
	const unsigned char *b = p;
	char *s = xmalloc(2 * n + 1);
	json_t *v;

	for (size_t i = 0; i < n; i++)
		snprintf(s + 2 * i, 3, "%02x", b[i]);
	v = json_string(s);
	free(s);
	return v;
}

static int
trial_direct_hash_ctx(const json_t *rec, SHA_CTX *c, char **cause)
{
	const char *s = json_string_value(json_object_get(rec, "ctx"));
	unsigned char *b = (unsigned char *)c;

	if (s == NULL || strlen(s) != 2 * sizeof *c)
		return error_set(cause, -EBADMSG, "the container's running hash is missing");
	for (size_t i = 0; i < sizeof *c; i++) {
		unsigned v;
		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return error_set(cause, -EBADMSG,
					 "the container's running hash is garbled");
		b[i] = (unsigned char)v;
	}
	return 0;
}

/* Hash the file's bytes [from, to) into c. */
static int
trial_direct_hash_range(SHA_CTX *c, int fd, const char *path, uint64_t from, uint64_t to,
			char **cause)
{
	unsigned char *buf = xmalloc(TRIAL_DIRECT_HASH_BLOCK);
	int rc = 0;

	while (from < to) {
		size_t want = to - from < TRIAL_DIRECT_HASH_BLOCK ? (size_t)(to - from)
								  : TRIAL_DIRECT_HASH_BLOCK;
		ssize_t n = pread(fd, buf, want, (off_t)from);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = error_set(cause, n < 0 ? -errno : -EIO, "cannot read %s: %s", path,
				       n < 0 ? strerror(errno) : "shorter than written");
			break;
		}
		SHA1_Update(c, buf, (size_t)n);
		from += (uint64_t)n;
	}
	free(buf);
	return rc;
}

static int
trial_direct_hash_cmp(const void *a, const void *b)
{
	const uint64_t *x = a, *y = b;

	return x[0] < y[0] ? -1 : x[0] > y[0];
}

/* Append [a, b) to the sorted ranges `left`, joined with the last one where they touch. */
static void
trial_direct_hash_keep(json_t *left, uint64_t a, uint64_t b)
{
	json_t *last = json_array_get(left, json_array_size(left) - 1);

	if (last != NULL && (uint64_t)json_integer_value(json_array_get(last, 1)) >= a) {
		if ((uint64_t)json_integer_value(json_array_get(last, 1)) < b)
			json_array_set_new(last, 1, json_integer((json_int_t)b));
		return;
	}
	json_array_append_new(left, json_pack("[I, I]", (json_int_t)a, (json_int_t)b));
}

/* Merge r into the record's ready ranges, hash on from the head, save the state. */
static int
trial_direct_hash_advance(json_t *rec, SHA_CTX *c, int fd, const char *path, const uint64_t (*r)[2],
			  size_t n, char **cause)
{
	json_t *ready = json_object_get(rec, "ready"), *left = json_array();
	size_t nold = json_array_size(ready), m = 0;
	uint64_t(*all)[2] = xcalloc(nold + n + 1, sizeof *all);
	uint64_t head = (uint64_t)json_integer_value(json_object_get(rec, "hashed"));
	int rc = 0;

	for (size_t i = 0; i < nold; i++) {
		all[m][0] =
		    (uint64_t)json_integer_value(json_array_get(json_array_get(ready, i), 0));
		all[m++][1] =
		    (uint64_t)json_integer_value(json_array_get(json_array_get(ready, i), 1));
	}
	for (size_t i = 0; i < n; i++) {
		all[m][0] = r[i][0];
		all[m++][1] = r[i][1];
	}
	if (m > 1)
		qsort(all, m, sizeof *all, trial_direct_hash_cmp);
	for (size_t i = 0; i < m && rc == 0; i++) {
		if (all[i][1] <= head)
			continue; /* hashed already (a task run again) */
		if (all[i][0] <= head) {
			rc = trial_direct_hash_range(c, fd, path, head, all[i][1], cause);
			head = all[i][1];
		} else {
			trial_direct_hash_keep(left, all[i][0], all[i][1]);
		}
	}
	free(all);
	if (rc == 0) {
		json_object_set_new(rec, "hashed", json_integer((json_int_t)head));
		json_object_set_new(rec, "ctx", trial_direct_hash_hex(c, sizeof *c));
		json_object_set_new(rec, "ready", left);
	} else {
		json_decref(left);
	}
	return rc;
}

int
trial_direct_hash_start(json_t *rec, int fd, const char *path, uint64_t size, uint64_t d0,
			uint64_t d1, char **cause)
{
	uint64_t r[2][2] = {{0, d0}, {d1, size}};
	SHA_CTX c;

	SHA1_Init(&c);
	json_object_set_new(rec, "size", json_integer((json_int_t)size));
	json_object_set_new(rec, "hashed", json_integer(0));
	json_object_set_new(rec, "ready", json_array());
	return trial_direct_hash_advance(rec, &c, fd, path, r, 2, cause);
}

int
trial_direct_hash_add(json_t *rec, int fd, const char *path, const uint64_t (*r)[2], size_t n,
		      char **cause)
{
	SHA_CTX c;
	int rc = trial_direct_hash_ctx(rec, &c, cause);

	return rc != 0 ? rc : trial_direct_hash_advance(rec, &c, fd, path, r, n, cause);
}

int
trial_direct_hash_finish(json_t *rec, int fd, const char *path, char hex[41], char **cause)
{
	uint64_t head = (uint64_t)json_integer_value(json_object_get(rec, "hashed"));
	uint64_t size = (uint64_t)json_integer_value(json_object_get(rec, "size"));
	off_t end = lseek(fd, 0, SEEK_END);
	unsigned char md[SHA_DIGEST_LENGTH];
	SHA_CTX c;
	int rc = trial_direct_hash_ctx(rec, &c, cause);

	if (rc == 0 && (end < 0 || (uint64_t)end != size))
		rc = error_set(cause, -EBADMSG, "%s is %lld bytes, created with %llu", path,
			       (long long)end, (unsigned long long)size);
	if (rc == 0)
		rc = trial_direct_hash_range(&c, fd, path, head, size, cause);
	if (rc == 0) {
		SHA1_Final(md, &c);
		for (int i = 0; i < SHA_DIGEST_LENGTH; i++)
			snprintf(hex + 2 * i, 3, "%02x", md[i]);
	}
	return rc;
}
