/* Protocol limits and hostile sizes: arrays over their batch limits, nesting deeper than
 * PROTO_MAX_DEPTH, declared lengths far beyond the bytes present (the 5-byte "2^32 elements"
 * message), and messages whose object count would amplify into a large allocation. */
#include <criterion/criterion.h>
#include <errno.h>
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

TestSuite(proto_limits, .fini = leak_check);

static double
now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Decode and assert rc; return the cause (caller frees) for further checks. */
static char *
decode_fails(const void *data, size_t len, int rc)
{
	struct proto_msg m;
	char *cause = NULL;
	int got = proto_decode(data, len, &m, &cause);

	cr_assert_eq(got, rc, "got %d (%s), expected %d", got, cause != NULL ? cause : "", rc);
	cr_assert_not_null(cause);
	proto_msg_fini(&m);
	return cause;
}

static void
pack_envelope(msgpack_packer *pk, uint32_t type)
{
	msgpack_pack_array(pk, 4);
	msgpack_pack_uint64(pk, PROTO_VERSION);
	msgpack_pack_uint64(pk, type);
	msgpack_pack_uint64(pk, 1);
}

Test(proto_limits, arrays_over_their_limits)
{
	static const struct {
		uint32_t type;
		const char *key;
		uint32_t limit;
	} cases[] = {
	    {PROTO_ACK, "cancel", PROTO_MAX_BATCH},
	    {PROTO_HEARTBEAT, "running", PROTO_MAX_BATCH},
	    {PROTO_ACCEPTED, "jobs", PROTO_MAX_INPUTS},
	    {PROTO_TASK_ASSIGN, "tasks", PROTO_MAX_BATCH},
	    {PROTO_TASK_REQUEST, "results", PROTO_MAX_BATCH},
	    {PROTO_SUBMIT, "inputs", PROTO_MAX_INPUTS},
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		msgpack_sbuffer sb;
		msgpack_packer pk;
		uint32_t type = cases[i].type;
		int extra = type == PROTO_HEARTBEAT || type == PROTO_SUBMIT ? 1
			    : type == PROTO_TASK_REQUEST                    ? 2
									    : 0;

		msgpack_sbuffer_init(&sb);
		msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
		pack_envelope(&pk, type);
		msgpack_pack_map(&pk, 1 + extra);
		if (type == PROTO_HEARTBEAT)
			proto_pack_ku64(&pk, "worker_id", 1);
		if (type == PROTO_SUBMIT)
			proto_pack_kstr(&pk, "pipeline", "{}");
		if (type == PROTO_TASK_REQUEST) {
			proto_pack_ku64(&pk, "worker_id", 1);
			proto_pack_ku64(&pk, "free_slots", 1);
		}
		proto_pack_str(&pk, cases[i].key);
		msgpack_pack_array(&pk, cases[i].limit + 1);
		for (uint32_t j = 0; j <= cases[i].limit; j++) {
			if (type == PROTO_SUBMIT)
				proto_pack_str(&pk, "/x");
			else if (type == PROTO_TASK_ASSIGN || type == PROTO_TASK_REQUEST)
				msgpack_pack_map(&pk, 0);
			else
				msgpack_pack_uint64(&pk, j);
		}
		char *cause = decode_fails(sb.data, sb.size, -EMSGSIZE);
		cr_assert_eq(proto_status_from_errno(-EMSGSIZE), PROTO_STATUS_TOO_BIG);
		cr_assert_not_null(strstr(cause, cases[i].key), "cause '%s' names the field",
				   cause);
		free(cause);
		msgpack_sbuffer_destroy(&sb);
	}
}

/* n nested arrays, the innermost holding `inner` (given as raw bytes). */
static uint8_t *
nested(int n, const uint8_t *inner, size_t ninner, size_t *len)
{
	uint8_t *d = xmalloc((size_t)n + ninner);
	memset(d, 0x91, (size_t)n); /* fixarray of one element */
	memcpy(d + n, inner, ninner);
	*len = (size_t)n + ninner;
	return d;
}

Test(proto_limits, nesting_at_and_over_the_limit)
{
	static const struct {
		const uint8_t bytes[5];
		size_t n;
		const char *what;
	} inners[] = {
	    {{0xc0}, 1, "nil"},
	    {{0x90}, 1, "empty fixarray"},
	    {{0x80}, 1, "empty fixmap"},
	    {{0xdc, 0, 0}, 3, "empty array16"},
	    {{0xdd, 0, 0, 0, 0}, 5, "empty array32"},
	    {{0xde, 0, 0}, 3, "empty map16"},
	    {{0xdf, 0, 0, 0, 0}, 5, "empty map32"},
	};

	for (size_t i = 0; i < sizeof inners / sizeof inners[0]; i++) {
		int container = inners[i].bytes[0] != 0xc0;
		/* Containers in total, counting the innermost one when it is a container. */
		for (int total = 1; total <= PROTO_MAX_DEPTH + 2; total++) {
			size_t len;
			char *cause = NULL;
			uint8_t *d = nested(total - container, inners[i].bytes, inners[i].n, &len);
			int rc = proto_msgpack_check(d, len, PROTO_MAX_DEPTH, &cause);

			if (total <= PROTO_MAX_DEPTH) {
				cr_assert_eq(rc, 0, "%s at depth %d: %s", inners[i].what, total,
					     cause != NULL ? cause : "");
			} else {
				cr_assert_eq(rc, -EBADMSG, "%s nested %d deep was accepted",
					     inners[i].what, total);
				cr_assert_not_null(strstr(cause, "nesting"), "%s", cause);
			}
			free(cause);
			free(d);
		}
	}
}

