/* The REP server's pipe table and what it protects: the hash map under churn against a plain
 * array; the table's choice of the pipe to close, its deadline order and counts against the
 * linear scan it replaced (random joins, authentications, closes and removals from a few
 * addresses); and a real server on loopback, where silent connections from several source
 * addresses (127.0.0.2-5) stay within the per-address and global caps, the oldest going first,
 * and all go at the hello deadline. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/splitmix.h"
#include "common/u64map.h"
#include "common/xmalloc.h"
#include "proto/proto-nng.h"
#include "proto/proto-pipes.h"
#include "tests/support/test-net.h"

Test(proto_pipes, map_matches_a_plain_array_under_churn)
{
	enum { KEYS = 4096, OPS = 200000 };
	struct u64map m = {0};
	uint64_t rng = 7, *present = xcalloc(KEYS, sizeof *present);
	uint32_t n = 0;

	for (uint32_t op = 0; op < OPS; op++) {
		uint32_t k = (uint32_t)(splitmix64(&rng) % KEYS);
		uint64_t key =
		    k < KEYS / 2 ? k + 1 : ((uint64_t)k << 40) | 1; /* dense and sparse */
		if (splitmix64(&rng) % 3 != 0) {
			n += present[k] == 0;
			present[k] = op + 1;
			u64map_put(&m, key, (void *)(uintptr_t)(op + 1));
		} else {
			cr_assert_eq(u64map_remove(&m, key), present[k] != 0, "op %u", op);
			n -= present[k] != 0;
			present[k] = 0;
		}
		cr_assert_eq(m.n, n);
	}
	for (uint32_t k = 0; k < KEYS; k++) {
		uint64_t key = k < KEYS / 2 ? k + 1 : ((uint64_t)k << 40) | 1;
		cr_assert_eq((uintptr_t)u64map_find(&m, key), present[k], "key %u", k);
	}
	cr_assert_null(u64map_find(&m, 0));
	u64map_free(&m);
	free(present);
}

/* The linear model: what the server's scan over every pipe decided. */
struct model_pipe {
	uint32_t id;
	uint64_t addr;
	double added, closed_at;
	bool authed, gone;
};

static uint32_t
model_victim(const struct model_pipe *p, uint32_t n, uint64_t addr, uint32_t max_total,
	     uint32_t max_per_addr)
{
	uint32_t total = 0, same = 0, oldest = 0, oldest_same = 0;
	double t = 0, t_same = 0;

	for (uint32_t i = 0; i < n; i++) {
		if (p[i].gone || p[i].authed || p[i].closed_at > 0)
			continue;
		total++;
		if (oldest == 0 || p[i].added < t)
			oldest = p[i].id, t = p[i].added;
		if (p[i].addr == addr && (same++, oldest_same == 0 || p[i].added < t_same))
			oldest_same = p[i].id, t_same = p[i].added;
	}
	if (same >= max_per_addr)
		return oldest_same;
	return total >= max_total ? oldest : 0;
}

Test(proto_pipes, table_decides_as_the_linear_scan)
{
	enum { OPS = 20000, MAX_TOTAL = 40, MAX_ADDR = 12 };
	static const uint64_t addrs[] = {0, 0x11, 0x23, 0x35, 0x47};
	struct model_pipe *model = xcalloc(OPS, sizeof *model);
	struct proto_pipes t;
	uint64_t rng = 99;
	uint32_t n = 0, evicted = 0;

	proto_pipes_init(&t);
	for (uint32_t op = 0; op < OPS; op++) {
		double now = op;
		uint32_t r = (uint32_t)(splitmix64(&rng) % 10),
			 pick = n ? (uint32_t)(splitmix64(&rng) % n) : 0;
		struct proto_pipes_counts c, mc = {0};
		if (r < 5 || n == 0) { /* a new pipe, as proto_server_pipe_added does */
			uint64_t a = addrs[splitmix64(&rng) % 5];
			uint32_t v = proto_pipes_victim(&t, a, MAX_TOTAL, MAX_ADDR);
			cr_assert_eq(v, model_victim(model, n, a, MAX_TOTAL, MAX_ADDR), "op %u",
				     op);
			model[n] = (struct model_pipe){.id = n + 1, .addr = a, .added = now};
			proto_pipes_add(&t, n + 1, a, now);
			n++;
			if (v != 0) {
				evicted++;
				model[v - 1].closed_at = now;
				proto_pipes_closed(&t, v, now);
			}
		} else if (r < 7 && !model[pick].gone) {
			model[pick].authed = true;
			proto_pipes_authenticated(&t, pick + 1);
		} else if (r < 9 && !model[pick].gone) {
			model[pick].gone = true;
			proto_pipes_remove(&t, pick + 1);
		} else if (!model[pick].gone && !model[pick].authed && model[pick].closed_at == 0) {
			model[pick].closed_at = now; /* past the deadline */
			proto_pipes_closed(&t, pick + 1, now);
		}
		proto_pipes_counts(&t, now - 500, &c);
		for (uint32_t i = 0; i < n; i++) {
			if (model[i].gone)
				continue;
			mc.open++;
			mc.unauthenticated += !model[i].authed && model[i].closed_at == 0;
			mc.closing += model[i].closed_at > 0;
			mc.stuck += model[i].closed_at > 0 && model[i].closed_at < now - 500;
		}
		cr_assert_eq(c.open, mc.open, "op %u", op);
		cr_assert_eq(c.unauthenticated, mc.unauthenticated, "op %u", op);
		cr_assert_eq(c.closing, mc.closing, "op %u", op);
		cr_assert_eq(c.stuck, mc.stuck, "op %u", op);
		cr_assert_leq(c.unauthenticated, MAX_TOTAL);
	}
	cr_assert_gt(evicted, 100, "the caps were reached often: %u", evicted);
	/* The deadline order: the oldest open unauthenticated pipe first. */
	{
		uint32_t oldest = 0;
		for (uint32_t i = 0; i < n && oldest == 0; i++)
			if (!model[i].gone && !model[i].authed && model[i].closed_at == 0)
				oldest = model[i].id;
		cr_assert_eq(proto_pipes_oldest_before(&t, OPS), oldest);
		cr_assert_eq(proto_pipes_oldest_before(&t, 0), 0);
	}
	proto_pipes_fini(&t);
	free(model);
}

