/* Protocol decoder rejections: every malformed, oversized or hostile input fails with the right
 * -errno (and so the right wire status), a cause, a zeroed body and no leaked memory. */
#include <criterion/criterion.h>
#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/xmalloc.h"
#include "proto-sample.h"
#include "proto/proto-codec.h"
#include "proto/proto-msgpack.h"

/* Criterion ignores assertions in .fini; a leak aborts the test process instead. */
static void
leak_check(void)
{
	if (proto_sample_leaks() != 0)
		abort();
}

TestSuite(proto_reject, .fini = leak_check);

/* Bytes in use on the heap. glibc counts chunks parked in its per-thread cache as in use, so the
 * count is exact only with that cache off (GLIBC_TUNABLES=glibc.malloc.tcache_count=0, set by
 * meson test); otherwise, and under AddressSanitizer (which checks leaks itself at exit), 0. */
static size_t
heap_in_use(void)
{
	const char *t = getenv("GLIBC_TUNABLES");

	if (t == NULL || strstr(t, "glibc.malloc.tcache_count=0") == NULL)
		return 0;
	return mallinfo2().uordblks;
}

Test(proto_reject, leak_check_is_armed)
{
	/* meson test runs this file with the cache off: a leak of one byte must show. */
	size_t before = heap_in_use();
	char *p = xmalloc(100);
	size_t during = heap_in_use();

	free(p);
	if (getenv("ND_ASAN") == NULL)
		cr_assert_gt(during, before, "heap accounting is off: run through meson test");
}

/* Decode data and assert it fails with rc and status, leaving no allocation behind. Returns the
 * decoded envelope type (set when the envelope was readable). */
static uint32_t
expect_reject(const void *data, size_t len, int rc, enum proto_status status, const char *what)
{
	struct proto_msg m;
	char *cause = NULL;
	size_t before, after, causelen;
	int got;

	/* Warm-up: the first failure may allocate lazily inside libc (vasprintf). */
	got = proto_decode(data, len, &m, &cause);
	free(cause);
	cause = NULL;
	/* No assertion between the two measurements: Criterion allocates for its own reports. */
	before = heap_in_use();
	got = proto_decode(data, len, &m, &cause);
	causelen = cause != NULL ? strlen(cause) : 0;
	if (got != rc)
		cr_assert_fail("%s: got %d (%s), expected %d", what, got,
			       cause != NULL ? cause : "no cause", rc);
	free(cause);
	after = heap_in_use();
	cr_assert_eq(proto_status_from_errno(got), status, "%s: wire status", what);
	cr_assert_gt(causelen, 0, "%s: no cause", what);
	cr_assert_eq(after, before, "%s: leaked %zd bytes", what, (ssize_t)(after - before));
	/* The body is zeroed: fini on it is harmless. */
	for (size_t i = 0; i < sizeof m.u; i++)
		cr_assert_eq(((const unsigned char *)&m.u)[i], 0, "%s: body not zeroed", what);
	proto_msg_fini(&m);
	return m.type;
}

/* A raw message under construction: envelope [version, type, 7, body]. */
struct raw {
	msgpack_sbuffer sb;
	msgpack_packer pk;
};

static void
raw_begin(struct raw *r, uint64_t version, uint64_t type)
{
	msgpack_sbuffer_init(&r->sb);
	msgpack_packer_init(&r->pk, &r->sb, msgpack_sbuffer_write);
	msgpack_pack_array(&r->pk, 4);
	msgpack_pack_uint64(&r->pk, version);
	msgpack_pack_uint64(&r->pk, type);
	msgpack_pack_uint64(&r->pk, 7);
}

static void
raw_reject(struct raw *r, int rc, enum proto_status status, const char *what)
{
	expect_reject(r->sb.data, r->sb.size, rc, status, what);
	msgpack_sbuffer_destroy(&r->sb);
}

#define MALFORMED(r, what) raw_reject(r, -EBADMSG, PROTO_STATUS_MALFORMED, what)

Test(proto_reject, every_prefix_of_every_sample)
{
	for (size_t i = 0; i < proto_sample_count(); i++) {
		size_t len;
		uint8_t *data = proto_sample_bytes(i, &len);

		for (size_t n = 0; n < len; n++) {
			/* A copy of exactly n bytes, so ASan sees any read past the prefix. */
			uint8_t *p = xmalloc(n);
			memcpy(p, data, n);
			expect_reject(p, n, -EBADMSG, PROTO_STATUS_MALFORMED, "prefix");
			free(p);
		}
		free(data);
	}
}

