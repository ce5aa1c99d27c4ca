/* The shared secret that workers, clients and the scheduler prove they know: creation (0600 file
 * in the state dir), reading from a file or NEURODAG_TOKEN, constant-time comparison, and the
 * nonces and HMAC proofs of the challenge-response HELLO (the token itself never travels). */
#ifndef ND_TOKEN_H
#define ND_TOKEN_H

#include <stdbool.h>

#define TOKEN_FILE_NAME "token"

/* Read the token at dir/token, creating it with 32 random bytes (hex) when absent. */
int token_load_or_create(const char *dir, char **token, char **cause);
/* Read a token from `path`, else from $NEURODAG_TOKEN; -ENOENT with a cause when neither. */
int token_read(const char *path, char **token, char **cause);
/* Constant-time comparison (time depends on the expected length only). */
bool token_equal(const char *expected, const char *given);

#define TOKEN_HEX_LEN 64 /* a nonce (32 random bytes) or a proof (HMAC-SHA256), as hex */

/* Labels of the two proofs: each side proves with its own, so one cannot replay the other's. */
#define TOKEN_PROOF_SCHEDULER "neurodag-scheduler"
#define TOKEN_PROOF_PEER      "neurodag-peer"

/* A fresh random nonce as TOKEN_HEX_LEN hex digits and a NUL. 0 or -EIO. */
int token_nonce(char out[TOKEN_HEX_LEN + 1]);
/* HMAC-SHA256 keyed by the token of "label\nrole\nfirst\nsecond", as hex: the scheduler
 * proves (TOKEN_PROOF_SCHEDULER, role, peer nonce, its nonce), the peer (TOKEN_PROOF_PEER,
 * role, scheduler nonce, its nonce). */
void token_proof(const char *token, const char *label, const char *role, const char *first,
		 const char *second, char out[TOKEN_HEX_LEN + 1]);

#endif
