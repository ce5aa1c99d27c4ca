/* Encoding and decoding whole messages: the envelope [version, type, request_id, body] and a
 * table of body codecs, one entry per message type. */
#ifndef ND_PROTO_CODEC_H
#define ND_PROTO_CODEC_H

#include <msgpack.h>

#include "proto/proto.h"

/* Decode a whole message. On success *msg holds copies of every field (free with
 * proto_msg_fini); the input remains owned by the caller. On failure returns -EMSGSIZE (too
 * big), -EPROTONOSUPPORT (version), -ENOMSG (unknown type) or -EBADMSG (malformed), with a cause;
 * msg->type and msg->request_id are set when the envelope itself was readable, else 0. */
int proto_decode(const void *data, size_t len, struct proto_msg *msg, char **cause);

/* Append the encoding of msg to out. Returns 0 or -EINVAL for an unknown type. */
int proto_encode(const struct proto_msg *msg, msgpack_sbuffer *out);

/* Free the fields of a decoded (or caller-built with heap fields) message. Accepts NULL. */
void proto_msg_fini(struct proto_msg *msg);

#endif