Test(proto_reject, trailing_bytes)
{
	size_t len;
	uint8_t *data = proto_sample_bytes(0, &len);

	data = xrealloc(data, len + 3);
	memcpy(data + len, "\xc0\x01\x02", 3);
	expect_reject(data, len + 1, -EBADMSG, PROTO_STATUS_MALFORMED, "one nil after");
	expect_reject(data, len + 3, -EBADMSG, PROTO_STATUS_MALFORMED, "three bytes after");
	/* A second whole message after the first. */
	data = xrealloc(data, 2 * len);
	memcpy(data + len, data, len);
	expect_reject(data, 2 * len, -EBADMSG, PROTO_STATUS_MALFORMED, "two messages");
	free(data);
}

Test(proto_reject, oversized)
{
	size_t n = PROTO_MAX_MESSAGE + 1;
	uint8_t *big = xcalloc(1, n);

	/* Rejected on size alone, before looking at the bytes. */
	expect_reject(big, n, -EMSGSIZE, PROTO_STATUS_TOO_BIG, "over PROTO_MAX_MESSAGE");
	free(big);
}

Test(proto_reject, string_over_its_limit)
{
	struct proto_msg m = {.type = PROTO_STATUS_REPLY};
	size_t len;
	uint8_t *data;

	m.u.status_reply.content_type = xstrdup("application/json");
	m.u.status_reply.body = xmalloc(PROTO_MAX_TEXT + 2);
	memset(m.u.status_reply.body, '{', PROTO_MAX_TEXT + 1);
	m.u.status_reply.body[PROTO_MAX_TEXT + 1] = '\0';
	data = proto_sample_encode(&m, &len);
	expect_reject(data, len, -EMSGSIZE, PROTO_STATUS_TOO_BIG, "body over PROTO_MAX_TEXT");
	free(data);
	proto_msg_fini(&m);

	m.type = PROTO_HELLO;
	m.u.hello.role = PROTO_ROLE_CLIENT;
	m.u.hello.version = xstrdup("1");
	m.u.hello.nonce = xstrdup("00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff");
	m.u.hello.host = xmalloc(PROTO_MAX_NAME + 2);
	memset(m.u.hello.host, 't', PROTO_MAX_NAME + 1);
	m.u.hello.host[PROTO_MAX_NAME + 1] = '\0';
	data = proto_sample_encode(&m, &len);
	expect_reject(data, len, -EMSGSIZE, PROTO_STATUS_TOO_BIG, "host over PROTO_MAX_NAME");
	free(data);
	proto_msg_fini(&m);

	/* An input path over PROTO_MAX_NAME is too big, like any other over-long string. */
	m.type = PROTO_SUBMIT;
	m.u.submit.pipeline = xstrdup("{}");
	m.u.submit.ninputs = 2;
	m.u.submit.inputs = xcalloc(3, sizeof(char *));
	m.u.submit.inputs[0] = xstrdup("/ok");
	m.u.submit.inputs[1] = xmalloc(PROTO_MAX_NAME + 2);
	memset(m.u.submit.inputs[1], 'p', PROTO_MAX_NAME + 1);
	m.u.submit.inputs[1][PROTO_MAX_NAME + 1] = '\0';
	data = proto_sample_encode(&m, &len);
	expect_reject(data, len, -EMSGSIZE, PROTO_STATUS_TOO_BIG, "input over PROTO_MAX_NAME");
	free(data);
	proto_msg_fini(&m);
}

