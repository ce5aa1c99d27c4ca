/* Parsing the worker's flags, loading plugins, handling SIGTERM/SIGINT as a drain, and running
 * the worker until it has drained. */
#include "worker/ops/op-plugin.h"
#include "worker/worker-cli.h"

#include <pthread.h>
#include <errno.h>
#include <semaphore.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/error.h"
#include "common/log.h"
#include "common/options.h"
#include "common/token.h"
#include "common/trace.h"
#include "proto/proto-addr.h"
#include "worker/dsp/core/fft-plan.h"
#include "worker/worker.h"

static struct worker worker_cli_worker;

static const struct options_def worker_cli_options[] = {
    {"scheduler", 's', OPTIONS_VALUE, "ADDRESS", "the scheduler to serve (as the positional ADDRESS)",
     "tcp://127.0.0.1:8786"},
    {"token-file", 0, OPTIONS_VALUE, "FILE",
     "file holding the scheduler's token (else $NEURODAG_TOKEN)", NULL},
    {"nthreads", 'n', OPTIONS_VALUE, "N", "tasks run at once", "1"},
    {"connect-timeout", 0, OPTIONS_VALUE, "SECONDS",
     "give up when no scheduler answers within this time (0: keep trying)", "0"},
    {"plugin", 0, OPTIONS_LIST, "FILE.so", "load custom ops from a shared object (repeatable)",
     NULL},
    {"fft-keep-max", 0, OPTIONS_VALUE, "N",
     "cache FFT plans of at most N points; longer ones are planned per use (less memory: "
     "their twiddle tables take 8 bytes per point; more time)",
     NULL},
    {"log-file", 0, OPTIONS_VALUE, "FILE", "log to FILE instead of stderr", NULL},
    {"verbose", 'v', OPTIONS_FLAG, NULL, "log more (repeat for more)", NULL},
    PROTO_TLS_OPTIONS,
    {"quiet", 'q', OPTIONS_FLAG, NULL, "log only warnings and errors", NULL},
    {NULL},
};

/* SIGTERM and SIGINT are blocked in every thread and taken here, where a drain may lock and
 * abort the parked task request; the drain is repeated until the worker stops, in case the first
 * abort came just before the request went out. */
static sem_t worker_cli_signal_sem;
static atomic_int worker_cli_signal_number;

static void
worker_cli_on_signal(int sig)
{
	atomic_store(&worker_cli_signal_number, sig);
	sem_post(&worker_cli_signal_sem);
}

static void *
worker_cli_signal_thread(void *arg)
{
	while (sem_wait(&worker_cli_signal_sem) != 0)
		if (errno != EINTR)
			return NULL;
	log_info("received %s: draining",
		 atomic_load(&worker_cli_signal_number) == SIGTERM ? "SIGTERM" : "SIGINT");
	while (!atomic_load(&worker_cli_worker.stopping)) {
		struct timespec ts = {0, 20000000};
		worker_drain(&worker_cli_worker);
		nanosleep(&ts, NULL);
	}
	return NULL;
}

/* The scheduler's URL (allocated): the positional address or --scheduler, not both. */
static int
worker_cli_address(const struct options *opts, char **url, char **cause)
{
	const char *addr = options_get(opts, "scheduler");

	if (opts->argc > 1)
		return error_set(cause, -EINVAL, "one scheduler address, not %d (expected %s)",
				 opts->argc, PROTO_ADDR_FORMS);
	if (opts->argc == 1) {
		if (options_count(opts, "scheduler") > 0)
			return error_set(cause, -EINVAL,
					 "the scheduler twice: '%s' and --scheduler %s", opts->argv[0],
					 addr);
		addr = opts->argv[0];
	}
	return proto_addr_url(addr, url, cause);
}

/* The worker's configuration from its flags (after logging is set up): 0, or 2 with the cause
 * printed. *token and *url are allocated. */
