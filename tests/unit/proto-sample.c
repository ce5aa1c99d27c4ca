/* Sample protocol messages for the tests and the fuzz target, field-by-field equality of decoded
 * messages, and the decode -> encode -> decode round trip every decoder test relies on. */
#include "proto-sample.h"

#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/xmalloc.h"

#if defined(__SANITIZE_ADDRESS__)
#define PROTO_SAMPLE_LSAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PROTO_SAMPLE_LSAN 1
#endif
#endif
#ifdef PROTO_SAMPLE_LSAN
#include <sanitizer/lsan_interface.h>
#endif

static uint64_t *
proto_sample_ids(uint32_t n, uint64_t first)
{
	uint64_t *v = n > 0 ? xcalloc(n, sizeof *v) : NULL;
	for (uint32_t i = 0; i < n; i++)
		v[i] = first + i;
	return v;
}

static void
proto_sample_hello(struct proto_msg *m, int variant)
{
	struct proto_hello *h = &m->u.hello;

	m->type = PROTO_HELLO;
	h->nonce = xstrdup("00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff");
	h->version = xstrdup("0.1.0");
	if (variant == 0) {
		h->role = PROTO_ROLE_CLIENT;
		return;
	}
	h->role = PROTO_ROLE_WORKER;
	h->host = xstrdup("node-07.cluster");
	h->pid = 4242;
	h->slots = 8;
	h->mem = UINT64_C(64) << 30;
	if (variant == 2)
		h->slurm_job = xstrdup("123456_7");
}

