/* REQ client over nng v1: dialing (with TLS where the URL asks for it), a one-shot probe of a
 * scheduler address, client sockets that close within a bound (nng 1.5.2 can hang in nng_close),
 * and request/reply calls with the status mapped to errno. The REP server is proto-nng.c. */
#include "proto/proto-nng.h"

#include <errno.h>
#include <nng/protocol/reqrep0/req.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/error.h"
#include "common/log.h"
#include "common/xmalloc.h"
#include "proto/proto-tls.h"

/* Create a dialer for url with the TLS configuration set (not started). */
static int
proto_nng_dialer(nng_socket sock, const char *url, const struct proto_tls *tls, nng_dialer *out,
		 char **cause)
{
	nng_tls_config *cfg;
	int rv, rc;

	if ((rv = nng_dialer_create(out, sock, url)) != 0)
		return error_set(cause, -EINVAL, "cannot dial %s: %s", url, nng_strerror(rv));
	if (!proto_tls_url(url))
		return 0;
	if ((rc = proto_tls_config_new(url, tls, false, &cfg, cause)) != 0) {
		nng_dialer_close(*out);
		return rc;
	}
	rv = nng_dialer_set_ptr(*out, NNG_OPT_TLS_CONFIG, cfg);
	nng_tls_config_free(cfg);
	if (rv != 0) {
		nng_dialer_close(*out);
		return error_set(cause, -EINVAL, "%s: cannot set the TLS configuration: %s", url,
				 nng_strerror(rv));
	}
	return 0;
}

int
proto_client_probe(const char *url, const struct proto_tls *tls, char **cause)
{
	nng_socket sock;
	nng_dialer d;
	int rv, rc;

	if ((rc = proto_tls_check(url, tls, false, cause)) != 0)
		return rc;
	if ((rv = nng_req0_open(&sock)) != 0)
		return error_set(cause, -ENOMEM, "cannot open a REQ socket: %s", nng_strerror(rv));
	if ((rc = proto_nng_dialer(sock, url, tls, &d, cause)) == 0) {
		rv = nng_dialer_start(d, 0);
		if (proto_tls_url(url) && proto_tls_refused(rv)) {
			char *why = proto_tls_refusal(url, tls, rv);
			rc = error_set(cause, -EPERM, "%s", why);
			free(why);
		} else if (rv != 0) {
			rc = error_set(cause, -ECONNREFUSED, "cannot connect to %s: %s", url,
				       nng_strerror(rv));
		}
	}
	nng_close(sock);
	return rc;
}

int
proto_client_open(struct proto_client *c, const char *url, char **cause)
{
	return proto_client_open_tls(c, url, NULL, cause);
}

int
proto_client_open_tls(struct proto_client *c, const char *url, const struct proto_tls *tls,
		      char **cause)
{
	nng_dialer d;
	int rv, rc;

	memset(c, 0, sizeof *c);
	if ((rc = proto_tls_check(url, tls, false, cause)) != 0)
		return rc;
	if ((rv = nng_req0_open(&c->sock)) != 0)
		return error_set(cause, -ENOMEM, "cannot open a REQ socket: %s", nng_strerror(rv));
	nng_socket_set_size(c->sock, NNG_OPT_RECVMAXSZ, PROTO_MAX_MESSAGE);
	nng_socket_set_ms(c->sock, NNG_OPT_RECONNMINT, 50);
	nng_socket_set_ms(c->sock, NNG_OPT_RECONNMAXT, 2000);
	/* Long polls last seconds; resend only after a pipe loss, not on a timer. */
	nng_socket_set_ms(c->sock, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE);
	if ((rc = proto_nng_dialer(c->sock, url, tls, &d, cause)) != 0) {
		nng_close(c->sock);
		return rc;
	}
	if (proto_tls_url(url)) {
		/* Dial once in the foreground so that a refused handshake is reported now, with
		 * its reason, instead of as a silent retry; on other errors keep dialing below. */
		rv = nng_dialer_start(d, 0);
		if (rv == 0) {
			c->open = 1;
			return 0;
		}
		nng_dialer_close(d);
		if (proto_tls_refused(rv)) {
			char *why = proto_tls_refusal(url, tls, rv);
			nng_close(c->sock);
			rc = error_set(cause, -EPERM, "%s", why);
			free(why);
			return rc;
		}
		if ((rc = proto_nng_dialer(c->sock, url, tls, &d, cause)) != 0) {
			nng_close(c->sock);
			return rc;
		}
	}
	if ((rv = nng_dialer_start(d, NNG_FLAG_NONBLOCK)) != 0) {
		nng_close(c->sock);
		return error_set(cause, -EINVAL, "cannot dial %s: %s", url, nng_strerror(rv));
	}
	c->open = 1;
	return 0;
}

struct proto_client_closer {
	nng_socket sock;
	sem_t done;
};

static void *
proto_client_close_thread(void *arg)
{
	struct proto_client_closer *cl = arg;

	nng_close(cl->sock);
	sem_post(&cl->done);
	return NULL;
}

/* nng 1.5.2 can hang in nng_close of a REQ socket (nanomsg/nng#1543, fixed upstream after
 * 1.5.2). The socket is closed on a helper thread; a caller that is leaving gives up after
 * PROTO_CLIENT_CLOSE_MS and lets the process exit with the close still pending. */
#define PROTO_CLIENT_CLOSE_MS 2000

