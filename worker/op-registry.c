/* The op table (built-in ops plus plugins registered at run time) and the parameter checks that
 * op validators share, so every bad parameter is reported the same way with its JSON path. */
#include "worker/op-registry.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/xmalloc.h"

extern const struct op_def *const op_test_table[];
extern const struct op_def *const op_trial_table[];
extern const struct op_def *const op_rec_table[];

#define OP_REGISTRY_MAX_EXTRA 64

static const struct op_def *op_registry_extra[OP_REGISTRY_MAX_EXTRA];
static size_t op_registry_nextra;
static pthread_mutex_t op_registry_lock = PTHREAD_MUTEX_INITIALIZER;

static const struct op_def *const *const op_registry_tables[] = {
    op_test_table,
    op_trial_table,
    op_rec_table,
};

const struct op_def *
op_registry_find(const char *name)
{
	const struct op_def *found = NULL;

	for (size_t t = 0; t < sizeof op_registry_tables / sizeof op_registry_tables[0]; t++)
		for (const struct op_def *const *d = op_registry_tables[t]; *d != NULL; d++)
			if (strcmp((*d)->name, name) == 0)
				return *d;
	pthread_mutex_lock(&op_registry_lock);
	for (size_t i = 0; i < op_registry_nextra; i++)
		if (strcmp(op_registry_extra[i]->name, name) == 0)
			found = op_registry_extra[i];
	pthread_mutex_unlock(&op_registry_lock);
	return found;
}

char *
op_registry_names(void)
{
	char *out = xstrdup(""), *next;

	for (size_t t = 0; t < sizeof op_registry_tables / sizeof op_registry_tables[0]; t++)
		for (const struct op_def *const *d = op_registry_tables[t]; *d != NULL; d++) {
			next = xasprintf("%s%s%s", out, *out ? ", " : "", (*d)->name);
			free(out);
			out = next;
		}
	pthread_mutex_lock(&op_registry_lock);
	for (size_t i = 0; i < op_registry_nextra; i++) {
		next = xasprintf("%s%s%s", out, *out ? ", " : "", op_registry_extra[i]->name);
		free(out);
		out = next;
	}
	pthread_mutex_unlock(&op_registry_lock);
	return out;
}

int
op_registry_add(const struct op_def *def, char **cause)
{
	int rc = 0;

	if (op_registry_find(def->name) != NULL)
		return error_set(cause, -EEXIST, "an op named '%s' already exists", def->name);
	pthread_mutex_lock(&op_registry_lock);
	if (op_registry_nextra == OP_REGISTRY_MAX_EXTRA)
		rc = error_set(cause, -ENOSPC, "too many plugin ops (at most %d)",
			       OP_REGISTRY_MAX_EXTRA);
	else
		op_registry_extra[op_registry_nextra++] = def;
	pthread_mutex_unlock(&op_registry_lock);
	return rc;
}

int
op_param_keys(const json_t *step, const char *path, const char *const *keys, char **cause)
{
	const char *key;
	json_t *v;

	json_object_foreach((json_t *)step, key, v)
	{
		int ok = strcmp(key, "op") == 0;
		for (const char *const *k = keys; !ok && k != NULL && *k != NULL; k++)
			ok = strcmp(key, *k) == 0;
		if (!ok) {
			char *allowed = xstrdup("");
			for (const char *const *k = keys; k != NULL && *k != NULL; k++) {
				char *n = xasprintf("%s%s%s", allowed, *allowed ? ", " : "", *k);
				free(allowed);
				allowed = n;
			}
			error_set(cause, -EINVAL,
				  "%s.%s: unknown parameter of op '%s' (allowed: %s)", path, key,
				  json_string_value(json_object_get(step, "op")),
				  *allowed ? allowed : "none");
			free(allowed);
			return -EINVAL;
		}
	}
	return 0;
}

int
op_param_number(const json_t *step, const char *path, const char *key, int required, double min,
		double max, double def, double *out, char **cause)
{
	json_t *v = json_object_get(step, key);
	double x;

	if (v == NULL) {
		if (required)
			return error_set(cause, -EINVAL, "%s.%s: required parameter is missing",
					 path, key);
		*out = def;
		return 0;
	}
	if (!json_is_number(v))
		return error_set(cause, -EINVAL, "%s.%s: must be a number", path, key);
	x = json_number_value(v);
	if (!isfinite(x) || x < min || x > max)
		return error_set(cause, -EINVAL, "%s.%s: %g is out of range [%g, %g]", path, key, x,
				 min, max);
	*out = x;
	return 0;
}

int
op_param_int(const json_t *step, const char *path, const char *key, int required, long long min,
	     long long max, long long def, long long *out, char **cause)
{
	json_t *v = json_object_get(step, key);
	long long x;

	if (v == NULL) {
		if (required)
			return error_set(cause, -EINVAL, "%s.%s: required parameter is missing",
					 path, key);
		*out = def;
		return 0;
	}
	if (!json_is_integer(v))
		return error_set(cause, -EINVAL, "%s.%s: must be an integer", path, key);
	x = json_integer_value(v);
	if (x < min || x > max)
		return error_set(cause, -EINVAL, "%s.%s: %lld is out of range [%lld, %lld]", path,
				 key, x, min, max);
	*out = x;
	return 0;
}

int
op_param_string(const json_t *step, const char *path, const char *key, int required,
		const char *def, const char **out, char **cause)
{
	json_t *v = json_object_get(step, key);

	if (v == NULL) {
		if (required)
			return error_set(cause, -EINVAL, "%s.%s: required parameter is missing",
					 path, key);
		*out = def;
		return 0;
	}
	if (!json_is_string(v))
		return error_set(cause, -EINVAL, "%s.%s: must be a string", path, key);
	*out = json_string_value(v);
	return 0;
}

int
op_param_bool(const json_t *step, const char *path, const char *key, bool def, bool *out,
	      char **cause)
{
	json_t *v = json_object_get(step, key);

	if (v == NULL) {
		*out = def;
		return 0;
	}
	if (!json_is_boolean(v))
		return error_set(cause, -EINVAL, "%s.%s: must be true or false", path, key);
	*out = json_is_true(v);
	return 0;
}
