/* `neurodag slurm-workers`: fill the sbatch template (deploy/slurm/) for a job array of workers
 * pointed at this CLI's scheduler, write it into the state dir, submit it with sbatch and print
 * the Slurm job id; with --wait, follow the workers as they register (ctl-slurm-wait.c). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/error.h"
#include "common/paths.h"
#include "common/xmalloc.h"
#include "scheduler/ctl/ctl-slurm-wait.h"
#include "scheduler/ctl/ctl-options.h"
#include "scheduler/ctl/ctl.h"

#define CTL_SLURM_TEMPLATE_NAME "neurodag-worker.sbatch"

static const struct options_def ctl_slurm_options[] = {
    CTL_CONN_OPTIONS,
    {"workers", 'n', OPTIONS_VALUE, "N", "workers to start (array tasks)", NULL},
    {"partition", 'p', OPTIONS_VALUE, "P", "Slurm partition", NULL},
    {"mem", 0, OPTIONS_VALUE, "M", "memory per worker (sbatch --mem, e.g. 8G)", NULL},
    {"time", 0, OPTIONS_VALUE, "T", "time limit per worker (sbatch --time, e.g. 2:00:00)", NULL},
    {"cpus-per-worker", 'c', OPTIONS_VALUE, "C", "CPUs per worker (default: --nthreads)", NULL},
    {"nthreads", 0, OPTIONS_VALUE, "K", "tasks each worker runs at once", "1"},
    {"job-name", 'J', OPTIONS_VALUE, "NAME", "Slurm job name", "neurodag-workers"},
    {"sbatch-arg", 0, OPTIONS_LIST, "ARG",
     "extra sbatch option, written as an #SBATCH line (repeatable), e.g. --sbatch-arg=--qos=long",
     NULL},
    {"worker-scheduler", 0, OPTIONS_VALUE, "URL",
     "the URL workers dial, when it differs from --scheduler (e.g. this host's name)", NULL},
    {"worker-arg", 0, OPTIONS_LIST, "ARG", "extra neurodag-worker argument (repeatable)", NULL},
    {"worker-command", 0, OPTIONS_VALUE, "CMD",
     "the worker command (default: neurodag-worker beside this program)", NULL},
    {"script-dir", 0, OPTIONS_VALUE, "DIR",
     "where the script and the workers' logs go (default: STATE_DIR/slurm; must be on storage "
     "the compute nodes share)",
     NULL},
    {"template", 0, OPTIONS_VALUE, "FILE",
     "sbatch template (default: $NEURODAG_SLURM_TEMPLATE, else the "
     "installed " CTL_SLURM_TEMPLATE_NAME ")",
     NULL},
    {"dry-run", 0, OPTIONS_FLAG, NULL, "write the script and print its path; do not submit", NULL},
    {"wait", 'w', OPTIONS_FLAG, NULL, "wait until the workers have registered", NULL},
    {"timeout", 't', OPTIONS_VALUE, "SECONDS", "with --wait: give up after this long (0: never)",
     "600"},
    {NULL},
};

/* Single-quote s for bash. Caller frees. */
static char *
ctl_slurm_quote(const char *s)
{
	size_t n = 3;
	char *out, *p;

	for (const char *c = s; *c != '\0'; c++)
		n += *c == '\'' ? 4 : 1;
	out = p = xmalloc(n);
	*p++ = '\'';
	for (const char *c = s; *c != '\0'; c++) {
		if (*c == '\'') {
			memcpy(p, "'\\''", 4);
			p += 4;
		} else {
			*p++ = *c;
		}
	}
	*p++ = '\'';
	*p = '\0';
	return out;
}

/* Append " --flag 'value'" to *args for an option that was given (paths made absolute). */
static void
ctl_slurm_pass(char **args, const char *flag, const char *value, bool path)
{
	char *v, *q, *next;

	if (value == NULL)
		return;
	v = path ? paths_absolute(value) : xstrdup(value);
	q = ctl_slurm_quote(v);
	next = xasprintf("%s%s%s %s", *args, **args != '\0' ? " " : "", flag, q);
	free(*args);
	free(v);
	free(q);
	*args = next;
}

static int
ctl_slurm_check_line(const char *what, const char *v, char **cause)
{
	if (v != NULL && strpbrk(v, "\n\r") != NULL)
		return error_set(cause, -EINVAL, "%s must be one line", what);
	return 0;
}

