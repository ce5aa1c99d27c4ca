/* The CLI's job commands against a running scheduler: submit, status, jobs, workers, cancel,
 * and the worker/scheduler personalities of the single binary. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"
#include "scheduler/ctl/ctl-options.h"
#include "scheduler/ctl/ctl.h"

static const struct options_def ctl_jobs_read_options[] = {
    CTL_CONN_OPTIONS,
    {"json", 0, OPTIONS_FLAG, NULL, "print the scheduler's JSON report", NULL},
    {NULL},
};

/* Followers keep following a scheduler that restarts: --reconnect-timeout. */
static int
ctl_jobs_reconnect(struct ctl_conn *c, const struct options *opts)
{
	char *cause = NULL;

	if (options_get_double(opts, "reconnect-timeout", 0, 1e9, &c->reconnect_s, &cause) != 0) {
		fprintf(stderr, "neurodag: %s\n", cause);
		free(cause);
		return CTL_EXIT_USAGE;
	}
	return 0;
}

static int
ctl_jobs_job_id(const char *s, uint32_t *id)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (*s == '\0' || *end != '\0' || v == 0 || v > UINT32_MAX) {
		fprintf(stderr, "neurodag: '%s' is not a job id\n", s);
		return CTL_EXIT_USAGE;
	}
	*id = (uint32_t)v;
	return 0;
}

static void
ctl_jobs_print_json(json_t *j)
{
	char *t = json_dumps(j, JSON_INDENT(2));
	printf("%s\n", t);
	free(t);
}

static const char *
ctl_jobs_str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s != NULL ? s : "";
}

static void
ctl_jobs_print_table(const char *what, json_t *j)
{
	size_t i;
	json_t *o;

	if (strcmp(what, "jobs") == 0) {
		printf("%-6s %-24s %-10s %9s %8s  %s\n", "ID", "NAME", "STATE", "TASKS", "PROGRESS",
		       "NOTE");
		json_array_foreach(j, i, o)
		{
			char tasks[32];
			const char *note = ctl_jobs_str(o, "error");
			snprintf(tasks, sizeof tasks, "%lld/%lld",
				 json_integer_value(json_object_get(o, "done")),
				 json_integer_value(json_object_get(o, "tasks")));
			if (*note == '\0')
				note = ctl_jobs_str(o, "waiting");
			printf("%-6lld %-24.24s %-10s %9s %7.1f%%  %s\n",
			       json_integer_value(json_object_get(o, "id")),
			       ctl_jobs_str(o, "name"), ctl_jobs_str(o, "state"), tasks,
			       100 * json_number_value(json_object_get(o, "progress")), note);
		}
	} else if (strcmp(what, "workers") == 0) {
		printf("%-5s %-20s %-8s %5s %7s %8s %9s %8s %7s  %s\n", "ID", "HOST", "PID",
		       "SLOTS", "RUNNING", "DONE", "MEMORY", "CPU", "SEEN", "SLURM");
		json_array_foreach(j, i, o)
		    printf("%-5lld %-20.20s %-8lld %5lld %7lld %8lld %5.0f MiB %7.1fs %6.1fs  %s\n",
			   json_integer_value(json_object_get(o, "id")), ctl_jobs_str(o, "host"),
			   json_integer_value(json_object_get(o, "pid")),
			   json_integer_value(json_object_get(o, "slots")),
			   json_integer_value(json_object_get(o, "running")),
			   json_integer_value(json_object_get(o, "done")),
			   json_number_value(json_object_get(o, "rss_bytes")) / 1048576,
			   json_number_value(json_object_get(o, "cpu_s")),
			   json_number_value(json_object_get(o, "last_heartbeat_s_ago")),
			   ctl_jobs_str(o, "slurm_job"));
	} else if (strcmp(what, "job") == 0) {
		const char *key;
		json_t *v;
		printf("job %lld (%s): %s, %lld/%lld tasks done (%.1f%%), %.2f s elapsed\n",
		       json_integer_value(json_object_get(j, "id")), ctl_jobs_str(j, "name"),
		       ctl_jobs_str(j, "state"), json_integer_value(json_object_get(j, "done")),
		       json_integer_value(json_object_get(j, "tasks")),
		       100 * json_number_value(json_object_get(j, "progress")),
		       json_number_value(json_object_get(j, "elapsed_s")));
		printf("  tasks:");
		json_object_foreach(json_object_get(j, "tasks_by_state"), key, v)
		    printf(" %s %lld", key, json_integer_value(v));
		printf("\n");
		if (*ctl_jobs_str(j, "input"))
			printf("  input:  %s\n", ctl_jobs_str(j, "input"));
		if (*ctl_jobs_str(j, "output"))
			printf("  output: %s\n", ctl_jobs_str(j, "output"));
		if (*ctl_jobs_str(j, "waiting"))
			printf("  %s\n", ctl_jobs_str(j, "waiting"));
		if (*ctl_jobs_str(j, "error"))
			printf("  error:  %s\n", ctl_jobs_str(j, "error"));
	} else {
		json_t *jobs = json_object_get(j, "jobs"), *w;
		const char *key;
		json_t *v;
		printf("scheduler %s, up %.0f s, %lld workers\n  jobs:", ctl_jobs_str(j, "listen"),
		       json_number_value(json_object_get(j, "uptime_s")),
		       json_integer_value(json_object_get(j, "workers")));
		json_object_foreach(jobs, key, v) printf(" %s %lld", key, json_integer_value(v));
		printf("\n  tasks:");
		json_object_foreach(json_object_get(j, "tasks"), key, v)
		    printf(" %s %lld", key, json_integer_value(v));
		printf("\n");
		json_array_foreach(json_object_get(j, "waiting"), i, w)
		    printf("  job %lld: %s\n", json_integer_value(json_object_get(w, "job")),
			   ctl_jobs_str(w, "message"));
	}
}