/* A real server on loopback and silent peers that finish the SP handshake. */
static int
silent_peer(int port, int source)
{
	struct sockaddr_in local = {.sin_family = AF_INET}, to = {.sin_family = AF_INET};
	static const uint8_t hdr[8] = {0, 'S', 'P', 0, 0, 0x30, 0, 0}; /* REQ0 */
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	cr_assert_geq(fd, 0);
	local.sin_addr.s_addr = htonl(0x7f000000u | (uint32_t)source);
	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	to.sin_port = htons((uint16_t)port);
	cr_assert_eq(bind(fd, (struct sockaddr *)&local, sizeof local), 0, "bind 127.0.0.%d",
		     source);
	cr_assert_eq(connect(fd, (struct sockaddr *)&to, sizeof to), 0, "%s", strerror(errno));
	cr_assert_eq(write(fd, hdr, sizeof hdr), (ssize_t)sizeof hdr);
	return fd;
}

/* Whether the server has closed fd (EOF after its SP header), waiting up to `ms`. */
static bool
closed_by_server(int fd, int ms)
{
	uint8_t buf[64];
	struct pollfd p = {.fd = fd, .events = POLLIN};

	while (poll(&p, 1, ms) == 1) {
		ssize_t n = read(fd, buf, sizeof buf);
		if (n <= 0)
			return true;
	}
	return false;
}

/* Wait until the server has seen `want` pipes (none authenticates or hangs up here). */
static void
wait_open(struct proto_server *srv, uint32_t want)
{
	struct proto_server_pipe_counts c;
	struct timespec ts = {0, 10 * 1000 * 1000};

	for (int i = 0; i < 500; i++) {
		proto_server_pipe_counts(srv, &c);
		if (c.unauthenticated + c.evicted + c.expired >= want)
			return;
		nanosleep(&ts, NULL);
	}
	cr_assert_fail("the server saw %u pipes, not %u", c.unauthenticated, want);
}

static void
ignore_msg(struct proto_server_ctx *ctx, nng_msg *msg, void *arg)
{
	(void)arg;
	nng_msg_free(msg);
	proto_server_reply_error(ctx, 0, PROTO_STATUS_INVALID, "no");
}

Test(proto_pipes, loopback_caps_per_address_and_in_all, .timeout = 60)
{
	struct proto_server_limits lim = {
	    .max_unauth = 10, .max_unauth_per_addr = 4, .hello_deadline_s = 0.5};
	struct proto_server *srv = NULL;
	struct proto_server_pipe_counts c;
	char url[64], *cause = NULL;
	int port = test_net_free_port(), fd[32], nfd = 0;

	snprintf(url, sizeof url, "tcp://127.0.0.1:%d", port);
	cr_assert_eq(proto_server_open(&srv, url, ignore_msg, NULL, NULL, &cause), 0, "%s", cause);
	lim.hello_deadline_s = 60; /* no deadline until the end */
	proto_server_set_limits(srv, &lim);
	/* Six from one address: its two oldest are closed, four stay. */
	for (int i = 0; i < 6; i++) {
		fd[nfd++] = silent_peer(port, 2);
		wait_open(srv, (uint32_t)nfd);
	}
	cr_assert(closed_by_server(fd[0], 5000), "the oldest from 127.0.0.2 closed");
	cr_assert(closed_by_server(fd[1], 5000));
	for (int i = 2; i < 6; i++)
		cr_assert_not(closed_by_server(fd[i], 50), "peer %d kept", i);
	proto_server_pipe_counts(srv, &c);
	cr_assert_eq(c.unauthenticated, 4);
	cr_assert_eq(c.evicted, 2);
	/* Four each from three more addresses: 16 > 10 in all, the oldest of all go first. */
	for (int a = 3; a <= 5; a++)
		for (int i = 0; i < 4; i++) {
			fd[nfd++] = silent_peer(port, a);
			wait_open(srv, (uint32_t)nfd);
		}
	proto_server_pipe_counts(srv, &c);
	cr_assert_eq(c.unauthenticated, 10, "capped in all: %u", c.unauthenticated);
	cr_assert_eq(c.evicted, 2 + 6);
	for (int i = 2; i < 8; i++) /* 127.0.0.2's four, then 127.0.0.3's first two */
		cr_assert(closed_by_server(fd[i], 5000), "peer %d closed for room", i);
	for (int i = 8; i < nfd; i++)
		cr_assert_not(closed_by_server(fd[i], 50), "peer %d kept", i);
	/* At the deadline every one goes. */
	lim.hello_deadline_s = 0.2;
	proto_server_set_limits(srv, &lim);
	usleep(300 * 1000);
	cr_assert_eq(proto_server_reap(srv), 10);
	for (int i = 8; i < nfd; i++)
		cr_assert(closed_by_server(fd[i], 5000), "peer %d closed at the deadline", i);
	proto_server_pipe_counts(srv, &c);
	cr_assert_eq(c.unauthenticated, 0);
	cr_assert_eq(c.expired, 10);
	for (int i = 0; i < nfd; i++)
		close(fd[i]);
	proto_server_close(srv);
}