static int
worker_cli_config(const char *prog, const struct options *opts, struct worker_config *cfg,
		  char **token, char **url)
{
	char *cause = NULL;
	long nthreads, keep;
	double timeout;

	if (worker_cli_address(opts, url, &cause) != 0 ||
	    options_get_long(opts, "nthreads", 1, 1024, &nthreads, &cause) != 0 ||
	    options_get_double(opts, "connect-timeout", 0, 1e9, &timeout, &cause) != 0 ||
	    token_read(options_get(opts, "token-file"), token, &cause) != 0 ||
	    op_plugin_load(options_list(opts, "plugin"), &cause) != 0)
		goto fail;
	/* Channel-sized buffers (tens of MB) come and go with every task: a fixed mmap threshold
	 * returns them to the system when freed, where glibc's sliding threshold would keep them
	 * in a fragmented heap and let a long-lived worker's RSS creep up to several channels. */
	mallopt(M_MMAP_THRESHOLD, 1 << 20);
	if (options_get(opts, "fft-keep-max") != NULL) {
		if (options_get_long(opts, "fft-keep-max", 1, 1L << 40, &keep, &cause) != 0)
			goto fail;
		fft_plan_set_keep_max((size_t)keep);
	}
	cfg->url = *url;
	cfg->token = *token;
	cfg->nthreads = (uint32_t)nthreads;
	cfg->connect_timeout_s = timeout;
	proto_tls_from_options(opts, &cfg->tls);
	return 0;
fail:
	fprintf(stderr, "%s: %s\n", prog, cause);
	free(cause);
	free(*token);
	*token = NULL;
	free(*url);
	*url = NULL;
	return 2;
}

/* A handler, not a signal mask: libraries such as OpenBLAS start threads before main, and a mask
 * set here would not cover them. The handler only posts a semaphore (async-signal-safe); the
 * drain itself runs on the signal thread. */
static void
worker_cli_signals(void)
{
	struct sigaction sa;
	pthread_t sigthread;

	signal(SIGPIPE, SIG_IGN);
	sem_init(&worker_cli_signal_sem, 0, 0);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = worker_cli_on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	pthread_create(&sigthread, NULL, worker_cli_signal_thread, NULL);
	pthread_detach(sigthread);
}

int
worker_cli_main(const char *prog, int argc, char **argv)
{
	struct options opts;
	struct worker_config cfg = {0};
	char *cause = NULL, *token = NULL, *url = NULL;
	int rc, level;

	if (options_parse(&opts, worker_cli_options, argc, argv, 0, &cause) != 0) {
		fprintf(stderr, "%s: %s\n", prog, cause);
		free(cause);
		return 2;
	}
	if (opts.help) {
		options_usage(
		    stdout, "neurodag-worker [options] [ADDRESS]",
		    "Runs tasks for a neurodag scheduler. SIGTERM drains: running tasks "
		    "finish, no new ones are taken,\nthen the worker says BYE and exits 0. "
		    "ADDRESS, the scheduler: " PROTO_ADDR_FORMS "\n(default tcp://127.0.0.1:8786).",
		    worker_cli_options);
		options_fini(&opts);
		return 0;
	}
	trace_init("worker");
	level = options_count(&opts, "quiet") ? LOG_LEVEL_WARN
					      : LOG_LEVEL_INFO + options_count(&opts, "verbose");
	log_init("worker", level > LOG_LEVEL_TRACE ? LOG_LEVEL_TRACE : level,
		 options_get(&opts, "log-file"));
	if ((rc = worker_cli_config(prog, &opts, &cfg, &token, &url)) != 0) {
		options_fini(&opts);
		return rc;
	}
	worker_cli_signals();
	rc = worker_start(&worker_cli_worker, &cfg, &cause);
	if (rc == 0)
		rc = worker_run(&worker_cli_worker, &cause);
	worker_stop(&worker_cli_worker);
	if (rc != 0) {
		log_error("%s", cause != NULL ? cause : "failed");
		fprintf(stderr, "%s: %s\n", prog, cause != NULL ? cause : "failed");
	}
	free(cause);
	free(token);
	free(url);
	options_fini(&opts);
	return rc == 0 ? 0 : 1;
}
