/* Following jobs to the end: a progress bar on a terminal (tasks done/total, rate, ETA, the
 * waiting-for-workers message), plain lines otherwise; then each job's outcome and summary (or
 * JSON) and the exit code. The scheduler holds each poll until a job ends (STATUS wait_ms), so
 * the end shows when it happens. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/timeutil.h"
#include "scheduler/ctl/ctl.h"

static bool
ctl_wait_finished(const char *state)
{
	return strcmp(state, "done") == 0 || strcmp(state, "failed") == 0 ||
	       strcmp(state, "cancelled") == 0;
}

/* The progress display: a bar redrawn in place on a terminal, else a line. */
static void
ctl_wait_render(FILE *out, bool tty, uint64_t done, uint64_t total, double rate,
		const char *waiting, const char *label)
{
	char eta[32] = "", speed[40] = "";
	int width = 30, fill = total > 0 ? (int)((double)width * done / total) : 0;

	/* A rate is shown once tasks were seen finishing (a job that ends before the first answer
	 * has none to show). */
	if (rate > 0)
		snprintf(speed, sizeof speed, tty ? ", %.1f/s" : ", %.1f tasks/s", rate);
	if (rate > 0 && total > done)
		snprintf(eta, sizeof eta, ", ETA %.0f s", (double)(total - done) / rate);
	if (tty) {
		fprintf(out, "\r\033[K%s [", label);
		for (int i = 0; i < width; i++)
			fputc(i < fill ? '#' : '.', out);
		fprintf(out, "] %llu/%llu tasks%s%s", (unsigned long long)done,
			(unsigned long long)total, speed, eta);
		if (waiting != NULL)
			fprintf(out, " — %s", waiting);
	} else {
		fprintf(out, "%s: %llu/%llu tasks done%s%s%s%s\n", label,
			(unsigned long long)done, (unsigned long long)total, speed, eta,
			waiting != NULL ? "; " : "", waiting != NULL ? waiting : "");
	}
	fflush(out);
}

/* What a watch keeps between polls. */
struct ctl_wait {
	bool tty, quiet;
	enum ctl_output out;
	double start, last_print, first_t;
	uint64_t first_done, last_done;
	char label[32];
};

/* One poll's sums over the jobs, and whether the scheduler held a request of it. */
struct ctl_wait_poll {
	uint64_t done, total;
	uint32_t finished;
	const char *waiting;
	bool held;
};

/* The reports of every job into `reports`, summed into *p: 0, or CTL_EXIT_CONNECT with the error
 * printed. The scheduler holds the requests (up to hold_ms) until a job finishes, so the end is
 * pushed, not polled for; once a job is found unfinished the others are asked without a hold,
 * so a poll lasts at most one hold. */
static int
ctl_wait_poll(struct ctl_conn *c, const struct ctl_wait *w, const uint64_t *jobs, uint32_t njobs,
	      uint32_t hold_ms, json_t *reports, struct ctl_wait_poll *p)
{
	memset(p, 0, sizeof *p);
	for (uint32_t i = 0; i < njobs; i++) {
		json_t *j;
		char *cause = NULL;
		bool held = false;
		if (ctl_conn_job_wait(c, (uint32_t)jobs[i], hold_ms, &j, &held, &cause) != 0) {
			if (w->tty && !w->quiet)
				fputc('\n', stderr);
			fprintf(stderr, "neurodag: job %llu: %s\n", (unsigned long long)jobs[i],
				cause);
			free(cause);
			return CTL_EXIT_CONNECT;
		}
		p->done += (uint64_t)json_integer_value(json_object_get(j, "done"));
		p->total += (uint64_t)json_integer_value(json_object_get(j, "tasks"));
		if (json_string_value(json_object_get(j, "waiting")) != NULL)
			p->waiting = "waiting for workers";
		p->held |= held;
		if (ctl_wait_finished(json_string_value(json_object_get(j, "state"))))
			p->finished++;
		else
			hold_ms = 0;
		json_array_append_new(reports, j);
	}
	if (p->waiting != NULL && njobs == 1)
		p->waiting =
		    json_string_value(json_object_get(json_array_get(reports, 0), "waiting"));
	return 0;
}

/* The progress line: on a terminal every poll; plain lines the first after a second (a quick
 * job prints only its outcome), then on progress every 2 s, or every 10 s without. The rate
 * counts what finished while we watched. */
static void
ctl_wait_progress(struct ctl_wait *w, const struct ctl_wait_poll *p, uint32_t njobs, double now)
{
	double rate = 0;

	if (w->first_t < 0) {
		w->first_t = now;
		w->first_done = p->done;
	}
	if (now > w->first_t && p->done >= w->first_done)
		rate = (double)(p->done - w->first_done) / (now - w->first_t);
	if (!w->quiet && (w->tty || p->done != w->last_done || now - w->last_print > 10)) {
		if (w->tty || p->finished == njobs ||
		    (now - w->start >= 1 && now - w->last_print >= 2)) {
			ctl_wait_render(stderr, w->tty, p->done, p->total, rate, p->waiting,
					w->label);
			w->last_print = now;
			w->last_done = p->done;
		}
	}
}

