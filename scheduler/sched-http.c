/* HTTP endpoint: nng handlers turn each request into one posted to the loop; the loop renders
 * JSON, Prometheus text or the dashboard, or runs a write route (sched-http-api.c), and completes
 * the request's aio. Writes (POST /api/jobs, DELETE /api/jobs/{id}) need the scheduler's token as
 * a bearer token, and with --http-auth-read so do reads (not /health). The token is checked on
 * nng's thread before a body is read, so an unauthenticated request costs a header compare. */
#include "scheduler/sched-http.h"

#include <errno.h>
#include <nng/nng.h>
#include <nng/supplemental/http/http.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/error.h"
#include "common/token.h"
#include "common/xmalloc.h"
#include "scheduler/sched-dashboard.h"
#include "scheduler/sched-http-api.h"
#include "scheduler/sched-http-host.h"
#include "scheduler/state/sched-jobs.h"
#include "scheduler/sched-status.h"

/* A write request's body may be this large (a pipeline and a list of inputs). */
#define SCHED_HTTP_MAX_BODY (1u << 20)
/* A body must arrive within this time once its headers have. */
#define SCHED_HTTP_BODY_TIMEOUT_MS 10000

struct sched_http {
	nng_http_server *server;
	nng_http_handler *handler;
	sched_http_post_fn post;
	void *arg;
	char *token;
	bool auth_read;
	struct sched_http_hosts *hosts; /* the Host header values answered */
	/* Accepted submissions, answered once the store has committed them (loop thread). */
	struct sched_http_request *held, **held_tail;
};

struct sched_http_request {
	nng_aio *aio;
	char *path;
	char method; /* 'G'ET, 'P'OST, 'D'ELETE */
	char *body;
	size_t len;
	nng_aio *read; /* the body's read */
	struct sched_http *http;
	json_t *reply; /* a held reply */
	struct sched_http_request *next;
};

static void
sched_http_send(nng_aio *aio, uint16_t status, const char *type, const char *body, size_t len)
{
	nng_http_res *res;

	if (nng_http_res_alloc(&res) != 0) {
		nng_aio_finish(aio, NNG_ENOMEM);
		return;
	}
	nng_http_res_set_status(res, status);
	nng_http_res_set_header(res, "Content-Type", type);
	nng_http_res_set_header(res, "Cache-Control", "no-store");
	nng_http_res_copy_data(res, body, len);
	nng_aio_set_output(aio, 0, res);
	nng_aio_finish(aio, 0);
}

static void
sched_http_send_json(nng_aio *aio, uint16_t status, json_t *j)
{
	char *text = json_dumps(j, JSON_INDENT(1));

	sched_http_send(aio, status, "application/json", text, strlen(text));
	free(text);
	json_decref(j);
}

/* A file from disk (a job's correction report or one of its figures), at most 32 MiB. */
static void
sched_http_send_file(nng_aio *aio, const char *path, const char *type)
{
	FILE *fp = fopen(path, "rb");
	char *buf = NULL;
	long len = -1;

	if (fp != NULL && fseek(fp, 0, SEEK_END) == 0 && (len = ftell(fp)) >= 0 &&
	    len <= (32L << 20) && fseek(fp, 0, SEEK_SET) == 0) {
		buf = xmalloc((size_t)len + 1);
		if (fread(buf, 1, (size_t)len, fp) != (size_t)len)
			len = -1;
	}
	if (fp != NULL)
		fclose(fp);
	if (buf != NULL && len >= 0)
		sched_http_send(aio, 200, type, buf, (size_t)len);
	else
		sched_http_send_json(aio, 404, json_pack("{s:s}", "error", "report not found"));
	free(buf);
}

/* /api/jobs/{id}/report is the job's report page; the figures it links (FOLDER/NAME.png,
 * relative to the page) are served from the folder beside it, by plain names only. */
