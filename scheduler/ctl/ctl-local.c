/* `neurodag run`: local mode. Starts an embedded scheduler (a thread) on a private ipc socket
 * with a fresh token, spawns local workers (this binary's `worker` personality), submits, follows
 * the jobs, and tears everything down. `--serial` runs the same graph in this process instead. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/error.h"
#include "common/log.h"
#include "common/paths.h"
#include "common/token.h"
#include "common/xmalloc.h"
#include "scheduler/ctl/ctl-serial.h"
#include "scheduler/ctl/ctl-options.h"
#include "scheduler/ctl/ctl.h"
#include "scheduler/sched-core.h"
#include "scheduler/sched-main.h"
#include "worker/dsp/core/fft-plan.h"
#include "worker/ops/op-plugin.h"
#include "worker/worker-cli.h"

static const struct options_def ctl_local_options[] = {
    {"output", 'o', OPTIONS_VALUE, "PATH", "output path (a directory with several inputs)", NULL},
    {"overwrite", 0, OPTIONS_FLAG, NULL, "replace outputs that exist already", NULL},
    {"workers", 'n', OPTIONS_VALUE, "N", "local worker processes (default: one per core)", NULL},
    {"nthreads", 0, OPTIONS_VALUE, "N", "threads per worker", "1"},
    {"state-dir", 0, OPTIONS_VALUE, "DIR",
     "keep the scheduler's state here (default: a temporary directory, removed after)", NULL},
    {"http", 0, OPTIONS_VALUE, "HOST:PORT", "also serve the status endpoint", NULL},
    {"serial", 0, OPTIONS_FLAG, NULL, "run the task graph in this process, no scheduler", NULL},
    {"worker-wait-timeout", 0, OPTIONS_VALUE, "SECONDS", "fail if no worker arrives in time", "60"},
    {"plugin", 0, OPTIONS_LIST, "FILE.so", "load custom ops here and in every local worker", NULL},
    {"fft-keep-max", 0, OPTIONS_VALUE, "N",
     "workers cache FFT plans of at most N points (see neurodag worker --help)", NULL},
    CTL_JSON_OPTIONS,
    {"quiet", 'q', OPTIONS_FLAG, NULL, "no progress display", NULL},
    {"verbose", 'v', OPTIONS_FLAG, NULL, "log the scheduler and workers", NULL},
    {NULL},
};

static void *
ctl_local_sched_thread(void *arg)
{
	sched_run(arg);
	return NULL;
}

static pid_t
ctl_local_spawn_worker(const char *url, const char *token, long nthreads, int verbose,
		       char **plugins, const char *fft_keep_max)
{
	pid_t pid = fork();

	if (pid == 0) {
		char threads[32], *argv[32 + 2 * 64];
		int n = 0;

		snprintf(threads, sizeof threads, "%ld", nthreads);
		setenv("NEURODAG_TOKEN", token, 1);
		setenv("OPENBLAS_NUM_THREADS", "1", 1);
		/* Channel-sized buffers are mmapped per task (worker-cli.c): transparent huge pages
		 * make their page faults 512 times fewer (a tenth of the CPU time of a correction).
		 */
		setenv("GLIBC_TUNABLES", "glibc.malloc.hugetlb=1", 0);
		argv[n++] = "neurodag";
		argv[n++] = "worker";
		argv[n++] = "--scheduler";
		argv[n++] = (char *)url;
		argv[n++] = "--nthreads";
		argv[n++] = threads;
		/* Quiet unless -v: their info lines would land on the user's terminal. */
		argv[n++] = "--connect-timeout";
		argv[n++] = "30";
		argv[n++] = verbose ? "-v" : "-q";
		if (fft_keep_max != NULL) {
			argv[n++] = "--fft-keep-max";
			argv[n++] = (char *)fft_keep_max;
		}
		for (char **p = plugins; p != NULL && *p != NULL && n < 30 + 2 * 64; p++) {
			argv[n++] = "--plugin";
			argv[n++] = *p;
		}
		argv[n] = NULL;
		execv("/proc/self/exe", argv);
		_exit(127);
	}
	return pid;
}

/* The state directory: --state-dir, or a fresh temporary one (*temp set, removed after). */
static int
ctl_local_state_dir(const struct options *opts, char **state_dir, int *temp, char **cause)
{
	char tmpl[] = "/tmp/neurodag-run-XXXXXX";

	if (options_get(opts, "state-dir") != NULL) {
		*state_dir = paths_absolute(options_get(opts, "state-dir"));
		return paths_mkdirs(*state_dir, 0700, cause);
	}
	if (mkdtemp(tmpl) == NULL)
		return error_set(cause, -errno, "cannot make a temporary directory: %s",
				 strerror(errno));
	*state_dir = xstrdup(tmpl);
	*temp = 1;
	return 0;
}

/* The embedded scheduler listens on a private ipc socket in the state directory, with
 * neurodag-scheduler's defaults. */
static void
ctl_local_config(struct sched_config *cfg, const struct options *opts, const char *url,
		 const char *state_dir, const char *token)
{
	cfg->listen_url = url;
	cfg->http_addr = options_get(opts, "http");
	cfg->state_dir = state_dir;
	cfg->token = token;
	cfg->heartbeat_interval_s = 2;
	cfg->worker_ttl_s = 15;
	cfg->max_attempts = 3;
	/* Local workers drain on SIGTERM only once their held poll returns: hold briefly. */
	cfg->poll_hold_s = 0.05;
}

