/* The nng transport helpers end to end in one process: a REP server on ipc:// in a temporary
 * directory and REQ calls against it (echo, error replies, concurrent callers, held long polls,
 * late replies after a client timeout, garbage from a raw socket). */
#include <criterion/criterion.h>
#include <errno.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/xmalloc.h"
#include "proto/proto-nng.h"

#define MAX_PARKED 128

/* The server side: STATUS requests drive it through `what`. */
static struct {
	struct proto_server *srv;
	char dir[64];
	char url[128];
	pthread_mutex_t lock;
	struct proto_server_ctx *parked[MAX_PARKED];
	uint64_t parked_id[MAX_PARKED];
	int nparked;
	atomic_int garbage;
	atomic_int pipes_gone;
	atomic_int server_errors; /* no Criterion assertions on nng threads: counted instead */
} S = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void
reply_echo(struct proto_server_ctx *ctx, uint64_t id, const char *what, uint64_t job)
{
	struct proto_msg r = {.type = PROTO_STATUS_REPLY, .request_id = id};

	r.u.status_reply.content_type = "text/plain";
	r.u.status_reply.body = xasprintf("%s:%llu", what, (unsigned long long)job);
	if (proto_server_reply(ctx, &r) != 0)
		atomic_fetch_add(&S.server_errors, 1);
	free(r.u.status_reply.body);
}

static void
server_recv(struct proto_server_ctx *ctx, nng_msg *msg, void *arg)
{
	struct proto_msg m;
	char *cause = NULL;
	int rc = proto_decode(nng_msg_body(msg), nng_msg_len(msg), &m, &cause);

	(void)arg;
	nng_msg_free(msg);
	if (rc != 0) {
		atomic_fetch_add(&S.garbage, 1);
		proto_server_reply_error(ctx, m.request_id, proto_status_from_errno(rc), cause);
		free(cause);
		return;
	}
	if (m.type != PROTO_STATUS) {
		proto_server_reply_error(ctx, m.request_id, PROTO_STATUS_UNEXPECTED, "want STATUS");
	} else if (strcmp(m.u.status.what, "fail") == 0) {
		char *why = xasprintf("no such job %llu", (unsigned long long)m.u.status.job_id);
		proto_server_reply_error(ctx, m.request_id, PROTO_STATUS_NOT_FOUND, why);
		free(why);
	} else if (strcmp(m.u.status.what, "hold") == 0) {
		pthread_mutex_lock(&S.lock);
		if (S.nparked < MAX_PARKED) {
			S.parked_id[S.nparked] = m.request_id;
			S.parked[S.nparked++] = ctx;
		} else {
			atomic_fetch_add(&S.server_errors, 1);
			proto_server_reply_error(ctx, m.request_id, PROTO_STATUS_INTERNAL, "full");
		}
		pthread_mutex_unlock(&S.lock);
	} else {
		reply_echo(ctx, m.request_id, m.u.status.what, m.u.status.job_id);
	}
	proto_msg_fini(&m);
}

static void
server_pipe_gone(uint32_t pipe_id, void *arg)
{
	(void)pipe_id;
	(void)arg;
	atomic_fetch_add(&S.pipes_gone, 1);
}

/* Answer every parked request; returns how many there were. */
static int
release_parked(void)
{
	int n;

	pthread_mutex_lock(&S.lock);
	n = S.nparked;
	for (int i = 0; i < n; i++)
		reply_echo(S.parked[i], S.parked_id[i], "released", (uint64_t)i);
	S.nparked = 0;
	pthread_mutex_unlock(&S.lock);
	return n;
}

static int
parked_count(void)
{
	int n;
	pthread_mutex_lock(&S.lock);
	n = S.nparked;
	pthread_mutex_unlock(&S.lock);
	return n;
}

static void
setup(void)
{
	char *cause = NULL;

	snprintf(S.dir, sizeof S.dir, "/tmp/nd-proto-XXXXXX");
	cr_assert_not_null(mkdtemp(S.dir));
	snprintf(S.url, sizeof S.url, "ipc://%s/sched.ipc", S.dir);
	cr_assert_eq(proto_server_open(&S.srv, S.url, server_recv, server_pipe_gone, NULL, &cause),
		     0, "%s", cause != NULL ? cause : "");
}

