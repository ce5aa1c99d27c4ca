/* HTTP status endpoint: nng handlers turn each GET into a request posted to the loop; the loop
 * renders JSON, Prometheus text or the dashboard and completes the request's aio. */
#include "scheduler/sched-http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <nng/nng.h>
#include <nng/supplemental/http/http.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/error.h"
#include "common/xmalloc.h"
#include "scheduler/sched-dashboard.h"
#include "scheduler/state/sched-jobs.h"
#include "scheduler/sched-status.h"

struct sched_http {
	nng_http_server *server;
	nng_http_handler *handler;
	sched_http_post_fn post;
	void *arg;
	char *listen_host;  /* the host of --http (a name or an address) */
	char **names;       /* --http-host: further names the endpoint is reached by */
};

struct sched_http_request {
	nng_aio *aio;
	char *path;
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

/* The name part of a Host header value (NAME, NAME:PORT, [V6] or [V6]:PORT) into out, without
 * a trailing dot; false when it is malformed or longer than out. */
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

/* Whether a request's Host header names this endpoint. DNS rebinding points a name the
 * attacker owns at 127.0.0.1, so a page from that name can read the endpoint; its requests
 * carry that name. Accepted: an IP address (what a browser sends when it was given one, no
 * name to rebind), localhost, the host of --http and the names given with --http-host. */
static bool
sched_http_host_allowed(const struct sched_http *h, const char *host)
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
	for (char **n = h->names; n != NULL && *n != NULL; n++)
		if (strcasecmp(name, *n) == 0)
			return true;
	return false;
}

static void
sched_http_handle(nng_aio *aio)
{
	nng_http_req *req = nng_aio_get_input(aio, 0);
	nng_http_handler *h = nng_aio_get_input(aio, 1);
	struct sched_http *http = nng_http_handler_get_data(h);
	struct sched_http_request *r;
	const char *uri = nng_http_req_get_uri(req);

	if (strcmp(nng_http_req_get_method(req), "GET") != 0) {
		sched_http_send(aio, 405, "text/plain", "read-only endpoint: GET only\n", 29);
		return;
	}
	if (!sched_http_host_allowed(http, nng_http_req_get_header(req, "Host"))) {
		static const char refused[] =
		    "421 misdirected: the Host header is not a name of this endpoint (an IP "
		    "address, localhost, the --http host, or a name given with --http-host)\n";
		sched_http_send(aio, 421, "text/plain", refused, sizeof refused - 1);
		return;
	}
	r = xcalloc(1, sizeof *r);
	r->aio = aio;
	r->path = xstrndup(uri, strcspn(uri, "?#"));
	http->post(r, http->arg);
}

void
sched_http_request_free(struct sched_http_request *r)
{
	if (r == NULL)
		return;
	sched_http_send(r->aio, 503, "text/plain", "shutting down\n", 14);
	free(r->path);
	free(r);
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

void
sched_http_answer(struct sched *s, struct sched_http_request *r)
{
	const struct sched_status_entry *rep;
	const char *p = r->path;
	uint32_t job = 0;
	char *body;

	if (s->stopping) {
		sched_http_request_free(r);
		return;
	}
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
	free(r->path);
	free(r);
}

static void
sched_http_free(struct sched_http *h)
{
	for (char **n = h->names; n != NULL && *n != NULL; n++)
		free(*n);
	free(h->names);
	free(h->listen_host);
	free(h);
}

int
sched_http_start(const char *addr, char *const *names, sched_http_post_fn post, void *arg,
		 struct sched_http **out, char **cause)
{
	struct sched_http *h = xcalloc(1, sizeof *h);
	char *urltext = xasprintf("http://%s", addr);
	nng_url *url = NULL;
	size_t n = 0;
	int rv;

	h->post = post;
	h->arg = arg;
	while (names != NULL && names[n] != NULL)
		n++;
	h->names = xcalloc(n + 1, sizeof *h->names);
	for (size_t i = 0; i < n; i++)
		h->names[i] = xstrdup(names[i]);
	if ((rv = nng_url_parse(&url, urltext)) != 0 ||
	    (rv = nng_http_server_hold(&h->server, url)) != 0) {
		error_set(cause, -EINVAL, "--http %s: %s", addr, nng_strerror(rv));
		goto fail;
	}
	h->listen_host = xstrdup(url->u_hostname);
	if ((rv = nng_http_handler_alloc(&h->handler, "/", sched_http_handle)) != 0 ||
	    (rv = nng_http_handler_set_tree(h->handler)) != 0 ||
	    (rv = nng_http_handler_set_method(h->handler, NULL)) != 0 ||
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
	sched_http_free(h);
	return rv == NNG_EADDRINUSE ? -EADDRINUSE : -EINVAL;
}

void
sched_http_stop(struct sched_http *h)
{
	if (h == NULL)
		return;
	nng_http_server_stop(h->server);
	nng_http_server_release(h->server);
	sched_http_free(h);
}
