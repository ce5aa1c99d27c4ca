/* Table-driven command-line options: getopt_long is built from a table of
 * {name, short, arg, metavar, help, default}, and --help is generated from the same table. */
#ifndef ND_OPTIONS_H
#define ND_OPTIONS_H

#include <stdio.h>

enum options_arg {
	OPTIONS_FLAG,  /* no argument; counted (-v -v) */
	OPTIONS_VALUE, /* one argument; the last one given wins */
	OPTIONS_LIST,  /* one argument; every occurrence is kept */
};

struct options_def {
	const char *name; /* long name, NULL ends the table */
	int short_name;   /* 0 for none */
	enum options_arg arg;
	const char *metavar;
	const char *help;
	const char *def; /* default value, or NULL */
};

struct options {
	const struct options_def *table;
	int ntable;
	const char **values; /* per table entry: given or default value */
	int *counts;         /* per table entry: times given */
	char ***lists;       /* per table entry: OPTIONS_LIST values, NULL-terminated */
	int argc;            /* positional arguments left */
	char **argv;
	int help; /* --help was given */
};

/* Parse argv (argv[0] is the program or command name). Stops at the first positional argument
 * only when `stop_at_positional` (for sub-commands); otherwise permutes like GNU getopt.
 * On error returns -EINVAL with *cause naming the option. */
int options_parse(struct options *opts, const struct options_def *table, int argc, char **argv,
		  int stop_at_positional, char **cause);
void options_fini(struct options *opts);

const char *options_get(const struct options *opts, const char *name);
int options_count(const struct options *opts, const char *name);
char **options_list(const struct options *opts, const char *name);
/* Parse a value as an integer or a double within [min, max]; the error names the option. */
int options_get_long(const struct options *opts, const char *name, long min, long max, long *out,
		     char **cause);
int options_get_double(const struct options *opts, const char *name, double min, double max,
		       double *out, char **cause);

/* Print "usage: ...", the summary, and one line per option with its help and default. */
void options_usage(FILE *out, const char *usage, const char *summary,
		   const struct options_def *table);

#endif
