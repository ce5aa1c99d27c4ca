/* The parameter checks that op validators share, so every bad parameter is reported the same way
 * with its JSON path. */
#include "worker/ops/spec/op-param.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/xmalloc.h"

static int
op_param_is_reserved(const char *key)
{
	return key[0] == '_' || strcmp(key, "index") == 0;
}

int
op_param_reserved(const json_t *step, const char *path, char **cause)
{
	const char *key;
	json_t *v;

	json_object_foreach((json_t *)step, key, v)
	{
		if (op_param_is_reserved(key))
			return error_set(cause, -EINVAL, "%s.%s: unknown parameter of op '%s'",
					 path, key, json_string_value(json_object_get(step, "op")));
	}
	return 0;
}

int
op_param_keys(const json_t *step, const char *path, const char *const *keys, char **cause)
{
	int is_step = json_object_get(step, "op") != NULL;
	const char *key;
	json_t *v;

	json_object_foreach((json_t *)step, key, v)
	{
		/* "select" on a step is a selection before it (the graph builder makes it a
		 * selectdata step for trial inputs, and refuses it elsewhere) */
		int ok = strcmp(key, "op") == 0 ||
			 (is_step && (op_param_is_reserved(key) || strcmp(key, "select") == 0));
		for (const char *const *k = keys; !ok && k != NULL && *k != NULL; k++)
			ok = strcmp(key, *k) == 0;
		if (!ok) {
			char *allowed = xstrdup("");
			for (const char *const *k = keys; k != NULL && *k != NULL; k++) {
				char *n = xasprintf("%s%s%s", allowed, *allowed ? ", " : "", *k);
				free(allowed);
				allowed = n;
			}
			if (is_step)
				error_set(cause, -EINVAL,
					  "%s.%s: unknown parameter of op '%s' (allowed: %s)", path,
					  key, json_string_value(json_object_get(step, "op")),
					  *allowed ? allowed : "none");
			else
				error_set(cause, -EINVAL, "%s.%s: unknown parameter (allowed: %s)",
					  path, key, *allowed ? allowed : "none");
			free(allowed);
			return -EINVAL;
		}
	}
	return 0;
}

/* The step's value of `key`, or NULL when absent: then -EINVAL if it is required, else 0 and
 * the caller stores its default. */
static int
op_param_value(const json_t *step, const char *path, const char *key, int required, json_t **v,
	       char **cause)
{
	*v = json_object_get(step, key);
	if (*v == NULL && required)
		return error_set(cause, -EINVAL, "%s.%s: required parameter is missing", path, key);
	return 0;
}

int
op_param_number(const json_t *step, const char *path, const char *key, int required, double min,
		double max, double def, double *out, char **cause)
{
	json_t *v;
	double x;

	if (op_param_value(step, path, key, required, &v, cause) != 0)
		return -EINVAL;
	if (v == NULL) {
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
	json_t *v;
	long long x;

	if (op_param_value(step, path, key, required, &v, cause) != 0)
		return -EINVAL;
	if (v == NULL) {
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
	json_t *v;

	if (op_param_value(step, path, key, required, &v, cause) != 0)
		return -EINVAL;
	if (v == NULL) {
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

int
op_param_enum(const json_t *step, const char *path, const char *key, const char *const *choices,
	      int def, int *out, char **cause)
{
	const char *v;
	char *list;
	int rc;

	if ((rc = op_param_string(step, path, key, 0, NULL, &v, cause)) != 0)
		return rc;
	if (v == NULL) {
		*out = def;
		return 0;
	}
	for (int i = 0; choices[i] != NULL; i++)
		if (strcmp(v, choices[i]) == 0) {
			*out = i;
			return 0;
		}
	list = xstrdup("");
	for (int i = 0; choices[i] != NULL; i++) {
		char *n = xasprintf("%s%s\"%s\"", list,
				    i == 0                   ? ""
				    : choices[i + 1] == NULL ? " or "
							     : ", ",
				    choices[i]);
		free(list);
		list = n;
	}
	error_set(cause, -EINVAL, "%s.%s: must be %s", path, key, list);
	free(list);
	return -EINVAL;
}
