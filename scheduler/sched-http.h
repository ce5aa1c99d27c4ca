/* The read-only HTTP status endpoint on nng's HTTP server: /health, /api/status, /api/jobs,
 * /api/jobs/{id}, /api/workers, /metrics and the dashboard page at /. Requests are posted to the
 * loop and answered there, so reports read state on the thread that owns it. */
#ifndef ND_SCHED_HTTP_H
#define ND_SCHED_HTTP_H

struct sched;
struct sched_http;
struct sched_http_request;

/* Each GET becomes a request handed to post(req, arg) on the server's thread; the loop answers
 * it with sched_http_answer. A request whose Host header is not an IP address, localhost, the
 * host of addr or one of `names` (NULL-terminated, may be NULL) is refused with 421 there
 * (DNS rebinding). */
typedef void (*sched_http_post_fn)(struct sched_http_request *req, void *arg);
int sched_http_start(const char *addr, char *const *names, sched_http_post_fn post, void *arg,
		     struct sched_http **out, char **cause);
void sched_http_stop(struct sched_http *h);
/* On the loop thread: build and send the response, then free req. */
void sched_http_answer(struct sched *s, struct sched_http_request *req);
/* Answer 503 and free (shutdown). */
void sched_http_request_free(struct sched_http_request *req);

#endif
