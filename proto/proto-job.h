/* The body codecs of the messages about jobs: SUBMIT, ACCEPTED, STATUS, STATUS_REPLY, CANCEL
 * (proto-job.c), used by the table in proto-codec.c. */
#ifndef ND_PROTO_JOB_H
#define ND_PROTO_JOB_H

#include <msgpack.h>
#include <stdint.h>

#include "proto/proto.h"

int proto_job_decode(uint32_t type, const msgpack_object *body, struct proto_msg *msg,
		     char **cause);
void proto_job_encode(const struct proto_msg *msg, msgpack_packer *pk);
void proto_job_fini(struct proto_msg *msg);

#endif
