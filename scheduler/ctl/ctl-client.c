/* The CLI's connection to a scheduler: dial, HELLO as a client, STATUS and SUBMIT requests, and
 * reading pipeline files with their relative paths made absolute for remote workers. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/error.h"
#include "common/paths.h"
#include "common/timeutil.h"
#include "common/token.h"
#include "common/trace.h"
#include "common/xmalloc.h"
#include "proto/proto-addr.h"
#include "proto/proto-auth.h"
#include "scheduler/ctl/ctl.h"

int
ctl_conn_open(struct ctl_conn *c, const char *url, const char *token, char **cause)
{
	return ctl_conn_open_tls(c, url, NULL, token, cause);
}

/* Dial c->url and authenticate. */
static int
ctl_conn_dial(struct ctl_conn *c, char **cause)
{
	struct proto_hello h = {.role = PROTO_ROLE_CLIENT};
	struct proto_welcome welcome;
	const struct proto_tls *tls = c->has_tls ? &c->tls : NULL;
	const char *url = c->url, *token = c->token;
	int rc;

	if ((rc = proto_client_open_tls(&c->client, url, tls, cause)) != 0)
		return rc;
	if ((rc = proto_call_open(&c->client, &c->call, cause)) != 0) {
		proto_client_close(&c->client);
		return rc;
	}
	c->open = true;
	h.version = "neurodag " ND_VERSION;
	rc = proto_auth_hello(&c->call, &h, token, 5000, &welcome, cause);
	if (rc == -ETIMEDOUT) {
		free(*cause);
		*cause = NULL;
		rc = error_set(cause, rc, "no scheduler answered at %s within 5 s%s", url,
			       proto_tls_url(url) && (tls == NULL || tls->cert == NULL)
				   ? " (if it requires client certificates: --tls-cert, --tls-key)"
				   : "");
	}
	if (rc != 0) {
		proto_call_close(&c->call);
		proto_client_close(&c->client);
		c->open = false;
		return rc;
	}
	TRACE(TRACE_CLI_AUTHED, 0);
	return 0;
}

int
ctl_conn_open_tls(struct ctl_conn *c, const char *url, const struct proto_tls *tls,
		  const char *token, char **cause)
{
	int rc;

	memset(c, 0, sizeof *c);
	c->url = xstrdup(url);
	c->token = xstrdup(token);
	if (tls != NULL) {
		c->tls = *tls;
		c->has_tls = true;
	}
	if ((rc = ctl_conn_dial(c, cause)) != 0)
		ctl_conn_close(c);
	return rc;
}

void
ctl_conn_close(struct ctl_conn *c)
{
	if (c->open) {
		proto_call_close(&c->call);
		proto_client_close(&c->client);
	}
	c->open = false;
	free(c->url);
	free(c->token);
	c->url = c->token = NULL;
}

void
ctl_conn_leave(struct ctl_conn *c)
{
	if (c->open)
		proto_call_close(&c->call);
	c->open = false;
	free(c->url);
	free(c->token);
	c->url = c->token = NULL;
}

/* A failure that a restarted (or restarting) scheduler explains: its connection went away, it
 * did not answer, it was shutting down, or it does not know this connection (not
 * authenticated). A refused token on re-dial is final. */
static bool
ctl_conn_lost(int rc)
{
	return rc == -ECONNRESET || rc == -ECONNREFUSED || rc == -ETIMEDOUT || rc == -ESHUTDOWN ||
	       rc == -EACCES;
}

/* Dial again until it works or c->reconnect_s has passed since `since`. */
static int
ctl_conn_redial(struct ctl_conn *c, double since, char **cause)
{
	double delay = 0.1;

	for (;;) {
		int rc;

		if (c->open) {
			proto_call_close(&c->call);
			proto_client_close_within(&c->client, 200);
			c->open = false;
		}
		free(*cause);
		*cause = NULL;
		rc = ctl_conn_dial(c, cause);
		if (rc == 0 || rc == -EPERM ||
		    (rc == -EACCES && strstr(*cause, "proof does not match") != NULL))
			return rc;
		if (time_mono_s() - since + delay > c->reconnect_s)
			return error_wrap(cause, rc, "gave up re-dialing after %g s: ",
					  c->reconnect_s);
		struct timespec ts = {(time_t)delay, (long)((delay - (time_t)delay) * 1e9)};
		nanosleep(&ts, NULL);
		delay = delay * 2 > 2.0 ? 2.0 : delay * 2;
	}
}