/* The worker command: neurodag-worker beside this program, else this program's `worker`. */
static char *
ctl_slurm_worker_command(const struct options *opts)
{
	char self[4096], *slash, *path, *q, *cmd;
	ssize_t n;

	if (options_get(opts, "worker-command") != NULL)
		return xstrdup(options_get(opts, "worker-command"));
	n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n <= 0)
		return xstrdup("neurodag-worker");
	self[n] = '\0';
	slash = strrchr(self, '/');
	path = xasprintf("%.*s/neurodag-worker", (int)(slash - self), self);
	if (access(path, X_OK) == 0) {
		cmd = ctl_slurm_quote(path);
	} else {
		q = ctl_slurm_quote(self);
		cmd = xasprintf("%s worker", q);
		free(q);
	}
	free(path);
	return cmd;
}

static int
ctl_slurm_template_path(const struct options *opts, char **out, char **cause)
{
	const char *candidates[] = {options_get(opts, "template"),
				    getenv("NEURODAG_SLURM_TEMPLATE"), ND_SLURM_TEMPLATE_INSTALLED,
				    ND_SLURM_TEMPLATE_SOURCE};

	for (size_t i = 0; i < sizeof candidates / sizeof *candidates; i++) {
		if (candidates[i] == NULL || *candidates[i] == '\0')
			continue;
		if (i < 2 || access(candidates[i], R_OK) == 0) {
			*out = xstrdup(candidates[i]);
			return 0;
		}
	}
	return error_set(cause, -ENOENT,
			 "no sbatch template: looked for %s and %s; give one with --template",
			 ND_SLURM_TEMPLATE_INSTALLED, ND_SLURM_TEMPLATE_SOURCE);
}

static void
ctl_slurm_append(char **buf, size_t *len, size_t *cap, const char *s, size_t n)
{
	if (*len + n + 1 > *cap) {
		*cap = (*len + n + 1) * 2;
		*buf = xrealloc(*buf, *cap);
	}
	memcpy(*buf + *len, s, n);
	*len += n;
	(*buf)[*len] = '\0';
}

/* Replace every @NAME@ (capitals and _) in text from the table; an unknown one is an error. */
static int
ctl_slurm_fill(const char *tmpl_path, const char *text, const char *const (*vars)[2], char **out,
	       char **cause)
{
	size_t len = 0, cap = strlen(text) + 1024;
	char *buf = xmalloc(cap);

	for (const char *p = text; *p != '\0';) {
		const char *end = *p == '@' ? strchr(p + 1, '@') : NULL, *val = NULL;
		size_t n = end != NULL ? (size_t)(end - p - 1) : 0;
		bool name = n > 0;

		for (size_t i = 0; i < n && name; i++)
			name = isupper((unsigned char)p[1 + i]) || p[1 + i] == '_';
		if (!name) {
			ctl_slurm_append(&buf, &len, &cap, p++, 1);
			continue;
		}
		for (size_t i = 0; vars[i][0] != NULL && val == NULL; i++)
			if (strlen(vars[i][0]) == n && strncmp(vars[i][0], p + 1, n) == 0)
				val = vars[i][1];
		if (val == NULL) {
			free(buf);
			return error_set(cause, -EINVAL, "%s: unknown placeholder %.*s", tmpl_path,
					 (int)n + 2, p);
		}
		ctl_slurm_append(&buf, &len, &cap, val, strlen(val));
		p = end + 1;
	}
	*out = buf;
	return 0;
}

static int
ctl_slurm_write(const char *path, const char *text, char **cause)
{
	FILE *f = fopen(path, "w");

	if (f == NULL)
		return error_set(cause, -errno, "cannot write %s: %s", path, strerror(errno));
	fputs(text, f);
	if (fclose(f) != 0)
		return error_set(cause, -errno, "cannot write %s: %s", path, strerror(errno));
	chmod(path, 0700);
	return 0;
}

