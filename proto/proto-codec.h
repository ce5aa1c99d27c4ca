/* Encoding and decoding whole messages: the envelope [version, type, request_id, body] and a
 * table of body codecs, one entry per message type. */
#ifndef ND_PROTO_CODEC_H
#define ND_PROTO_CODEC_H

#include <msgpack.h>

#include "proto/proto.h"

struct proto_msg {
	uint32_t type;
	uint64_t request_id;
	union {
		struct proto_hello hello;
		struct proto_welcome welcome;
		struct proto_challenge challenge;
		struct proto_auth auth;
		struct proto_bye bye;
		struct proto_error error;
		struct proto_ack ack;
		struct proto_submit submit;
		struct proto_accepted accepted;
		struct proto_status_req status;
		struct proto_status_reply status_reply;
		struct proto_cancel cancel;
		struct proto_gc gc;
		struct proto_task_request task_request;
		struct proto_task_assign task_assign;
		struct proto_idle idle;
		struct proto_heartbeat heartbeat;
	} u;
};

/* Decode a whole message. On success *msg holds copies of every field (free with
 * proto_msg_fini); the input remains owned by the caller. On failure returns -EMSGSIZE (too
 * big), -EPROTONOSUPPORT (version), -ENOMSG (unknown type) or -EBADMSG (malformed), with a cause;
 * msg->type and msg->request_id are set when the envelope itself was readable, else 0. */
int proto_decode(const void *data, size_t len, struct proto_msg *msg, char **cause);

/* Append the encoding of msg to out. Returns 0 or -EINVAL for an unknown type. */
int proto_encode(const struct proto_msg *msg, msgpack_sbuffer *out);

/* Free the fields of a decoded (or caller-built with heap fields) message. Accepts NULL. */
void proto_msg_fini(struct proto_msg *msg);

/* Body codecs, used by the table in proto-codec.c; one family per file. */
int proto_conn_decode(uint32_t type, const msgpack_object *body, struct proto_msg *msg,
		      char **cause);
void proto_conn_encode(const struct proto_msg *msg, msgpack_packer *pk);
void proto_conn_fini(struct proto_msg *msg);
int proto_job_decode(uint32_t type, const msgpack_object *body, struct proto_msg *msg,
		     char **cause);
void proto_job_encode(const struct proto_msg *msg, msgpack_packer *pk);
void proto_job_fini(struct proto_msg *msg);
int proto_task_decode(uint32_t type, const msgpack_object *body, struct proto_msg *msg,
		      char **cause);
void proto_task_encode(const struct proto_msg *msg, msgpack_packer *pk);
void proto_task_fini(struct proto_msg *msg);

#endif
