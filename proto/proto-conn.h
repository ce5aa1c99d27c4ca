/* The body codecs of the messages about connections: HELLO, WELCOME, BYE, ERROR, ACK
 * (proto-conn.c), used by the table in proto-codec.c. */
#ifndef ND_PROTO_CONN_H
#define ND_PROTO_CONN_H

#include <msgpack.h>
#include <stdint.h>

#include "proto/proto.h"

int proto_conn_decode(uint32_t type, const msgpack_object *body, struct proto_msg *msg,
		      char **cause);
void proto_conn_encode(const struct proto_msg *msg, msgpack_packer *pk);
void proto_conn_fini(struct proto_msg *msg);

#endif