Test(proto_reject, wrong_version_keeps_the_envelope)
{
	struct raw r;
	struct proto_msg m;
	char *cause = NULL;

	raw_begin(&r, PROTO_VERSION + 1, PROTO_IDLE);
	msgpack_pack_map(&r.pk, 1);
	proto_pack_ku64(&r.pk, "retry_ms", 5);
	cr_assert_eq(proto_decode(r.sb.data, r.sb.size, &m, &cause), -EPROTONOSUPPORT);
	cr_assert_eq(m.type, PROTO_IDLE);
	cr_assert_eq(m.request_id, 7, "the id is kept so the error reply can name it");
	free(cause);
	cr_assert_eq(expect_reject(r.sb.data, r.sb.size, -EPROTONOSUPPORT, PROTO_STATUS_VERSION,
				   "the next version"),
		     PROTO_IDLE);
	msgpack_sbuffer_destroy(&r.sb);
	raw_begin(&r, 0, PROTO_IDLE);
	msgpack_pack_map(&r.pk, 0);
	raw_reject(&r, -EPROTONOSUPPORT, PROTO_STATUS_VERSION, "version 0");
}

Test(proto_reject, unknown_types)
{
	static const uint64_t types[] = {
	    0, 99, 150, 199, 205, 304, 450, 499, UINT32_MAX, (uint64_t)UINT32_MAX + PROTO_HELLO};
	struct raw r;

	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
		raw_begin(&r, PROTO_VERSION, types[i]);
		msgpack_pack_map(&r.pk, 0);
		raw_reject(&r, -ENOMSG, PROTO_STATUS_UNKNOWN_TYPE, "unknown type");
	}
}

Test(proto_reject, envelope_shape)
{
	struct raw r;

	/* Not an array, wrong arity, non-integer header fields, negative version. */
	static const uint8_t not_array[] = {0x84, 0x01, 0x01, 0x02, 0x02, 0x03, 0x03, 0x04, 0x80};
	static const uint8_t three[] = {0x93, 0x01, 0xcc, 0xca, 0x07};
	static const uint8_t five[] = {0x95, 0x01, 0xcc, 0xca, 0x07, 0x80, 0xc0};
	static const uint8_t str_type[] = {0x94, 0x01, 0xa1, 'x', 0x07, 0x80};
	static const uint8_t neg_version[] = {0x94, 0xff, 0xcc, 0xca, 0x07, 0x80};
	static const uint8_t float_id[] = {0x94, 0x01, 0xcc, 0xca, 0xca, 0, 0, 0, 0, 0x80};
	static const uint8_t nil[] = {0xc0};
	static const uint8_t reserved[] = {0xc1};
	expect_reject(not_array, sizeof not_array, -EBADMSG, PROTO_STATUS_MALFORMED, "map");
	expect_reject(three, sizeof three, -EBADMSG, PROTO_STATUS_MALFORMED, "3 elements");
	expect_reject(five, sizeof five, -EBADMSG, PROTO_STATUS_MALFORMED, "5 elements");
	expect_reject(str_type, sizeof str_type, -EBADMSG, PROTO_STATUS_MALFORMED, "str type");
	expect_reject(neg_version, sizeof neg_version, -EBADMSG, PROTO_STATUS_MALFORMED, "-1");
	expect_reject(float_id, sizeof float_id, -EBADMSG, PROTO_STATUS_MALFORMED, "float id");
	expect_reject(nil, sizeof nil, -EBADMSG, PROTO_STATUS_MALFORMED, "nil");
	expect_reject(reserved, sizeof reserved, -EBADMSG, PROTO_STATUS_MALFORMED, "0xc1");

	/* Body not a map, for every family. */
	static const uint32_t types[] = {PROTO_HELLO, PROTO_SUBMIT, PROTO_TASK_REQUEST, PROTO_ACK};
	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
		raw_begin(&r, PROTO_VERSION, types[i]);
		msgpack_pack_array(&r.pk, 0);
		MALFORMED(&r, "array body");
		raw_begin(&r, PROTO_VERSION, types[i]);
		msgpack_pack_nil(&r.pk);
		MALFORMED(&r, "nil body");
	}
}

