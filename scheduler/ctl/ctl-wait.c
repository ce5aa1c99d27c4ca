/* Following jobs to the end: a progress bar on a terminal (tasks done/total, rate, ETA, the
 * waiting-for-workers message), plain lines otherwise, and the exit code of the outcome. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/timeutil.h"
#include "scheduler/ctl/ctl.h"
#include "scheduler/ctl/ctl-wait.h"

static bool
ctl_wait_finished(const char *state)
{
	return strcmp(state, "done") == 0 || strcmp(state, "failed") == 0 ||
	       strcmp(state, "cancelled") == 0;
}

void
ctl_wait_render(FILE *out, bool tty, uint64_t done, uint64_t total, double rate,
		const char *waiting, const char *label)
{
	char eta[32] = "";
	int width = 30, fill = total > 0 ? (int)((double)width * done / total) : 0;

	if (rate > 0 && total > done)
		snprintf(eta, sizeof eta, ", ETA %.0f s", (double)(total - done) / rate);
	if (tty) {
		fprintf(out, "\r\033[K%s [", label);
		for (int i = 0; i < width; i++)
			fputc(i < fill ? '#' : '.', out);
		fprintf(out, "] %llu/%llu tasks, %.1f/s%s", (unsigned long long)done,
			(unsigned long long)total, rate, eta);
		if (waiting != NULL)
			fprintf(out, " — %s", waiting);
	} else {
		fprintf(out, "%s: %llu/%llu tasks done, %.1f tasks/s%s%s%s\n", label,
			(unsigned long long)done, (unsigned long long)total, rate, eta,
			waiting != NULL ? "; " : "", waiting != NULL ? waiting : "");
	}
	fflush(out);
}

int
ctl_wait_jobs(struct ctl_conn *c, const uint64_t *jobs, uint32_t njobs, double timeout_s, bool json,
	      bool quiet)
{
	bool tty = isatty(STDERR_FILENO);
	double start = time_mono_s(), last_print = 0, first_t = -1;
	uint64_t first_done = 0, last_done = UINT64_MAX;
	double poll_ms = 1;
	int rc = CTL_EXIT_OK;
	char label[32];

	if (njobs == 1)
		snprintf(label, sizeof label, "job %llu", (unsigned long long)jobs[0]);
	else
		snprintf(label, sizeof label, "%u jobs", njobs);
	for (;;) {
		uint64_t done = 0, total = 0;
		uint32_t finished = 0;
		const char *waiting = NULL;
		json_t *reports = json_array();
		double now = time_mono_s(), rate = 0;

		for (uint32_t i = 0; i < njobs; i++) {
			json_t *j;
			char *cause = NULL;
			if (ctl_conn_status(c, "job", (uint32_t)jobs[i], &j, &cause) != 0) {
				if (tty && !quiet)
					fputc('\n', stderr);
				fprintf(stderr, "neurodag: job %llu: %s\n",
					(unsigned long long)jobs[i], cause);
				free(cause);
				json_decref(reports);
				return CTL_EXIT_CONNECT;
			}
			done += (uint64_t)json_integer_value(json_object_get(j, "done"));
			total += (uint64_t)json_integer_value(json_object_get(j, "tasks"));
			if (json_string_value(json_object_get(j, "waiting")) != NULL)
				waiting = "waiting for workers";
			if (ctl_wait_finished(json_string_value(json_object_get(j, "state"))))
				finished++;
			json_array_append_new(reports, j);
		}
		if (waiting != NULL && njobs == 1)
			waiting = json_string_value(
			    json_object_get(json_array_get(reports, 0), "waiting"));
		/* The rate counts what finished while we watched. */
		if (first_t < 0) {
			first_t = now;
			first_done = done;
		}
		if (now > first_t && done >= first_done)
			rate = (double)(done - first_done) / (now - first_t);
		/* Plain lines: the first after a second (a quick job prints only its outcome), then
		 * on progress every 2 s, or every 10 s without. */
		if (!quiet && (tty || done != last_done || now - last_print > 10)) {
			if (tty || finished == njobs ||
			    (now - start >= 1 && now - last_print >= 2)) {
				ctl_wait_render(stderr, tty, done, total, rate, waiting, label);
				last_print = now;
				last_done = done;
			}
		}
		if (finished == njobs) {
			size_t i;
			json_t *j;
			if (tty && !quiet)
				fputc('\n', stderr);
			json_array_foreach(reports, i, j)
			{
				const char *st = json_string_value(json_object_get(j, "state"));
				const char *err = json_string_value(json_object_get(j, "error"));
				if (strcmp(st, "failed") == 0)
					rc = CTL_EXIT_FAILED;
				else if (strcmp(st, "cancelled") == 0 && rc == CTL_EXIT_OK)
					rc = CTL_EXIT_CANCELLED;
				if (!json)
					fprintf(stderr, "job %lld (%s): %s in %.2f s%s%s\n",
						json_integer_value(json_object_get(j, "id")),
						json_string_value(json_object_get(j, "name")), st,
						json_number_value(json_object_get(j, "elapsed_s")),
						err != NULL ? ": " : "", err != NULL ? err : "");
				/* The correction report a step wrote, to open in a browser. */
				if (!json && json_is_string(json_object_get(j, "report")))
					printf("report: %s\n",
					       json_string_value(json_object_get(j, "report")));
			}
			if (json) {
				char *t =
				    json_dumps(njobs == 1 ? json_array_get(reports, 0) : reports,
					       JSON_INDENT(2));
				printf("%s\n", t);
				free(t);
			}
			json_decref(reports);
			return rc;
		}
		json_decref(reports);
		if (timeout_s > 0 && now - start > timeout_s) {
			if (tty && !quiet)
				fputc('\n', stderr);
			fprintf(stderr, "neurodag: gave up waiting after %g s\n", timeout_s);
			return CTL_EXIT_TIMEOUT;
		}
		{
			/* Short jobs end within milliseconds: poll from 1 ms, backing off to 20 ms
			 * for the first 2 s, 50 ms up to 30 s (an interactive job's end shows at
			 * once), and 200 ms after that. */
			double dt = now - start < 2    ? (poll_ms < 20 ? poll_ms : 20) * 1e-3
				    : now - start < 30 ? 0.05
						       : 0.2;
			struct timespec ts = {0, (long)(dt * 1e9)};
			nanosleep(&ts, NULL);
			poll_ms *= 2;
		}
	}
}
