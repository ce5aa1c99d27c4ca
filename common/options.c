/* Command-line parsing from option tables: getopt_long arrays, typed getters with range checks,
 * and the --help text, all derived from one table. */
#include "common/options.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/log.h"
#include "common/xmalloc.h"

static int
options_index(const struct options *opts, const char *name)
{
	for (int i = 0; i < opts->ntable; i++)
		if (strcmp(opts->table[i].name, name) == 0)
			return i;
	fatal("options: no option named --%s in the table", name);
}

/* Set up opts for `table` (defaults in place) and the getopt_long tables: the long options
 * (freed by the caller) and the short ones in shortopts. */
static struct option *
options_getopt_tables(struct options *opts, const struct options_def *table, int stop_at_positional,
		      char shortopts[256])
{
	struct option *longopts;
	size_t sp = 0;
	int n = 0;

	while (table[n].name != NULL)
		n++;
	memset(opts, 0, sizeof *opts);
	opts->table = table;
	opts->ntable = n;
	opts->values = xcalloc((size_t)n, sizeof *opts->values);
	opts->counts = xcalloc((size_t)n, sizeof *opts->counts);
	opts->lists = xcalloc((size_t)n, sizeof *opts->lists);
	longopts = xcalloc((size_t)n + 2, sizeof *longopts);

	shortopts[sp++] = stop_at_positional ? '+' : '-';
	shortopts[sp++] = ':';
	for (int i = 0; i < n; i++) {
		opts->values[i] = table[i].def;
		longopts[i].name = table[i].name;
		longopts[i].has_arg =
		    table[i].arg == OPTIONS_FLAG ? no_argument : required_argument;
		longopts[i].val = 1000 + i;
		if (table[i].short_name != 0 && sp + 3 < 256) {
			shortopts[sp++] = (char)table[i].short_name;
			if (table[i].arg != OPTIONS_FLAG)
				shortopts[sp++] = ':';
		}
	}
	longopts[n].name = "help";
	longopts[n].has_arg = no_argument;
	longopts[n].val = 'h';
	shortopts[sp++] = 'h';
	shortopts[sp] = '\0';
	return longopts;
}

/* Record what getopt_long returned (c, with optarg): 0, or -EINVAL for an unknown option or a
 * missing value. */
static int
options_take(struct options *opts, int c, char **argv, char **cause)
{
	int idx = -1;

	if (c == 1) {
		opts->argv[opts->argc++] = optarg;
		return 0;
	}
	if (c == 'h') {
		opts->help = 1;
		return 0;
	}
	if (c == '?') {
		if (optopt != 0)
			return error_set(cause, -EINVAL, "unknown option -%c (see --help)", optopt);
		return error_set(cause, -EINVAL, "unknown option %s (see --help)",
				 argv[optind - 1]);
	}
	if (c == ':')
		return error_set(cause, -EINVAL, "option %s needs a value", argv[optind - 1]);
	if (c >= 1000)
		idx = c - 1000;
	else
		for (int i = 0; i < opts->ntable; i++)
			if (opts->table[i].short_name == c)
				idx = i;
	if (idx < 0)
		return 0;
	opts->counts[idx]++;
	if (opts->table[idx].arg != OPTIONS_FLAG)
		opts->values[idx] = optarg;
	if (opts->table[idx].arg == OPTIONS_LIST) {
		int k = opts->counts[idx];
		opts->lists[idx] = xreallocarray(opts->lists[idx], (size_t)k + 1, sizeof(char *));
		opts->lists[idx][k - 1] = optarg;
		opts->lists[idx][k] = NULL;
	}
	return 0;
}

int
options_parse(struct options *opts, const struct options_def *table, int argc, char **argv,
	      int stop_at_positional, char **cause)
{
	char shortopts[256];
	struct option *longopts = options_getopt_tables(opts, table, stop_at_positional, shortopts);
	int c, longindex, rc = 0;

	/* Positional arguments are collected in order; getopt's "-" mode returns them as 1. */
	opts->argv = xcalloc((size_t)argc + 1, sizeof *opts->argv);
	optind = 1;
	opterr = 0;
	while (rc == 0 && (c = getopt_long(argc, argv, shortopts, longopts, &longindex)) != -1)
		rc = options_take(opts, c, argv, cause);
	while (rc == 0 && optind < argc)
		opts->argv[opts->argc++] = argv[optind++];
	free(longopts);
	if (rc != 0)
		options_fini(opts);
	return rc;
}