static void
teardown(void)
{
	cr_expect_eq(atomic_load(&S.server_errors), 0, "the server failed to reply");
	release_parked();
	proto_server_close(S.srv);
	S.srv = NULL;
	char *sock = xasprintf("%s/sched.ipc", S.dir);
	unlink(sock);
	free(sock);
	rmdir(S.dir);
}

TestSuite(proto_nng, .init = setup, .fini = teardown, .timeout = 60);

/* One STATUS call; returns rc, and the reply text in *json (caller frees) on success; -EPROTO
 * when the reply is not a STATUS_REPLY to this request. Safe on any thread (no assertions). */
static int
call_status(struct proto_call *call, const char *what, uint64_t job, uint64_t id, int timeout_ms,
	    char **json, char **cause)
{
	struct proto_msg req = {.type = PROTO_STATUS, .request_id = id}, rep;
	int rc;

	req.u.status.what = (char *)what;
	req.u.status.job_id = job;
	*json = NULL;
	rc = proto_call_run(call, &req, &rep, timeout_ms, cause);
	if (rc != 0)
		return rc;
	if (rep.type == PROTO_STATUS_REPLY && rep.request_id == id)
		*json = xstrdup(rep.u.status_reply.body);
	else
		rc = -EPROTO;
	proto_msg_fini(&rep);
	return rc;
}

static void
client_open(struct proto_client *c, struct proto_call *call)
{
	char *cause = NULL;

	cr_assert_eq(proto_client_open(c, S.url, &cause), 0, "%s", cause != NULL ? cause : "");
	cr_assert_eq(proto_call_open(c, call, &cause), 0, "%s", cause != NULL ? cause : "");
}

Test(proto_nng, echo_round_trip)
{
	struct proto_client c;
	struct proto_call call;
	char *json, *cause = NULL;

	client_open(&c, &call);
	cr_assert_eq(call_status(&call, "echo", 42, 7, 5000, &json, &cause), 0, "%s",
		     cause != NULL ? cause : "");
	cr_assert_str_eq(json, "echo:42");
	free(json);
	/* The same call object serves the next request. */
	cr_assert_eq(call_status(&call, "again", 43, 8, 5000, &json, &cause), 0);
	cr_assert_str_eq(json, "again:43");
	free(json);
	proto_call_close(&call);
	proto_client_close(&c);
}

Test(proto_nng, error_reply_becomes_errno_with_message)
{
	struct proto_client c;
	struct proto_call call;
	char *json, *cause = NULL;

	client_open(&c, &call);
	cr_assert_eq(call_status(&call, "fail", 99, 1, 5000, &json, &cause), -ENOENT);
	cr_assert_null(json);
	cr_assert_str_eq(cause, "no such job 99");
	free(cause);
	proto_call_close(&call);
	proto_client_close(&c);

	/* Every wire status maps back to the -errno it came from. */
	for (uint32_t s = 0; s < PROTO_STATUS_COUNT; s++)
		cr_assert_eq(proto_status_from_errno(proto_status_to_errno(s)), s, "status %u", s);
	cr_assert_eq(proto_status_to_errno(PROTO_STATUS_COUNT + 7), -EIO);
}

struct caller {
	struct proto_client *client;
	int index;
	int calls;
	const char *what;
	int failures;
	char *last; /* the last reply, for held calls */
};

static void *
caller_run(void *arg)
{
	struct caller *k = arg;
	struct proto_call call;
	char *cause = NULL;

	if (proto_call_open(k->client, &call, &cause) != 0) {
		k->failures = k->calls;
		free(cause);
		return NULL;
	}
	for (int i = 0; i < k->calls; i++) {
		uint64_t job = (uint64_t)k->index * 100000 + (uint64_t)i;
		char *json = NULL, *want = xasprintf("%s:%llu", k->what, (unsigned long long)job);
		int rc = call_status(&call, k->what, job, job + 1, 20000, &json, &cause);

		if (rc != 0 || (strcmp(k->what, "hold") != 0 && strcmp(json, want) != 0))
			k->failures++;
		free(k->last);
		k->last = json;
		free(want);
		free(cause);
		cause = NULL;
	}
	proto_call_close(&call);
	return NULL;
}

