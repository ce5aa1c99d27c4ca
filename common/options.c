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

int
options_parse(struct options *opts, const struct options_def *table, int argc, char **argv,
	      int stop_at_positional, char **cause)
{
	struct option *longopts;
	char shortopts[256];
	size_t sp = 0;
	int n = 0, c, longindex, rc = 0;

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
		if (table[i].short_name != 0 && sp + 3 < sizeof shortopts) {
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

	/* Positional arguments are collected in order; getopt's "-" mode returns them as 1. */
	opts->argv = xcalloc((size_t)argc + 1, sizeof *opts->argv);
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, shortopts, longopts, &longindex)) != -1) {
		int idx = -1;

		if (c == 1) {
			opts->argv[opts->argc++] = optarg;
			continue;
		}
		if (c == 'h') {
			opts->help = 1;
			continue;
		}
		if (c == '?') {
			if (optopt != 0)
				rc = error_set(cause, -EINVAL, "unknown option -%c (see --help)",
					       optopt);
			else
				rc = error_set(cause, -EINVAL, "unknown option %s (see --help)",
					       argv[optind - 1]);
			break;
		}
		if (c == ':') {
			rc = error_set(cause, -EINVAL, "option %s needs a value", argv[optind - 1]);
			break;
		}
		if (c >= 1000)
			idx = c - 1000;
		else
			for (int i = 0; i < n; i++)
				if (table[i].short_name == c)
					idx = i;
		if (idx < 0)
			continue;
		opts->counts[idx]++;
		if (table[idx].arg != OPTIONS_FLAG)
			opts->values[idx] = optarg;
		if (table[idx].arg == OPTIONS_LIST) {
			int k = opts->counts[idx];
			opts->lists[idx] =
			    xreallocarray(opts->lists[idx], (size_t)k + 1, sizeof(char *));
			opts->lists[idx][k - 1] = optarg;
			opts->lists[idx][k] = NULL;
		}
	}
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

void
options_usage(FILE *out, const char *usage, const char *summary, const struct options_def *table)
{
	fprintf(out, "usage: %s\n", usage);
	if (summary != NULL)
		fprintf(out, "\n%s\n", summary);
	fprintf(out, "\noptions:\n");
	for (const struct options_def *d = table; d->name != NULL; d++) {
		char left[64];
		int len;

		if (d->short_name != 0)
			len = snprintf(left, sizeof left, "-%c, --%s", d->short_name, d->name);
		else
			len = snprintf(left, sizeof left, "    --%s", d->name);
		if (d->arg != OPTIONS_FLAG && len > 0 && (size_t)len < sizeof left)
			snprintf(left + len, sizeof left - (size_t)len, " %s",
				 d->metavar != NULL ? d->metavar : "VALUE");
		fprintf(out, "  %-30s %s", left, d->help);
		if (d->def != NULL)
			fprintf(out, " (default: %s)", d->def);
		fputc('\n', out);
	}
	fprintf(out, "  %-30s %s\n", "-h, --help", "show this help and exit");
}
