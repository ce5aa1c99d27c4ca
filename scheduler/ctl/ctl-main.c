/* neurodag: the command-line front end. A table of sub-commands; `neurodag help` and
 * `neurodag CMD --help` come from the same tables. Built twice: as `neurodag-engine` with every
 * command, and (CTL_MAIN_CLIENT) as the `neurodag` users run, which links only what talks to a
 * scheduler and hands the commands that run the engine to `neurodag-engine` (ctl-exec.c), so
 * that `submit`, `wait` and `status` start in a millisecond instead of loading the DSP
 * libraries. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/trace.h"
#include "scheduler/ctl/ctl.h"

#ifdef CTL_MAIN_CLIENT
#define CTL_ENGINE(fn) ctl_exec_engine
#else
#define CTL_ENGINE(fn) fn
#endif

static const struct ctl_command {
	const char *name;
	ctl_cmd_fn fn;
	const char *summary;
} ctl_commands[] = {
    {"run", CTL_ENGINE(ctl_cmd_run), "run a pipeline here: an embedded scheduler with local workers"},
    {"submit", ctl_cmd_submit, "submit a pipeline to a scheduler (one job per input)"},
    {"wait", ctl_cmd_wait, "follow jobs until they finish, with a progress bar"},
    {"status", ctl_cmd_status, "the scheduler's summary, or one job's details"},
    {"jobs", ctl_cmd_jobs, "list jobs"},
    {"workers", ctl_cmd_workers, "list registered workers"},
    {"cancel", ctl_cmd_cancel, "cancel a job"},
    {"gc", ctl_cmd_gc, "forget finished jobs and their work dirs now"},
    {"slurm-workers", ctl_cmd_slurm_workers, "start workers through Slurm (a job array)"},
    {"scheduler", CTL_ENGINE(ctl_cmd_scheduler), "run the scheduler daemon (as neurodag-scheduler)"},
    {"worker", CTL_ENGINE(ctl_cmd_worker), "run a worker (as neurodag-worker)"},
    {"synth", CTL_ENGINE(ctl_cmd_synth), "write synthetic data sets (an EEG-fMRI recording, or trials)"},
    {NULL, NULL, NULL},
};

static void
ctl_main_usage(FILE *out)
{
	int width = 0;

	for (const struct ctl_command *c = ctl_commands; c->name != NULL; c++)
		if ((int)strlen(c->name) > width)
			width = (int)strlen(c->name);
	fprintf(out, "usage: neurodag COMMAND [options] [arguments]\n\ncommands:\n");
	for (const struct ctl_command *c = ctl_commands; c->name != NULL; c++)
		fprintf(out, "  %-*s  %s\n", width, c->name, c->summary);
	fprintf(out, "\n`neurodag COMMAND --help` describes each command.\n\n%s\n",
		CTL_EXIT_CODES_HELP);
}

static void
ctl_main_trace_exit(void)
{
	trace_now(TRACE_CLI_EXIT, 0);
}

int
main(int argc, char **argv)
{
	trace_init("cli");
	if (trace_enabled) {
		trace_now(TRACE_CLI_START, 0);
		atexit(ctl_main_trace_exit); /* runs before trace.c's, which writes the events */
	}
	log_init("neurodag", LOG_LEVEL_WARN, NULL);
	if (argc < 2 || strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		ctl_main_usage(stdout);
		return argc < 2 ? CTL_EXIT_USAGE : CTL_EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("neurodag %s\n", ND_VERSION);
		return 0;
	}
	for (const struct ctl_command *c = ctl_commands; c->name != NULL; c++)
		if (strcmp(argv[1], c->name) == 0)
			return c->fn(argc - 1, argv + 1);
	fprintf(stderr, "neurodag: unknown command '%s'\n\n", argv[1]);
	ctl_main_usage(stderr);
	return CTL_EXIT_USAGE;
}