void
proto_client_close(struct proto_client *c)
{
	if (proto_client_close_within(c, PROTO_CLIENT_CLOSE_MS) != 0)
		log_warn("closing the connection did not finish within %d ms; leaving it",
			 PROTO_CLIENT_CLOSE_MS);
}

int
proto_client_close_within(struct proto_client *c, int ms)
{
	struct proto_client_closer *cl;
	struct timespec ts;
	pthread_t t;

	if (!c->open)
		return 0;
	c->open = 0;
	cl = xcalloc(1, sizeof *cl);
	cl->sock = c->sock;
	sem_init(&cl->done, 0, 0);
	if (pthread_create(&t, NULL, proto_client_close_thread, cl) != 0) {
		nng_close(cl->sock);
		sem_destroy(&cl->done);
		free(cl);
		return 0;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	while (sem_timedwait(&cl->done, &ts) != 0) {
		if (errno == EINTR)
			continue;
		pthread_detach(t);
		return -ETIMEDOUT; /* cl stays with the helper thread */
	}
	pthread_join(t, NULL);
	sem_destroy(&cl->done);
	free(cl);
	return 0;
}

int
proto_call_open(struct proto_client *c, struct proto_call *call, char **cause)
{
	int rv;

	if ((rv = nng_ctx_open(&call->ctx, c->sock)) != 0)
		return error_set(cause, -ENOMEM, "cannot open a REQ context: %s", nng_strerror(rv));
	atomic_init(&call->sent, 0);
	if ((rv = nng_aio_alloc(&call->aio, NULL, NULL)) != 0) {
		nng_ctx_close(call->ctx);
		return error_set(cause, -ENOMEM, "cannot allocate an aio: %s", nng_strerror(rv));
	}
	return 0;
}

void
proto_call_close(struct proto_call *call)
{
	if (call->aio != NULL) {
		nng_aio_stop(call->aio);
		nng_ctx_close(call->ctx);
		nng_aio_free(call->aio);
	}
	call->aio = NULL;
}

void
proto_call_cancel(struct proto_call *call)
{
	if (call->aio != NULL)
		nng_aio_cancel(call->aio);
}

int
proto_status_to_errno(uint32_t status)
{
	switch (status) {
	case PROTO_STATUS_OK:
		return 0;
	case PROTO_STATUS_MALFORMED:
		return -EBADMSG;
	case PROTO_STATUS_VERSION:
		return -EPROTONOSUPPORT;
	case PROTO_STATUS_UNKNOWN_TYPE:
		return -ENOMSG;
	case PROTO_STATUS_TOO_BIG:
		return -EMSGSIZE;
	case PROTO_STATUS_AUTH:
		return -EACCES;
	case PROTO_STATUS_NOT_FOUND:
		return -ENOENT;
	case PROTO_STATUS_INVALID:
		return -EINVAL;
	case PROTO_STATUS_UNEXPECTED:
		return -EPROTO;
	case PROTO_STATUS_SHUTTING_DOWN:
		return -ESHUTDOWN;
	case PROTO_STATUS_UNAVAILABLE:
		return -EAGAIN;
	default:
		return -EIO;
	}
}

int
proto_call_run(struct proto_call *call, const struct proto_msg *req, struct proto_msg *reply,
	       int timeout_ms, char **cause)
{
	nng_msg *m;
	int rv, rc;

	memset(reply, 0, sizeof *reply);
	if ((rc = proto_nng_msg_encode(req, &m)) != 0)
		return error_set(cause, rc, "cannot encode %s", proto_type_name(req->type));
	atomic_store(&call->sent, 0);
	nng_aio_set_timeout(call->aio, timeout_ms);
	nng_aio_set_msg(call->aio, m);
	nng_ctx_send(call->ctx, call->aio);
	nng_aio_wait(call->aio);
	if ((rv = nng_aio_result(call->aio)) != 0) {
		nng_msg_free(nng_aio_get_msg(call->aio));
		return error_set(cause,
				 rv == NNG_ETIMEDOUT   ? -ETIMEDOUT
				 : rv == NNG_ECANCELED ? -ECANCELED
						       : -ECONNREFUSED,
				 "sending %s: %s", proto_type_name(req->type), nng_strerror(rv));
	}
	atomic_store(&call->sent, 1);
	nng_aio_set_timeout(call->aio, timeout_ms);
	nng_ctx_recv(call->ctx, call->aio);
	nng_aio_wait(call->aio);
	if ((rv = nng_aio_result(call->aio)) != 0)
		return error_set(cause,
				 rv == NNG_ETIMEDOUT   ? -ETIMEDOUT
				 : rv == NNG_ECANCELED ? -ECANCELED
						       : -ECONNRESET,
				 "waiting for the reply to %s: %s", proto_type_name(req->type),
				 nng_strerror(rv));
	m = nng_aio_get_msg(call->aio);
	rc = proto_decode(nng_msg_body(m), nng_msg_len(m), reply, cause);
	nng_msg_free(m);
	if (rc != 0)
		return error_wrap(cause, rc, "bad reply to %s: ", proto_type_name(req->type));
	if (reply->type == PROTO_ERROR) {
		rc = proto_status_to_errno((uint32_t)reply->u.error.status);
		error_set(cause, rc, "%s", reply->u.error.message);
		proto_msg_fini(reply);
		return rc;
	}
	return 0;
}