Test(proto_reject, wrong_field_types)
{
	struct raw r;

	raw_begin(&r, PROTO_VERSION, PROTO_CANCEL);
	msgpack_pack_map(&r.pk, 1);
	proto_pack_kstr(&r.pk, "job", "3");
	MALFORMED(&r, "string for an integer");

	raw_begin(&r, PROTO_VERSION, PROTO_CANCEL);
	msgpack_pack_map(&r.pk, 1);
	proto_pack_str(&r.pk, "job");
	msgpack_pack_double(&r.pk, 3.0);
	MALFORMED(&r, "float for an integer");

	raw_begin(&r, PROTO_VERSION, PROTO_STATUS_REPLY);
	msgpack_pack_map(&r.pk, 1);
	proto_pack_str(&r.pk, "json");
	msgpack_pack_bin(&r.pk, 2);
	msgpack_pack_bin_body(&r.pk, "{}", 2);
	MALFORMED(&r, "bin for a string");

	raw_begin(&r, PROTO_VERSION, PROTO_HEARTBEAT);
	msgpack_pack_map(&r.pk, 2);
	proto_pack_ku64(&r.pk, "worker_id", 1);
	proto_pack_str(&r.pk, "running");
	msgpack_pack_array(&r.pk, 2);
	msgpack_pack_uint64(&r.pk, 1);
	msgpack_pack_int64(&r.pk, -1);
	MALFORMED(&r, "negative in an id array");

	raw_begin(&r, PROTO_VERSION, PROTO_ACK);
	msgpack_pack_map(&r.pk, 1);
	proto_pack_ku64(&r.pk, "cancel", 5);
	MALFORMED(&r, "integer for an array");

	raw_begin(&r, PROTO_VERSION, PROTO_IDLE);
	msgpack_pack_map(&r.pk, 1);
	msgpack_pack_uint64(&r.pk, 1);
	msgpack_pack_uint64(&r.pk, 5);
	MALFORMED(&r, "integer key");

	raw_begin(&r, PROTO_VERSION, PROTO_TASK_REQUEST);
	msgpack_pack_map(&r.pk, 3);
	proto_pack_ku64(&r.pk, "worker_id", 1);
	proto_pack_ku64(&r.pk, "free_slots", 1);
	proto_pack_str(&r.pk, "results");
	msgpack_pack_array(&r.pk, 1);
	msgpack_pack_map(&r.pk, 3);
	proto_pack_ku64(&r.pk, "task", 1);
	proto_pack_ku64(&r.pk, "attempt", 1);
	proto_pack_ku64(&r.pk, "ok", 1);
	MALFORMED(&r, "integer for a boolean");

	raw_begin(&r, PROTO_VERSION, PROTO_SUBMIT);
	msgpack_pack_map(&r.pk, 2);
	proto_pack_kstr(&r.pk, "pipeline", "{}");
	proto_pack_str(&r.pk, "inputs");
	msgpack_pack_array(&r.pk, 2);
	proto_pack_str(&r.pk, "/a");
	msgpack_pack_nil(&r.pk);
	MALFORMED(&r, "nil input (first input already copied)");

	raw_begin(&r, PROTO_VERSION, PROTO_HELLO);
	msgpack_pack_map(&r.pk, 3);
	proto_pack_kstr(&r.pk, "role", "admin");
	proto_pack_kstr(&r.pk, "token", "t");
	proto_pack_kstr(&r.pk, "version", "v");
	MALFORMED(&r, "unknown role");
}

Test(proto_reject, missing_required_fields)
{
	struct raw r;

	raw_begin(&r, PROTO_VERSION, PROTO_HELLO);
	msgpack_pack_map(&r.pk, 2);
	proto_pack_kstr(&r.pk, "role", "client");
	proto_pack_kstr(&r.pk, "token", "t");
	MALFORMED(&r, "HELLO without version");

	raw_begin(&r, PROTO_VERSION, PROTO_HELLO);
	msgpack_pack_map(&r.pk, 3);
	proto_pack_kstr(&r.pk, "role", "worker");
	proto_pack_kstr(&r.pk, "token", "t");
	proto_pack_kstr(&r.pk, "version", "v");
	MALFORMED(&r, "worker HELLO without slots");

	raw_begin(&r, PROTO_VERSION, PROTO_TASK_ASSIGN);
	msgpack_pack_map(&r.pk, 0);
	MALFORMED(&r, "ASSIGN without tasks");

	raw_begin(&r, PROTO_VERSION, PROTO_TASK_ASSIGN);
	msgpack_pack_map(&r.pk, 1);
	proto_pack_str(&r.pk, "tasks");
	msgpack_pack_array(&r.pk, 2);
	msgpack_pack_map(&r.pk, 3);
	proto_pack_ku64(&r.pk, "task", 1);
	proto_pack_ku64(&r.pk, "attempt", 1);
	proto_pack_kstr(&r.pk, "spec", "{}");
	msgpack_pack_map(&r.pk, 2);
	proto_pack_ku64(&r.pk, "task", 2);
	proto_pack_ku64(&r.pk, "attempt", 1);
	MALFORMED(&r, "second task without spec");

	raw_begin(&r, PROTO_VERSION, PROTO_ERROR);
	msgpack_pack_map(&r.pk, 1);
	proto_pack_ku64(&r.pk, "status", PROTO_STATUS_AUTH);
	MALFORMED(&r, "ERROR without message");
}