Test(proto_limits, deep_nesting_through_decode)
{
	/* [1, IDLE, 1, {"retry_ms": [[[...]]]}]: the field value nests past the limit. */
	msgpack_sbuffer sb;
	msgpack_packer pk;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	pack_envelope(&pk, PROTO_IDLE);
	msgpack_pack_map(&pk, 1);
	proto_pack_str(&pk, "retry_ms");
	for (int i = 0; i < 1000; i++)
		msgpack_pack_array(&pk, 1);
	msgpack_pack_nil(&pk);
	char *cause = decode_fails(sb.data, sb.size, -EBADMSG);
	cr_assert_not_null(strstr(cause, "nesting"), "%s", cause);
	free(cause);
	msgpack_sbuffer_destroy(&sb);
}

Test(proto_limits, five_bytes_declaring_2_pow_32_elements)
{
	static const struct {
		uint8_t bytes[6];
		size_t n;
	} attacks[] = {
	    {{0xdd, 0xff, 0xff, 0xff, 0xff}, 5},       /* array32 */
	    {{0xdf, 0xff, 0xff, 0xff, 0xff}, 5},       /* map32: 2^33 objects */
	    {{0xdb, 0xff, 0xff, 0xff, 0xff}, 5},       /* str32 */
	    {{0xc6, 0xff, 0xff, 0xff, 0xff}, 5},       /* bin32 */
	    {{0xc9, 0xff, 0xff, 0xff, 0xff, 0x01}, 6}, /* ext32 */
	    {{0xdc, 0xff, 0xff}, 3},                   /* array16 */
	    {{0xde, 0xff, 0xff}, 3},                   /* map16 */
	};

	for (size_t i = 0; i < sizeof attacks / sizeof attacks[0]; i++) {
		double t0 = now_ms();
		char *cause = decode_fails(attacks[i].bytes, attacks[i].n, -EBADMSG);
		double dt = now_ms() - t0;

		/* Refused by the pre-check from the declared count, before msgpack-c allocates. */
		cr_assert_not_null(strstr(cause, "exceed"), "attack %zu: %s", i, cause);
		cr_assert_lt(dt, 50.0, "attack %zu took %.1f ms", i, dt);
		free(cause);
	}
}

Test(proto_limits, huge_count_inside_a_valid_envelope)
{
	/* [1, TASK_REQUEST, 1, {"worker_id": 1, "free_slots": 1, "results": array32(2^32-1)}] */
	msgpack_sbuffer sb;
	msgpack_packer pk;
	static const uint8_t huge[] = {0xdd, 0xff, 0xff, 0xff, 0xff};

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	pack_envelope(&pk, PROTO_TASK_REQUEST);
	msgpack_pack_map(&pk, 3);
	proto_pack_ku64(&pk, "worker_id", 1);
	proto_pack_ku64(&pk, "free_slots", 1);
	proto_pack_str(&pk, "results");
	msgpack_sbuffer_write(&sb, (const char *)huge, sizeof huge);
	for (int i = 0; i < 64; i++) /* a few real elements do not make it plausible */
		msgpack_pack_map(&pk, 0);
	char *cause = decode_fails(sb.data, sb.size, -EBADMSG);
	cr_assert_not_null(strstr(cause, "4294967295"), "%s", cause);
	free(cause);
	msgpack_sbuffer_destroy(&sb);
}

Test(proto_limits, object_count_is_bounded)
{
	/* A 1 MiB message of one-byte objects would make msgpack-c allocate 16 bytes per object
	 * (16 MiB per message, 256 MiB at the message limit); the pre-check refuses more objects
	 * than any valid message holds, before unpacking. */
	size_t n = 1u << 20;
	msgpack_sbuffer sb;
	msgpack_packer pk;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	pack_envelope(&pk, PROTO_ACK);
	msgpack_pack_map(&pk, 1);
	proto_pack_str(&pk, "cancel");
	msgpack_pack_array(&pk, (uint32_t)n);
	for (size_t i = 0; i < n; i++)
		msgpack_pack_nil(&pk);

	char *cause = NULL;
	int rc = proto_msgpack_check((const uint8_t *)sb.data, sb.size, PROTO_MAX_DEPTH, &cause);
	cr_assert_eq(rc, -EMSGSIZE, "pre-check returned %d (%s)", rc, cause != NULL ? cause : "");
	cr_assert_not_null(strstr(cause, "objects"), "%s", cause);
	free(cause);
	free(decode_fails(sb.data, sb.size, -EMSGSIZE));
	msgpack_sbuffer_destroy(&sb);
}