/* Build the script text from the options. *script is allocated. */
static int
ctl_slurm_script(const struct options *opts, const char *url, long nworkers, long nthreads,
		 const char *log_dir, char **script, char **cause)
{
	char *tmpl_path = NULL, *tmpl = NULL, *lines = xstrdup(""), *args = xstrdup("");
	char *cmd = ctl_slurm_worker_command(opts), *qurl = ctl_slurm_quote(url), *next;
	char workers[32], last[32], threads[32], cpus[32];
	char **extra = options_list(opts, "sbatch-arg");
	static const char *const line_opts[][2] = {
	    {"partition", "--partition"}, {"mem", "--mem"}, {"time", "--time"}};
	long ncpus = nthreads;
	int rc;

	if (options_get(opts, "cpus-per-worker") != NULL &&
	    (rc = options_get_long(opts, "cpus-per-worker", 1, 100000, &ncpus, cause)) != 0)
		goto out;
	for (size_t i = 0; i < sizeof line_opts / sizeof *line_opts; i++) {
		const char *v = options_get(opts, line_opts[i][0]);
		if ((rc = ctl_slurm_check_line(line_opts[i][1], v, cause)) != 0)
			goto out;
		if (v == NULL)
			continue;
		next = xasprintf("%s#SBATCH %s=%s\n", lines, line_opts[i][1], v);
		free(lines);
		lines = next;
	}
	for (char **a = extra; a != NULL && *a != NULL; a++) {
		if ((rc = ctl_slurm_check_line("--sbatch-arg", *a, cause)) != 0)
			goto out;
		next = xasprintf("%s#SBATCH %s\n", lines, *a);
		free(lines);
		lines = next;
	}
	if (*lines != '\0')
		lines[strlen(lines) - 1] = '\0'; /* the template's line ends it */
	ctl_slurm_pass(&args, "--token-file", options_get(opts, "token-file"), true);
	ctl_slurm_pass(&args, "--tls-ca", options_get(opts, "tls-ca"), true);
	ctl_slurm_pass(&args, "--tls-cert", options_get(opts, "tls-cert"), true);
	ctl_slurm_pass(&args, "--tls-key", options_get(opts, "tls-key"), true);
	ctl_slurm_pass(&args, "--tls-server-name", options_get(opts, "tls-server-name"), false);
	for (char **a = options_list(opts, "worker-arg"); a != NULL && *a != NULL; a++) {
		char *q = ctl_slurm_quote(*a);
		next = xasprintf("%s%s%s", args, *args != '\0' ? " " : "", q);
		free(args);
		free(q);
		args = next;
	}
	snprintf(workers, sizeof workers, "%ld", nworkers);
	snprintf(last, sizeof last, "%ld", nworkers - 1);
	snprintf(threads, sizeof threads, "%ld", nthreads);
	snprintf(cpus, sizeof cpus, "%ld", ncpus);
	{
		const char *const vars[][2] = {
		    {"WORKERS", workers},
		    {"LAST_INDEX", last},
		    {"JOB_NAME", options_get(opts, "job-name")},
		    {"CPUS", cpus},
		    {"LOG_DIR", log_dir},
		    {"SBATCH_LINES", lines},
		    {"WORKER_COMMAND", cmd},
		    {"SCHEDULER", qurl},
		    {"NTHREADS", threads},
		    {"WORKER_ARGS", args},
		    {NULL, NULL},
		};
		if ((rc = ctl_slurm_check_line("--job-name", options_get(opts, "job-name"),
					       cause)) != 0 ||
		    (rc = ctl_slurm_template_path(opts, &tmpl_path, cause)) != 0 ||
		    (rc = ctl_read_file(tmpl_path, &tmpl, cause)) != 0)
			goto out;
		rc = ctl_slurm_fill(tmpl_path, tmpl, vars, script, cause);
	}
out:
	free(tmpl_path);
	free(tmpl);
	free(lines);
	free(args);
	free(cmd);
	free(qurl);
	return rc;
}

/* Run `sbatch --parsable SCRIPT`; its stderr passes through. *job_id is allocated. */
static int
ctl_slurm_submit(const char *script_path, char **job_id, char **cause)
{
	char *q = ctl_slurm_quote(script_path), *cmd, line[256] = "";
	const char *sbatch = getenv("NEURODAG_SBATCH");
	FILE *p;
	int status;

	cmd = xasprintf("%s --parsable %s", sbatch != NULL ? sbatch : "sbatch", q);
	free(q);
	fflush(NULL);
	p = popen(cmd, "r");
	free(cmd);
	if (p == NULL)
		return error_set(cause, -errno, "cannot run sbatch: %s", strerror(errno));
	if (fgets(line, sizeof line, p) == NULL)
		line[0] = '\0';
	while (fgetc(p) != EOF)
		;
	status = pclose(p);
	line[strcspn(line, ";\r\n")] = '\0';
	if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return error_set(cause, -EIO, "sbatch %s failed (exit %d)%s", script_path,
				 status != -1 && WIFEXITED(status) ? WEXITSTATUS(status) : -1,
				 status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 127
				     ? ": is Slurm's sbatch on PATH?"
				     : "");
	if (line[0] == '\0' || strspn(line, "0123456789") != strlen(line))
		return error_set(cause, -EPROTO, "sbatch printed no job id (got \"%s\")", line);
	*job_id = xstrdup(line);
	return 0;
}