void
options_fini(struct options *opts)
{
	if (opts->lists != NULL)
		for (int i = 0; i < opts->ntable; i++)
			free(opts->lists[i]);
	free(opts->lists);
	free(opts->values);
	free(opts->counts);
	free(opts->argv);
	memset(opts, 0, sizeof *opts);
}

const char *
options_get(const struct options *opts, const char *name)
{
	return opts->values[options_index(opts, name)];
}

int
options_count(const struct options *opts, const char *name)
{
	return opts->counts[options_index(opts, name)];
}

char **
options_list(const struct options *opts, const char *name)
{
	static char *empty[] = {NULL};
	char **l = opts->lists[options_index(opts, name)];
	return l != NULL ? l : empty;
}

int
options_get_long(const struct options *opts, const char *name, long min, long max, long *out,
		 char **cause)
{
	const char *v = options_get(opts, name);
	char *end;
	long x;

	if (v == NULL)
		return error_set(cause, -EINVAL, "option --%s is required", name);
	errno = 0;
	x = strtol(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0')
		return error_set(cause, -EINVAL, "option --%s: '%s' is not an integer", name, v);
	if (x < min || x > max)
		return error_set(cause, -ERANGE, "option --%s: %ld is out of range [%ld, %ld]",
				 name, x, min, max);
	*out = x;
	return 0;
}

int
options_get_double(const struct options *opts, const char *name, double min, double max,
		   double *out, char **cause)
{
	const char *v = options_get(opts, name);
	char *end;
	double x;

	if (v == NULL)
		return error_set(cause, -EINVAL, "option --%s is required", name);
	errno = 0;
	x = strtod(v, &end);
	if (errno != 0 || end == v || *end != '\0' || !isfinite(x))
		return error_set(cause, -EINVAL, "option --%s: '%s' is not a number", name, v);
	if (x < min || x > max)
		return error_set(cause, -ERANGE, "option --%s: %g is out of range [%g, %g]", name,
				 x, min, max);
	*out = x;
	return 0;
}

/* The left column of an option's help line: "-s, --name METAVAR". */
static int
options_left(const struct options_def *d, char *left, size_t size)
{
	int len;

	if (d->short_name != 0)
		len = snprintf(left, size, "-%c, --%s", d->short_name, d->name);
	else
		len = snprintf(left, size, "    --%s", d->name);
	if (d->arg != OPTIONS_FLAG && len > 0 && (size_t)len < size)
		len += snprintf(left + len, size - (size_t)len, " %s",
				d->metavar != NULL ? d->metavar : "VALUE");
	return len;
}

void
options_usage(FILE *out, const char *usage, const char *summary, const struct options_def *table)
{
	/* The help texts start in one column, after the longest option (up to 40 characters; a
	 * longer one has its text on the next line). */
	enum { OPTIONS_COLUMN_MAX = 40 };
	int width = (int)strlen("-h, --help");
	char left[64];

	for (const struct options_def *d = table; d->name != NULL; d++) {
		int len = options_left(d, left, sizeof left);
		if (len > width && len <= OPTIONS_COLUMN_MAX)
			width = len;
	}
	fprintf(out, "usage: %s\n", usage);
	if (summary != NULL)
		fprintf(out, "\n%s\n", summary);
	fprintf(out, "\noptions:\n");
	for (const struct options_def *d = table; d->name != NULL; d++) {
		if (options_left(d, left, sizeof left) > width)
			fprintf(out, "  %s\n  %-*s  %s", left, width, "", d->help);
		else
			fprintf(out, "  %-*s  %s", width, left, d->help);
		if (d->def != NULL)
			fprintf(out, " (default: %s)", d->def);
		fputc('\n', out);
	}
	fprintf(out, "  %-*s  %s\n", width, "-h, --help", "show this help and exit");
}
