/* Protocol codec round trips: every message type, with optional fields absent and present, empty
 * arrays and arrays at their limits, survives encode -> decode with every field equal. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"
#include "proto-sample.h"
#include "proto/proto-codec.h"

/* Criterion ignores assertions in .fini; a leak aborts the test process instead. */
static void
leak_check(void)
{
	if (proto_sample_leaks() != 0)
		abort();
}

TestSuite(proto_codec, .fini = leak_check);

/* Encode msg, decode it, assert equality and return the encoded size. */
static size_t
roundtrip(const struct proto_msg *msg)
{
	struct proto_msg out;
	char *cause = NULL;
	size_t len;
	uint8_t *data = proto_sample_encode(msg, &len);
	int rc = proto_decode(data, len, &out, &cause);

	cr_assert_eq(rc, 0, "%s: decode failed: %d (%s)", proto_type_name(msg->type), rc,
		     cause != NULL ? cause : "");
	cr_assert_null(cause);
	cr_assert(proto_sample_equal(msg, &out), "%s: fields differ after the round trip",
		  proto_type_name(msg->type));
	proto_msg_fini(&out);
	free(data);
	return len;
}

Test(proto_codec, every_sample_round_trips)
{
	bool seen[500] = {false};

	for (size_t i = 0; i < proto_sample_count(); i++) {
		struct proto_msg m;
		proto_sample_build(i, &m);
		roundtrip(&m);
		seen[m.type] = true;
		proto_msg_fini(&m);
	}
	/* The sample set covers every type the codec table knows. */
	for (uint32_t t = 0; t < 500; t++)
		cr_assert_eq(seen[t], strcmp(proto_type_name(t), "UNKNOWN") != 0,
			     "type %u coverage", t);
}

Test(proto_codec, fini_accepts_null_and_zeroes)
{
	struct proto_msg m;

	proto_msg_fini(NULL);
	proto_sample_build(1, &m);
	proto_msg_fini(&m);
	cr_assert_null(m.u.hello.nonce);
	cr_assert_null(m.u.hello.host);
	proto_msg_fini(&m); /* twice is harmless */
}

Test(proto_codec, encode_rejects_unknown_type)
{
	struct proto_msg m = {.type = 999};
	msgpack_sbuffer sb;

	msgpack_sbuffer_init(&sb);
	cr_assert_eq(proto_encode(&m, &sb), -EINVAL);
	cr_assert_eq(sb.size, 0);
	msgpack_sbuffer_destroy(&sb);
}

Test(proto_codec, envelope_fields_survive)
{
	struct proto_msg m = {.type = PROTO_IDLE, .request_id = UINT64_MAX};

	m.u.idle.retry_ms = 3600000; /* the upper limit */
	roundtrip(&m);
	m.request_id = 0;
	m.u.idle.retry_ms = 0;
	roundtrip(&m);
}

Test(proto_codec, hello_worker_without_host_or_slurm)
{
	struct proto_msg m = {.type = PROTO_HELLO, .request_id = 5};

	m.u.hello.role = PROTO_ROLE_WORKER;
	m.u.hello.nonce = xstrdup("00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff");
	m.u.hello.version = xstrdup("");
	m.u.hello.slots = PROTO_MAX_SLOTS;
	m.u.hello.pid = UINT32_MAX;
	m.u.hello.mem = UINT64_MAX;
	roundtrip(&m);
	proto_msg_fini(&m);
}

Test(proto_codec, hello_client_with_identity_fields)
{
	/* The decoder accepts host/pid/slots/mem from a client too: they must not be dropped. */
	struct proto_msg m = {.type = PROTO_HELLO, .request_id = 6};

	m.u.hello.role = PROTO_ROLE_CLIENT;
	m.u.hello.nonce = xstrdup("00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff");
	m.u.hello.version = xstrdup("0.1.0");
	m.u.hello.host = xstrdup("laptop");
	m.u.hello.pid = 77;
	m.u.hello.slurm_job = xstrdup("1_2");
	roundtrip(&m);
	proto_msg_fini(&m);
}

Test(proto_codec, strings_at_the_name_limit)
{
	struct proto_msg m = {.type = PROTO_HELLO};
	char *big = xmalloc(PROTO_MAX_NAME + 1);

	memset(big, 'x', PROTO_MAX_NAME);
	big[PROTO_MAX_NAME] = '\0';
	m.u.hello.role = PROTO_ROLE_CLIENT;
	m.u.hello.nonce = xstrdup("00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff");
	m.u.hello.host = big;
	m.u.hello.version = xstrdup("\xc3\xa9t\xc3\xa9"); /* UTF-8 passes through */
	roundtrip(&m);
	proto_msg_fini(&m);
}

Test(proto_codec, submit_max_inputs)
{
	struct proto_msg m = {.type = PROTO_SUBMIT, .request_id = 1};
	struct proto_submit *s = &m.u.submit;

	s->pipeline = xstrdup("{}");
	s->ninputs = PROTO_MAX_INPUTS;
	s->inputs = xcalloc(PROTO_MAX_INPUTS + 1, sizeof *s->inputs);
	for (uint32_t i = 0; i < PROTO_MAX_INPUTS; i++)
		s->inputs[i] = xasprintf("/data/run-%05u.edf", i);
	roundtrip(&m);
	proto_msg_fini(&m);
}

Test(proto_codec, submit_empty_inputs_and_empty_pipeline)
{
	struct proto_msg m = {.type = PROTO_SUBMIT, .request_id = 2};

	m.u.submit.pipeline = xstrdup("");
	m.u.submit.output = xstrdup("o");
	roundtrip(&m);
	proto_msg_fini(&m);
}

