/* Which Host header values the HTTP endpoint answers, against DNS rebinding: a web page whose
 * name its owner points at 127.0.0.1 reaches the endpoint from the visitor's browser, and its
 * requests carry that name. Accepted: an IP address (what a browser sends when it was given one:
 * no name to rebind), localhost, the host of --http and the names given with --http-host. */
#ifndef ND_SCHED_HTTP_HOST_H
#define ND_SCHED_HTTP_HOST_H

#include <stdbool.h>

struct sched_http_hosts;

/* listen_host: the host part of --http; names: NULL-terminated, may be NULL. Both copied. */
struct sched_http_hosts *sched_http_hosts_new(const char *listen_host, char *const *names);
void sched_http_hosts_free(struct sched_http_hosts *h);
/* Whether a Host header value (NAME, NAME:PORT, [V6] or [V6]:PORT; NULL when absent) is
 * answered. */
bool sched_http_hosts_allowed(const struct sched_http_hosts *h, const char *host);

#endif