static void
sched_http_report(nng_aio *aio, const struct sched_job *j, const char *rest)
{
	static const char *const plain =
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-";
	const char *page = j != NULL ? sched_status_report(j) : NULL;
	char *dir, *base, *path = NULL;
	size_t n;

	if (page == NULL) {
		sched_http_send_json(aio, 404, json_pack("{s:s}", "error", "no report"));
		return;
	}
	if (strcmp(rest, "report") == 0) {
		sched_http_send_file(aio, page, "text/html; charset=utf-8");
		return;
	}
	/* corrected.report.html links corrected.report/NAME */
	n = strlen(page);
	dir = xstrndup(page, n > 5 && strcmp(page + n - 5, ".html") == 0 ? n - 5 : n);
	base = strrchr(dir, '/') + 1;
	n = strlen(base);
	if (strncmp(rest, base, n) == 0 && rest[n] == '/' && rest[n + 1] != '.' &&
	    rest[n + 1] != '\0' && strspn(rest + n + 1, plain) == strlen(rest + n + 1))
		path = xasprintf("%s/%s", dir, rest + n + 1);
	if (path != NULL)
		sched_http_send_file(aio, path, "image/png");
	else
		sched_http_send_json(aio, 404, json_pack("{s:s}", "error", "not found"));
	free(path);
	free(dir);
}

/* A refusal that reads nothing more from the connection: a JSON error, and the connection closed
 * (any body the client sends after its headers is never read). */
static void
sched_http_refuse(nng_aio *aio, uint16_t status, const char *message)
{
	nng_http_res *res;
	json_t *j = json_pack("{s:s}", "error", message);
	char *text = json_dumps(j, JSON_INDENT(1));

	json_decref(j);
	if (nng_http_res_alloc(&res) != 0) {
		free(text);
		nng_aio_finish(aio, NNG_ENOMEM);
		return;
	}
	nng_http_res_set_status(res, status);
	if (status == 411 || status == 413 || status == 421) /* nng knows no reason phrase */
		nng_http_res_set_reason(res, status == 411   ? "Length Required"
					     : status == 413 ? "Payload Too Large"
							     : "Misdirected Request");
	nng_http_res_set_header(res, "Content-Type", "application/json");
	nng_http_res_set_header(res, "Cache-Control", "no-store");
	nng_http_res_set_header(res, "Connection", "close");
	if (status == 401)
		nng_http_res_set_header(res, "WWW-Authenticate", "Bearer realm=\"neurodag\"");
	nng_http_res_copy_data(res, text, strlen(text));
	free(text);
	nng_aio_set_output(aio, 0, res);
	nng_aio_finish(aio, 0);
}

/* 0 when the request carries "Authorization: Bearer TOKEN" with the scheduler's token, else the
 * status to refuse it with (401 without a bearer token, 403 with a wrong one). */
static uint16_t
sched_http_auth(const struct sched_http *http, nng_http_req *req)
{
	const char *a = nng_http_req_get_header(req, "Authorization");

	if (a == NULL || strncasecmp(a, "Bearer ", 7) != 0)
		return 401;
	a += 7;
	while (*a == ' ')
		a++;
	return token_equal(http->token, a) ? 0 : 403;
}

static void
sched_http_request_drop(struct sched_http_request *r)
{
	if (r->read != NULL)
		nng_aio_reap(r->read);
	json_decref(r->reply);
	free(r->body);
	free(r->path);
	free(r);
}

static void
sched_http_body_read(void *arg)
{
	struct sched_http_request *r = arg;
	int rv = nng_aio_result(r->read);

	if (rv != 0 || nng_aio_count(r->read) != r->len) {
		/* Too slow, or the client went away: close without an answer. */
		nng_aio_finish(r->aio, rv != 0 ? rv : NNG_ECLOSED);
		sched_http_request_drop(r);
		return;
	}
	r->http->post(r, r->http->arg);
}

/* POST: the declared length within the limit, then the body read before the request is posted.
 * 0, or the status the request was refused with. */
static uint16_t
sched_http_read_body(struct sched_http_request *r, nng_http_req *req, nng_http_conn *conn)
{
	const char *cl = nng_http_req_get_header(req, "Content-Length");
	char *end;
	unsigned long long n = cl != NULL ? strtoull(cl, &end, 10) : 0;
	nng_iov iov;

	if (cl == NULL || *cl < '0' || *cl > '9' || *end != '\0') {
		sched_http_refuse(r->aio, 411, "POST needs a Content-Length (no chunked bodies)");
		return 411;
	}
	if (n > SCHED_HTTP_MAX_BODY) {
		char *msg = xasprintf("request body of %llu bytes, over the limit of %u", n,
				      SCHED_HTTP_MAX_BODY);
		sched_http_refuse(r->aio, 413, msg);
		free(msg);
		return 413;
	}
	r->len = (size_t)n;
	r->body = xmalloc(r->len + 1);
	r->body[r->len] = '\0';
	if (r->len == 0) {
		r->http->post(r, r->http->arg);
		return 0;
	}
	if (nng_aio_alloc(&r->read, sched_http_body_read, r) != 0) {
		sched_http_refuse(r->aio, 503, "out of memory");
		return 503;
	}
	iov.iov_buf = r->body;
	iov.iov_len = r->len;
	nng_aio_set_iov(r->read, 1, &iov);
	nng_aio_set_timeout(r->read, SCHED_HTTP_BODY_TIMEOUT_MS);
	nng_http_conn_read_all(conn, r->read);
	return 0;
}

