/* The shared secret that workers and clients present in HELLO: creation (0600 file in the state
 * dir), reading from a file or NEURODAG_TOKEN, and constant-time comparison. */
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

#endif
