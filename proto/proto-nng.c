/* REP server over nng v1 with a growing context pool (the REQ client is proto-nng-client.c).
 * The server keeps a table of its pipes (proto-pipes.c): a pipe that has not authenticated is
 * closed after a deadline, or when too many such pipes (in all, or from its address) are open,
 * the oldest going first so that a flood of silent connections cannot shut out real peers; each
 * costs O(1) per pipe, whatever the number of connections. Pipes we closed and nng never freed are
 * counted as stuck: nng 1.5.2 can hang its reaper for good when a pipe's receive completes as it
 * closes (fixed upstream in nng 1.6.0, "Finish receive aio on tcp pipe close"), and from then on
 * no connection is freed; a flood of garbage from peers that hang up without waiting for the
 * replies triggers it. */
#include "proto/proto-nng.h"

#include <errno.h>
#include <nng/protocol/reqrep0/rep.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/error.h"
#include "common/log.h"
#include "common/xmalloc.h"
#include "proto/proto-pipes.h"
#include "proto/proto-tls.h"

#define PROTO_SERVER_INITIAL_CTX 32
#define PROTO_SERVER_GROW        32
#define PROTO_SERVER_MIN_IDLE    8
#define PROTO_SERVER_MAX_CTX     8192
/* A pipe we closed that nng has not freed after this long is stuck (see above). */
#define PROTO_SERVER_STUCK_S 30.0

enum proto_ctx_state { CTX_RECV, CTX_HELD, CTX_SEND, CTX_CLOSED };

struct proto_server_ctx {
	struct proto_server *srv;
	nng_ctx ctx;
	nng_aio *aio;
	enum proto_ctx_state state;
	uint32_t pipe;
};

struct proto_server {
	nng_socket sock;
	struct proto_pipes table; /* its pipes (proto-pipes.c) */
	struct proto_server_limits limits;
	uint64_t evicted, expired;
	proto_server_recv_cb recv_cb;
	proto_server_pipe_cb pipe_cb;
	void *arg;
	pthread_mutex_t lock;
	struct proto_server_ctx **ctxs;
	uint32_t nctx;
	uint32_t nrecv; /* contexts waiting in receive */
	int closing;
};

static void proto_server_aio_cb(void *arg);

static int
proto_server_grow(struct proto_server *srv, uint32_t n)
{
	for (uint32_t i = 0; i < n && srv->nctx < PROTO_SERVER_MAX_CTX; i++) {
		struct proto_server_ctx *c = xcalloc(1, sizeof *c);
		int rv;

		c->srv = srv;
		if ((rv = nng_ctx_open(&c->ctx, srv->sock)) != 0) {
			free(c);
			return -ENOMEM;
		}
		if ((rv = nng_aio_alloc(&c->aio, proto_server_aio_cb, c)) != 0) {
			nng_ctx_close(c->ctx);
			free(c);
			return -ENOMEM;
		}
		c->state = CTX_RECV;
		srv->ctxs = xreallocarray(srv->ctxs, srv->nctx + 1, sizeof *srv->ctxs);
		srv->ctxs[srv->nctx++] = c;
		srv->nrecv++;
		nng_ctx_recv(c->ctx, c->aio);
	}
	return 0;
}

