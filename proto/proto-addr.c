/* Scheduler addresses: the schemes nng dials here (tcp, tls+tcp, ipc), and HOST:PORT without a
 * scheme read as tcp, the way Dask's workers take `tcp://host:8786` or `host:8786`. */
#include "proto/proto-addr.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/xmalloc.h"

/* HOST:PORT with a port in 1..65535 and a host (a name, an IPv4 address or [IPv6]). */
static bool
proto_addr_host_port(const char *s)
{
	const char *colon = strrchr(s, ':');
	char *end;
	unsigned long port;

	if (colon == NULL || colon == s || colon[1] == '\0')
		return false;
	port = strtoul(colon + 1, &end, 10);
	if (*end != '\0' || port == 0 || port > 65535 || colon[1] == '+' || colon[1] == '-')
		return false;
	if (s[0] == '[')
		return colon[-1] == ']' && colon - s > 2;
	for (const char *p = s; p < colon; p++)
		if (!(*p == '.' || *p == '-' || *p == '_' || (*p >= '0' && *p <= '9') ||
		      (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
			return false;
	return true;
}

int
proto_addr_url(const char *addr, char **url, char **cause)
{
	const char *rest;

	*url = NULL;
	if (addr == NULL || addr[0] == '\0')
		return error_set(cause, -EINVAL,
				 "no scheduler address: expected " PROTO_ADDR_FORMS);
	if (strncmp(addr, "tcp://", 6) == 0 || strncmp(addr, "tls+tcp://", 10) == 0) {
		rest = strstr(addr, "://") + 3;
		if (proto_addr_host_port(rest)) {
			*url = xstrdup(addr);
			return 0;
		}
	} else if (strncmp(addr, "ipc://", 6) == 0) {
		if (addr[6] != '\0') {
			*url = xstrdup(addr);
			return 0;
		}
	} else if (strstr(addr, "://") == NULL && proto_addr_host_port(addr)) {
		*url = xasprintf("tcp://%s", addr);
		return 0;
	}
	return error_set(cause, -EINVAL, "'%s' is not a scheduler address: expected %s", addr,
			 PROTO_ADDR_FORMS);
}