/* Which method and path may be asked (before the token is checked, nothing is read). */
static uint16_t
sched_http_route_check(char method, const char *path, const char **why)
{
	if (method == 0) {
		*why = "methods: GET, and with the token POST /api/jobs, DELETE /api/jobs/{id}";
		return 405;
	}
	if (method == 'P' && strcmp(path, "/api/jobs") != 0) {
		*why = "POST goes to /api/jobs only";
		return 405;
	}
	if (method == 'D' && (strncmp(path, "/api/jobs/", 10) != 0 || strchr(path + 10, '/'))) {
		*why = "DELETE goes to /api/jobs/{id} only";
		return 405;
	}
	return 0;
}

static void
sched_http_handle(nng_aio *aio)
{
	nng_http_req *req = nng_aio_get_input(aio, 0);
	nng_http_handler *h = nng_aio_get_input(aio, 1);
	struct sched_http *http = nng_http_handler_get_data(h);
	struct sched_http_request *r;
	const char *uri = nng_http_req_get_uri(req), *m = nng_http_req_get_method(req), *why;
	char method = strcmp(m, "GET") == 0 ? 'G' : strcmp(m, "POST") == 0 ? 'P'
					  : strcmp(m, "DELETE") == 0 ? 'D' : 0;
	char *path = xstrndup(uri, strcspn(uri, "?#"));
	uint16_t st = sched_http_route_check(method, path, &why);

	if (!sched_http_hosts_allowed(http->hosts, nng_http_req_get_header(req, "Host"))) {
		st = 421;
		why = "misdirected: the Host header is not a name of this endpoint (an IP address, "
		      "localhost, the --http host, or a name given with --http-host)";
	}

	if (st == 0 && (method != 'G' || (http->auth_read && strcmp(path, "/health") != 0)) &&
	    (st = sched_http_auth(http, req)) != 0)
		why = st == 401 ? "this needs the scheduler's token: Authorization: Bearer TOKEN"
				: "wrong token (see the scheduler's STATE_DIR/token)";
	if (st != 0) {
		sched_http_refuse(aio, st, why);
		free(path);
		return;
	}
	r = xcalloc(1, sizeof *r);
	r->aio = aio;
	r->path = path;
	r->method = method;
	r->http = http;
	if (method == 'P')
		sched_http_read_body(r, req, nng_aio_get_input(aio, 2));
	else
		http->post(r, http->arg);
}

void
sched_http_request_free(struct sched_http_request *r)
{
	if (r == NULL)
		return;
	sched_http_send(r->aio, 503, "text/plain", "shutting down\n", 14);
	sched_http_request_drop(r);
}

/* /api/jobs/{id}/...: a job's report page and its figures. False for any other path. */
static bool
sched_http_job_files(struct sched *s, nng_aio *aio, const char *p)
{
	char *end;
	unsigned long id;

	if (strncmp(p, "/api/jobs/", 10) != 0)
		return false;
	id = strtoul(p + 10, &end, 10);
	if (*end != '/')
		return false;
	sched_http_report(aio, id <= UINT32_MAX ? sched_jobs_find(s, (uint32_t)id) : NULL, end + 1);
	return true;
}

/* POST and DELETE: an accepted submission waits for the commit (sched_http_committed), like
 * the CLI's acknowledgement; anything else is answered now. */
static void
sched_http_write(struct sched *s, struct sched_http_request *r)
{
	json_t *reply = NULL;
	int st = r->method == 'P' ? sched_http_api_submit(s, r->body, r->len, &reply)
				  : sched_http_api_cancel(s, r->path + 10, &reply);

	if (st == 201) {
		r->reply = reply;
		r->next = NULL;
		*r->http->held_tail = r;
		r->http->held_tail = &r->next;
		return;
	}
	sched_http_send_json(r->aio, (uint16_t)st, reply);
	sched_http_request_drop(r);
}

