/* Refusing what peers send: each rejection is counted by reason (for /metrics) and answered with
 * an error; the log gets at most a burst of SCHED_REJECT_BURST lines and then one line every
 * 1/SCHED_REJECT_RATE s, with a summary of what was held back, so a flood of garbage cannot fill
 * the state dir's disk through the log. */
#include "scheduler/sched-reject.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/log.h"
#include "common/timeutil.h"
#include "scheduler/state/sched-pass.h"

#define SCHED_REJECT_BURST 20
#define SCHED_REJECT_RATE  0.5 /* lines per second after the burst */
/* How often the held-back count is reported while a flood lasts. */
#define SCHED_REJECT_SUMMARY_S 5.0

static enum sched_reject
sched_reject_reason(int rc)
{
	switch (proto_status_from_errno(rc)) {
	case PROTO_STATUS_AUTH:
		return REJECT_AUTH;
	case PROTO_STATUS_TOO_BIG:
		return REJECT_TOO_BIG;
	case PROTO_STATUS_VERSION:
		return REJECT_VERSION;
	case PROTO_STATUS_UNKNOWN_TYPE:
		return REJECT_UNKNOWN_TYPE;
	case PROTO_STATUS_UNEXPECTED:
		return REJECT_UNEXPECTED;
	default:
		return REJECT_MALFORMED;
	}
}

/* Whether a line may be logged now (token bucket). */
static bool
sched_reject_may_log(struct sched *s)
{
	double now = time_mono_s();

	if (s->rlog.last == 0)
		s->rlog.tokens = SCHED_REJECT_BURST;
	else
		s->rlog.tokens += (now - s->rlog.last) * SCHED_REJECT_RATE;
	if (s->rlog.tokens > SCHED_REJECT_BURST)
		s->rlog.tokens = SCHED_REJECT_BURST;
	s->rlog.last = now;
	if (s->rlog.tokens >= 1) {
		s->rlog.tokens -= 1;
		return true;
	}
	if (s->rlog.held == 0)
		s->rlog.held_since = now;
	s->rlog.held++;
	s->rlog.held_total++;
	return false;
}

void
sched_reject_log(struct sched *s, uint32_t pipe, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	if (!sched_reject_may_log(s))
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	log_warn("pipe %u: %s", pipe, buf);
}

void
sched_reject(struct sched *s, struct proto_server_ctx *ctx, uint64_t request_id, int rc,
	     const char *why)
{
	uint32_t pipe = proto_server_ctx_pipe(ctx);

	s->stats.rejected[sched_reject_reason(rc)]++;
	sched_reject_log(s, pipe, "rejected a message: %s", why);
	sched_pass_reply_error(s, ctx, request_id, rc, why);
}

void
sched_reject_tick(struct sched *s, double now)
{
	if (s->rlog.held == 0 || now - s->rlog.held_since < SCHED_REJECT_SUMMARY_S)
		return;
	log_warn("%llu more warnings about peers were not logged in the last %.0f s "
		 "(rejected messages by reason: /metrics)",
		 (unsigned long long)s->rlog.held, now - s->rlog.held_since);
	s->rlog.held = 0;
}

void
sched_reject_metrics(struct sched *s, FILE *f)
{
	struct proto_server_pipe_counts pc = {0};

	if (s->server != NULL)
		proto_server_pipe_counts(s->server, &pc);
	fprintf(f,
		"# HELP neurodag_pipes Connections open: authenticated, unauthenticated, or closed by "
		"the scheduler and not yet freed.\n"
		"# TYPE neurodag_pipes gauge\n"
		"neurodag_pipes{state=\"authenticated\"} %u\n"
		"neurodag_pipes{state=\"unauthenticated\"} %u\n"
		"neurodag_pipes{state=\"closing\"} %u\n"
		"# HELP neurodag_pipes_closed_total Unauthenticated connections closed: to make "
		"room, at the HELLO deadline or after protocol errors.\n"
		"# TYPE neurodag_pipes_closed_total counter\n"
		"neurodag_pipes_closed_total{reason=\"evicted\"} %llu\n"
		"neurodag_pipes_closed_total{reason=\"deadline\"} %llu\n"

		"# HELP neurodag_pipes_stuck Connections closed long ago that nng never freed "
		"(its reaper is stuck: restart the scheduler).\n"
		"# TYPE neurodag_pipes_stuck gauge\nneurodag_pipes_stuck %u\n"
		"# HELP neurodag_log_lines_held_total Warnings about peers not logged (rate limit).\n"
		"# TYPE neurodag_log_lines_held_total counter\n"
		"neurodag_log_lines_held_total %llu\n",
		pc.open - pc.unauthenticated - pc.closing, pc.unauthenticated, pc.closing,
		(unsigned long long)pc.evicted,
		(unsigned long long)pc.expired, pc.stuck, (unsigned long long)s->rlog.held_total);
}