static void
proto_sample_conn(struct proto_msg *m, int variant)
{
	switch (variant) {
	case 0:
		m->type = PROTO_WELCOME;
		m->u.welcome.worker_id = 17;
		m->u.welcome.heartbeat_ms = 2000;
		break;
	case 1:
		m->type = PROTO_BYE;
		m->u.bye.worker_id = 17;
		break;
	case 2:
		m->type = PROTO_ERROR;
		m->u.error.status = PROTO_STATUS_AUTH;
		m->u.error.message = xstrdup("wrong token");
		break;
	case 3:
		m->type = PROTO_ACK;
		break;
	case 4:
		m->type = PROTO_ACK;
		m->u.ack.ncancel = 3;
		m->u.ack.cancel = proto_sample_ids(3, PROTO_TASK_ID(5, 0));
		break;
	case 5:
		m->type = PROTO_CHALLENGE;
		m->u.challenge.nonce =
		    xstrdup("ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100");
		m->u.challenge.proof =
		    xstrdup("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
		break;
	case 6:
		m->type = PROTO_AUTH;
		m->u.auth.proof =
		    xstrdup("fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210");
		break;
	}
}

static void
proto_sample_job(struct proto_msg *m, int variant)
{
	switch (variant) {
	case 0:
		m->type = PROTO_SUBMIT;
		m->u.submit.pipeline = xstrdup("{\"name\":\"p\",\"steps\":[]}");
		break;
	case 1:
		m->type = PROTO_SUBMIT;
		m->u.submit.pipeline = xstrdup("{\"name\":\"p\",\"steps\":[{\"op\":\"anc\"}]}");
		m->u.submit.ninputs = 2;
		m->u.submit.inputs = xcalloc(3, sizeof(char *));
		m->u.submit.inputs[0] = xstrdup("/data/a.edf");
		m->u.submit.inputs[1] = xstrdup("/data/b.edf");
		m->u.submit.output = xstrdup("/out");
		break;
	case 2:
		m->type = PROTO_ACCEPTED;
		break;
	case 3:
		m->type = PROTO_ACCEPTED;
		m->u.accepted.njobs = 2;
		m->u.accepted.jobs = proto_sample_ids(2, 1);
		break;
	case 4:
		m->type = PROTO_STATUS;
		m->u.status.what = xstrdup("workers");
		break;
	case 5:
		m->type = PROTO_STATUS;
		m->u.status.what = xstrdup("job");
		m->u.status.job_id = 3;
		m->u.status.wait_ms = 250;
		break;
	case 6:
		m->type = PROTO_STATUS_REPLY;
		m->u.status_reply.content_type = xstrdup("application/json");
		m->u.status_reply.body = xstrdup("{\"jobs\":[]}");
		break;
	case 7:
		m->type = PROTO_CANCEL;
		m->u.cancel.job_id = 9;
		break;
	case 8:
		m->type = PROTO_GC;
		break;
	case 9:
		m->type = PROTO_GC;
		m->u.gc.has_older_than = true;
		m->u.gc.older_than_ms = 0;
		break;
	}
}

static void
proto_sample_task(struct proto_msg *m, int variant)
{
	switch (variant) {
	case 0:
		m->type = PROTO_TASK_REQUEST;
		m->u.task_request.worker_id = 3;
		m->u.task_request.free_slots = 4;
		break;
	case 1: {
		struct proto_task_request *r = &m->u.task_request;
		m->type = PROTO_TASK_REQUEST;
		r->worker_id = 3;
		r->free_slots = 1;
		r->nresults = 2;
		r->results = xcalloc(2, sizeof *r->results);
		r->results[0] = (struct proto_task_result){
		    .task = PROTO_TASK_ID(1, 2), .attempt = 1, .ok = true, .elapsed_us = 1500};
		r->results[0].result = xstrdup("{\"triggers\":[1,2,3]}");
		r->results[1] =
		    (struct proto_task_result){.task = PROTO_TASK_ID(1, 3), .attempt = 2,
					       .permanent = true};
		r->results[1].error = xstrdup("aas: window larger than the recording");
		break;
	}
	case 2:
		m->type = PROTO_TASK_ASSIGN;
		break;
	case 3: {
		struct proto_task_assign *a = &m->u.task_assign;
		m->type = PROTO_TASK_ASSIGN;
		a->ntasks = 2;
		a->tasks = xcalloc(2, sizeof *a->tasks);
		a->tasks[0] = (struct proto_task){.task = PROTO_TASK_ID(2, 0), .attempt = 1};
		a->tasks[0].spec = xstrdup("{\"op\":\"detect_triggers\"}");
		a->tasks[1] = (struct proto_task){.task = PROTO_TASK_ID(2, 1), .attempt = 3};
		a->tasks[1].spec = xstrdup("{\"op\":\"highpass\",\"freq\":1.0}");
		a->tasks[1].deps = xstrdup("{\"0\":{\"triggers\":[]}}");
		break;
	}
	case 4:
		m->type = PROTO_IDLE;
		m->u.idle.retry_ms = 500;
		break;
	case 5:
		m->type = PROTO_HEARTBEAT;
		m->u.heartbeat.worker_id = 3;
		break;
	case 6:
		m->type = PROTO_HEARTBEAT;
		m->u.heartbeat.worker_id = 3;
		m->u.heartbeat.nrunning = 2;
		m->u.heartbeat.running = proto_sample_ids(2, PROTO_TASK_ID(4, 10));
		m->u.heartbeat.has_usage = true;
		m->u.heartbeat.rss_bytes = 123456789;
		m->u.heartbeat.cpu_us = 42000001;
		break;
	}
}

static const struct proto_sample_family {
	void (*build)(struct proto_msg *, int);
	int nvariants;
} proto_sample_families[] = {
    {proto_sample_hello, 3},
    {proto_sample_conn, 7},
    {proto_sample_job, 10},
    {proto_sample_task, 7},
};

size_t
proto_sample_count(void)
{
	size_t n = 0;
	for (size_t f = 0; f < sizeof proto_sample_families / sizeof proto_sample_families[0]; f++)
		n += (size_t)proto_sample_families[f].nvariants;
	return n;
}

void
proto_sample_build(size_t i, struct proto_msg *msg)
{
	memset(msg, 0, sizeof *msg);
	msg->request_id = 1000 + i;
	for (size_t f = 0; f < sizeof proto_sample_families / sizeof proto_sample_families[0];
	     f++) {
		const struct proto_sample_family *fam = &proto_sample_families[f];
		if (i < (size_t)fam->nvariants) {
			fam->build(msg, (int)i);
			return;
		}
		i -= (size_t)fam->nvariants;
	}
	fatal("no protocol sample %zu", i);
}

static bool
proto_sample_streq(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static bool
proto_sample_ideq(const uint64_t *a, uint32_t na, const uint64_t *b, uint32_t nb)
{
	return na == nb && (na == 0 || memcmp(a, b, na * sizeof *a) == 0);
}

static bool
proto_sample_result_eq(const struct proto_task_result *a, const struct proto_task_result *b)
{
	return a->task == b->task && a->attempt == b->attempt && a->ok == b->ok &&
	       a->permanent == b->permanent && a->elapsed_us == b->elapsed_us && proto_sample_streq(a->result, b->result) &&
	       proto_sample_streq(a->error, b->error);
}

static bool
proto_sample_task_eq(const struct proto_task *a, const struct proto_task *b)
{
	return a->task == b->task && a->attempt == b->attempt &&
	       proto_sample_streq(a->spec, b->spec) && proto_sample_streq(a->deps, b->deps);
}

bool
proto_sample_equal(const struct proto_msg *a, const struct proto_msg *b)
{
	if (a->type != b->type || a->request_id != b->request_id)
		return false;
	switch (a->type) {
	case PROTO_HELLO: {
		const struct proto_hello *x = &a->u.hello, *y = &b->u.hello;
		return x->role == y->role && proto_sample_streq(x->nonce, y->nonce) &&
		       proto_sample_streq(x->version, y->version) &&
		       proto_sample_streq(x->host, y->host) && x->pid == y->pid &&
		       x->slots == y->slots && x->mem == y->mem &&
		       proto_sample_streq(x->slurm_job, y->slurm_job);
	}
	case PROTO_CHALLENGE:
		return proto_sample_streq(a->u.challenge.nonce, b->u.challenge.nonce) &&
		       proto_sample_streq(a->u.challenge.proof, b->u.challenge.proof);
	case PROTO_AUTH:
		return proto_sample_streq(a->u.auth.proof, b->u.auth.proof);
	case PROTO_WELCOME:
		return a->u.welcome.worker_id == b->u.welcome.worker_id &&
		       a->u.welcome.heartbeat_ms == b->u.welcome.heartbeat_ms;
	case PROTO_BYE:
		return a->u.bye.worker_id == b->u.bye.worker_id;
	case PROTO_ERROR:
		return a->u.error.status == b->u.error.status &&
		       proto_sample_streq(a->u.error.message, b->u.error.message);
	case PROTO_ACK:
		return proto_sample_ideq(a->u.ack.cancel, a->u.ack.ncancel, b->u.ack.cancel,
					 b->u.ack.ncancel);
	case PROTO_SUBMIT:
		if (!proto_sample_streq(a->u.submit.pipeline, b->u.submit.pipeline) ||
		    !proto_sample_streq(a->u.submit.output, b->u.submit.output) ||
		    a->u.submit.ninputs != b->u.submit.ninputs)
			return false;
		for (uint32_t i = 0; i < a->u.submit.ninputs; i++)
			if (!proto_sample_streq(a->u.submit.inputs[i], b->u.submit.inputs[i]))
				return false;
		return true;
	case PROTO_ACCEPTED:
		return proto_sample_ideq(a->u.accepted.jobs, a->u.accepted.njobs,
					 b->u.accepted.jobs, b->u.accepted.njobs);
	case PROTO_STATUS:
		return proto_sample_streq(a->u.status.what, b->u.status.what) &&
		       a->u.status.job_id == b->u.status.job_id &&
		       a->u.status.wait_ms == b->u.status.wait_ms;
	case PROTO_STATUS_REPLY:
		return proto_sample_streq(a->u.status_reply.content_type,
					  b->u.status_reply.content_type) &&
		       proto_sample_streq(a->u.status_reply.body, b->u.status_reply.body);
	case PROTO_CANCEL:
		return a->u.cancel.job_id == b->u.cancel.job_id;
	case PROTO_GC:
		return a->u.gc.has_older_than == b->u.gc.has_older_than &&
		       a->u.gc.older_than_ms == b->u.gc.older_than_ms;
	case PROTO_TASK_REQUEST:
		if (a->u.task_request.worker_id != b->u.task_request.worker_id ||
		    a->u.task_request.free_slots != b->u.task_request.free_slots ||
		    a->u.task_request.nresults != b->u.task_request.nresults)
			return false;
		for (uint32_t i = 0; i < a->u.task_request.nresults; i++)
			if (!proto_sample_result_eq(&a->u.task_request.results[i],
						    &b->u.task_request.results[i]))
				return false;
		return true;
	case PROTO_TASK_ASSIGN:
		if (a->u.task_assign.ntasks != b->u.task_assign.ntasks)
			return false;
		for (uint32_t i = 0; i < a->u.task_assign.ntasks; i++)
			if (!proto_sample_task_eq(&a->u.task_assign.tasks[i],
						  &b->u.task_assign.tasks[i]))
				return false;
		return true;
	case PROTO_IDLE:
		return a->u.idle.retry_ms == b->u.idle.retry_ms;
	case PROTO_HEARTBEAT:
		return a->u.heartbeat.worker_id == b->u.heartbeat.worker_id &&
		       a->u.heartbeat.has_usage == b->u.heartbeat.has_usage &&
		       a->u.heartbeat.rss_bytes == b->u.heartbeat.rss_bytes &&
		       a->u.heartbeat.cpu_us == b->u.heartbeat.cpu_us &&
		       proto_sample_ideq(a->u.heartbeat.running, a->u.heartbeat.nrunning,
					 b->u.heartbeat.running, b->u.heartbeat.nrunning);
	default:
		return false;
	}
}

uint8_t *
proto_sample_encode(const struct proto_msg *msg, size_t *len)
{
	msgpack_sbuffer sb;
	uint8_t *out;

	msgpack_sbuffer_init(&sb);
	if (proto_encode(msg, &sb) != 0)
		fatal("cannot encode message type %u", msg->type);
	out = xmalloc(sb.size);
	memcpy(out, sb.data, sb.size);
	*len = sb.size;
	msgpack_sbuffer_destroy(&sb);
	return out;
}

uint8_t *
proto_sample_bytes(size_t i, size_t *len)
{
	struct proto_msg m;
	uint8_t *out;

	proto_sample_build(i, &m);
	out = proto_sample_encode(&m, len);
	proto_msg_fini(&m);
	return out;
}

int
proto_sample_roundtrip(const uint8_t *data, size_t len, bool *same)
{
	struct proto_msg a, b;
	char *cause = NULL;
	uint8_t *again;
	size_t alen;
	int rc;

	*same = false;
	rc = proto_decode(data, len, &a, &cause);
	free(cause);
	if (rc != 0)
		return rc;
	again = proto_sample_encode(&a, &alen);
	cause = NULL;
	if (proto_decode(again, alen, &b, &cause) == 0) {
		*same = proto_sample_equal(&a, &b);
		proto_msg_fini(&b);
	}
	free(cause);
	free(again);
	proto_msg_fini(&a);
	return 0;
}

int
proto_sample_leaks(void)
{
#ifdef PROTO_SAMPLE_LSAN
	return __lsan_do_recoverable_leak_check();
#else
	return 0;
#endif
}
