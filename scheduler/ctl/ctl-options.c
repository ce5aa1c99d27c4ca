/* Parsing a sub-command's flags the one way every command does: an error printed under the
 * command's name, --help answered with the usage, the options and the exit codes. */
#include "scheduler/ctl/ctl-options.h"

#include <stdio.h>
#include <stdlib.h>

#include "scheduler/ctl/ctl.h"

int
ctl_options_parse(struct options *opts, const struct options_def *table, int argc, char **argv,
		  const char *usage, const char *summary)
{
	char *cause = NULL;

	if (options_parse(opts, table, argc, argv, 0, &cause) != 0) {
		fprintf(stderr, "neurodag %s: %s\n", argv[0], cause);
		free(cause);
		return CTL_EXIT_USAGE;
	}
	if (opts->help) {
		options_usage(stdout, usage, summary, table);
		printf("\n%s\n", CTL_EXIT_CODES_HELP);
		options_fini(opts);
		return -1;
	}
	return 0;
}

enum ctl_output
ctl_output_mode(const struct options *opts)
{
	if (options_count(opts, "json-lines") > 0)
		return CTL_OUT_JSON_LINES;
	return options_count(opts, "json") > 0 ? CTL_OUT_JSON : CTL_OUT_TEXT;
}
