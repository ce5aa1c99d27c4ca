/* Submissions of several inputs, validated input by input across loop passes so that one
 * allowed submission (up to PROTO_MAX_INPUTS recordings, each header read and each pipeline
 * built) never holds the loop: every pass builds inputs for at most SCHED_SUBMIT_SLICE_S, then
 * lets the loop serve others. The submission stays all or nothing: its jobs are accepted at
 * once every input is valid (over passes too, nothing can fail then), and its reply (ACCEPTED
 * or the first error) goes out when they all are.
 * Their job ids are taken when the submission starts (given back when it is refused and no job
 * came after), since the work dirs in the tasks' specs name them. Submissions are built one at
 * a time, in arrival order. A single input is built at once, as before. */
#include "scheduler/state/sched-submit.h"

#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/timeutil.h"
#include "common/xmalloc.h"
#include "scheduler/state/sched-jobs.h"
#include "scheduler/state/sched-pass.h"

/* Building time per loop pass. */
#define SCHED_SUBMIT_SLICE_S 0.010

struct sched_submission {
	struct proto_server_ctx *ctx;
	uint64_t request_id;
	struct proto_submit sub; /* a copy */
	struct sched_job **made;
	void *pending; /* the made jobs by output (sched_jobs_make) */
	uint32_t n, next, first_id;
	uint64_t *ids; /* once every input is made: the jobs are being accepted */
	uint32_t accepted;
	uint64_t made_tasks;
	double arrived;
	bool started;
	struct sched_submission *next_sub;
};

static void
sched_submit_copy(struct proto_submit *dst, const struct proto_submit *src)
{
	dst->pipeline = xstrdup(src->pipeline);
	dst->ninputs = src->ninputs;
	dst->inputs = xcalloc(src->ninputs, sizeof *dst->inputs);
	for (uint32_t i = 0; i < src->ninputs; i++)
		dst->inputs[i] = xstrdup(src->inputs[i]);
	dst->output = src->output != NULL ? xstrdup(src->output) : NULL;
	dst->overwrite = src->overwrite;
}

static void
sched_submit_free(struct sched_submission *b)
{
	sched_jobs_pending_free(&b->pending);
	for (uint32_t i = 0; i < b->n; i++)
		sched_jobs_free(b->made[i]);
	free(b->made);
	free(b->ids);
	free(b->sub.pipeline);
	for (uint32_t i = 0; i < b->sub.ninputs; i++)
		free(b->sub.inputs[i]);
	free(b->sub.inputs);
	free(b->sub.output);
	free(b);
}

static void
sched_submit_refuse(struct sched *s, struct proto_server_ctx *ctx, uint64_t request_id, int rc,
		    const char *cause)
{
	log_info("submission refused: %s", cause);
	sched_pass_reply_error(s, ctx, request_id, rc, cause);
}

/* Submit at once (one input): reply now. */
static void
sched_submit_now(struct sched *s, struct proto_server_ctx *ctx, const struct proto_msg *m)
{
	struct proto_msg reply = {.type = PROTO_ACCEPTED, .request_id = m->request_id};
	char *cause = NULL;
	int rc = sched_jobs_submit(s, &m->u.submit, &reply.u.accepted.jobs,
				   &reply.u.accepted.njobs, &cause);

	if (rc != 0) {
		sched_submit_refuse(s, ctx, m->request_id, rc, cause);
	} else {
		sched_pass_reply(s, ctx, &reply);
		sched_pass_kick(s);
	}
	free(cause);
	free(reply.u.accepted.jobs);
}

/* The first queued submission is refused: reply, give its ids back if it can. */
static void
sched_submit_fail(struct sched *s, struct sched_submission *b, int rc, char *cause)
{
	s->submissions = b->next_sub;
	if (s->next_job_id == b->first_id + b->n)
		s->next_job_id = b->first_id; /* nothing took an id since */
	sched_submit_refuse(s, b->ctx, b->request_id, rc, cause);
	free(cause);
	sched_submit_free(b);
}

