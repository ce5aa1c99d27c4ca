/* The envelope [version, type, request_id, body-map] and the table that routes each message
 * type to its body codec. */
#include "proto/proto-codec.h"

#include <errno.h>
#include <string.h>

#include "common/error.h"
#include "proto/proto-conn.h"
#include "proto/proto-job.h"
#include "proto/proto-msgpack.h"
#include "proto/proto-task.h"

typedef int (*proto_decode_cb)(uint32_t, const msgpack_object *, struct proto_msg *, char **);
typedef void (*proto_encode_cb)(const struct proto_msg *, msgpack_packer *);
typedef void (*proto_fini_cb)(struct proto_msg *);

static const struct proto_codec {
	uint32_t type;
	proto_decode_cb decode;
	proto_encode_cb encode;
	proto_fini_cb fini;
} proto_codec_table[] = {
    {PROTO_HELLO, proto_conn_decode, proto_conn_encode, proto_conn_fini},
    {PROTO_WELCOME, proto_conn_decode, proto_conn_encode, proto_conn_fini},
    {PROTO_BYE, proto_conn_decode, proto_conn_encode, proto_conn_fini},
    {PROTO_ERROR, proto_conn_decode, proto_conn_encode, proto_conn_fini},
    {PROTO_ACK, proto_conn_decode, proto_conn_encode, proto_conn_fini},
    {PROTO_CHALLENGE, proto_conn_decode, proto_conn_encode, proto_conn_fini},
    {PROTO_AUTH, proto_conn_decode, proto_conn_encode, proto_conn_fini},
    {PROTO_SUBMIT, proto_job_decode, proto_job_encode, proto_job_fini},
    {PROTO_ACCEPTED, proto_job_decode, proto_job_encode, proto_job_fini},
    {PROTO_STATUS, proto_job_decode, proto_job_encode, proto_job_fini},
    {PROTO_STATUS_REPLY, proto_job_decode, proto_job_encode, proto_job_fini},
    {PROTO_CANCEL, proto_job_decode, proto_job_encode, proto_job_fini},
    {PROTO_GC, proto_job_decode, proto_job_encode, proto_job_fini},
    {PROTO_TASK_REQUEST, proto_task_decode, proto_task_encode, proto_task_fini},
    {PROTO_TASK_ASSIGN, proto_task_decode, proto_task_encode, proto_task_fini},
    {PROTO_IDLE, proto_task_decode, proto_task_encode, proto_task_fini},
    {PROTO_HEARTBEAT, proto_task_decode, proto_task_encode, proto_task_fini},
};

static const struct proto_codec *
proto_codec_find(uint32_t type)
{
	for (size_t i = 0; i < sizeof proto_codec_table / sizeof proto_codec_table[0]; i++)
		if (proto_codec_table[i].type == type)
			return &proto_codec_table[i];
	return NULL;
}

int
proto_decode(const void *data, size_t len, struct proto_msg *msg, char **cause)
{
	msgpack_unpacked up;
	const msgpack_object *a;
	const struct proto_codec *codec;
	size_t off = 0;
	int rc;

	memset(msg, 0, sizeof *msg);
	rc = proto_msgpack_check(data, len, PROTO_MAX_DEPTH, cause);
	if (rc != 0)
		return rc;
	msgpack_unpacked_init(&up);
	if (msgpack_unpack_next(&up, data, len, &off) != MSGPACK_UNPACK_SUCCESS || off != len) {
		rc = error_set(cause, -EBADMSG, "not a msgpack message");
		goto out;
	}
	a = &up.data;
	if (a->type != MSGPACK_OBJECT_ARRAY || a->via.array.size != 4) {
		rc = error_set(cause, -EBADMSG,
			       "envelope is not an array [version, type, id, body]");
		goto out;
	}
	for (int i = 0; i < 3; i++)
		if (a->via.array.ptr[i].type != MSGPACK_OBJECT_POSITIVE_INTEGER) {
			rc = error_set(cause, -EBADMSG,
				       "envelope element %d is not an unsigned integer", i);
			goto out;
		}
	if (a->via.array.ptr[1].via.u64 <= UINT32_MAX)
		msg->type = (uint32_t)a->via.array.ptr[1].via.u64;
	msg->request_id = a->via.array.ptr[2].via.u64;
	if (a->via.array.ptr[0].via.u64 != PROTO_VERSION) {
		rc = error_set(cause, -EPROTONOSUPPORT, "protocol version %llu, expected %d",
			       (unsigned long long)a->via.array.ptr[0].via.u64, PROTO_VERSION);
		goto out;
	}
	codec = proto_codec_find(msg->type);
	if (codec == NULL || a->via.array.ptr[1].via.u64 > UINT32_MAX) {
		rc = error_set(cause, -ENOMSG, "unknown message type %llu",
			       (unsigned long long)a->via.array.ptr[1].via.u64);
		goto out;
	}
	rc = codec->decode(msg->type, &a->via.array.ptr[3], msg, cause);
	if (rc != 0) {
		uint32_t type = msg->type;
		uint64_t id = msg->request_id;
		codec->fini(msg);
		memset(&msg->u, 0, sizeof msg->u);
		msg->type = type;
		msg->request_id = id;
	}
out:
	msgpack_unpacked_destroy(&up);
	return rc;
}

int
proto_encode(const struct proto_msg *msg, msgpack_sbuffer *out)
{
	const struct proto_codec *codec = proto_codec_find(msg->type);
	msgpack_packer pk;

	if (codec == NULL)
		return -EINVAL;
	msgpack_packer_init(&pk, out, msgpack_sbuffer_write);
	msgpack_pack_array(&pk, 4);
	msgpack_pack_uint64(&pk, PROTO_VERSION);
	msgpack_pack_uint64(&pk, msg->type);
	msgpack_pack_uint64(&pk, msg->request_id);
	codec->encode(msg, &pk);
	return 0;
}

void
proto_msg_fini(struct proto_msg *msg)
{
	const struct proto_codec *codec;

	if (msg == NULL)
		return;
	codec = proto_codec_find(msg->type);
	if (codec != NULL)
		codec->fini(msg);
	memset(&msg->u, 0, sizeof msg->u);
}
