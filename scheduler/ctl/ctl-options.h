/* Parsing a sub-command's flags (ctl-options.c). */
#ifndef ND_CTL_OPTIONS_H
#define ND_CTL_OPTIONS_H

#include "common/options.h"

/* Parse argv (argv[0] is the command's name): 0; -1 after printing --help (usage, summary, the
 * options and the exit codes); CTL_EXIT_USAGE after printing the error. */
int ctl_options_parse(struct options *opts, const struct options_def *table, int argc, char **argv,
		      const char *usage, const char *summary);

#endif
