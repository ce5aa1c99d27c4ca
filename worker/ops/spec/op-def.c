/* Checking and parsing a step with its op's definition: the typed parse when the op has one,
 * and its validate function. */
#include "worker/ops/spec/op-def.h"

#include <stdlib.h>

#include "common/xmalloc.h"

int
op_def_parse(const struct op_def *op, const json_t *step, const char *path, void **params,
	     char **cause)
{
	void *p;
	int rc;

	*params = NULL;
	if (op->parse == NULL)
		return 0;
	p = xcalloc(1, op->params_size > 0 ? op->params_size : 1);
	if ((rc = op->parse(step, path, p, cause)) != 0) {
		free(p);
		return rc;
	}
	*params = p;
	return 0;
}

int
op_def_check(const struct op_def *op, const json_t *step, const char *path, char **cause)
{
	void *params;
	int rc = op_def_parse(op, step, path, &params, cause);

	free(params);
	if (rc == 0 && op->validate != NULL)
		rc = op->validate(step, path, cause);
	return rc;
}
