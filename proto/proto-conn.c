/* Connection-family bodies: HELLO, CHALLENGE, AUTH, WELCOME, BYE, ERROR and ACK. */
#include "proto/proto-conn.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "proto/proto-msgpack.h"

/* A nonce or a proof: exactly `n` lower-case hex digits. */
static int
proto_conn_hex(struct proto_map *m, const char *key, size_t n, char **out)
{
	if (proto_map_str(m, key, true, n, out) != 0)
		return m->rc;
	if (strlen(*out) != n || strspn(*out, "0123456789abcdef") != n)
		m->rc = error_set(m->cause, -EBADMSG, "%s: '%s' must be %zu hex digits", m->what,
				  key, n);
	return m->rc;
}

int
proto_conn_decode(uint32_t type, const msgpack_object *body, struct proto_msg *msg, char **cause)
{
	struct proto_map m;
	uint64_t v = 0;
	char *role = NULL;

	proto_map_init(&m, body, proto_type_name(type), cause);
	switch (type) {
	case PROTO_HELLO: {
		struct proto_hello *h = &msg->u.hello;
		proto_map_str(&m, "role", true, 16, &role);
		proto_conn_hex(&m, "nonce", PROTO_NONCE_HEX, &h->nonce);
		proto_map_str(&m, "version", true, PROTO_MAX_NAME, &h->version);
		proto_map_str(&m, "host", false, PROTO_MAX_NAME, &h->host);
		proto_map_u64(&m, "pid", false, 0, UINT32_MAX, &h->pid);
		proto_map_u64(&m, "slots", false, 0, PROTO_MAX_SLOTS, &h->slots);
		proto_map_u64(&m, "mem", false, 0, UINT64_MAX, &h->mem);
		proto_map_str(&m, "slurm_job", false, PROTO_MAX_NAME, &h->slurm_job);
		if (m.rc == 0) {
			if (strcmp(role, "worker") == 0)
				h->role = PROTO_ROLE_WORKER;
			else if (strcmp(role, "client") == 0)
				h->role = PROTO_ROLE_CLIENT;
			else
				m.rc = error_set(cause, -EBADMSG,
						 "HELLO: role must be \"worker\" or \"client\"");
		}
		if (m.rc == 0 && h->role == PROTO_ROLE_WORKER && h->slots == 0)
			m.rc = error_set(cause, -EBADMSG, "HELLO: a worker needs 'slots' >= 1");
		free(role);
		break;
	}
	case PROTO_CHALLENGE:
		proto_conn_hex(&m, "nonce", PROTO_NONCE_HEX, &msg->u.challenge.nonce);
		proto_conn_hex(&m, "proof", PROTO_PROOF_HEX, &msg->u.challenge.proof);
		break;
	case PROTO_AUTH:
		proto_conn_hex(&m, "proof", PROTO_PROOF_HEX, &msg->u.auth.proof);
		break;
	case PROTO_WELCOME:
		proto_map_u64(&m, "worker_id", true, 0, UINT64_MAX, &msg->u.welcome.worker_id);
		proto_map_u64(&m, "heartbeat_ms", true, 1, 86400000, &msg->u.welcome.heartbeat_ms);
		break;
	case PROTO_BYE:
		proto_map_u64(&m, "worker_id", true, 1, UINT64_MAX, &msg->u.bye.worker_id);
		break;
	case PROTO_ERROR:
		proto_map_u64(&m, "status", true, 1, PROTO_STATUS_COUNT - 1, &v);
		msg->u.error.status = v;
		proto_map_str(&m, "message", true, PROTO_MAX_TEXT, &msg->u.error.message);
		break;
	case PROTO_ACK:
		proto_map_u64_array(&m, "cancel", false, PROTO_MAX_BATCH, &msg->u.ack.cancel,
				    &msg->u.ack.ncancel);
		break;
	default:
		return error_set(cause, -ENOMSG, "not a connection message: %u", type);
	}
	return proto_map_finish(&m);
}

void
proto_conn_encode(const struct proto_msg *msg, msgpack_packer *pk)
{
	switch (msg->type) {
	case PROTO_HELLO: {
		/* Optional fields go out whenever they are set, whatever the role, so that
		 * decode -> encode -> decode keeps every field the decoder accepted. */
		const struct proto_hello *h = &msg->u.hello;
		msgpack_pack_map(pk, 3 + (h->host != NULL) + (h->pid != 0) + (h->slots != 0) +
					 (h->mem != 0) + (h->slurm_job != NULL));
		proto_pack_kstr(pk, "role", proto_role_name(h->role));
		proto_pack_kstr(pk, "nonce", h->nonce != NULL ? h->nonce : "");
		proto_pack_kstr(pk, "version", h->version != NULL ? h->version : "");
		if (h->host != NULL)
			proto_pack_kstr(pk, "host", h->host);
		if (h->pid != 0)
			proto_pack_ku64(pk, "pid", h->pid);
		if (h->slots != 0)
			proto_pack_ku64(pk, "slots", h->slots);
		if (h->mem != 0)
			proto_pack_ku64(pk, "mem", h->mem);
		if (h->slurm_job != NULL)
			proto_pack_kstr(pk, "slurm_job", h->slurm_job);
		break;
	}
	case PROTO_CHALLENGE:
		msgpack_pack_map(pk, 2);
		proto_pack_kstr(pk, "nonce",
				msg->u.challenge.nonce != NULL ? msg->u.challenge.nonce : "");
		proto_pack_kstr(pk, "proof",
				msg->u.challenge.proof != NULL ? msg->u.challenge.proof : "");
		break;
	case PROTO_AUTH:
		msgpack_pack_map(pk, 1);
		proto_pack_kstr(pk, "proof", msg->u.auth.proof != NULL ? msg->u.auth.proof : "");
		break;
	case PROTO_WELCOME:
		msgpack_pack_map(pk, 2);
		proto_pack_ku64(pk, "worker_id", msg->u.welcome.worker_id);
		proto_pack_ku64(pk, "heartbeat_ms", msg->u.welcome.heartbeat_ms);
		break;
	case PROTO_BYE:
		msgpack_pack_map(pk, 1);
		proto_pack_ku64(pk, "worker_id", msg->u.bye.worker_id);
		break;
	case PROTO_ERROR:
		msgpack_pack_map(pk, 2);
		proto_pack_ku64(pk, "status", msg->u.error.status);
		proto_pack_kstr(pk, "message",
				msg->u.error.message != NULL ? msg->u.error.message : "");
		break;
	case PROTO_ACK:
		msgpack_pack_map(pk, msg->u.ack.ncancel > 0);
		if (msg->u.ack.ncancel > 0)
			proto_pack_ku64_array(pk, "cancel", msg->u.ack.cancel, msg->u.ack.ncancel);
		break;
	}
}

void
proto_conn_fini(struct proto_msg *msg)
{
	switch (msg->type) {
	case PROTO_HELLO:
		free(msg->u.hello.nonce);
		free(msg->u.hello.version);
		free(msg->u.hello.host);
		free(msg->u.hello.slurm_job);
		break;
	case PROTO_CHALLENGE:
		free(msg->u.challenge.nonce);
		free(msg->u.challenge.proof);
		break;
	case PROTO_AUTH:
		free(msg->u.auth.proof);
		break;
	case PROTO_ERROR:
		free(msg->u.error.message);
		break;
	case PROTO_ACK:
		free(msg->u.ack.cancel);
		break;
	}
}
