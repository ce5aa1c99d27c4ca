/* Building the human-readable cause strings that travel with -errno return codes. */
#include "common/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/xmalloc.h"

int
error_set(char **cause, int rc, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	if (cause == NULL || *cause != NULL)
		return rc;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	*cause = msg;
	return rc;
}

int
error_wrap(char **cause, int rc, const char *fmt, ...)
{
	va_list ap;
	char *prefix, *msg;

	if (cause == NULL)
		return rc;
	va_start(ap, fmt);
	if (vasprintf(&prefix, fmt, ap) < 0)
		prefix = NULL;
	va_end(ap);
	if (prefix == NULL)
		return rc;
	msg = xasprintf("%s%s", prefix, *cause != NULL ? *cause : "failed");
	free(prefix);
	free(*cause);
	*cause = msg;
	return rc;
}
