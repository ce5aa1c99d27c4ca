/* Client/job-family bodies: SUBMIT, ACCEPTED, STATUS, STATUS_REPLY, CANCEL, and the admin GC. */
#include "proto/proto-job.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/xmalloc.h"
#include "proto/proto-msgpack.h"

static int
proto_job_decode_inputs(struct proto_map *m, struct proto_submit *s, char **cause)
{
	const msgpack_object_array *a = NULL;

	if (proto_map_array(m, "inputs", false, PROTO_MAX_INPUTS, &a) != 0 || a == NULL)
		return m->rc;
	s->inputs = xcalloc(a->size + 1, sizeof *s->inputs);
	for (uint32_t i = 0; i < a->size; i++) {
		const msgpack_object *o = &a->ptr[i];
		if (o->type == MSGPACK_OBJECT_STR && o->via.str.size > PROTO_MAX_NAME)
			return m->rc = error_set(cause, -EMSGSIZE,
						 "SUBMIT: inputs[%u] is %u bytes, limit %d", i,
						 o->via.str.size, PROTO_MAX_NAME);
		if (o->type != MSGPACK_OBJECT_STR || o->via.str.size == 0 ||
		    memchr(o->via.str.ptr, '\0', o->via.str.size) != NULL)
			return m->rc = error_set(cause, -EBADMSG,
						 "SUBMIT: inputs[%u] must be a non-empty path of "
						 "at most %d bytes",
						 i, PROTO_MAX_NAME);
		s->inputs[i] = xstrndup(o->via.str.ptr, o->via.str.size);
		s->ninputs = i + 1;
	}
	return 0;
}

int
proto_job_decode(uint32_t type, const msgpack_object *body, struct proto_msg *msg, char **cause)
{
	struct proto_map m;

	proto_map_init(&m, body, proto_type_name(type), cause);
	switch (type) {
	case PROTO_SUBMIT:
		proto_map_str(&m, "pipeline", true, PROTO_MAX_TEXT, &msg->u.submit.pipeline);
		proto_job_decode_inputs(&m, &msg->u.submit, cause);
		proto_map_str(&m, "output", false, PROTO_MAX_NAME, &msg->u.submit.output);
		proto_map_bool(&m, "overwrite", false, &msg->u.submit.overwrite);
		break;
	case PROTO_ACCEPTED:
		proto_map_u64_array(&m, "jobs", true, PROTO_MAX_INPUTS, &msg->u.accepted.jobs,
				    &msg->u.accepted.njobs);
		break;
	case PROTO_STATUS:
		proto_map_str(&m, "what", true, 16, &msg->u.status.what);
		proto_map_u64(&m, "job", false, 0, UINT32_MAX, &msg->u.status.job_id);
		proto_map_u64(&m, "wait_ms", false, 0, PROTO_MAX_STATUS_WAIT_MS,
			      &msg->u.status.wait_ms);
		break;
	case PROTO_STATUS_REPLY:
		proto_map_str(&m, "content_type", true, PROTO_MAX_NAME,
			      &msg->u.status_reply.content_type);
		proto_map_str(&m, "body", true, PROTO_MAX_TEXT, &msg->u.status_reply.body);
		break;
	case PROTO_CANCEL:
		proto_map_u64(&m, "job", true, 1, UINT32_MAX, &msg->u.cancel.job_id);
		break;
	case PROTO_GC:
		msg->u.gc.older_than_ms = UINT64_MAX;
		proto_map_u64(&m, "older_than_ms", false, 0, UINT64_MAX - 1,
			      &msg->u.gc.older_than_ms);
		msg->u.gc.has_older_than = msg->u.gc.older_than_ms != UINT64_MAX;
		if (!msg->u.gc.has_older_than)
			msg->u.gc.older_than_ms = 0;
		break;
	default:
		return error_set(cause, -ENOMSG, "not a job message: %u", type);
	}
	return proto_map_finish(&m);
}

void
proto_job_encode(const struct proto_msg *msg, msgpack_packer *pk)
{
	switch (msg->type) {
	case PROTO_SUBMIT: {
		const struct proto_submit *s = &msg->u.submit;
		msgpack_pack_map(pk, 2 + (s->output != NULL) + s->overwrite);
		proto_pack_kstr(pk, "pipeline", s->pipeline != NULL ? s->pipeline : "");
		proto_pack_str(pk, "inputs");
		msgpack_pack_array(pk, s->ninputs);
		for (uint32_t i = 0; i < s->ninputs; i++)
			proto_pack_str(pk, s->inputs[i]);
		if (s->output != NULL)
			proto_pack_kstr(pk, "output", s->output);
		if (s->overwrite)
			proto_pack_kbool(pk, "overwrite", true);
		break;
	}
	case PROTO_ACCEPTED:
		msgpack_pack_map(pk, 1);
		proto_pack_ku64_array(pk, "jobs", msg->u.accepted.jobs, msg->u.accepted.njobs);
		break;
	case PROTO_STATUS:
		msgpack_pack_map(pk, 1 + (msg->u.status.job_id != 0) + (msg->u.status.wait_ms != 0));
		proto_pack_kstr(pk, "what", msg->u.status.what != NULL ? msg->u.status.what : "");
		if (msg->u.status.job_id != 0)
			proto_pack_ku64(pk, "job", msg->u.status.job_id);
		if (msg->u.status.wait_ms != 0)
			proto_pack_ku64(pk, "wait_ms", msg->u.status.wait_ms);
		break;
	case PROTO_STATUS_REPLY:
		msgpack_pack_map(pk, 2);
		proto_pack_kstr(pk, "content_type",
				msg->u.status_reply.content_type != NULL
				    ? msg->u.status_reply.content_type
				    : "");
		proto_pack_kstr(pk, "body",
				msg->u.status_reply.body != NULL ? msg->u.status_reply.body : "");
		break;
	case PROTO_CANCEL:
		msgpack_pack_map(pk, 1);
		proto_pack_ku64(pk, "job", msg->u.cancel.job_id);
		break;
	case PROTO_GC:
		msgpack_pack_map(pk, msg->u.gc.has_older_than);
		if (msg->u.gc.has_older_than)
			proto_pack_ku64(pk, "older_than_ms", msg->u.gc.older_than_ms);
		break;
	}
}

void
proto_job_fini(struct proto_msg *msg)
{
	switch (msg->type) {
	case PROTO_SUBMIT:
		free(msg->u.submit.pipeline);
		for (uint32_t i = 0; msg->u.submit.inputs != NULL && i < msg->u.submit.ninputs; i++)
			free(msg->u.submit.inputs[i]);
		free(msg->u.submit.inputs);
		free(msg->u.submit.output);
		break;
	case PROTO_ACCEPTED:
		free(msg->u.accepted.jobs);
		break;
	case PROTO_STATUS:
		free(msg->u.status.what);
		break;
	case PROTO_STATUS_REPLY:
		free(msg->u.status_reply.content_type);
		free(msg->u.status_reply.body);
		break;
	}
}