Test(proto_nng, concurrent_callers_get_their_own_replies)
{
	enum { NTHREADS = 16, NCALLS = 100 };
	struct proto_client shared, own[NTHREADS / 2];
	struct caller k[NTHREADS];
	pthread_t t[NTHREADS];
	char *cause = NULL;

	cr_assert_eq(proto_client_open(&shared, S.url, &cause), 0);
	for (int i = 0; i < NTHREADS; i++) {
		/* Half share one socket (contexts multiplex), half have their own. */
		if (i % 2 == 1)
			cr_assert_eq(proto_client_open(&own[i / 2], S.url, &cause), 0);
		k[i] = (struct caller){.client = i % 2 ? &own[i / 2] : &shared,
				       .index = i,
				       .calls = NCALLS,
				       .what = "echo"};
		cr_assert_eq(pthread_create(&t[i], NULL, caller_run, &k[i]), 0);
	}
	for (int i = 0; i < NTHREADS; i++) {
		pthread_join(t[i], NULL);
		cr_expect_eq(k[i].failures, 0, "caller %d: %d wrong or failed replies", i,
			     k[i].failures);
		free(k[i].last);
	}
	for (int i = 0; i < NTHREADS / 2; i++)
		proto_client_close(&own[i]);
	proto_client_close(&shared);
}

