/* neurodag-scheduler: parse the flags into a checked configuration, prepare the state directory
 * and token, optionally detach, and run the scheduler loop until SIGTERM. */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "common/error.h"
#include "common/log.h"
#include "common/options.h"
#include "common/paths.h"
#include "common/token.h"
#include "common/trace.h"
#include "common/xmalloc.h"
#include "scheduler/sched-core.h"
#include "scheduler/sched-main.h"
#include "scheduler/state/store/sched-store.h"
#include "worker/ops/op-plugin.h"

static const struct options_def sched_main_options[] = {
    {"listen", 0, OPTIONS_VALUE, "URL", "where workers and clients connect",
     "tcp://127.0.0.1:8786"},
    {"http", 0, OPTIONS_VALUE, "HOST:PORT", "status endpoint (\"\" for none)", "127.0.0.1:8787"},
    {"http-auth-read", 0, OPTIONS_FLAG, NULL,
     "HTTP reads need the token too, as writes always do (all but /health)", NULL},
    {"http-host", 0, OPTIONS_LIST, "NAME",
     "a host name the status endpoint is reached by (besides localhost, IP addresses and the "
     "--http host); requests naming another Host are refused",
     NULL},
    {"state-dir", 0, OPTIONS_VALUE, "DIR",
     "state database, token and job work dirs (default: $NEURODAG_STATE_DIR or "
     "~/.local/state/neurodag)",
     NULL},
    {"worker-wait-timeout", 0, OPTIONS_VALUE, "SECONDS",
     "fail a job that has waited this long for its minimum workers", "360"},
    {"heartbeat-interval", 0, OPTIONS_VALUE, "SECONDS", "how often workers send heartbeats",
     "2"},
    {"worker-ttl", 0, OPTIONS_VALUE, "SECONDS",
     "a worker silent this long is lost and its tasks requeued", "15"},
    {"max-attempts", 0, OPTIONS_VALUE, "N", "attempts per task before its job fails", "3"},
    {"job-retention", 0, OPTIONS_VALUE, "SECONDS",
     "forget finished jobs this long after they end (0: keep them)", "604800"},
    {"task-timeout", 0, OPTIONS_VALUE, "SECONDS",
     "give up a task still running after this long and retry it (a pipeline's "
     "execution.task_timeout overrides it; 0: never)",
     "86400"},
    {"max-result-size", 0, OPTIONS_VALUE, "KIB",
     "a task's inline result (stored, passed to later tasks) may be this large", "2048"},
    {"max-job-tasks", 0, OPTIONS_VALUE, "N",
     "refuse a job of more tasks (each costs the scheduler about 28 bytes)", "10000000"},
    {"max-tasks", 0, OPTIONS_VALUE, "N", "refuse a job that would bring the unfinished jobs past N tasks",
     "50000000"},
    {"hello-timeout", 0, OPTIONS_VALUE, "SECONDS",
     "close a connection that has not authenticated within this time", "10"},
    {"min-free-space", 0, OPTIONS_VALUE, "MIB",
     "refuse new jobs while the state dir's filesystem has less free space", "64"},
    {"keep-work-dirs", 0, OPTIONS_FLAG, NULL,
     "keep finished jobs' work dirs (intermediate files, for debugging)", NULL},
    PROTO_TLS_OPTIONS,
    {"token-file", 0, OPTIONS_VALUE, "FILE",
     "read the token from FILE instead of STATE_DIR/token (created if absent)", NULL},
    {"log-file", 0, OPTIONS_VALUE, "FILE",
     "log to FILE (default: stderr; STATE_DIR/scheduler.log when detached)", NULL},
    {"detach", 0, OPTIONS_FLAG, NULL,
     "run in the background (logging to --log-file or STATE_DIR/scheduler.log)", NULL},
    {"foreground", 0, OPTIONS_FLAG, NULL, "stay in the foreground (the default)", NULL},
    {"verbose", 'v', OPTIONS_FLAG, NULL, "log more (repeat for more)", NULL},
    {"plugin", 0, OPTIONS_LIST, "FILE.so",
     "load custom ops (to validate pipelines that use them; workers load them too)", NULL},
    {"check", 0, OPTIONS_FLAG, NULL,
     "validate the flags and the state dir, print \"configuration OK\", exit", NULL},
    {NULL},
};

/* Whether a listen URL or HOST:PORT names a loopback address only. */
static bool
sched_main_loopback(const char *addr)
{
	const char *h = strstr(addr, "://") != NULL ? strstr(addr, "://") + 3 : addr;

	if (strncmp(addr, "ipc://", 6) == 0)
		return true;
	return strncmp(h, "127.", 4) == 0 || strncmp(h, "localhost:", 10) == 0 ||
	       strncmp(h, "[::1]:", 6) == 0;
}