Test(proto_codec, accepted_max_jobs)
{
	struct proto_msg m = {.type = PROTO_ACCEPTED};

	m.u.accepted.njobs = PROTO_MAX_INPUTS;
	m.u.accepted.jobs = xcalloc(PROTO_MAX_INPUTS, sizeof(uint64_t));
	for (uint32_t i = 0; i < PROTO_MAX_INPUTS; i++)
		m.u.accepted.jobs[i] = (uint64_t)i * 0x10001u + (i == 7 ? UINT64_MAX - 70000 : 0);
	roundtrip(&m);
	proto_msg_fini(&m);
}

Test(proto_codec, ack_and_heartbeat_max_batch)
{
	struct proto_msg a = {.type = PROTO_ACK}, h = {.type = PROTO_HEARTBEAT};

	a.u.ack.ncancel = PROTO_MAX_BATCH;
	a.u.ack.cancel = xcalloc(PROTO_MAX_BATCH, sizeof(uint64_t));
	h.u.heartbeat.worker_id = UINT64_MAX;
	h.u.heartbeat.nrunning = PROTO_MAX_BATCH;
	h.u.heartbeat.running = xcalloc(PROTO_MAX_BATCH, sizeof(uint64_t));
	for (uint32_t i = 0; i < PROTO_MAX_BATCH; i++)
		a.u.ack.cancel[i] = h.u.heartbeat.running[i] = PROTO_TASK_ID(i, i * 3);
	roundtrip(&a);
	roundtrip(&h);
	proto_msg_fini(&a);
	proto_msg_fini(&h);
}

Test(proto_codec, task_request_max_results)
{
	struct proto_msg m = {.type = PROTO_TASK_REQUEST};
	struct proto_task_request *r = &m.u.task_request;

	r->worker_id = 1;
	r->free_slots = PROTO_MAX_BATCH;
	r->nresults = PROTO_MAX_BATCH;
	r->results = xcalloc(PROTO_MAX_BATCH, sizeof *r->results);
	for (uint32_t i = 0; i < PROTO_MAX_BATCH; i++) {
		struct proto_task_result *t = &r->results[i];
		t->task = PROTO_TASK_ID(1, i);
		t->attempt = 1 + i % 1000;
		t->ok = i % 3 != 0;
		t->elapsed_us = (uint64_t)i << 20;
		if (t->ok && i % 2 == 0)
			t->result = xasprintf("{\"i\":%u}", i);
		if (!t->ok)
			t->error = xasprintf("failed %u", i);
	}
	roundtrip(&m);
	proto_msg_fini(&m);
}

Test(proto_codec, task_assign_max_tasks)
{
	struct proto_msg m = {.type = PROTO_TASK_ASSIGN};
	struct proto_task_assign *a = &m.u.task_assign;

	a->ntasks = PROTO_MAX_BATCH;
	a->tasks = xcalloc(PROTO_MAX_BATCH, sizeof *a->tasks);
	for (uint32_t i = 0; i < PROTO_MAX_BATCH; i++) {
		a->tasks[i].task = PROTO_TASK_ID(9, i);
		a->tasks[i].attempt = 1000;
		a->tasks[i].spec = xasprintf("{\"chan\":%u}", i);
		a->tasks[i].deps = i % 2 ? xstrdup("{}") : NULL;
	}
	roundtrip(&m);
	proto_msg_fini(&m);
}

Test(proto_codec, large_text_round_trips)
{
	struct proto_msg m = {.type = PROTO_STATUS_REPLY};
	size_t n = PROTO_MAX_TEXT;
	size_t len;

	m.u.status_reply.content_type = xstrdup("text/plain");
	m.u.status_reply.body = xmalloc(n + 1);
	memset(m.u.status_reply.body, 'j', n);
	m.u.status_reply.body[n] = '\0';
	len = roundtrip(&m);
	cr_assert_gt(len, n);
	cr_assert_leq(len, PROTO_MAX_MESSAGE);
	proto_msg_fini(&m);
}

Test(proto_codec, status_job_zero_is_absent)
{
	/* job 0 means "none": encoded without the field, decoded back as 0. */
	struct proto_msg m = {.type = PROTO_STATUS};

	m.u.status.what = xstrdup("status");
	cr_assert_lt(roundtrip(&m), 24);
	m.u.status.job_id = UINT32_MAX;
	roundtrip(&m);
	proto_msg_fini(&m);
}

Test(proto_codec, names_and_statuses)
{
	cr_assert_str_eq(proto_type_name(PROTO_TASK_ASSIGN), "TASK_ASSIGN");
	cr_assert_str_eq(proto_type_name(4242), "UNKNOWN");
	cr_assert_str_eq(proto_status_name(PROTO_STATUS_TOO_BIG), "too_big");
	cr_assert_str_eq(proto_status_name(PROTO_STATUS_COUNT), "unknown");
	cr_assert_str_eq(proto_role_name(PROTO_ROLE_WORKER), "worker");
	cr_assert_str_eq(proto_role_name((enum proto_role)0), "none");
	/* -errno -> status is a bijection over the statuses a handler can produce. */
	static const int errs[] = {0,       -EBADMSG, -EPROTONOSUPPORT, -ENOMSG, -EMSGSIZE,
				   -EACCES, -ENOENT,  -EINVAL,          -EPROTO, -ESHUTDOWN};
	for (size_t i = 0; i < sizeof errs / sizeof errs[0]; i++)
		cr_assert_eq(proto_status_from_errno(errs[i]), (enum proto_status)i);
	cr_assert_eq(proto_status_from_errno(-ENOMEM), PROTO_STATUS_INTERNAL);
	cr_assert_eq(proto_status_from_errno(-12345), PROTO_STATUS_INTERNAL);
}