static int
ctl_jobs_read(int argc, char **argv, const char *what, const char *usage, const char *summary)
{
	struct options opts;
	struct ctl_conn c;
	json_t *j = NULL;
	char *cause = NULL;
	uint32_t job = 0;
	const char *w = what;
	int rc = ctl_options_parse(&opts, ctl_jobs_read_options, argc, argv, usage, summary);

	if (rc != 0)
		return rc < 0 ? 0 : rc;
	if (strcmp(what, "status") == 0 && opts.argc > 0) {
		if ((rc = ctl_jobs_job_id(opts.argv[0], &job)) != 0)
			goto out;
		w = "job";
	}
	if ((rc = ctl_conn_from_options(&c, &opts)) != 0)
		goto out;
	if (ctl_conn_status(&c, w, job, &j, &cause) != 0) {
		fprintf(stderr, "neurodag: %s\n", cause);
		rc = cause != NULL && strstr(cause, "no job") != NULL ? CTL_EXIT_FAILED
								      : CTL_EXIT_CONNECT;
	} else if (options_count(&opts, "json")) {
		ctl_jobs_print_json(j);
	} else {
		ctl_jobs_print_table(w, j);
	}
	json_decref(j);
	free(cause);
	ctl_conn_leave(&c);
out:
	options_fini(&opts);
	return rc;
}

int
ctl_cmd_status(int argc, char **argv)
{
	return ctl_jobs_read(argc, argv, "status", "neurodag status [options] [JOB]",
			     "Show the scheduler's summary, or one job's state, tasks and errors.");
}

int
ctl_cmd_jobs(int argc, char **argv)
{
	return ctl_jobs_read(argc, argv, "jobs", "neurodag jobs [options]", "List jobs.");
}

int
ctl_cmd_workers(int argc, char **argv)
{
	return ctl_jobs_read(
	    argc, argv, "workers", "neurodag workers [options]",
	    "List registered workers (host, pid, slots, running tasks, memory, CPU time, Slurm "
	    "job).");
}

/* After a command's options: its first argument (`what`) must be there, then the connection.
 * Returns 0, or the exit code with opts freed. */
