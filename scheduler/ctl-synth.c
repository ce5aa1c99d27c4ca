/* `neurodag synth KIND [options] -o DIR`: synthetic data sets, so pipelines and tests run
 * without downloads. A table of generators, each with its own options and writer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/paths.h"
#include "common/xmalloc.h"
#include "scheduler/ctl.h"
#include "worker/synth-fmri.h"

struct ctl_synth_kind {
	const char *name;
	const char *summary;
	const struct options_def *options;
	/* Write the data set into dir (which exists); 0 or -errno with a cause. */
	int (*write)(const struct options *opts, const char *dir, char **cause);
};

static const struct options_def ctl_synth_fmri_options[] = {
    {"output", 'o', OPTIONS_VALUE, "DIR", "write recording.edf and clean.edf here", "."},
    {"channels", 0, OPTIONS_VALUE, "N", "EEG channels (an EMG and an ECG channel follow)", "8"},
    {"rate", 0, OPTIONS_VALUE, "HZ", "sampling rate", "2048"},
    {"duration", 0, OPTIONS_VALUE, "SECONDS", "recording length", "30"},
    {"slices", 0, OPTIONS_VALUE, "K", "slices per volume", "21"},
    {"volumes", 0, OPTIONS_VALUE, "V", "volumes (0: as many as fit)", "0"},
    {"amplitude", 0, OPTIONS_VALUE, "UV", "peak gradient-artifact amplitude in microvolts", "2000"},
    {"seed", 0, OPTIONS_VALUE, "N", "random seed (same seed, same samples)", "1"},
    {NULL},
};

static int
ctl_synth_fmri(const struct options *opts, const char *dir, char **cause)
{
	struct synth_fmri_params p;
	long ch, slices, volumes, seed;
	char *rec, *clean;
	int rc;

	synth_fmri_params_init(&p);
	if (options_get_long(opts, "channels", 1, 256, &ch, cause) != 0 ||
	    options_get_double(opts, "rate", 100, 100000, &p.rate, cause) != 0 ||
	    options_get_double(opts, "duration", 1, 86400, &p.duration, cause) != 0 ||
	    options_get_long(opts, "slices", 1, 10000, &slices, cause) != 0 ||
	    options_get_long(opts, "volumes", 0, 1000000, &volumes, cause) != 0 ||
	    options_get_double(opts, "amplitude", 0, 1e7, &p.artifact_uv, cause) != 0 ||
	    options_get_long(opts, "seed", 0, 2147483647L, &seed, cause) != 0)
		return -1;
	p.n_eeg = (unsigned)ch;
	p.slices = (unsigned)slices;
	p.volumes = (unsigned)volumes;
	p.seed = (uint64_t)seed;
	rec = xasprintf("%s/recording.edf", dir);
	clean = xasprintf("%s/clean.edf", dir);
	rc = synth_fmri_write(&p, rec, clean, cause);
	if (rc == 0)
		printf("%s\n%s\n", rec, clean);
	free(rec);
	free(clean);
	return rc;
}

static const struct ctl_synth_kind ctl_synth_kinds[] = {
    {"fmri", "an EEG-fMRI recording with gradient artifacts and its ground truth",
     ctl_synth_fmri_options, ctl_synth_fmri},
    {NULL, NULL, NULL, NULL},
};

static void
ctl_synth_usage(FILE *out)
{
	fprintf(out, "usage: neurodag synth KIND [options]\n\nkinds:\n");
	for (const struct ctl_synth_kind *k = ctl_synth_kinds; k->name != NULL; k++)
		fprintf(out, "  %-12s %s\n", k->name, k->summary);
	fprintf(out, "\n`neurodag synth KIND --help` lists its options.\n");
}

int
ctl_cmd_synth(int argc, char **argv)
{
	const struct ctl_synth_kind *k;
	struct options opts;
	char *cause = NULL, *dir;
	int rc;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		ctl_synth_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? CTL_EXIT_USAGE : CTL_EXIT_OK;
	}
	for (k = ctl_synth_kinds; k->name != NULL; k++)
		if (strcmp(k->name, argv[1]) == 0)
			break;
	if (k->name == NULL) {
		fprintf(stderr, "neurodag synth: unknown kind '%s'\n\n", argv[1]);
		ctl_synth_usage(stderr);
		return CTL_EXIT_USAGE;
	}
	if (options_parse(&opts, k->options, argc - 1, argv + 1, 0, &cause) != 0) {
		fprintf(stderr, "neurodag synth %s: %s\n", k->name, cause);
		free(cause);
		return CTL_EXIT_USAGE;
	}
	if (opts.help) {
		char *usage = xasprintf("neurodag synth %s [options]", k->name);
		options_usage(stdout, usage, k->summary, k->options);
		free(usage);
		options_fini(&opts);
		return CTL_EXIT_OK;
	}
	dir = paths_absolute(options_get(&opts, "output"));
	rc = paths_mkdirs(dir, 0755, &cause);
	if (rc == 0)
		rc = k->write(&opts, dir, &cause);
	if (rc != 0)
		fprintf(stderr, "neurodag synth %s: %s\n", k->name,
			cause != NULL ? cause : "failed");
	free(cause);
	free(dir);
	options_fini(&opts);
	return rc == 0 ? CTL_EXIT_OK : CTL_EXIT_USAGE;
}