static bool
ctl_slurm_loopback(const char *url)
{
	return strstr(url, "://127.") != NULL || strstr(url, "://localhost") != NULL ||
	       strstr(url, "://[::1]") != NULL || strncmp(url, "ipc://", 6) == 0;
}

static int
ctl_slurm_run(struct options *opts)
{
	struct ctl_conn c = {0};
	const char *url = getenv("NEURODAG_SCHEDULER");
	char *cause = NULL, *dir = NULL, *state = NULL, *script = NULL, *path = NULL;
	char *job_id = NULL;
	long nworkers, nthreads;
	double timeout;
	int rc = CTL_EXIT_USAGE;
	bool dry = options_count(opts, "dry-run") > 0;

	if (options_count(opts, "scheduler") > 0 || url == NULL)
		url = options_get(opts, "scheduler");
	if (options_get(opts, "worker-scheduler") != NULL)
		url = options_get(opts, "worker-scheduler");
	if (options_get(opts, "workers") == NULL) {
		error_set(&cause, -EINVAL, "how many workers? (-n N)");
		goto out;
	}
	if (options_get_long(opts, "workers", 1, 100000, &nworkers, &cause) != 0 ||
	    options_get_long(opts, "nthreads", 1, 1024, &nthreads, &cause) != 0 ||
	    options_get_double(opts, "timeout", 0, 1e9, &timeout, &cause) != 0 ||
	    ctl_slurm_check_line("the scheduler URL", url, &cause) != 0)
		goto out;
	if (options_get(opts, "script-dir") != NULL) {
		dir = paths_absolute(options_get(opts, "script-dir"));
	} else {
		state = paths_default_state_dir();
		dir = xasprintf("%s/slurm", state);
	}
	if (paths_mkdirs(dir, 0700, &cause) != 0 ||
	    ctl_slurm_script(opts, url, nworkers, nthreads, dir, &script, &cause) != 0)
		goto out;
	/* Check the scheduler and the token before asking Slurm for nodes. */
	if (!dry && (rc = ctl_conn_from_options(&c, opts)) != 0)
		goto out;
	path = xasprintf("%s/%s-%ld-%d.sbatch", dir, options_get(opts, "job-name"),
			 (long)time(NULL), (int)getpid());
	if (ctl_slurm_write(path, script, &cause) != 0) {
		rc = CTL_EXIT_USAGE;
		goto close;
	}
	if (dry) {
		printf("%s\n", path);
		rc = CTL_EXIT_OK;
		goto out;
	}
	if (ctl_slurm_loopback(url))
		fprintf(stderr,
			"neurodag slurm-workers: note: workers will dial %s, which only works when "
			"Slurm runs them on this host (see --worker-scheduler)\n",
			url);
	if (ctl_slurm_submit(path, &job_id, &cause) != 0) {
		rc = CTL_EXIT_FAILED;
		goto close;
	}
	printf("%s\n", job_id);
	fflush(stdout);
	fprintf(stderr, "Slurm job %s: %ld workers; script %s, logs %s/%s-%s_*.out\n", job_id,
		nworkers, path, dir, options_get(opts, "job-name"), job_id);
	rc = CTL_EXIT_OK;
	if (options_count(opts, "wait"))
		rc = ctl_slurm_wait(&c, job_id, (uint32_t)nworkers, timeout, dir,
				    options_get(opts, "job-name"));
close:
	ctl_conn_close(&c);
out:
	if (cause != NULL)
		fprintf(stderr, "neurodag slurm-workers: %s\n", cause);
	free(cause);
	free(dir);
	free(state);
	free(script);
	free(path);
	free(job_id);
	return rc;
}

int
ctl_cmd_slurm_workers(int argc, char **argv)
{
	struct options opts;
	int rc;

	if ((rc = ctl_options_parse(
		 &opts, ctl_slurm_options, argc, argv, "neurodag slurm-workers -n N [options]",
		 "Start N workers through Slurm: writes an sbatch script (a job array, "
		 "one neurodag-worker per\narray task, in the foreground) from the "
		 "template, submits it, prints the Slurm job id.\nWith --wait, follows "
		 "the workers until all have registered with the scheduler.\nscancel "
		 "JOB stops them: each finishes its running tasks first.")) != 0)
		return rc < 0 ? 0 : rc;
	if (opts.argc > 0) {
		fprintf(stderr, "neurodag slurm-workers: unexpected argument '%s'\n", opts.argv[0]);
		options_fini(&opts);
		return CTL_EXIT_USAGE;
	}
	rc = ctl_slurm_run(&opts);
	options_fini(&opts);
	return rc;
}