void
sched_http_committed(struct sched_http *h)
{
	struct sched_http_request *r, *next;

	if (h == NULL)
		return;
	for (r = h->held; r != NULL; r = next) {
		next = r->next;
		sched_http_send_json(r->aio, 201, r->reply);
		r->reply = NULL;
		sched_http_request_drop(r);
	}
	h->held = NULL;
	h->held_tail = &h->held;
}

static void
sched_http_read(struct sched *s, struct sched_http_request *r)
{
	const struct sched_status_entry *rep;
	const char *p = r->path;
	uint32_t job = 0;
	char *body;

	if (strcmp(p, "/health") == 0) {
		sched_http_send(r->aio, 200, "text/plain", "ok\n", 3);
	} else if (strcmp(p, "/") == 0 || strcmp(p, "/index.html") == 0) {
		sched_http_send(r->aio, 200, "text/html; charset=utf-8", sched_dashboard_html,
				strlen(sched_dashboard_html));
	} else if (sched_http_job_files(s, r->aio, p)) {
		/* answered */
	} else if ((rep = sched_status_by_path(p, &job)) == NULL) {
		char *paths = sched_status_paths();
		char *all = xasprintf("/health %s /api/jobs/{id}/report /", paths);
		sched_http_send_json(
		    r->aio, 404, json_pack("{s:s, s:s}", "error", "not found", "endpoints", all));
		free(all);
		free(paths);
	} else if (sched_status_render(s, rep, job, JSON_INDENT(1), &body) != 0) {
		sched_http_send_json(r->aio, 404, json_pack("{s:s}", "error", "no such job"));
	} else {
		sched_http_send(r->aio, 200, rep->content_type, body, strlen(body));
		free(body);
	}
	sched_http_request_drop(r);
}

void
sched_http_answer(struct sched *s, struct sched_http_request *r)
{
	if (s->stopping)
		sched_http_request_free(r);
	else if (r->method == 'G')
		sched_http_read(s, r);
	else
		sched_http_write(s, r);
}

int
sched_http_start(const struct sched_http_config *cfg, sched_http_post_fn post, void *arg,
		 struct sched_http **out, char **cause)
{
	const char *addr = cfg->addr;
	struct sched_http *h = xcalloc(1, sizeof *h);
	char *urltext = xasprintf("http://%s", addr);
	nng_url *url = NULL;
	int rv;

	h->post = post;
	h->arg = arg;
	h->token = xstrdup(cfg->token);
	h->auth_read = cfg->auth_read;
	h->held_tail = &h->held;
	if ((rv = nng_url_parse(&url, urltext)) != 0 ||
	    (rv = nng_http_server_hold(&h->server, url)) != 0) {
		error_set(cause, -EINVAL, "--http %s: %s", addr, nng_strerror(rv));
		goto fail;
	}
	h->hosts = sched_http_hosts_new(url->u_hostname, cfg->hosts);
	if ((rv = nng_http_handler_alloc(&h->handler, "/", sched_http_handle)) != 0 ||
	    (rv = nng_http_handler_set_tree(h->handler)) != 0 ||
	    (rv = nng_http_handler_set_method(h->handler, NULL)) != 0 ||
	    (rv = nng_http_handler_collect_body(h->handler, false, 0)) != 0 ||
	    (rv = nng_http_handler_set_data(h->handler, h, NULL)) != 0 ||
	    (rv = nng_http_server_add_handler(h->server, h->handler)) != 0) {
		error_set(cause, -ENOMEM, "HTTP handler: %s", nng_strerror(rv));
		goto fail;
	}
	if ((rv = nng_http_server_start(h->server)) != 0) {
		error_set(cause, rv == NNG_EADDRINUSE ? -EADDRINUSE : -EINVAL,
			  "cannot serve HTTP on %s: %s", addr, nng_strerror(rv));
		goto fail;
	}
	nng_url_free(url);
	free(urltext);
	*out = h;
	return 0;
fail:
	if (h->server != NULL)
		nng_http_server_release(h->server);
	if (url != NULL)
		nng_url_free(url);
	free(urltext);
	free(h->token);
	sched_http_hosts_free(h->hosts);
	free(h);
	return rv == NNG_EADDRINUSE ? -EADDRINUSE : -EINVAL;
}

void
sched_http_stop(struct sched_http *h)
{
	if (h == NULL)
		return;
	for (struct sched_http_request *r = h->held, *next; r != NULL; r = next) {
		next = r->next;
		sched_http_request_free(r);
	}
	nng_http_server_stop(h->server);
	nng_http_server_release(h->server);
	free(h->token);
	sched_http_hosts_free(h->hosts);
	free(h);
}
