/* The peer's side of the challenge-response HELLO (proto-auth.c), shared by workers and the
 * CLI: the token never goes on the wire, and a scheduler that cannot prove it knows the token
 * learns nothing and is refused. */
#ifndef ND_PROTO_AUTH_H
#define ND_PROTO_AUTH_H

#include "proto/proto-nng.h"

/* HELLO with `hello`'s role and identity (its nonce is made here), check the CHALLENGE's proof,
 * AUTH with ours; on success *welcome holds the WELCOME. Returns 0, -EACCES (a wrong token: the
 * scheduler refused our proof, or its proof does not match, i.e. a wrong token or not the real
 * scheduler), or the call's -errno (unreachable, timeout...), with a cause. */
int proto_auth_hello(struct proto_call *call, const struct proto_hello *hello, const char *token,
		     int timeout_ms, struct proto_welcome *welcome, char **cause);

#endif