Test(proto_limits, precheck_accepts_every_msgpack_type)
{
	/* One of each encoding, in a fixarray, so the walker's size table is exercised. */
	static const uint8_t all[] = {
	    0xdc, 0x00, 0x1f,                                    /* array16 of 31 */
	    0x00, 0xe0, 0xc0, 0xc2, 0xc3,                        /* fixints, nil, bools */
	    0xcc, 1,    0xcd, 1,    2,    0xce, 1,    2, 3,   4, /* uint 8/16/32 */
	    0xcf, 1,    2,    3,    4,    5,    6,    7, 8,      /* uint64 */
	    0xd0, 1,    0xd1, 1,    2,    0xd2, 1,    2, 3,   4, /* int 8/16/32 */
	    0xd3, 1,    2,    3,    4,    5,    6,    7, 8,      /* int64 */
	    0xca, 0,    0,    0,    0,    0xcb, 0,    0, 0,   0,    0, 0, 0,   0, /* float, double
										   */
	    0xa1, 'a',  0xd9, 1,    'b',  0xda, 0,    1, 'c', /* fixstr, str8, str16 */
	    0xdb, 0,    0,    0,    1,    'd',  0xc4, 1, 'e', 0xc5, 0, 1, 'f', /* str32, bin8, bin16
										*/
	    0xc6, 0,    0,    0,    1,    'g',                                 /* bin32 */
	    0xd4, 1,    'h',  0xd5, 1,    'i',  'j',                           /* fixext 1, 2 */
	    0xd6, 1,    0,    0,    0,    0,                                   /* fixext 4 */
	    0xd7, 1,    0,    0,    0,    0,    0,    0, 0,   0,               /* fixext 8 */
	    0xd8, 1,    0,    0,    0,    0,    0,    0, 0,   0,    0, 0, 0,   0, 0,
	    0,    0,    0,                                    /* fixext 16 */
	    0xc7, 1,    1,    'k',  0xc8, 0,    1,    1, 'l', /* ext8, ext16 */
	    0xc9, 0,    0,    0,    1,    1,    'm',          /* ext32 */
	    0x81, 0xa1, 'k',  0x90,                           /* fixmap {"k": []} */
	};
	char *cause = NULL;

	cr_assert_eq(proto_msgpack_check(all, sizeof all, PROTO_MAX_DEPTH, &cause), 0, "%s",
		     cause != NULL ? cause : "");
	/* Every strict prefix is refused. */
	for (size_t n = 0; n < sizeof all; n++) {
		cr_assert_neq(proto_msgpack_check(all, n, PROTO_MAX_DEPTH, &cause), 0, "prefix %zu",
			      n);
		free(cause);
		cause = NULL;
	}
}

Test(proto_limits, ext_types_declare_the_data_after_their_type_byte)
{
	/* Each form declares 5 data bytes (fixext 4: 4) and is cut short; the type byte of an ext
	 * belongs to its header, as the length field does, so the cause names the declared data
	 * length and the bytes left after the header, like a str or bin of the same length. */
	static const struct {
		uint8_t bytes[8];
		size_t n;
		const char *want;
	} cut[] = {
	    {{0xd9, 5, 'a', 'b'}, 4, "declared length 5 at byte 0 exceeds the 2 bytes left"},
	    {{0xd6, 1, 'a', 'b'}, 4, "declared length 4 at byte 0 exceeds the 2 bytes left"},
	    {{0xc7, 5, 1, 'a', 'b'}, 5, "declared length 5 at byte 0 exceeds the 2 bytes left"},
	    {{0xc8, 0, 5, 1, 'a'}, 5, "declared length 5 at byte 0 exceeds the 1 bytes left"},
	    {{0xc9, 0, 0, 0, 5, 1}, 6, "declared length 5 at byte 0 exceeds the 0 bytes left"},
	};

	for (size_t i = 0; i < sizeof cut / sizeof cut[0]; i++) {
		char *cause = NULL;
		int rc = proto_msgpack_check(cut[i].bytes, cut[i].n, PROTO_MAX_DEPTH, &cause);

		cr_assert_eq(rc, -EBADMSG, "form 0x%02x accepted", cut[i].bytes[0]);
		cr_assert_not_null(strstr(cause, cut[i].want), "form 0x%02x: %s", cut[i].bytes[0],
				   cause);
		free(cause);
	}
}
