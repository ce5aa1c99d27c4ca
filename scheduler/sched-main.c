/* neurodag-scheduler: parse the flags, prepare the state directory and token, optionally detach,
 * and run the scheduler loop until SIGTERM. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "common/log.h"
#include "common/options.h"
#include "common/paths.h"
#include "common/token.h"
#include "common/xmalloc.h"
#include "scheduler/sched-config.h"
#include "scheduler/sched-main.h"
#include "scheduler/sched-state.h"
#include "worker/ops/op-plugin.h"

static const struct options_def sched_main_options[] = {
    SCHED_CONFIG_OPTIONS,
    {"token-file", 0, OPTIONS_VALUE, "FILE",
     "read the token from FILE instead of STATE_DIR/token (created if absent)", NULL},
    {"log-file", 0, OPTIONS_VALUE, "FILE",
     "log to FILE (default: stderr; STATE_DIR/scheduler.log when detached)", NULL},
    {"foreground", 'd', OPTIONS_FLAG, NULL, "stay in the foreground (do not detach)", NULL},
    {"verbose", 'v', OPTIONS_FLAG, NULL, "log more (repeat for more)", NULL},
    {"plugin", 0, OPTIONS_LIST, "FILE.so",
     "load custom ops (to validate pipelines that use them; workers load them too)", NULL},
    {"check", 0, OPTIONS_FLAG, NULL,
     "validate the flags and the state dir, print \"configuration OK\", exit", NULL},
    {NULL},
};

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

int
sched_main(int argc, char **argv)
{
	struct options opts;
	struct sched_config cfg;
	struct sched *s = NULL;
	char *cause = NULL, *token = NULL, *state_dir = NULL, *log_path = NULL;
	const char *logf;
	int rc, level;

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
	level = LOG_LEVEL_INFO + options_count(&opts, "verbose");
	log_init("scheduler", level > LOG_LEVEL_TRACE ? LOG_LEVEL_TRACE : level, NULL);
	if (opts.argc > 0) {
		fprintf(stderr, "neurodag-scheduler: unexpected argument '%s' (see --help)\n",
			opts.argv[0]);
		return 2;
	}
	if ((rc = op_plugin_load(options_list(&opts, "plugin"), &cause)) != 0 ||
	    (rc = sched_config_from_options(&opts, &cfg, &state_dir, &cause)) != 0 ||
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
		if (proto_tls_url(cfg.listen_url)) {
			/* Load the certificate and key now, as listening would. */
			nng_tls_config *tls;
			if ((rc = proto_tls_config_new(cfg.listen_url, &cfg.tls, true, &tls,
						       &cause)) != 0)
				goto fail;
			nng_tls_config_free(tls);
		}
		printf("configuration OK\n");
		goto out;
	}
	logf = options_get(&opts, "log-file");
	if (!options_count(&opts, "foreground")) {
		log_path = logf != NULL ? xstrdup(logf) : xasprintf("%s/scheduler.log", state_dir);
		if ((rc = sched_main_detach(state_dir, &cause)) != 0)
			goto fail;
		logf = log_path;
	}
	if (logf != NULL && (rc = log_init("scheduler", log_get_level(), logf)) != 0) {
		error_set(&cause, rc, "cannot open the log file %s", logf);
		goto fail;
	}
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
