/* The HTTP write routes on the loop thread (sched-http-api.c): each returns the HTTP status and
 * sets *reply to the JSON document to send (owned by the caller). */
#ifndef ND_SCHED_HTTP_API_H
#define ND_SCHED_HTTP_API_H

#include <jansson.h>
#include <stddef.h>

#include "scheduler/state/sched-state.h"

/* POST /api/jobs: {"pipeline": TEXT or OBJECT, "inputs": [PATH...], "output": PATH,
 * "overwrite": BOOL}; 201 {"jobs": [ID...]}, or 400/503 {"error": ...}. */
int sched_http_api_submit(struct sched *s, const char *body, size_t len, json_t **reply);
/* DELETE /api/jobs/{id}: 200 {"id": ID, "state": ...}, 404 or 400. */
int sched_http_api_cancel(struct sched *s, const char *id_text, json_t **reply);

#endif
