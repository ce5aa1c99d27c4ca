/* The HTTP endpoint on nng's HTTP server: /health, /api/status, /api/jobs, /api/jobs/{id},
 * /api/workers, /metrics and the dashboard page at /; with the token, POST /api/jobs and
 * DELETE /api/jobs/{id}. Requests are posted to the loop and answered there, so reports read
 * state on the thread that owns it. */
#ifndef ND_SCHED_HTTP_H
#define ND_SCHED_HTTP_H

#include <stdbool.h>

struct sched;
struct sched_http;
struct sched_http_request;

struct sched_http_config {
	const char *addr;  /* HOST:PORT */
	const char *token; /* the bearer token of writes (and reads with auth_read) */
	bool auth_read;    /* reads need the token too (all but /health) */
	/* Further names accepted in the Host header besides IP addresses, localhost and addr's
	 * host (NULL-terminated, may be NULL); any other is refused with 421 (DNS rebinding,
	 * sched-http-host.h). */
	char *const *hosts;
};

/* Each request that passed its checks becomes one handed to post(req, arg) on the server's
 * thread; the loop answers it with sched_http_answer. */
typedef void (*sched_http_post_fn)(struct sched_http_request *req, void *arg);
int sched_http_start(const struct sched_http_config *cfg, sched_http_post_fn post, void *arg,
		     struct sched_http **out, char **cause);
void sched_http_stop(struct sched_http *h);
/* On the loop thread: build and send the response, then free req. */
void sched_http_answer(struct sched *s, struct sched_http_request *req);
/* After a successful commit: answer the submissions it made durable. */
void sched_http_committed(struct sched_http *h);
/* Answer 503 and free (shutdown). */
void sched_http_request_free(struct sched_http_request *req);

#endif