static void
proto_server_aio_cb(void *arg)
{
	struct proto_server_ctx *c = arg;
	struct proto_server *srv = c->srv;
	int rv = nng_aio_result(c->aio);
	nng_msg *msg;

	pthread_mutex_lock(&srv->lock);
	if (srv->closing || rv == NNG_ECLOSED) {
		/* A message received, or a reply that could not be sent, is still ours. */
		if ((c->state == CTX_RECV && rv == 0) || (c->state == CTX_SEND && rv != 0))
			nng_msg_free(nng_aio_get_msg(c->aio));
		nng_aio_set_msg(c->aio, NULL);
		c->state = CTX_CLOSED;
		pthread_mutex_unlock(&srv->lock);
		return;
	}
	if (c->state == CTX_SEND) {
		if (rv != 0) {
			msg = nng_aio_get_msg(c->aio);
			nng_msg_free(msg);
		}
		c->state = CTX_RECV;
		srv->nrecv++;
		nng_ctx_recv(c->ctx, c->aio);
		pthread_mutex_unlock(&srv->lock);
		return;
	}
	/* CTX_RECV finished. */
	if (rv != 0) {
		nng_ctx_recv(c->ctx, c->aio);
		pthread_mutex_unlock(&srv->lock);
		return;
	}
	srv->nrecv--;
	c->state = CTX_HELD;
	msg = nng_aio_get_msg(c->aio);
	c->pipe = (uint32_t)nng_pipe_id(nng_msg_get_pipe(msg));
	if (srv->nrecv < PROTO_SERVER_MIN_IDLE)
		proto_server_grow(srv, PROTO_SERVER_GROW);
	pthread_mutex_unlock(&srv->lock);
	srv->recv_cb(c, msg, srv->arg);
}

static double
proto_server_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t
proto_server_addr_key(nng_pipe p)
{
	nng_sockaddr sa;
	uint64_t h = 1469598103934665603ULL;
	const uint8_t *b = NULL;
	size_t n = 0;

	if (nng_pipe_get_addr(p, NNG_OPT_REMADDR, &sa) != 0)
		return 0;
	if (sa.s_family == NNG_AF_INET) {
		b = (const uint8_t *)&sa.s_in.sa_addr;
		n = sizeof sa.s_in.sa_addr;
	} else if (sa.s_family == NNG_AF_INET6) {
		b = sa.s_in6.sa_addr;
		n = sizeof sa.s_in6.sa_addr;
	}
	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 1099511628211ULL;
	return n > 0 ? h | 1 : 0;
}

static void
proto_server_pipe_added(struct proto_server *srv, nng_pipe p)
{
	uint64_t addr = proto_server_addr_key(p);
	uint32_t victim;

	pthread_mutex_lock(&srv->lock);
	victim = proto_pipes_victim(&srv->table, addr, srv->limits.max_unauth,
				    srv->limits.max_unauth_per_addr);
	proto_pipes_add(&srv->table, (uint32_t)nng_pipe_id(p), addr, proto_server_now());
	srv->evicted += victim != 0;
	if (victim != 0)
		proto_pipes_closed(&srv->table, victim, proto_server_now());
	pthread_mutex_unlock(&srv->lock);
	if (victim != 0)
		nng_pipe_close((nng_pipe){.id = victim});
}

static void
proto_server_pipe_removed(struct proto_server *srv, uint32_t id)
{
	pthread_mutex_lock(&srv->lock);
	proto_pipes_remove(&srv->table, id);
	pthread_mutex_unlock(&srv->lock);
}

static void
proto_server_pipe_event(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	struct proto_server *srv = arg;

	if (ev == NNG_PIPE_EV_ADD_POST) {
		proto_server_pipe_added(srv, p);
	} else if (ev == NNG_PIPE_EV_REM_POST) {
		proto_server_pipe_removed(srv, (uint32_t)nng_pipe_id(p));
		if (srv->pipe_cb != NULL)
			srv->pipe_cb((uint32_t)nng_pipe_id(p), srv->arg);
	}
}

void
proto_server_set_limits(struct proto_server *srv, const struct proto_server_limits *limits)
{
	pthread_mutex_lock(&srv->lock);
	srv->limits = *limits;
	pthread_mutex_unlock(&srv->lock);
}

void
proto_server_pipe_authenticated(struct proto_server *srv, uint32_t pipe)
{
	pthread_mutex_lock(&srv->lock);
	proto_pipes_authenticated(&srv->table, pipe);
	pthread_mutex_unlock(&srv->lock);
}

void
proto_server_pipe_close(struct proto_server *srv, uint32_t pipe)
{
	nng_pipe_close((nng_pipe){.id = pipe});
}

