/* The protocol's vocabulary: the names of message types, wire statuses and roles, and the wire
 * status a -errno is answered with. */
#include "proto/proto.h"

#include <errno.h>
#include <stddef.h>

const char *
proto_type_name(uint32_t type)
{
	static const struct {
		uint32_t type;
		const char *name;
	} names[] = {
	    {PROTO_HELLO, "HELLO"},
	    {PROTO_WELCOME, "WELCOME"},
	    {PROTO_BYE, "BYE"},
	    {PROTO_ERROR, "ERROR"},
	    {PROTO_ACK, "ACK"},
	    {PROTO_CHALLENGE, "CHALLENGE"},
	    {PROTO_AUTH, "AUTH"},
	    {PROTO_SUBMIT, "SUBMIT"},
	    {PROTO_ACCEPTED, "ACCEPTED"},
	    {PROTO_STATUS, "STATUS"},
	    {PROTO_STATUS_REPLY, "STATUS_REPLY"},
	    {PROTO_CANCEL, "CANCEL"},
	    {PROTO_GC, "GC"},
	    {PROTO_TASK_REQUEST, "TASK_REQUEST"},
	    {PROTO_TASK_ASSIGN, "TASK_ASSIGN"},
	    {PROTO_IDLE, "IDLE"},
	    {PROTO_HEARTBEAT, "HEARTBEAT"},
	};

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (names[i].type == type)
			return names[i].name;
	return "UNKNOWN";
}

const char *
proto_status_name(uint32_t status)
{
	static const char *const names[] = {
	    "ok",        "malformed", "version",    "unknown_type",  "too_big",  "auth",
	    "not_found", "invalid",   "unexpected", "shutting_down", "internal", "unavailable",
	};
	return status < PROTO_STATUS_COUNT ? names[status] : "unknown";
}

const char *
proto_role_name(enum proto_role role)
{
	return role == PROTO_ROLE_WORKER ? "worker" : role == PROTO_ROLE_CLIENT ? "client" : "none";
}

enum proto_status
proto_status_from_errno(int rc)
{
	switch (rc) {
	case 0:
		return PROTO_STATUS_OK;
	case -EBADMSG:
		return PROTO_STATUS_MALFORMED;
	case -EPROTONOSUPPORT:
		return PROTO_STATUS_VERSION;
	case -ENOMSG:
		return PROTO_STATUS_UNKNOWN_TYPE;
	case -EMSGSIZE:
		return PROTO_STATUS_TOO_BIG;
	case -EACCES:
		return PROTO_STATUS_AUTH;
	case -ENOENT:
		return PROTO_STATUS_NOT_FOUND;
	case -EINVAL:
		return PROTO_STATUS_INVALID;
	case -EPROTO:
		return PROTO_STATUS_UNEXPECTED;
	case -ESHUTDOWN:
		return PROTO_STATUS_SHUTTING_DOWN;
	case -EAGAIN:
	case -ENOSPC:
		return PROTO_STATUS_UNAVAILABLE;
	default:
		return PROTO_STATUS_INTERNAL;
	}
}
