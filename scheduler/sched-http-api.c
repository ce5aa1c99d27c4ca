/* The HTTP write routes, on the loop thread: POST /api/jobs decodes its JSON body into the same
 * submission the CLI sends (struct proto_submit) and hands it to sched_jobs_submit, so both paths
 * validate alike and give the same errors; DELETE /api/jobs/{id} cancels like CANCEL. Each
 * answers with an HTTP status and a JSON document. */
#include "scheduler/sched-http-api.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/log.h"
#include "common/xmalloc.h"
#include "scheduler/state/sched-jobs.h"
#include "scheduler/state/sched-pass.h"

/* The HTTP status for a -errno of the submit and cancel paths. */
static int
sched_http_api_status(int rc)
{
	switch (rc) {
	case -ENOENT:
		return 404;
	case -ENOSPC:
	case -EAGAIN:
	case -EIO:
	case -EROFS:
	case -EDQUOT:
		return 503;
	default:
		return 400;
	}
}

static json_t *
sched_http_api_error(const char *message)
{
	return json_pack("{s:s}", "error", message);
}

/* The body's fields into sub (strings borrowed from doc, the pipeline text allocated). */
static int
sched_http_api_decode(json_t *doc, struct proto_submit *sub, char **cause)
{
	json_t *pipe = json_object_get(doc, "pipeline"), *in = json_object_get(doc, "inputs");
	json_t *out = json_object_get(doc, "output"), *over = json_object_get(doc, "overwrite");
	const char *key;
	json_t *v;
	size_t i;

	json_object_foreach(doc, key, v)
		if (strcmp(key, "pipeline") != 0 && strcmp(key, "inputs") != 0 &&
		    strcmp(key, "output") != 0 && strcmp(key, "overwrite") != 0)
			return error_set(cause, -EINVAL,
					 "request body: unknown field '%s' (expected pipeline, "
					 "inputs, output, overwrite)",
					 key);
	if (json_is_string(pipe))
		sub->pipeline = xstrdup(json_string_value(pipe));
	else if (json_is_object(pipe))
		sub->pipeline = json_dumps(pipe, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
	else
		return error_set(cause, -EINVAL,
				 "request body: 'pipeline' must be the pipeline's JSON text or "
				 "object");
	if (in != NULL && !json_is_array(in))
		return error_set(cause, -EINVAL, "request body: 'inputs' must be a list of paths");
	sub->ninputs = in != NULL ? (uint32_t)json_array_size(in) : 0;
	sub->inputs = xcalloc(sub->ninputs + 1, sizeof *sub->inputs);
	json_array_foreach(in, i, v) {
		if (!json_is_string(v) || *json_string_value(v) == '\0')
			return error_set(cause, -EINVAL, "request body: inputs[%zu] must be a path",
					 i);
		sub->inputs[i] = (char *)json_string_value(v);
	}
	if (out != NULL && !json_is_null(out) &&
	    (!json_is_string(out) || *json_string_value(out) == '\0'))
		return error_set(cause, -EINVAL, "request body: 'output' must be a path");
	sub->output = json_is_string(out) ? (char *)json_string_value(out) : NULL;
	if (over != NULL && !json_is_boolean(over))
		return error_set(cause, -EINVAL, "request body: 'overwrite' must be true or false");
	sub->overwrite = json_is_true(over);
	return 0;
}

int
sched_http_api_submit(struct sched *s, const char *body, size_t len, json_t **reply)
{
	struct proto_submit sub = {0};
	json_error_t jerr;
	json_t *doc = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	uint64_t *ids = NULL;
	uint32_t nids = 0;
	char *cause = NULL;
	int rc, status = 201;

	if (doc == NULL || !json_is_object(doc)) {
		cause = doc == NULL ? xasprintf("request body is not valid JSON: %s (line %d, column "
						"%d)",
						jerr.text, jerr.line, jerr.column)
				    : xstrdup("request body must be a JSON object");
		rc = -EINVAL;
	} else if ((rc = sched_http_api_decode(doc, &sub, &cause)) == 0) {
		rc = sched_jobs_submit(s, &sub, &ids, &nids, &cause);
	}
	if (rc != 0) {
		log_info("submission over HTTP refused: %s", cause);
		status = sched_http_api_status(rc);
		*reply = sched_http_api_error(cause);
	} else {
		json_t *list = json_array();
		for (uint32_t i = 0; i < nids; i++)
			json_array_append_new(list, json_integer((json_int_t)ids[i]));
		*reply = json_pack("{s:o}", "jobs", list);
		sched_pass_kick(s);
	}
	free(cause);
	free(ids);
	free(sub.pipeline);
	free(sub.inputs);
	json_decref(doc);
	return status;
}

int
sched_http_api_cancel(struct sched *s, const char *id_text, json_t **reply)
{
	char *end, *cause = NULL;
	unsigned long id = strtoul(id_text, &end, 10);
	int rc;

	if (*id_text < '0' || *id_text > '9' || *end != '\0' || id == 0 || id > UINT32_MAX) {
		*reply = sched_http_api_error("DELETE /api/jobs/{id}: the id must be a job number");
		return 400;
	}
	rc = sched_jobs_cancel(s, (uint32_t)id, &cause);
	sched_pass_kick(s);
	if (rc != 0) {
		*reply = sched_http_api_error(cause);
		free(cause);
		return sched_http_api_status(rc);
	}
	*reply = json_pack("{s:I, s:s}", "id", (json_int_t)id, "state",
			   sched_jobs_state_name(sched_jobs_find(s, (uint32_t)id)->state));
	return 200;
}
