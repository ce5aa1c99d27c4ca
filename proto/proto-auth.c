/* The peer's side of authentication: HELLO with a fresh nonce, the scheduler's CHALLENGE checked
 * against the proof only the token's holder can make, then AUTH with the peer's own proof. The
 * peer proves nothing to a scheduler that failed to prove itself first. */
#include "proto/proto-auth.h"

#include <errno.h>
#include <string.h>

#include "common/error.h"
#include "common/token.h"

/* A reply to AUTH from a scheduler that lost our HELLO (a reconnect in between): start over. */
#define PROTO_AUTH_TRIES 3

/* Send req and take the reply, which must be of type `want` (else it is freed and refused).
 * On success *reply is the caller's (proto_msg_fini). */
static int
proto_auth_call(struct proto_call *call, const struct proto_msg *req, enum proto_type want,
		int timeout_ms, struct proto_msg *reply, char **cause)
{
	int rc = proto_call_run(call, req, reply, timeout_ms, cause);

	if (rc != 0 || reply->type == want)
		return rc;
	rc = error_set(cause, -EPROTO, "expected %s, got %s", proto_type_name(want),
		       proto_type_name(reply->type));
	proto_msg_fini(reply);
	return rc;
}

static int
proto_auth_once(struct proto_call *call, const struct proto_hello *hello, const char *token,
		int timeout_ms, struct proto_welcome *welcome, char **cause)
{
	struct proto_msg req = {.type = PROTO_HELLO}, reply;
	const char *role = proto_role_name(hello->role);
	char nonce[TOKEN_HEX_LEN + 1], expect[TOKEN_HEX_LEN + 1], proof[TOKEN_HEX_LEN + 1];
	int rc;

	if (token_nonce(nonce) != 0)
		return error_set(cause, -EIO, "cannot get random bytes for a nonce");
	req.u.hello = *hello;
	req.u.hello.nonce = nonce;
	if ((rc = proto_auth_call(call, &req, PROTO_CHALLENGE, timeout_ms, &reply, cause)) != 0)
		return rc;
	token_proof(token, TOKEN_PROOF_SCHEDULER, role, nonce, reply.u.challenge.nonce, expect);
	if (!token_equal(expect, reply.u.challenge.proof)) {
		proto_msg_fini(&reply);
		return error_set(cause, -EACCES,
				 "the scheduler's proof does not match this token: the token is "
				 "wrong, or this is not the scheduler that made it");
	}
	token_proof(token, TOKEN_PROOF_PEER, role, reply.u.challenge.nonce, nonce, proof);
	proto_msg_fini(&reply);
	req = (struct proto_msg){.type = PROTO_AUTH};
	req.u.auth.proof = proof;
	if ((rc = proto_auth_call(call, &req, PROTO_WELCOME, timeout_ms, &reply, cause)) != 0)
		return rc;
	*welcome = reply.u.welcome;
	return 0;
}

int
proto_auth_hello(struct proto_call *call, const struct proto_hello *hello, const char *token,
		 int timeout_ms, struct proto_welcome *welcome, char **cause)
{
	int rc = -EPROTO;

	for (int i = 0; i < PROTO_AUTH_TRIES && rc == -EPROTO; i++) {
		if (i > 0 && cause != NULL) {
			free(*cause);
			*cause = NULL;
		}
		rc = proto_auth_once(call, hello, token, timeout_ms, welcome, cause);
	}
	return rc;
}