/* Loudly: plain TCP beyond this machine, and the status endpoint beyond it. */
static void
sched_main_warn_exposure(const struct sched_config *cfg)
{
	if (strncmp(cfg->listen_url, "tcp://", 6) == 0 && !sched_main_loopback(cfg->listen_url))
		log_warn("WARNING: --listen %s is plain TCP beyond loopback: anyone who can reach "
			 "the port sees job specs and results in clear and can tamper with them "
			 "(the token itself is never sent); between nodes use tls+tcp:// "
			 "(README: Running on a cluster, TLS)",
			 cfg->listen_url);
	if (cfg->http_addr != NULL && *cfg->http_addr != '\0' &&
	    !sched_main_loopback(cfg->http_addr))
		log_warn("WARNING: --http %s is plain HTTP beyond loopback: the bearer token of "
			 "its POST and DELETE requests travels in clear, and %s (put a TLS "
			 "proxy in front of it, or keep it on loopback)",
			 cfg->http_addr,
			 cfg->http_auth_read ? "so do job and worker reports"
					     : "anyone who can reach it reads every job and worker "
					       "(--http-auth-read)");
}

/* Fill cfg from parsed options (token left NULL). *state_dir is allocated. */
static int
sched_main_config(const struct options *opts, struct sched_config *cfg, char **state_dir,
		  char **cause)
{
	long attempts, max_job, max_all, max_result;
	double min_free;
	const char *dir = options_get(opts, "state-dir"), *listen = options_get(opts, "listen");

	memset(cfg, 0, sizeof *cfg);
	if (strncmp(listen, "tcp://", 6) != 0 && strncmp(listen, "ipc://", 6) != 0 &&
	    strncmp(listen, "tls+tcp://", 10) != 0)
		return error_set(cause, -EINVAL,
				 "--listen %s: expected tcp://HOST:PORT, tls+tcp://HOST:PORT or "
				 "ipc:///PATH",
				 listen);
	cfg->listen_url = listen;
	proto_tls_from_options(opts, &cfg->tls);
	if (proto_tls_check(listen, &cfg->tls, true, cause) != 0)
		return -EINVAL;
	cfg->http_addr = options_get(opts, "http");
	cfg->http_auth_read = options_count(opts, "http-auth-read") > 0;
	cfg->http_hosts = options_list(opts, "http-host");
	if (options_get_double(opts, "worker-wait-timeout", 0, 1e9, &cfg->worker_wait_timeout_s,
			       cause) != 0 ||
	    options_get_double(opts, "heartbeat-interval", 0.05, 3600, &cfg->heartbeat_interval_s,
			       cause) != 0 ||
	    options_get_double(opts, "worker-ttl", 0.1, 86400, &cfg->worker_ttl_s, cause) != 0 ||
	    options_get_long(opts, "max-attempts", 1, 100, &attempts, cause) != 0 ||
	    options_get_double(opts, "job-retention", 0, 1e10, &cfg->job_retention_s, cause) != 0)
		return -EINVAL;
	cfg->keep_work_dirs = options_count(opts, "keep-work-dirs") > 0;
	if (options_get_double(opts, "min-free-space", 0, 1e9, &min_free, cause) != 0 ||
	    options_get_double(opts, "hello-timeout", 0.1, 3600, &cfg->hello_timeout_s, cause) != 0)
		return -EINVAL;
	cfg->min_free_bytes = (uint64_t)(min_free * 1048576);
	if (options_get_long(opts, "max-job-tasks", 0, UINT32_MAX, &max_job, cause) != 0 ||
	    options_get_long(opts, "max-tasks", 0, 1L << 40, &max_all, cause) != 0)
		return -EINVAL;
	cfg->max_job_tasks = (uint32_t)max_job;
	if (options_get_double(opts, "task-timeout", 0, 1e9, &cfg->task_timeout_s, cause) != 0 ||
	    options_get_long(opts, "max-result-size", 1, PROTO_MAX_TEXT >> 10, &max_result,
			     cause) != 0)
		return -EINVAL;
	cfg->max_result_bytes = (uint64_t)max_result << 10;
	cfg->max_tasks = (uint64_t)max_all;
	if (cfg->worker_ttl_s <= cfg->heartbeat_interval_s)
		return error_set(
		    cause, -EINVAL,
		    "--worker-ttl (%g s) must be longer than --heartbeat-interval (%g s)",
		    cfg->worker_ttl_s, cfg->heartbeat_interval_s);
	cfg->max_attempts = (uint32_t)attempts;
	/* An idle worker's parked poll is its only sign of life: answer it within a heartbeat. */
	cfg->poll_hold_s = cfg->heartbeat_interval_s < 1.0 ? cfg->heartbeat_interval_s : 1.0;
	*state_dir = dir != NULL ? paths_absolute(dir) : paths_default_state_dir();
	cfg->state_dir = *state_dir;
	sched_main_warn_exposure(cfg);
	return 0;
}