/* A request that may be repeated (it changes nothing): re-dialed and sent again when the
 * scheduler went away, for up to c->reconnect_s. */
static int
ctl_conn_call_again(struct ctl_conn *c, const struct proto_msg *req, struct proto_msg *reply,
		    int timeout_ms, char **cause)
{
	double since = 0;
	char *why = NULL;
	int rc;

	for (;;) {
		if (!c->open)
			rc = -ECONNRESET;
		else
			rc = proto_call_run(&c->call, req, reply, timeout_ms, &why);
		if (rc == 0 || c->reconnect_s <= 0 || !ctl_conn_lost(rc))
			break;
		if (since == 0) {
			since = time_mono_s();
			fprintf(stderr, "neurodag: lost the scheduler (%s); re-dialing %s for up to "
					"%g s\n",
				why != NULL ? why : "connection closed", c->url, c->reconnect_s);
		}
		if ((rc = ctl_conn_redial(c, since, &why)) != 0)
			break;
		fprintf(stderr, "neurodag: reconnected to %s after %.1f s\n", c->url,
			time_mono_s() - since);
	}
	if (rc != 0 && cause != NULL)
		*cause = why;
	else
		free(why);
	return rc;
}

int
ctl_conn_from_options(struct ctl_conn *c, const struct options *opts)
{
	const char *addr = getenv("NEURODAG_SCHEDULER");
	char *token = NULL, *cause = NULL, *url = NULL;
	struct proto_tls tls;
	int rc;

	if (options_count(opts, "scheduler") > 0 || addr == NULL)
		addr = options_get(opts, "scheduler");
	proto_tls_from_options(opts, &tls);
	rc = proto_addr_url(addr, &url, &cause);
	if (rc == 0)
		rc = token_read(options_get(opts, "token-file"), &token, &cause);
	if (rc == 0)
		rc = ctl_conn_open_tls(c, url, &tls, token, &cause);
	if (rc != 0) {
		fprintf(stderr, "neurodag: %s\n", cause);
		rc = rc == -EINVAL && url == NULL ? CTL_EXIT_USAGE : CTL_EXIT_CONNECT;
	}
	free(url);
	free(token);
	free(cause);
	return rc;
}

static int
ctl_conn_status_req(struct ctl_conn *c, const char *what, uint32_t job, uint32_t wait_ms,
		    json_t **out, char **cause)
{
	struct proto_msg req = {.type = PROTO_STATUS}, reply;
	json_error_t jerr;
	int rc;

	req.u.status.what = (char *)what;
	req.u.status.job_id = job;
	req.u.status.wait_ms = wait_ms;
	if ((rc = ctl_conn_call_again(c, &req, &reply, 10000 + (int)wait_ms, cause)) != 0)
		return rc;
	if (reply.type != PROTO_STATUS_REPLY) {
		rc = error_set(cause, -EPROTO, "the scheduler answered STATUS with %s",
			       proto_type_name(reply.type));
		proto_msg_fini(&reply);
		return rc;
	}
	if (strcmp(reply.u.status_reply.content_type, "application/json") != 0) {
		rc = error_set(cause, -EBADMSG, "the scheduler's '%s' report is %s, not JSON", what,
			       reply.u.status_reply.content_type);
		proto_msg_fini(&reply);
		return rc;
	}
	*out = json_loads(reply.u.status_reply.body, 0, &jerr);
	proto_msg_fini(&reply);
	if (*out == NULL)
		return error_set(cause, -EBADMSG, "the scheduler's report is not JSON: %s",
				 jerr.text);
	return 0;
}

int
ctl_conn_status(struct ctl_conn *c, const char *what, uint32_t job, json_t **out, char **cause)
{
	return ctl_conn_status_req(c, what, job, 0, out, cause);
}

int
ctl_conn_job_wait(struct ctl_conn *c, uint32_t job, uint32_t wait_ms, json_t **out, bool *held,
		  char **cause)
{
	char *why = NULL;
	int rc;

	*held = false;
	if (wait_ms == 0 || c->no_status_wait)
		return ctl_conn_status_req(c, "job", job, 0, out, cause);
	rc = ctl_conn_status_req(c, "job", job, wait_ms, out, &why);
	if (rc == -EBADMSG && why != NULL && strstr(why, "wait_ms") != NULL) {
		/* A scheduler from before wait_ms: ask without it, now and from now on. */
		c->no_status_wait = true;
		free(why);
		return ctl_conn_status_req(c, "job", job, 0, out, cause);
	}
	*held = rc == 0;
	if (rc == 0)
		TRACE(TRACE_CLI_DONE, job);
	if (rc != 0 && cause != NULL)
		*cause = why;
	else
		free(why);
	return rc;
}