/* Accept the made jobs for one slice (nothing can fail now); reply when all are. */
static void
sched_submit_accept(struct sched *s, struct sched_submission *b, double until)
{
	struct proto_msg reply = {.type = PROTO_ACCEPTED, .request_id = b->request_id};

	while (b->accepted < b->n) {
		sched_jobs_accept(s, &b->made[b->accepted], 1, b->arrived,
				  &b->ids[b->accepted]);
		b->made[b->accepted++] = NULL; /* the scheduler's now */
		if (time_mono_s() >= until)
			return;
	}
	s->submissions = b->next_sub;
	reply.u.accepted.jobs = b->ids;
	reply.u.accepted.njobs = b->n;
	sched_pass_reply(s, b->ctx, &reply);
	sched_pass_kick(s);
	sched_submit_free(b);
}

/* Work on the first submission for one slice; true while submissions remain. */
static bool
sched_submit_slice(struct sched *s)
{
	struct sched_submission *b = s->submissions;
	double until = time_mono_s() + SCHED_SUBMIT_SLICE_S;
	char *cause = NULL;
	int rc = 0;

	if (b == NULL)
		return false;
	if (!b->started) {
		b->started = true;
		b->first_id = s->next_job_id;
		s->next_job_id += b->n;
	}
	while (b->next < b->n && rc == 0 && time_mono_s() < until) {
		uint32_t i = b->next++;
		rc = sched_jobs_make(s, &b->sub, b->first_id + i, i, &b->pending, b->made_tasks,
				     &b->made[i], &cause);
		if (rc == 0)
			b->made_tasks += b->made[i]->graph->ntasks;
	}
	/* Every input is valid: the budget once more (single inputs may have come meanwhile),
	 * then the jobs are accepted. */
	if (rc == 0 && b->next == b->n && b->ids == NULL) {
		const struct graph *last = b->made[b->n - 1]->graph;
		rc = sched_jobs_check_budget(s, last, b->made_tasks - last->ntasks, &cause);
		if (rc == 0) {
			b->ids = xcalloc(b->n, sizeof *b->ids);
			sched_jobs_pending_free(&b->pending);
		}
	}
	if (rc != 0)
		sched_submit_fail(s, b, rc, cause);
	else if (b->ids != NULL && time_mono_s() < until)
		sched_submit_accept(s, b, until);
	return s->submissions != NULL;
}

void
sched_submit_init(struct sched *s)
{
	sched_pass_idle_init(s, &s->submit_idle, sched_submit_slice);
}

void
sched_submit(struct sched *s, struct proto_server_ctx *ctx, const struct proto_msg *m)
{
	struct sched_submission *b, **pp;
	char *cause = NULL;
	int rc;

	if (m->u.submit.ninputs <= 1 && s->submissions == NULL) {
		sched_submit_now(s, ctx, m);
		return;
	}
	if ((rc = sched_jobs_can_take(s, &m->u.submit, &cause)) != 0) {
		sched_submit_refuse(s, ctx, m->request_id, rc, cause);
		free(cause);
		return;
	}
	b = xcalloc(1, sizeof *b);
	b->ctx = ctx;
	b->request_id = m->request_id;
	sched_submit_copy(&b->sub, &m->u.submit);
	b->n = b->sub.ninputs > 0 ? b->sub.ninputs : 1;
	b->made = xcalloc(b->n, sizeof *b->made);
	b->arrived = time_wall_s(); /* a job's time counts its graph building too */
	for (pp = &s->submissions; *pp != NULL; pp = &(*pp)->next_sub)
		;
	*pp = b;
	sched_pass_idle_start(&s->submit_idle);
}

void
sched_submit_fini(struct sched *s)
{
	while (s->submissions != NULL) {
		struct sched_submission *b = s->submissions;
		s->submissions = b->next_sub;
		sched_submit_free(b);
	}
}
