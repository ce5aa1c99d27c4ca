/* The status reports, one table serving both the CLI's STATUS requests and the HTTP endpoint:
 * each report has the name STATUS asks for, the HTTP path that serves it and its content type
 * (sched-status.c). */
#ifndef ND_SCHED_STATUS_H
#define ND_SCHED_STATUS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "scheduler/state/sched-state.h"

#define SCHED_STATUS_JSON "application/json"

struct sched_status_entry {
	const char *what;         /* STATUS what */
	const char *path;         /* HTTP path; for a job report, the prefix of "{id}" */
	const char *content_type; /* of the rendered body */
	bool job;                 /* the report of one job */
	bool dir;                 /* path + "/" serves it too */
	json_t *(*json)(struct sched *s, struct sched_job *j); /* JSON reports */
	char *(*text)(struct sched *s);                        /* text reports */
};

/* The report STATUS `what` names, or NULL. */
const struct sched_status_entry *sched_status_by_what(const char *what);
/* The report an HTTP path names, or NULL; a job report's id goes to *job (0, which names no
 * job, when it is not a number up to UINT32_MAX). */
const struct sched_status_entry *sched_status_by_path(const char *path, uint32_t *job);
/* Render r (JSON with jansson's json_flags) into *body: 0, or -ENOENT when r is a job report
 * and no job has that id. */
int sched_status_render(struct sched *s, const struct sched_status_entry *r, uint32_t job,
			size_t json_flags, char **body);
/* The HTML correction report a step of job j wrote (the first "report" of its results), or
 * NULL. Owned by the job. */
const char *sched_status_report(const struct sched_job *j);
/* "status, jobs, job, workers or metrics" and "/api/status /api/jobs ... /metrics", for the
 * errors that list what exists (allocated). */
char *sched_status_whats(void);
char *sched_status_paths(void);

#endif