static void
sleep_ms(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

Test(proto_nng, held_long_polls_do_not_block_others)
{
	enum { NHELD = 48 }; /* more than the initial pool of 32 contexts */
	struct proto_client c;
	struct proto_call call;
	struct caller k[NHELD];
	pthread_t t[NHELD];
	uint32_t total = 0, held = 0;
	char *json, *cause = NULL;

	client_open(&c, &call);
	for (int i = 0; i < NHELD; i++) {
		k[i] = (struct caller){.client = &c, .index = i, .calls = 1, .what = "hold"};
		cr_assert_eq(pthread_create(&t[i], NULL, caller_run, &k[i]), 0);
	}
	for (int waited = 0; parked_count() < NHELD && waited < 10000; waited += 10)
		sleep_ms(10);
	cr_assert_eq(parked_count(), NHELD);
	proto_server_counts(S.srv, &total, &held);
	cr_assert_eq(held, NHELD);
	cr_assert_gt(total, NHELD, "the pool grew to %u contexts", total);

	/* With every held request parked, a new caller is still answered at once. */
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	cr_assert_eq(call_status(&call, "echo", 1, 1, 2000, &json, &cause), 0, "%s",
		     cause != NULL ? cause : "");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	cr_assert_str_eq(json, "echo:1");
	free(json);
	cr_assert_lt((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000, 1000);

	cr_assert_eq(release_parked(), NHELD);
	for (int i = 0; i < NHELD; i++) {
		pthread_join(t[i], NULL);
		cr_assert_eq(k[i].failures, 0, "held caller %d", i);
		cr_assert_not_null(strstr(k[i].last, "released:"));
		free(k[i].last);
	}
	proto_server_counts(S.srv, &total, &held);
	cr_assert_eq(held, 0);
	proto_call_close(&call);
	proto_client_close(&c);
}

Test(proto_nng, reply_after_client_timeout)
{
	struct proto_client c;
	struct proto_call call;
	char *json, *cause = NULL;

	client_open(&c, &call);
	cr_assert_eq(call_status(&call, "hold", 5, 50, 200, &json, &cause), -ETIMEDOUT);
	cr_assert_not_null(cause);
	free(cause);
	cause = NULL;
	cr_assert_eq(parked_count(), 1);
	/* The server answers late: nng drops the reply; nothing crashes. */
	cr_assert_eq(release_parked(), 1);
	sleep_ms(100);
	/* The same call object gets its own next reply, not the stale one. */
	cr_assert_eq(call_status(&call, "echo", 6, 51, 5000, &json, &cause), 0, "%s",
		     cause != NULL ? cause : "");
	cr_assert_str_eq(json, "echo:6");
	free(json);
	proto_call_close(&call);
	proto_client_close(&c);
}

/* Send raw bytes on a plain REQ socket and return the decoded reply. */
static int
raw_exchange(nng_socket s, const void *bytes, size_t len, struct proto_msg *rep)
{
	nng_msg *m;
	char *cause = NULL;
	int rc;

	cr_assert_eq(nng_msg_alloc(&m, 0), 0);
	if (len > 0)
		cr_assert_eq(nng_msg_append(m, bytes, len), 0);
	cr_assert_eq(nng_sendmsg(s, m, 0), 0);
	cr_assert_eq(nng_recvmsg(s, &m, 0), 0);
	rc = proto_decode(nng_msg_body(m), nng_msg_len(m), rep, &cause);
	free(cause);
	nng_msg_free(m);
	return rc;
}

Test(proto_nng, garbage_reaches_the_callback_and_gets_an_error)
{
	static const uint8_t attack[] = {0xdd, 0xff, 0xff, 0xff, 0xff};
	static const uint8_t bad_version[] = {0x94, 0x09, 0xcc, 0xca, 0x2a, 0x80};
	static const struct {
		const void *bytes;
		size_t len;
		uint32_t status;
	} cases[] = {
	    {"hello, scheduler", 16, PROTO_STATUS_MALFORMED},
	    {"", 0, PROTO_STATUS_MALFORMED},
	    {attack, sizeof attack, PROTO_STATUS_MALFORMED},
	    {bad_version, sizeof bad_version, PROTO_STATUS_VERSION},
	};
	struct proto_msg rep;
	nng_socket s;

	cr_assert_eq(nng_req0_open(&s), 0);
	nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, 5000);
	cr_assert_eq(nng_dial(s, S.url, NULL, 0), 0);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		cr_assert_eq(raw_exchange(s, cases[i].bytes, cases[i].len, &rep), 0);
		cr_assert_eq(rep.type, PROTO_ERROR);
		cr_assert_eq(rep.u.error.status, cases[i].status, "case %zu: status %llu", i,
			     (unsigned long long)rep.u.error.status);
		cr_assert_gt(strlen(rep.u.error.message), 0);
		if (cases[i].status == PROTO_STATUS_VERSION)
			cr_assert_eq(rep.request_id, 42, "the error names the request");
		proto_msg_fini(&rep);
	}
	cr_assert_eq(atomic_load(&S.garbage), (int)(sizeof cases / sizeof cases[0]));
	nng_close(s);

	/* The server still serves well-formed calls, and saw the raw pipe go. */
	struct proto_client c;
	struct proto_call call;
	char *json, *cause = NULL;
	client_open(&c, &call);
	cr_assert_eq(call_status(&call, "echo", 3, 3, 5000, &json, &cause), 0);
	cr_assert_str_eq(json, "echo:3");
	free(json);
	proto_call_close(&call);
	proto_client_close(&c);
	for (int waited = 0; atomic_load(&S.pipes_gone) < 2 && waited < 5000; waited += 10)
		sleep_ms(10);
	cr_assert_geq(atomic_load(&S.pipes_gone), 2);
}

Test(proto_nng, call_to_nobody_times_out)
{
	struct proto_client c;
	struct proto_call call;
	char *json, *cause = NULL, *url = xasprintf("ipc://%s/nobody.ipc", S.dir);

	cr_assert_eq(proto_client_open(&c, url, &cause), 0);
	cr_assert_eq(proto_call_open(&c, &call, &cause), 0);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int rc = call_status(&call, "echo", 1, 1, 300, &json, &cause);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	cr_assert_eq(rc, -ETIMEDOUT, "rc %d (%s)", rc, cause != NULL ? cause : "");
	/* The timeout bounds the whole round trip, not each half of it. */
	long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	cr_assert(ms >= 250 && ms < 450, "a 300 ms call took %ld ms", ms);
	free(cause);
	free(url);
	proto_call_close(&call);
	proto_client_close(&c);
}