int
ctl_read_file(const char *path, char **text, char **cause)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0, cap = 0, n;

	if (f == NULL)
		return error_set(cause, -errno, "cannot read %s: %s", path, strerror(errno));
	do {
		if (len + 4096 + 1 > cap) {
			cap = cap ? cap * 2 : 8192;
			buf = xrealloc(buf, cap);
		}
		n = fread(buf + len, 1, cap - len - 1, f);
		len += n;
	} while (n > 0 && len < PROTO_MAX_TEXT);
	fclose(f);
	if (len >= PROTO_MAX_TEXT) {
		free(buf);
		return error_set(cause, -EFBIG, "%s is larger than %u bytes", path, PROTO_MAX_TEXT);
	}
	buf[len] = '\0';
	*text = buf;
	return 0;
}

/* A path from the pipeline file, absolute relative to the file's directory, or NULL. The text
 * itself is sent unchanged (so the scheduler's line/column in errors match the user's file);
 * resolved paths travel as SUBMIT's input/output overrides, for workers on other nodes. */
char *
ctl_pipeline_path(const char *text, const char *pipeline_path, const char *key)
{
	json_t *root = json_loads(text, 0, NULL);
	const char *p = json_string_value(json_object_get(json_object_get(root, key), "path"));
	char *dir, *out = NULL;

	if (p != NULL && p[0] != '/') {
		char *joined, *slash, real[PATH_MAX];
		dir = paths_absolute(pipeline_path);
		*strrchr(dir, '/') = '\0';
		joined = xasprintf("%s/%s", dir, p);
		/* "../out/x.spy" beside the pipeline: the folder's own name, without the "..". */
		slash = strrchr(joined, '/');
		*slash = '\0';
		if (realpath(joined, real) != NULL)
			out = xasprintf("%s/%s", strcmp(real, "/") == 0 ? "" : real, slash + 1);
		*slash = '/';
		if (out == NULL)
			out = xstrdup(joined);
		free(joined);
		free(dir);
	}
	json_decref(root);
	return out;
}

int
ctl_conn_submit(struct ctl_conn *c, const char *pipeline_path, char **inputs, int ninputs,
		const char *output, bool overwrite, uint64_t **jobs, uint32_t *njobs, char **cause)
{
	struct proto_msg req = {.type = PROTO_SUBMIT}, reply;
	char *text, *in_rel = NULL;
	int rc;

	if ((rc = ctl_read_file(pipeline_path, &text, cause)) != 0)
		return rc;
	req.u.submit.pipeline = text;
	if (ninputs == 0 && (in_rel = ctl_pipeline_path(text, pipeline_path, "input")) != NULL) {
		inputs = &in_rel;
		ninputs = 1;
	}
	req.u.submit.ninputs = (uint32_t)ninputs;
	req.u.submit.overwrite = overwrite;
	req.u.submit.inputs = xcalloc((size_t)ninputs + 1, sizeof(char *));
	for (int i = 0; i < ninputs; i++)
		req.u.submit.inputs[i] = paths_absolute(inputs[i]);
	req.u.submit.output = output != NULL ? paths_absolute(output)
					     : ctl_pipeline_path(text, pipeline_path, "output");
	TRACE(TRACE_CLI_SUBMIT, 0);
	rc = proto_call_run(&c->call, &req, &reply, 60000, cause);
	if (rc == -EINVAL)
		error_wrap(cause, rc, "%s: ", pipeline_path);
	if (rc == 0 && trace_enabled && reply.u.accepted.njobs > 0) {
		trace_now(TRACE_CLI_ACCEPTED, 0);
		trace_bind(reply.u.accepted.jobs[0]);
	}
	if (rc == 0) {
		*jobs = reply.u.accepted.jobs;
		*njobs = reply.u.accepted.njobs;
		reply.u.accepted.jobs = NULL;
		proto_msg_fini(&reply);
	}
	for (int i = 0; i < ninputs; i++)
		free(req.u.submit.inputs[i]);
	free(req.u.submit.inputs);
	free(req.u.submit.output);
	free(in_rel);
	free(text);
	return rc;
}