/* Submit the pipeline through c and follow its jobs: the exit code. */
static int
ctl_local_submit(struct ctl_conn *c, const struct options *opts, const char *pipeline,
		 char **inputs, int ninputs, char **cause)
{
	uint64_t *jobs = NULL;
	uint32_t njobs = 0;
	int rc;

	if (ctl_conn_submit(c, pipeline, inputs, ninputs, options_get(opts, "output"),
			    options_count(opts, "overwrite") > 0, &jobs, &njobs, cause) != 0)
		return CTL_EXIT_USAGE;
	rc = ctl_wait_jobs(c, jobs, njobs, 0, ctl_output_mode(opts), options_count(opts, "quiet"));
	free(jobs);
	return rc;
}

static void
ctl_local_stop_workers(const pid_t *pids, long n)
{
	for (long i = 0; i < n; i++)
		if (pids[i] > 0)
			kill(pids[i], SIGTERM);
	for (long i = 0; i < n; i++)
		if (pids[i] > 0)
			waitpid(pids[i], NULL, 0);
}

static int
ctl_local_run(struct options *opts, const char *pipeline, char **inputs, int ninputs)
{
	struct sched_config cfg = {0};
	struct sched *s = NULL;
	struct ctl_conn c;
	pthread_t thread;
	pid_t *pids = NULL;
	char *cause = NULL, *token = NULL, *state_dir = NULL, *url = NULL;
	long nworkers = sysconf(_SC_NPROCESSORS_ONLN), nthreads;
	int rc = CTL_EXIT_USAGE, temp = 0, verbose = options_count(opts, "verbose");

	if (options_get(opts, "workers") != NULL &&
	    options_get_long(opts, "workers", 1, 1024, &nworkers, &cause) != 0)
		goto out;
	if (options_get_long(opts, "nthreads", 1, 1024, &nthreads, &cause) != 0 ||
	    options_get_double(opts, "worker-wait-timeout", 0, 1e9, &cfg.worker_wait_timeout_s,
			       &cause) != 0 ||
	    ctl_local_state_dir(opts, &state_dir, &temp, &cause) != 0)
		goto out;
	rc = CTL_EXIT_CONNECT;
	if (token_load_or_create(state_dir, &token, &cause) != 0)
		goto out;
	log_set_level(verbose ? LOG_LEVEL_INFO : LOG_LEVEL_WARN);
	url = xasprintf("ipc://%s/scheduler.sock", state_dir);
	ctl_local_config(&cfg, opts, url, state_dir, token);
	if (sched_new(&s, &cfg, false, &cause) != 0)
		goto out;
	pthread_create(&thread, NULL, ctl_local_sched_thread, s);
	pids = xcalloc((size_t)nworkers, sizeof *pids);
	for (long i = 0; i < nworkers; i++)
		pids[i] = ctl_local_spawn_worker(url, token, nthreads, verbose,
						 options_list(opts, "plugin"),
						 options_get(opts, "fft-keep-max"));
	if (ctl_conn_open(&c, url, token, &cause) == 0) {
		rc = ctl_local_submit(&c, opts, pipeline, inputs, ninputs, &cause);
		ctl_conn_close(&c);
	}
	ctl_local_stop_workers(pids, nworkers);
	sched_stop(s);
	pthread_join(thread, NULL);
	sched_free(s);
out:
	if (cause != NULL)
		fprintf(stderr, "neurodag run: %s\n", cause);
	if (temp)
		paths_remove_tree(state_dir);
	free(pids);
	free(cause);
	free(token);
	free(state_dir);
	free(url);
	return rc;
}

int
ctl_cmd_run(int argc, char **argv)
{
	struct options opts;
	char *cause = NULL;
	int rc;

	if ((rc = ctl_options_parse(
		 &opts, ctl_local_options, argc, argv,
		 "neurodag run [options] PIPELINE.json [INPUT...]",
		 "Run a pipeline on this machine: an embedded scheduler and local "
		 "workers (one job per INPUT).")) != 0)
		return rc < 0 ? 0 : rc;
	if (opts.argc == 0) {
		fprintf(stderr, "neurodag run: which pipeline? (see --help)\n");
		options_fini(&opts);
		return CTL_EXIT_USAGE;
	}
	signal(SIGPIPE, SIG_IGN);
	/* The embedded scheduler (or the serial runner) validates with the plugins' ops too. */
	if (op_plugin_load(options_list(&opts, "plugin"), &cause) != 0) {
		fprintf(stderr, "neurodag run: %s\n", cause);
		free(cause);
		options_fini(&opts);
		return CTL_EXIT_USAGE;
	}
	if (options_get(&opts, "fft-keep-max") != NULL) /* --serial runs the tasks here */
		fft_plan_set_keep_max(
		    (size_t)strtoull(options_get(&opts, "fft-keep-max"), NULL, 10));
	if (options_count(&opts, "serial"))
		rc = ctl_serial_run(opts.argv[0], opts.argv + 1, opts.argc - 1,
				    options_get(&opts, "output"), ctl_output_mode(&opts),
				    options_count(&opts, "overwrite") > 0);
	else
		rc = ctl_local_run(&opts, opts.argv[0], opts.argv + 1, opts.argc - 1);
	options_fini(&opts);
	return rc;
}

int
ctl_cmd_scheduler(int argc, char **argv)
{
	return sched_main(argc, argv);
}

int
ctl_cmd_worker(int argc, char **argv)
{
	return worker_cli_main("neurodag worker", argc, argv);
}