Test(proto_reject, unknown_and_duplicate_fields)
{
	struct raw r;

	raw_begin(&r, PROTO_VERSION, PROTO_IDLE);
	msgpack_pack_map(&r.pk, 2);
	proto_pack_ku64(&r.pk, "retry_ms", 5);
	proto_pack_ku64(&r.pk, "retry_sec", 5);
	MALFORMED(&r, "unknown field");

	raw_begin(&r, PROTO_VERSION, PROTO_ACK);
	msgpack_pack_map(&r.pk, 1);
	proto_pack_ku64(&r.pk, "surprise", 1);
	MALFORMED(&r, "unknown field in an all-optional body");

	raw_begin(&r, PROTO_VERSION, PROTO_STATUS);
	msgpack_pack_map(&r.pk, 2);
	proto_pack_kstr(&r.pk, "what", "jobs");
	proto_pack_kstr(&r.pk, "what", "jobs");
	MALFORMED(&r, "duplicate string field");

	raw_begin(&r, PROTO_VERSION, PROTO_HELLO);
	msgpack_pack_map(&r.pk, 4);
	proto_pack_kstr(&r.pk, "role", "client");
	proto_pack_kstr(&r.pk, "token", "a");
	proto_pack_kstr(&r.pk, "token", "b");
	proto_pack_kstr(&r.pk, "version", "v");
	MALFORMED(&r, "duplicate token (the first copy may be allocated)");

	raw_begin(&r, PROTO_VERSION, PROTO_TASK_REQUEST);
	msgpack_pack_map(&r.pk, 3);
	proto_pack_ku64(&r.pk, "worker_id", 1);
	proto_pack_ku64(&r.pk, "free_slots", 1);
	proto_pack_str(&r.pk, "results");
	msgpack_pack_array(&r.pk, 1);
	msgpack_pack_map(&r.pk, 4);
	proto_pack_ku64(&r.pk, "task", 1);
	proto_pack_ku64(&r.pk, "attempt", 1);
	proto_pack_kbool(&r.pk, "ok", false);
	proto_pack_kstr(&r.pk, "stderr", "boom");
	MALFORMED(&r, "unknown field in a nested result");

	raw_begin(&r, PROTO_VERSION, PROTO_IDLE);
	msgpack_pack_map(&r.pk, PROTO_MAX_MAP_KEYS + 1);
	for (int i = 0; i <= PROTO_MAX_MAP_KEYS; i++) {
		char key[16];
		snprintf(key, sizeof key, "k%d", i);
		proto_pack_ku64(&r.pk, i == 0 ? "retry_ms" : key, 1);
	}
	MALFORMED(&r, "more keys than PROTO_MAX_MAP_KEYS");
}

