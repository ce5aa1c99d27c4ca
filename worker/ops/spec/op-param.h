/* The parameter checks that op validators share, so every bad parameter is reported the same
 * way with its JSON path. */
#ifndef ND_OP_PARAM_H
#define ND_OP_PARAM_H

#include <jansson.h>
#include <stdbool.h>

/* Parameter helpers for validate functions: every allowed key listed, types and ranges checked,
 * errors name the JSON path. `keys` is a NULL-terminated list of allowed keys besides "op" (and,
 * in a step, "select": the selection the graph builder turns into a step before it). */
int op_param_keys(const json_t *step, const char *path, const char *const *keys, char **cause);
int op_param_number(const json_t *step, const char *path, const char *key, int required, double min,
		    double max, double def, double *out, char **cause);
int op_param_int(const json_t *step, const char *path, const char *key, int required, long long min,
		 long long max, long long def, long long *out, char **cause);
int op_param_string(const json_t *step, const char *path, const char *key, int required,
		    const char *def, const char **out, char **cause);
/* A string parameter that must be one of `choices` (NULL-terminated): *out is its index, `def`
 * when absent. The error lists the choices. */
int op_param_enum(const json_t *step, const char *path, const char *key, const char *const *choices,
		  int def, int *out, char **cause);
/* Keys the graph builder adds to steps after validation ("index", and names starting with '_')
 * are accepted by op_param_keys in a step (an object with "op"); a user's step must not carry
 * them: -EINVAL when it does. */
int op_param_reserved(const json_t *step, const char *path, char **cause);
/* A boolean parameter (true/false), default `def` when absent. */
int op_param_bool(const json_t *step, const char *path, const char *key, bool def, bool *out,
		  char **cause);

#endif
