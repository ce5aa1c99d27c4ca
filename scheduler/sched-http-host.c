/* The Host header check of the HTTP endpoint (sched-http-host.h): the header's name part parsed
 * strictly (a port of digits only, one trailing dot dropped), then compared without case. */
#include "scheduler/sched-http-host.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/xmalloc.h"

struct sched_http_hosts {
	char *listen_host; /* the host of --http (a name or an address) */
	char **names;      /* --http-host: further names the endpoint is reached by */
};

struct sched_http_hosts *
sched_http_hosts_new(const char *listen_host, char *const *names)
{
	struct sched_http_hosts *h = xcalloc(1, sizeof *h);
	size_t n = 0;

	h->listen_host = listen_host != NULL ? xstrdup(listen_host) : NULL;
	while (names != NULL && names[n] != NULL)
		n++;
	h->names = xcalloc(n + 1, sizeof *h->names);
	for (size_t i = 0; i < n; i++)
		h->names[i] = xstrdup(names[i]);
	return h;
}

void
sched_http_hosts_free(struct sched_http_hosts *h)
{
	if (h == NULL)
		return;
	for (char **n = h->names; *n != NULL; n++)
		free(*n);
	free(h->names);
	free(h->listen_host);
	free(h);
}

/* The name part of a Host header value into out, without a trailing dot; false when it is
 * malformed or longer than out. */
static bool
sched_http_host_name(const char *host, char *out, size_t size, bool *v6)
{
	const char *end, *port;
	size_t n;

	*v6 = host[0] == '[';
	if (*v6) {
		if ((end = strchr(host, ']')) == NULL)
			return false;
		host++;
		port = end + 1;
	} else {
		end = host + strcspn(host, ":");
		port = end;
	}
	if (*port == ':')
		port++;
	else if (*port != '\0')
		return false;
	if (strspn(port, "0123456789") != strlen(port) || strlen(port) > 5)
		return false;
	n = (size_t)(end - host);
	if (n > 0 && host[n - 1] == '.' && !*v6)
		n--;
	if (n == 0 || n >= size)
		return false;
	memcpy(out, host, n);
	out[n] = '\0';
	return true;
}

bool
sched_http_hosts_allowed(const struct sched_http_hosts *h, const char *host)
{
	unsigned char addr[sizeof(struct in6_addr)];
	char name[256];
	bool v6;

	if (host == NULL || !sched_http_host_name(host, name, sizeof name, &v6))
		return false;
	if (v6)
		return inet_pton(AF_INET6, name, addr) == 1;
	if (inet_pton(AF_INET, name, addr) == 1 || strcasecmp(name, "localhost") == 0 ||
	    (h->listen_host != NULL && strcasecmp(name, h->listen_host) == 0))
		return true;
	for (char **n = h->names; *n != NULL; n++)
		if (strcasecmp(name, *n) == 0)
			return true;
	return false;
}
