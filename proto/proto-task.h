/* The body codecs of the messages about tasks: TASK_REQUEST, TASK_ASSIGN, IDLE, HEARTBEAT
 * (proto-task.c), used by the table in proto-codec.c. */
#ifndef ND_PROTO_TASK_H
#define ND_PROTO_TASK_H

#include <msgpack.h>
#include <stdint.h>

#include "proto/proto.h"

int proto_task_decode(uint32_t type, const msgpack_object *body, struct proto_msg *msg,
		      char **cause);
void proto_task_encode(const struct proto_msg *msg, msgpack_packer *pk);
void proto_task_fini(struct proto_msg *msg);

#endif
