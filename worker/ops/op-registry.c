/* The op table: built-in ops plus plugins registered at run time. */
#include "worker/ops/op-registry.h"

#include <errno.h>
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

void *
op_registry_step_params(const json_t *step)
{
	const char *name = json_string_value(json_object_get(step, "op"));
	const struct op_def *op = name != NULL ? op_registry_find(name) : NULL;
	void *params = NULL;

	if (op != NULL && op_def_parse(op, step, "steps", &params, NULL) != 0)
		params = NULL;
	return params;
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