/* Every job has finished: print each outcome with its summary (or the reports as one JSON
 * document, or one a line) and return the exit code. */
static int
ctl_wait_outcome(const struct ctl_wait *w, json_t *reports, uint32_t njobs)
{
	int rc = CTL_EXIT_OK;
	size_t i;
	json_t *j;

	if (w->tty && !w->quiet)
		fputc('\n', stderr);
	json_array_foreach(reports, i, j)
	{
		const char *st = json_string_value(json_object_get(j, "state"));
		const char *err = json_string_value(json_object_get(j, "error"));
		if (strcmp(st, "failed") == 0)
			rc = CTL_EXIT_FAILED;
		else if (strcmp(st, "cancelled") == 0 && rc == CTL_EXIT_OK)
			rc = CTL_EXIT_CANCELLED;
		if (w->out == CTL_OUT_JSON_LINES) {
			char *t = json_dumps(j, JSON_COMPACT);
			printf("%s\n", t);
			free(t);
			continue;
		}
		if (w->out != CTL_OUT_TEXT)
			continue;
		fprintf(stderr, "job %lld (%s): %s in %.2f s%s%s\n",
			json_integer_value(json_object_get(j, "id")),
			json_string_value(json_object_get(j, "name")), st,
			json_number_value(json_object_get(j, "elapsed_s")), err != NULL ? ": " : "",
			err != NULL ? err : "");
		ctl_summary_print(stdout, j);
	}
	if (w->out == CTL_OUT_JSON) {
		char *t =
		    json_dumps(njobs == 1 ? json_array_get(reports, 0) : reports, JSON_INDENT(2));
		printf("%s\n", t);
		free(t);
	}
	return rc;
}

/* How long the scheduler may hold a poll: the progress shows that often (a terminal's bar five
 * times a second, plain lines every second at most), and a job's end at once. Never past the
 * timeout. */
static uint32_t
ctl_wait_hold_ms(const struct ctl_wait *w, double elapsed, double timeout_s)
{
	double ms = w->tty ? 200 : 1000;

	if (timeout_s > 0 && (timeout_s - elapsed) * 1e3 < ms)
		ms = (timeout_s - elapsed) * 1e3;
	return ms >= 1 ? (uint32_t)ms : 1;
}

/* A scheduler that cannot hold polls: poll from 1 ms, backing off to 20 ms for the first 2 s,
 * 50 ms up to 30 s (an interactive job's end shows at once), and 200 ms after that. */
static void
ctl_wait_sleep(double elapsed, double *poll_ms)
{
	double dt = elapsed < 2    ? (*poll_ms < 20 ? *poll_ms : 20) * 1e-3
		    : elapsed < 30 ? 0.05
				   : 0.2;
	struct timespec ts = {0, (long)(dt * 1e9)};

	nanosleep(&ts, NULL);
	*poll_ms *= 2;
}

int
ctl_wait_jobs(struct ctl_conn *c, const uint64_t *jobs, uint32_t njobs, double timeout_s,
	      enum ctl_output out, bool quiet)
{
	struct ctl_wait w = {.tty = isatty(STDERR_FILENO),
			     .quiet = quiet,
			     .out = out,
			     .start = time_mono_s(),
			     .first_t = -1,
			     .last_done = UINT64_MAX};
	double poll_ms = 1;

	if (njobs == 1)
		snprintf(w.label, sizeof w.label, "job %llu", (unsigned long long)jobs[0]);
	else
		snprintf(w.label, sizeof w.label, "%u jobs", njobs);
	for (;;) {
		struct ctl_wait_poll p;
		json_t *reports = json_array();
		uint32_t hold_ms = ctl_wait_hold_ms(&w, time_mono_s() - w.start, timeout_s);
		int rc = ctl_wait_poll(c, &w, jobs, njobs, hold_ms, reports, &p);
		double now = time_mono_s();

		if (rc == 0) {
			ctl_wait_progress(&w, &p, njobs, now);
			if (p.finished == njobs)
				rc = ctl_wait_outcome(&w, reports, njobs);
		}
		json_decref(reports);
		if (rc != 0 || p.finished == njobs)
			return rc;
		if (timeout_s > 0 && now - w.start > timeout_s) {
			if (w.tty && !quiet)
				fputc('\n', stderr);
			fprintf(stderr, "neurodag: gave up waiting after %g s\n", timeout_s);
			return CTL_EXIT_TIMEOUT;
		}
		if (!p.held)
			ctl_wait_sleep(now - w.start, &poll_ms);
	}
}