Test(proto_reject, out_of_range_integers)
{
	static const struct {
		uint32_t type;
		const char *key;
		uint64_t value;
	} cases[] = {
	    {PROTO_CANCEL, "job", 0},
	    {PROTO_CANCEL, "job", (uint64_t)UINT32_MAX + 1},
	    {PROTO_IDLE, "retry_ms", 3600001},
	    {PROTO_IDLE, "retry_ms", UINT64_MAX},
	    {PROTO_BYE, "worker_id", 0},
	    {PROTO_ERROR, "status", 0},
	    {PROTO_ERROR, "status", PROTO_STATUS_COUNT},
	};
	struct raw r;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		raw_begin(&r, PROTO_VERSION, cases[i].type);
		msgpack_pack_map(&r.pk, 1 + (cases[i].type == PROTO_ERROR));
		proto_pack_ku64(&r.pk, cases[i].key, cases[i].value);
		if (cases[i].type == PROTO_ERROR)
			proto_pack_kstr(&r.pk, "message", "m");
		MALFORMED(&r, cases[i].key);
	}
	raw_begin(&r, PROTO_VERSION, PROTO_WELCOME);
	msgpack_pack_map(&r.pk, 2);
	proto_pack_ku64(&r.pk, "worker_id", 1);
	proto_pack_ku64(&r.pk, "heartbeat_ms", 0);
	MALFORMED(&r, "heartbeat 0");

	raw_begin(&r, PROTO_VERSION, PROTO_HELLO);
	msgpack_pack_map(&r.pk, 4);
	proto_pack_kstr(&r.pk, "role", "worker");
	proto_pack_kstr(&r.pk, "token", "t");
	proto_pack_kstr(&r.pk, "version", "v");
	proto_pack_ku64(&r.pk, "slots", PROTO_MAX_SLOTS + 1);
	MALFORMED(&r, "slots over PROTO_MAX_SLOTS");

	raw_begin(&r, PROTO_VERSION, PROTO_TASK_ASSIGN);
	msgpack_pack_map(&r.pk, 1);
	proto_pack_str(&r.pk, "tasks");
	msgpack_pack_array(&r.pk, 1);
	msgpack_pack_map(&r.pk, 3);
	proto_pack_ku64(&r.pk, "task", 1);
	proto_pack_ku64(&r.pk, "attempt", 0);
	proto_pack_kstr(&r.pk, "spec", "{}");
	MALFORMED(&r, "attempt 0");
}

Test(proto_reject, strings_with_nul)
{
	struct raw r;

	raw_begin(&r, PROTO_VERSION, PROTO_STATUS_REPLY);
	msgpack_pack_map(&r.pk, 1);
	proto_pack_str(&r.pk, "json");
	msgpack_pack_str(&r.pk, 3);
	msgpack_pack_str_body(&r.pk, "{\0}", 3);
	MALFORMED(&r, "NUL in a text");

	raw_begin(&r, PROTO_VERSION, PROTO_SUBMIT);
	msgpack_pack_map(&r.pk, 2);
	proto_pack_kstr(&r.pk, "pipeline", "{}");
	proto_pack_str(&r.pk, "inputs");
	msgpack_pack_array(&r.pk, 1);
	msgpack_pack_str(&r.pk, 4);
	msgpack_pack_str_body(&r.pk, "/a\0b", 4);
	MALFORMED(&r, "NUL in an input path");

	raw_begin(&r, PROTO_VERSION, PROTO_SUBMIT);
	msgpack_pack_map(&r.pk, 2);
	proto_pack_kstr(&r.pk, "pipeline", "{}");
	proto_pack_str(&r.pk, "inputs");
	msgpack_pack_array(&r.pk, 1);
	proto_pack_str(&r.pk, "");
	MALFORMED(&r, "empty input path");

	raw_begin(&r, PROTO_VERSION, PROTO_HELLO);
	msgpack_pack_map(&r.pk, 3);
	proto_pack_str(&r.pk, "role");
	msgpack_pack_str(&r.pk, 7);
	msgpack_pack_str_body(&r.pk, "client\0", 7);
	proto_pack_kstr(&r.pk, "token", "t");
	proto_pack_kstr(&r.pk, "version", "v");
	MALFORMED(&r, "NUL after the role");
}

/* A heartbeat's memory and CPU come together: one without the other is malformed. */
Test(proto_reject, heartbeat_usage_halves)
{
	struct raw r;
	const uint64_t running[] = {PROTO_TASK_ID(1, 2)};

	raw_begin(&r, PROTO_VERSION, PROTO_HEARTBEAT);
	msgpack_pack_map(&r.pk, 3);
	proto_pack_ku64(&r.pk, "worker_id", 1);
	proto_pack_ku64_array(&r.pk, "running", running, 1);
	proto_pack_ku64(&r.pk, "rss_bytes", 1 << 20);
	MALFORMED(&r, "heartbeat with rss_bytes alone");

	raw_begin(&r, PROTO_VERSION, PROTO_HEARTBEAT);
	msgpack_pack_map(&r.pk, 3);
	proto_pack_ku64(&r.pk, "worker_id", 1);
	proto_pack_ku64_array(&r.pk, "running", running, 1);
	proto_pack_ku64(&r.pk, "cpu_us", 5);
	MALFORMED(&r, "heartbeat with cpu_us alone");
}