static int
ctl_jobs_connect(struct options *opts, const char *cmd, const char *what, struct ctl_conn *c)
{
	int rc;

	if (opts->argc == 0) {
		fprintf(stderr, "neurodag %s: which %s? (see --help)\n", cmd, what);
		options_fini(opts);
		return CTL_EXIT_USAGE;
	}
	if ((rc = ctl_conn_from_options(c, opts)) != 0)
		options_fini(opts);
	return rc;
}

int
ctl_cmd_cancel(int argc, char **argv)
{
	static const struct options_def table[] = {CTL_CONN_OPTIONS, {NULL}};
	struct options opts;
	struct ctl_conn c;
	int rc =
	    ctl_options_parse(&opts, table, argc, argv, "neurodag cancel [options] JOB...",
			      "Cancel jobs: waiting and running tasks stop; finished jobs stay.");

	if (rc != 0)
		return rc < 0 ? 0 : rc;
	if ((rc = ctl_jobs_connect(&opts, "cancel", "job", &c)) != 0)
		return rc;
	for (int i = 0; i < opts.argc && rc == 0; i++) {
		struct proto_msg req = {.type = PROTO_CANCEL}, reply;
		char *cause = NULL;
		uint32_t id;

		if ((rc = ctl_jobs_job_id(opts.argv[i], &id)) != 0)
			break;
		req.u.cancel.job_id = id;
		if (proto_call_run(&c.call, &req, &reply, 10000, &cause) != 0) {
			fprintf(stderr, "neurodag cancel: %s\n", cause);
			rc = CTL_EXIT_FAILED;
		} else {
			json_t *j = NULL;
			const char *st = NULL;
			proto_msg_fini(&reply);
			/* A finished job stays as it was: say so rather than "cancelled". */
			if (ctl_conn_status(&c, "job", id, &j, NULL) == 0)
				st = json_string_value(json_object_get(j, "state"));
			if (st == NULL || strcmp(st, "cancelled") == 0)
				printf("job %u cancelled\n", id);
			else
				printf("job %u already %s: nothing to cancel\n", id, st);
			json_decref(j);
		}
		free(cause);
	}
	ctl_conn_leave(&c);
	options_fini(&opts);
	return rc;
}

/* The ids of submitted jobs: "6 7", {"jobs": [6, 7]}, or {"id": 6} a line. */
static void
ctl_jobs_print_ids(const uint64_t *jobs, uint32_t njobs, enum ctl_output out)
{
	json_t *a = json_array();

	for (uint32_t i = 0; i < njobs; i++) {
		if (out == CTL_OUT_TEXT)
			printf("%s%llu", i > 0 ? " " : "", (unsigned long long)jobs[i]);
		else if (out == CTL_OUT_JSON_LINES)
			printf("{\"id\": %llu}\n", (unsigned long long)jobs[i]);
		json_array_append_new(a, json_integer((json_int_t)jobs[i]));
	}
	if (out == CTL_OUT_TEXT)
		printf("\n");
	if (out == CTL_OUT_JSON) {
		json_t *o = json_pack("{s:o}", "jobs", a);
		ctl_jobs_print_json(o);
		json_decref(o);
	} else {
		json_decref(a);
	}
	fflush(stdout);
}

