/* The status reports shared by the CLI (STATUS) and the HTTP endpoint (sched-status.c). */
#ifndef ND_SCHED_STATUS_H
#define ND_SCHED_STATUS_H

#include <jansson.h>

#include "scheduler/sched-state.h"

json_t *sched_status_summary(struct sched *s);
json_t *sched_status_jobs(struct sched *s);
json_t *sched_status_job(struct sched *s, struct sched_job *j);
/* The HTML correction report a step of job j wrote (the first "report" of its results), or
 * NULL. Owned by the job. */
const char *sched_status_report(const struct sched_job *j);
json_t *sched_status_workers(struct sched *s);
char *sched_status_metrics(struct sched *s);

#endif