/* Every peer holds a descriptor: use all the hard limit allows. */
static void
sched_main_raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static int
sched_main_detach(const char *state_dir, char **cause)
{
	pid_t pid = fork();
	int fd;

	if (pid < 0)
		return error_set(cause, -errno, "fork: %s", strerror(errno));
	if (pid > 0) {
		printf("neurodag-scheduler started, pid %d, log in %s/scheduler.log\n", (int)pid,
		       state_dir);
		_exit(0);
	}
	setsid();
	fd = open("/dev/null", O_RDWR);
	if (fd >= 0) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		if (fd > 2)
			close(fd);
	}
	return 0;
}

/* --check: the state database is sound, and the TLS certificate and key load now, as
 * listening would. */
static int
sched_main_check(const struct sched_config *cfg, char **cause)
{
	nng_tls_config *tls;
	int rc;

	if ((rc = sched_store_check(cfg->state_dir, cause)) != 0)
		return rc;
	if (!proto_tls_url(cfg->listen_url))
		return 0;
	if ((rc = proto_tls_config_new(cfg->listen_url, &cfg->tls, true, &tls, cause)) != 0)
		return rc;
	nng_tls_config_free(tls);
	return 0;
}

/* Detach with --detach (logging then goes to --log-file or STATE_DIR/scheduler.log), and open
 * the log file. *log_path is allocated when detached. */
static int
sched_main_log(const struct options *opts, const char *state_dir, char **log_path, char **cause)
{
	const char *logf = options_get(opts, "log-file");
	int rc;

	if (options_count(opts, "detach") && options_count(opts, "foreground"))
		return error_set(cause, -EINVAL, "--detach and --foreground: choose one");
	if (options_count(opts, "detach")) {
		*log_path = logf != NULL ? xstrdup(logf) : xasprintf("%s/scheduler.log", state_dir);
		if ((rc = sched_main_detach(state_dir, cause)) != 0)
			return rc;
		logf = *log_path;
	}
	if (logf != NULL && (rc = log_init("scheduler", log_get_level(), logf)) != 0)
		return error_set(cause, rc, "cannot open the log file %s", logf);
	return 0;
}

int
sched_main(int argc, char **argv)
{
	struct options opts;
	struct sched_config cfg;
	struct sched *s = NULL;
	char *cause = NULL, *token = NULL, *state_dir = NULL, *log_path = NULL;
	int rc, level;

	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "-d") == 0) {
			fprintf(stderr, "neurodag-scheduler: -d is gone: the scheduler stays in the "
					"foreground unless --detach\n");
			return 2;
		}
	if (options_parse(&opts, sched_main_options, argc, argv, 0, &cause) != 0) {
		fprintf(stderr, "neurodag-scheduler: %s\n", cause);
		return 2;
	}
	if (opts.help) {
		options_usage(
		    stdout, "neurodag-scheduler [options]",
		    "Runs the neurodag scheduler: accepts jobs from the CLI, dispatches their "
		    "tasks to workers,\nkeeps its state in STATE_DIR, serves status over HTTP.",
		    sched_main_options);
		return 0;
	}
	trace_init("scheduler");
	level = LOG_LEVEL_INFO + options_count(&opts, "verbose");
	log_init("scheduler", level > LOG_LEVEL_TRACE ? LOG_LEVEL_TRACE : level, NULL);
	if (opts.argc > 0) {
		fprintf(stderr, "neurodag-scheduler: unexpected argument '%s' (see --help)\n",
			opts.argv[0]);
		return 2;
	}
	if ((rc = op_plugin_load(options_list(&opts, "plugin"), &cause)) != 0 ||
	    (rc = sched_main_config(&opts, &cfg, &state_dir, &cause)) != 0 ||
	    (rc = paths_mkdirs(state_dir, 0700, &cause)) != 0)
		goto fail;
	if (options_get(&opts, "token-file") != NULL)
		rc = token_read(options_get(&opts, "token-file"), &token, &cause);
	else
		rc = token_load_or_create(state_dir, &token, &cause);
	if (rc != 0)
		goto fail;
	cfg.token = token;
	if (options_count(&opts, "check")) {
		if ((rc = sched_main_check(&cfg, &cause)) != 0)
			goto fail;
		printf("configuration OK\n");
		goto out;
	}
	if ((rc = sched_main_log(&opts, state_dir, &log_path, &cause)) != 0)
		goto fail;
	sched_main_raise_nofile();
	if ((rc = sched_new(&s, &cfg, true, &cause)) != 0)
		goto fail;
	sched_run(s);
	sched_free(s);
	log_info("stopped");
out:
	options_fini(&opts);
	free(token);
	free(state_dir);
	free(log_path);
	return 0;
fail:
	log_error("%s", cause != NULL ? cause : strerror(-rc));
	fprintf(stderr, "neurodag-scheduler: %s\n", cause != NULL ? cause : strerror(-rc));
	free(cause);
	options_fini(&opts);
	free(token);
	free(state_dir);
	free(log_path);
	return 1;
}