int
ctl_cmd_submit(int argc, char **argv)
{
	static const struct options_def table[] = {
	    CTL_CONN_OPTIONS,
	    {"output", 'o', OPTIONS_VALUE, "PATH", "output path (a directory with several inputs)",
	     NULL},
	    {"overwrite", 0, OPTIONS_FLAG, NULL, "replace outputs that exist already", NULL},
	    {"wait", 'w', OPTIONS_FLAG, NULL, "wait for the jobs, with a progress bar", NULL},
	    {"reconnect-timeout", 0, OPTIONS_VALUE, "SECONDS",
	     "with --wait: re-dial a scheduler that went away (restarted) for this long",
	     CTL_RECONNECT_DEFAULT},
	    CTL_JSON_OPTIONS,
	    {NULL},
	};
	struct options opts;
	struct ctl_conn c;
	uint64_t *jobs = NULL;
	uint32_t njobs = 0;
	char *cause = NULL;
	int rc = ctl_options_parse(
	    &opts, table, argc, argv, "neurodag submit [options] PIPELINE.json [INPUT...]",
	    "Submit a pipeline: one job per INPUT (or the pipeline's own input).");

	if (rc != 0)
		return rc < 0 ? 0 : rc;
	if ((rc = ctl_jobs_connect(&opts, "submit", "pipeline", &c)) != 0)
		return rc;
	rc = ctl_conn_submit(&c, opts.argv[0], opts.argv + 1, opts.argc - 1,
			     options_get(&opts, "output"), options_count(&opts, "overwrite") > 0,
			     &jobs, &njobs, &cause);
	if (rc != 0) {
		fprintf(stderr, "neurodag submit: %s\n", cause);
		/* A refused token, or a scheduler that cannot take jobs now (its disk is full). */
		rc = rc == -EACCES || rc == -EAGAIN ? CTL_EXIT_CONNECT : CTL_EXIT_USAGE;
	} else {
		bool wait = options_count(&opts, "wait") > 0;
		enum ctl_output out = ctl_output_mode(&opts);
		/* With --json or --json-lines and --wait, the reports alone say the ids. */
		if (!wait || out == CTL_OUT_TEXT)
			ctl_jobs_print_ids(jobs, njobs, out);
		if (wait && (rc = ctl_jobs_reconnect(&c, &opts)) == 0)
			rc = ctl_wait_jobs(&c, jobs, njobs, 0, out, false);
	}
	free(jobs);
	free(cause);
	ctl_conn_leave(&c);
	options_fini(&opts);
	return rc;
}

int
ctl_cmd_wait(int argc, char **argv)
{
	static const struct options_def table[] = {
	    CTL_CONN_OPTIONS,
	    {"timeout", 't', OPTIONS_VALUE, "SECONDS", "give up after this long (0: never)", "0"},
	    CTL_JSON_OPTIONS,
	    {"quiet", 'q', OPTIONS_FLAG, NULL, "no progress display", NULL},
	    {"reconnect-timeout", 0, OPTIONS_VALUE, "SECONDS",
	     "re-dial a scheduler that went away (restarted) for this long (0: exit 3 at once)",
	     CTL_RECONNECT_DEFAULT},
	    {NULL},
	};
	struct options opts;
	struct ctl_conn c;
	uint64_t *jobs;
	double timeout;
	char *cause = NULL;
	int rc =
	    ctl_options_parse(&opts, table, argc, argv, "neurodag wait [options] JOB...",
			      "Follow jobs until they finish: tasks done/total, rate, ETA, and the "
			      "waiting-for-workers message.");

	if (rc != 0)
		return rc < 0 ? 0 : rc;
	if (options_get_double(&opts, "timeout", 0, 1e9, &timeout, &cause) != 0 || opts.argc == 0) {
		fprintf(stderr, "neurodag wait: %s\n", cause != NULL ? cause : "which job?");
		free(cause);
		options_fini(&opts);
		return CTL_EXIT_USAGE;
	}
	jobs = xcalloc((size_t)opts.argc, sizeof *jobs);
	for (int i = 0; i < opts.argc && rc == 0; i++) {
		uint32_t id = 0;
		rc = ctl_jobs_job_id(opts.argv[i], &id);
		jobs[i] = id;
	}
	if (rc == 0 && (rc = ctl_conn_from_options(&c, &opts)) == 0) {
		if ((rc = ctl_jobs_reconnect(&c, &opts)) == 0)
			rc = ctl_wait_jobs(&c, jobs, (uint32_t)opts.argc, timeout,
					   ctl_output_mode(&opts), options_count(&opts, "quiet"));
		ctl_conn_leave(&c);
	}
	free(jobs);
	options_fini(&opts);
	return rc;
}
