/* nng transport helpers: a REP server with a growing pool of contexts (each request is handed to
 * a callback and answered later, from any thread), and a REQ client with per-caller contexts,
 * receive-size limits and timeouts. Uses the nng v1 API (nng 1.5). */
#ifndef ND_PROTO_NNG_H
#define ND_PROTO_NNG_H

#include <nng/nng.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "proto/proto-codec.h"

struct proto_server;
struct proto_server_ctx;
struct proto_tls;

/* Called on an nng thread with a received message; ownership of msg passes to the callee, which
 * must eventually call proto_server_reply (or proto_server_drop) on ctx exactly once. */
typedef void (*proto_server_recv_cb)(struct proto_server_ctx *ctx, nng_msg *msg, void *arg);
/* Called on an nng thread when a peer's pipe goes away. */
typedef void (*proto_server_pipe_cb)(uint32_t pipe_id, void *arg);

int proto_server_open(struct proto_server **out, const char *url, proto_server_recv_cb recv_cb,
		      proto_server_pipe_cb pipe_cb, void *arg, char **cause);
/* The same with TLS settings for a tls+tcp:// url (tls may be NULL for other schemes). */
int proto_server_open_tls(struct proto_server **out, const char *url, const struct proto_tls *tls,
			  proto_server_recv_cb recv_cb, proto_server_pipe_cb pipe_cb, void *arg,
			  char **cause);
/* What a server allows peers that have not authenticated (proto_server_pipe_authenticated). */
struct proto_server_limits {
	uint32_t max_unauth;          /* pipes in all; the oldest is closed for a new one */
	uint32_t max_unauth_per_addr; /* pipes from one address; its oldest is closed */
	double hello_deadline_s;      /* a pipe not authenticated by then is closed */
};
#define PROTO_SERVER_LIMITS_DEFAULT                                                                \
	{                                                                                          \
		1024, 256, 10.0                                                                    \
	}
void proto_server_set_limits(struct proto_server *srv, const struct proto_server_limits *limits);
/* The pipe's peer proved the token: no deadline or caps for it any more. */
void proto_server_pipe_authenticated(struct proto_server *srv, uint32_t pipe);
void proto_server_pipe_close(struct proto_server *srv, uint32_t pipe);
/* Close unauthenticated pipes past the deadline (from a timer); returns how many. */
uint32_t proto_server_reap(struct proto_server *srv);
struct proto_server_pipe_counts {
	uint32_t open, unauthenticated; /* unauthenticated: not closed by us */
	uint32_t closing;          /* closed by us, not yet freed by nng */
	uint32_t stuck;            /* closed by us long ago and never freed by nng */
	uint64_t evicted, expired; /* closed to make room, closed at the deadline */
};
void proto_server_pipe_counts(struct proto_server *srv, struct proto_server_pipe_counts *c);
/* Stop receiving, abort pending contexts, close the socket and free. Accepts NULL. */
void proto_server_close(struct proto_server *srv);

/* Reply on ctx (any thread). On success ownership of msg passes to nng; the context goes back to
 * receiving. Returns 0, or -ENOMEM when msg could not be built (then the request is dropped). */
int proto_server_reply(struct proto_server_ctx *ctx, const struct proto_msg *reply);
int proto_server_reply_raw(struct proto_server_ctx *ctx, nng_msg *msg);
/* Answer with PROTO_ERROR. */
int proto_server_reply_error(struct proto_server_ctx *ctx, uint64_t request_id,
			     enum proto_status status, const char *message);
uint32_t proto_server_ctx_pipe(const struct proto_server_ctx *ctx);
/* Number of contexts, and how many are parked waiting for a reply (long polls). */
void proto_server_counts(struct proto_server *srv, uint32_t *total, uint32_t *held);

/* Encode a message into a new nng_msg. Returns 0 or -ENOMEM/-EINVAL; *out owned by the caller. */
int proto_nng_msg_encode(const struct proto_msg *msg, nng_msg **out);

struct proto_client {
	nng_socket sock;
	int open;
};

/* Open a REQ socket and dial url in the background (reconnecting with backoff). */
int proto_client_open(struct proto_client *c, const char *url, char **cause);
/* The same with TLS settings (may be NULL for other schemes). For tls+tcp:// the first dial is
 * made at once: a refused handshake fails with -EPERM and its reason; an unreachable scheduler
 * is dialed again in the background as usual. */
int proto_client_open_tls(struct proto_client *c, const char *url, const struct proto_tls *tls,
			  char **cause);
/* Dial url once, synchronously, on a throw-away socket: 0 when a connection (and for TLS a
 * handshake) succeeds, -EPERM when the TLS handshake was refused, -ECONNREFUSED otherwise. */
int proto_client_probe(const char *url, const struct proto_tls *tls, char **cause);
/* Close the socket, waiting at most 2 s (works around an nng 1.5.2 hang in nng_close). */
void proto_client_close(struct proto_client *c);
/* The same, giving up after `ms` (the close goes on on a helper thread, for a process about to
 * exit): 0, or -ETIMEDOUT. proto_client_close waits 2 s and logs a warning when it gives up. */
int proto_client_close_within(struct proto_client *c, int ms);

/* One outstanding request at a time per call object; several may share a client. */
struct proto_call {
	nng_ctx ctx;
	nng_aio *aio;
	atomic_int sent; /* the current request has been handed to the transport */
};

int proto_call_open(struct proto_client *c, struct proto_call *call, char **cause);
void proto_call_close(struct proto_call *call);
/* Send req and wait up to timeout_ms (whole round trip) for the reply, decoded into *reply
 * (free with proto_msg_fini). A PROTO_ERROR reply becomes -errno with its message as cause.
 * Returns -ETIMEDOUT when no reply came in time, -ECANCELED after proto_call_cancel. */
int proto_call_run(struct proto_call *call, const struct proto_msg *req, struct proto_msg *reply,
		   int timeout_ms, char **cause);

/* From another thread: abort the call in progress, which then returns -ECANCELED. A no-op when
 * no operation is in progress (the caller retries if it may have raced with the start). */
void proto_call_cancel(struct proto_call *call);

/* Wire status back to -errno (the inverse of proto_status_from_errno). */
int proto_status_to_errno(uint32_t status);

#endif