/* The unauthenticated pipes past the deadline, oldest first, come off the head of the list. */
uint32_t
proto_server_reap(struct proto_server *srv)
{
	double now = proto_server_now();
	uint32_t *late = NULL, nlate = 0, cap = 0, id;

	pthread_mutex_lock(&srv->lock);
	while ((id = proto_pipes_oldest_before(&srv->table, now - srv->limits.hello_deadline_s)) !=
	       0) {
		if (nlate == cap) {
			cap = cap ? cap * 2 : 16;
			late = xreallocarray(late, cap, sizeof *late);
		}
		late[nlate++] = id;
		proto_pipes_closed(&srv->table, id, now);
	}
	srv->expired += nlate;
	pthread_mutex_unlock(&srv->lock);
	for (uint32_t i = 0; i < nlate; i++)
		if (nng_pipe_close((nng_pipe){.id = late[i]}) == NNG_ENOENT)
			proto_server_pipe_removed(srv, late[i]); /* gone before we saw it go */
	free(late);
	return nlate;
}

void
proto_server_pipe_counts(struct proto_server *srv, struct proto_server_pipe_counts *c)
{
	struct proto_pipes_counts pc;

	memset(c, 0, sizeof *c);
	pthread_mutex_lock(&srv->lock);
	proto_pipes_counts(&srv->table, proto_server_now() - PROTO_SERVER_STUCK_S, &pc);
	c->open = pc.open;
	c->unauthenticated = pc.unauthenticated;
	c->closing = pc.closing;
	c->stuck = pc.stuck;
	c->evicted = srv->evicted;
	c->expired = srv->expired;
	pthread_mutex_unlock(&srv->lock);
}

/* Listen on url; for tls+tcp:// set the TLS configuration before the listener starts. */
static int
proto_nng_listen(nng_socket sock, const char *url, const struct proto_tls *tls, char **cause)
{
	nng_listener l;
	nng_tls_config *cfg = NULL;
	int rv, rc;

	if ((rc = proto_tls_check(url, tls, true, cause)) != 0)
		return rc;
	if ((rv = nng_listener_create(&l, sock, url)) != 0)
		return error_set(cause, -EINVAL, "cannot listen on %s: %s", url, nng_strerror(rv));
	if (proto_tls_url(url)) {
		if ((rc = proto_tls_config_new(url, tls, true, &cfg, cause)) != 0) {
			nng_listener_close(l);
			return rc;
		}
		rv = nng_listener_set_ptr(l, NNG_OPT_TLS_CONFIG, cfg);
		nng_tls_config_free(cfg); /* the listener holds its own reference */
		if (rv != 0) {
			nng_listener_close(l);
			return error_set(cause, -EINVAL, "%s: cannot set the TLS configuration: %s",
					 url, nng_strerror(rv));
		}
	}
	if ((rv = nng_listener_start(l, 0)) != 0) {
		nng_listener_close(l);
		return error_set(cause, rv == NNG_EADDRINUSE ? -EADDRINUSE : -EINVAL,
				 "cannot listen on %s: %s", url, nng_strerror(rv));
	}
	return 0;
}

int
proto_server_open(struct proto_server **out, const char *url, proto_server_recv_cb recv_cb,
		  proto_server_pipe_cb pipe_cb, void *arg, char **cause)
{
	return proto_server_open_tls(out, url, NULL, recv_cb, pipe_cb, arg, cause);
}

int
proto_server_open_tls(struct proto_server **out, const char *url, const struct proto_tls *tls,
		      proto_server_recv_cb recv_cb, proto_server_pipe_cb pipe_cb, void *arg,
		      char **cause)
{
	struct proto_server *srv = xcalloc(1, sizeof *srv);
	int rv, rc;

	srv->recv_cb = recv_cb;
	srv->pipe_cb = pipe_cb;
	srv->arg = arg;
	pthread_mutex_init(&srv->lock, NULL);
	proto_pipes_init(&srv->table);
	if ((rv = nng_rep0_open(&srv->sock)) != 0) {
		free(srv);
		return error_set(cause, -ENOMEM, "cannot open a REP socket: %s", nng_strerror(rv));
	}
	nng_socket_set_size(srv->sock, NNG_OPT_RECVMAXSZ, PROTO_MAX_MESSAGE);
	srv->limits = (struct proto_server_limits)PROTO_SERVER_LIMITS_DEFAULT;
	nng_pipe_notify(srv->sock, NNG_PIPE_EV_ADD_POST, proto_server_pipe_event, srv);
	nng_pipe_notify(srv->sock, NNG_PIPE_EV_REM_POST, proto_server_pipe_event, srv);
	if ((rc = proto_nng_listen(srv->sock, url, tls, cause)) != 0) {
		nng_close(srv->sock);
		pthread_mutex_destroy(&srv->lock);
		free(srv);
		return rc;
	}
	pthread_mutex_lock(&srv->lock);
	proto_server_grow(srv, PROTO_SERVER_INITIAL_CTX);
	pthread_mutex_unlock(&srv->lock);
	*out = srv;
	return 0;
}

void
proto_server_close(struct proto_server *srv)
{
	if (srv == NULL)
		return;
	pthread_mutex_lock(&srv->lock);
	srv->closing = 1;
	pthread_mutex_unlock(&srv->lock);
	for (uint32_t i = 0; i < srv->nctx; i++)
		nng_aio_stop(srv->ctxs[i]->aio);
	nng_close(srv->sock);
	for (uint32_t i = 0; i < srv->nctx; i++) {
		nng_aio_free(srv->ctxs[i]->aio);
		free(srv->ctxs[i]);
	}
	free(srv->ctxs);
	proto_pipes_fini(&srv->table);
	pthread_mutex_destroy(&srv->lock);
	free(srv);
}

int
proto_server_reply_raw(struct proto_server_ctx *c, nng_msg *msg)
{
	struct proto_server *srv = c->srv;

	pthread_mutex_lock(&srv->lock);
	if (srv->closing || c->state != CTX_HELD) {
		pthread_mutex_unlock(&srv->lock);
		nng_msg_free(msg);
		return -ESHUTDOWN;
	}
	c->state = CTX_SEND;
	nng_aio_set_msg(c->aio, msg);
	nng_ctx_send(c->ctx, c->aio);
	pthread_mutex_unlock(&srv->lock);
	return 0;
}

int
proto_nng_msg_encode(const struct proto_msg *msg, nng_msg **out)
{
	msgpack_sbuffer sb;
	nng_msg *m;
	int rc;

	msgpack_sbuffer_init(&sb);
	rc = proto_encode(msg, &sb);
	if (rc == 0 && nng_msg_alloc(&m, 0) == 0 && nng_msg_append(m, sb.data, sb.size) == 0)
		*out = m;
	else if (rc == 0)
		rc = -ENOMEM;
	msgpack_sbuffer_destroy(&sb);
	return rc;
}

int
proto_server_reply(struct proto_server_ctx *c, const struct proto_msg *reply)
{
	nng_msg *m;
	int rc = proto_nng_msg_encode(reply, &m);

	if (rc != 0) {
		/* Put the context back to receiving so the pool does not shrink. */
		proto_server_reply_error(c, reply->request_id, PROTO_STATUS_INTERNAL,
					 "reply could not be encoded");
		return rc;
	}
	return proto_server_reply_raw(c, m);
}

int
proto_server_reply_error(struct proto_server_ctx *c, uint64_t request_id, enum proto_status status,
			 const char *message)
{
	struct proto_msg e = {.type = PROTO_ERROR, .request_id = request_id};
	nng_msg *m;

	e.u.error.status = status;
	e.u.error.message = (char *)message;
	if (proto_nng_msg_encode(&e, &m) != 0)
		fatal("cannot encode an error reply");
	return proto_server_reply_raw(c, m);
}

uint32_t
proto_server_ctx_pipe(const struct proto_server_ctx *c)
{
	return c->pipe;
}

void
proto_server_counts(struct proto_server *srv, uint32_t *total, uint32_t *held)
{
	pthread_mutex_lock(&srv->lock);
	*total = srv->nctx;
	*held = 0;
	for (uint32_t i = 0; i < srv->nctx; i++)
		*held += srv->ctxs[i]->state == CTX_HELD;
	pthread_mutex_unlock(&srv->lock);
}
