/* `neurodag synth GENERATOR [options] -o OUTPUT`: synthetic data sets for tests, benchmarks and
 * tutorials, so nothing needs downloading. A table of generators, each with its own options: an
 * EEG-fMRI recording with its ground truth (fmri), and trial generators (white noise, harmonic,
 * phase diffusion, AR(2) network) that write seeded AnalogData .spy containers holding the same
 * trials a pipeline's {"format": "synth"} input generates. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/paths.h"
#include "common/xmalloc.h"
#include "scheduler/ctl/ctl.h"
#include "worker/synth/synth-scan.h"
#include "worker/synth/synth-trials.h"

struct ctl_synth_gen {
	const char *name;
	const char *summary;
	const struct options_def *options;
	int (*fn)(const struct ctl_synth_gen *gen, const struct options *opts, const char *output,
		  char **cause);
};

static const struct options_def ctl_synth_trials_options[] = {
    {"output", 'o', OPTIONS_VALUE, "PATH", "the .spy container to write (required)", NULL},
    {"trials", 0, OPTIONS_VALUE, "N", "number of trials", "100"},
    {"samples", 0, OPTIONS_VALUE, "N", "samples per trial", "1000"},
    {"channels", 0, OPTIONS_VALUE, "N", "channels (ar2_network default: 2)", "2"},
    {"samplerate", 0, OPTIONS_VALUE, "HZ", "sampling rate", "1000"},
    {"seed", 0, OPTIONS_VALUE, "N", "random seed (trial k uses stream k)", "42"},
    {"sigma", 0, OPTIONS_VALUE, "X", "noise standard deviation (white_noise: 1, harmonic: 0)",
     NULL},
    {"freq", 0, OPTIONS_VALUE, "HZ", "harmonic / phase diffusion frequency (50 / 10)", NULL},
    {"amplitude", 0, OPTIONS_VALUE, "X", "harmonic amplitude", "1"},
    {"eps", 0, OPTIONS_VALUE, "X", "phase diffusion: relative diffusion coefficient", "0.1"},
    {"rand-ini", 0, OPTIONS_FLAG, NULL, "phase diffusion: random initial phases", NULL},
    {"alpha1", 0, OPTIONS_VALUE, "X", "AR(2) coefficient of x[n-1]", "0.55"},
    {"alpha2", 0, OPTIONS_VALUE, "X", "AR(2) coefficient of x[n-2]", "-0.8"},
    {"adjacency", 0, OPTIONS_VALUE, "MATRIX",
     "AR(2) coupling, rows ';' entries ',': entry (i, j) couples channel i to channel j "
     "(\"0,0.3,0;0,0,0.25;0,0,0\": 1 -> 2 -> 3); sets --channels",
     NULL},
    {"dtype", 0, OPTIONS_VALUE, "TYPE", "float32 or float64", "float32"},
    {NULL},
};

/* --adjacency (ar2_network only): the coupling matrix, whose size is the channel count. */
static int
ctl_synth_adjacency(const struct options *opts, enum synth_trials_kind kind, long *nc,
		    double **adj, char **cause)
{
	const char *text = options_get(opts, "adjacency");
	size_t n;
	int rc;

	*adj = NULL;
	if (text == NULL)
		return 0;
	if (kind != SYNTH_TRIALS_AR2_NETWORK)
		return error_set(cause, -EINVAL, "--adjacency: only for ar2_network");
	if ((rc = synth_trials_adjacency_parse(text, adj, &n, cause)) != 0)
		return error_wrap(cause, rc, "--");
	if (options_count(opts, "channels") > 0 && (size_t)*nc != n) {
		free(*adj);
		*adj = NULL;
		return error_set(cause, -EINVAL, "--channels %ld, but --adjacency is %zu × %zu", *nc,
				 n, n);
	}
	*nc = (long)n;
	return 0;
}

static int
ctl_synth_trials(const struct ctl_synth_gen *def, const struct options *opts, const char *output,
		 char **cause)
{
	struct synth_trials_shape shape = {0};
	struct synth_trials_gen g;
	struct synth_trials *t = NULL;
	enum synth_trials_kind kind;
	const char *dtype = options_get(opts, "dtype");
	long nt, ns, nc, seed;
	double *adj = NULL;
	char *log;
	int rc;

	if ((rc = synth_trials_kind_parse(def->name, &kind, cause)) != 0)
		return rc;
	synth_trials_gen_init(&g, kind);
	if (options_get_long(opts, "trials", 1, 10000000, &nt, cause) != 0 ||
	    options_get_long(opts, "samples", 1, 100000000, &ns, cause) != 0 ||
	    options_get_long(opts, "channels", 1, 100000, &nc, cause) != 0 ||
	    options_get_long(opts, "seed", 0, __LONG_MAX__, &seed, cause) != 0 ||
	    options_get_double(opts, "samplerate", 1e-6, 1e9, &shape.samplerate, cause) != 0 ||
	    options_get_double(opts, "amplitude", -1e30, 1e30, &g.amplitude, cause) != 0 ||
	    options_get_double(opts, "eps", 0, 1e9, &g.eps, cause) != 0 ||
	    options_get_double(opts, "alpha1", -1e3, 1e3, &g.alpha1, cause) != 0 ||
	    options_get_double(opts, "alpha2", -1e3, 1e3, &g.alpha2, cause) != 0)
		return -EINVAL;
	if (options_get(opts, "sigma") != NULL &&
	    options_get_double(opts, "sigma", 0, 1e30, &g.sigma, cause) != 0)
		return -EINVAL;
	if (options_get(opts, "freq") != NULL &&
	    options_get_double(opts, "freq", 0, 1e9, &g.freq, cause) != 0)
		return -EINVAL;
	if (strcmp(dtype, "float32") != 0 && strcmp(dtype, "float64") != 0)
		return error_set(cause, -EINVAL, "--dtype: float32 or float64, not %s", dtype);
	if ((rc = ctl_synth_adjacency(opts, kind, &nc, &adj, cause)) != 0)
		return rc;
	g.adj = adj;
	g.rand_ini = options_count(opts, "rand-ini") > 0;
	shape.ntrials = (size_t)nt;
	shape.nsamples = (size_t)ns;
	shape.nchan = (size_t)nc;
	shape.seed = (uint64_t)seed;
	rc = synth_trials_generate(&t, &g, &shape, cause);
	free(adj);
	if (rc != 0)
		return rc;
	log = xasprintf("neurodag synth %s: %ld trials x %ld samples x %ld channels at %g Hz, "
			"seed %ld",
			def->name, nt, ns, nc, shape.samplerate, seed);
	rc = synth_trials_write_spy(
	    t, output, strcmp(dtype, "float64") == 0 ? IO_SPY_FLOAT64 : IO_SPY_FLOAT32, log, cause);
	free(log);
	synth_trials_free(t);
	return rc;
}

static const struct options_def ctl_synth_fmri_options[] = {
    {"output", 'o', OPTIONS_VALUE, "DIR", "write recording.edf and clean.edf here", "."},
    {"channels", 0, OPTIONS_VALUE, "N",
     "EEG channels (an EMG and an ECG channel follow; 0: the ECG channel alone)", "8"},
    {"no-aux", 0, OPTIONS_FLAG, NULL, "no EMG and ECG channels", NULL},
    {"rate", 0, OPTIONS_VALUE, "HZ", "sampling rate", "2048"},
    {"duration", 0, OPTIONS_VALUE, "SECONDS", "recording length", "30"},
    {"lead-in", 0, OPTIONS_VALUE, "SECONDS", "artifact-free EEG before the scan", "4"},
    {"lead-out", 0, OPTIONS_VALUE, "SECONDS", "artifact-free EEG after the scan", "2"},
    {"slices", 0, OPTIONS_VALUE, "K", "slices per volume", "21"},
    {"volumes", 0, OPTIONS_VALUE, "V", "volumes (0: as many as fit)", "0"},
    {"tr", 0, OPTIONS_VALUE, "SECONDS",
     "volume repetition time: slices x slice interval + volume gap (default: a 292.5/2048 s "
     "slice interval)",
     NULL},
    {"volume-gap", 0, OPTIONS_VALUE, "SECONDS", "pause between the last slice and the next volume",
     "0.0048828125"},
    {"spacing-jitter", 0, OPTIONS_VALUE, "SAMPLES",
     "uneven slice spacing: each slice (and its trigger) moves up to +-this many samples", "0"},
    {"jitter", 0, OPTIONS_VALUE, "SAMPLES",
     "sub-sample jitter of the artifact onset against its trigger (standard deviation)", "0.2"},
    {"epi-active", 0, OPTIONS_VALUE, "SHARE", "share of the slice interval the gradients occupy",
     "0.85"},
    {"epi-hz", 0, OPTIONS_VALUE, "HZ", "EPI readout train frequency", "180"},
    {"epi-sharpness", 0, OPTIONS_VALUE, "X",
     "readout shape tanh(X sin): 6 trapezoid-like, < 1 sinusoidal, > 20 square", "6"},
    {"amplitude", 0, OPTIONS_VALUE, "UV", "peak gradient-artifact amplitude in microvolts", "2000"},
    {"drift", 0, OPTIONS_VALUE, "X", "relative amplitude of the slow artifact drift", "0.1"},
    {"slice-amp-sd", 0, OPTIONS_VALUE, "X", "random amplitude of each slice (standard deviation)",
     "0.01"},
    {"model", 0, OPTIONS_VALUE, "gradient|induced",
     "the electrodes pick up the gradients, or the voltage they induce (their derivative, "
     "mostly above 100 Hz as in recordings)",
     "gradient"},
    {"motion", 0, OPTIONS_VALUE, "N",
     "head movements (artifact shape changes); writes rp_recording.txt (SPM realignment "
     "parameters)",
     "0"},
    {"motion-size", 0, OPTIONS_VALUE, "X", "relative change of the artifact at each movement",
     "0.15"},
    {"eeg-scale", 0, OPTIONS_VALUE, "X", "amplitude factor of the generated background EEG", "1"},
    {"background", 0, OPTIONS_VALUE, "EDF",
     "take the background EEG from this recording's first --channels channels (resampled; "
     "no voltage unit: uV)",
     NULL},
    {"pulse", 0, OPTIONS_FLAG, NULL,
     "add a pulse artifact locked to the heart beats and an in-scanner ECG lead", NULL},
    {"heart-rate", 0, OPTIONS_VALUE, "BPM", "mean heart rate with --pulse", "66"},
    {"pulse-amplitude", 0, OPTIONS_VALUE, "UV", "peak pulse-artifact amplitude with --pulse",
     "100"},
    {"drop-triggers", 0, OPTIONS_VALUE, "PERCENT",
     "leave this share of the trigger marks out (runs of 3 and single ones)", "0"},
    {"volume-triggers", 0, OPTIONS_FLAG, NULL, "mark only the first slice of each volume", NULL},
    {"seed", 0, OPTIONS_VALUE, "N", "random seed (same seed, same samples)", "1"},
    {NULL},
};

/* The cardiac model, the trigger marks and the ECG-only montage (synth-scan.h); 1 when any of
 * them is asked for, 0 when the recording is the gradient generator's alone, -EINVAL. */
static int
ctl_synth_fmri_scan(const struct options *opts, struct synth_scan_params *sp, char **cause)
{
	long ch;

	if (options_get_long(opts, "channels", 0, 256, &ch, cause) != 0 ||
	    options_get_double(opts, "heart-rate", 30, 180, &sp->pulse_p.heart_rate, cause) != 0 ||
	    options_get_double(opts, "pulse-amplitude", 0, 1e5, &sp->pulse_p.bcg_uv, cause) != 0 ||
	    options_get_double(opts, "drop-triggers", 0, 20, &sp->marks.drop_percent, cause) != 0)
		return -EINVAL;
	sp->pulse = options_count(opts, "pulse") > 0;
	sp->marks.volumes_only = options_count(opts, "volume-triggers") > 0;
	sp->ecg_only = ch == 0;
	if ((sp->pulse || sp->ecg_only) && !sp->fmri.emg_ecg)
		return error_set(cause, -EINVAL,
				 "--pulse and --channels 0 need the ECG channel "
				 "(not --no-aux)");
	return sp->pulse || sp->ecg_only || sp->marks.volumes_only || sp->marks.drop_percent > 0;
}

/* The generator's parameters from the options. */
static int
ctl_synth_fmri_params(const struct options *opts, struct synth_fmri_params *p, char **cause)
{
	long ch, slices, volumes, seed, motion;
	double tr = 0;

	synth_fmri_params_init(p);
	if (options_get_long(opts, "channels", 0, 256, &ch, cause) != 0 ||
	    options_get_double(opts, "rate", 100, 100000, &p->rate, cause) != 0 ||
	    options_get_double(opts, "duration", 1, 86400, &p->duration, cause) != 0 ||
	    options_get_double(opts, "lead-in", 0, 86400, &p->lead_in, cause) != 0 ||
	    options_get_double(opts, "lead-out", 0, 86400, &p->lead_out, cause) != 0 ||
	    options_get_long(opts, "slices", 1, 10000, &slices, cause) != 0 ||
	    options_get_long(opts, "volumes", 0, 1000000, &volumes, cause) != 0 ||
	    options_get_double(opts, "volume-gap", 0, 3600, &p->volume_gap, cause) != 0 ||
	    options_get_double(opts, "spacing-jitter", 0, 1e6, &p->spacing_jitter, cause) != 0 ||
	    options_get_double(opts, "jitter", 0, 1e6, &p->jitter, cause) != 0 ||
	    options_get_double(opts, "epi-active", 0, 1, &p->epi_active, cause) != 0 ||
	    options_get_double(opts, "epi-hz", 0, 1e6, &p->epi_hz, cause) != 0 ||
	    options_get_double(opts, "epi-sharpness", 0, 1e6, &p->epi_sharpness, cause) != 0 ||
	    options_get_double(opts, "amplitude", 0, 1e7, &p->artifact_uv, cause) != 0 ||
	    options_get_double(opts, "drift", 0, 1, &p->drift, cause) != 0 ||
	    options_get_double(opts, "slice-amp-sd", 0, 1, &p->slice_amp_sd, cause) != 0 ||
	    options_get_long(opts, "motion", 0, 1000, &motion, cause) != 0 ||
	    options_get_double(opts, "motion-size", 0, 2, &p->motion_size, cause) != 0 ||
	    options_get_double(opts, "eeg-scale", 0, 1e4, &p->eeg_scale, cause) != 0 ||
	    options_get_long(opts, "seed", 0, 2147483647L, &seed, cause) != 0)
		return -EINVAL;
	if (options_get(opts, "tr") != NULL) {
		if (options_get_double(opts, "tr", 1e-3, 3600, &tr, cause) != 0)
			return -EINVAL;
		if (!(tr > p->volume_gap))
			return error_set(cause, -EINVAL, "--tr %g s leaves no time after the volume "
							 "gap of %g s",
					 tr, p->volume_gap);
		p->slice_interval = (tr - p->volume_gap) / (double)slices;
	}
	if (strcmp(options_get(opts, "model"), "induced") == 0)
		p->model = SYNTH_FMRI_INDUCED;
	else if (strcmp(options_get(opts, "model"), "gradient") != 0)
		return error_set(cause, -EINVAL, "--model: gradient or induced, not %s",
				 options_get(opts, "model"));
	p->n_eeg = ch > 0 ? (unsigned)ch : 1; /* 0: the ECG alone (ctl_synth_fmri_scan) */
	p->emg_ecg = options_count(opts, "no-aux") == 0;
	p->slices = (unsigned)slices;
	p->volumes = (unsigned)volumes;
	p->motion = (unsigned)motion;
	p->seed = (uint64_t)seed;
	p->background = options_get(opts, "background");
	return 0;
}

static int
ctl_synth_fmri(const struct ctl_synth_gen *def, const struct options *opts, const char *dir,
	       char **cause)
{
	struct synth_scan_params sp;
	struct synth_fmri_params *p = &sp.fmri;
	char *rec, *clean, *rp = NULL, *truth = NULL;
	int rc, scan;

	(void)def;
	synth_scan_params_init(&sp);
	if ((rc = ctl_synth_fmri_params(opts, p, cause)) != 0 ||
	    (scan = ctl_synth_fmri_scan(opts, &sp, cause)) < 0)
		return rc != 0 ? rc : -EINVAL;
	if ((rc = paths_mkdirs(dir, 0755, cause)) != 0)
		return rc;
	rec = xasprintf("%s/recording.edf", dir);
	clean = xasprintf("%s/clean.edf", dir);
	if (p->motion > 0)
		rp = xasprintf("%s/rp_recording.txt", dir);
	if (scan) {
		truth = xasprintf("%s/truth.json", dir);
		rc = synth_scan_write(&sp, rec, clean, truth, cause);
		if (rc == 0 && rp != NULL)
			rc = synth_fmri_write_all(p, NULL, NULL, rp, cause);
	} else {
		rc = synth_fmri_write_all(p, rec, clean, rp, cause);
	}
	if (rc == 0)
		printf("recording: %s\nground truth: %s\n", rec, clean);
	if (rc == 0 && rp != NULL)
		printf("realignment parameters: %s\n", rp);
	if (rc == 0 && truth != NULL)
		printf("triggers and R peaks: %s\n", truth);
	free(rec);
	free(clean);
	free(rp);
	free(truth);
	return rc;
}

static const struct ctl_synth_gen ctl_synth_table[] = {
    {"fmri", "an EEG-fMRI recording with gradient (and pulse) artifacts, and its ground truth",
     ctl_synth_fmri_options, ctl_synth_fmri},
    {"white_noise", "Gaussian white noise trials (--sigma)", ctl_synth_trials_options,
     ctl_synth_trials},
    {"harmonic", "amplitude·cos(2π·freq·t) on every channel, plus optional noise",
     ctl_synth_trials_options, ctl_synth_trials},
    {"phase_diffusion", "a cosine whose phase drifts by a random walk (--freq, --eps)",
     ctl_synth_trials_options, ctl_synth_trials},
    {"ar2_network", "coupled AR(2) processes (2 channels, 1 → 0 coupling 0.25)",
     ctl_synth_trials_options, ctl_synth_trials},
    {NULL, NULL, NULL, NULL},
};

static void
ctl_synth_usage(FILE *out)
{
	fprintf(out, "usage: neurodag synth GENERATOR [options] -o OUTPUT\n\ngenerators:\n");
	for (const struct ctl_synth_gen *g = ctl_synth_table; g->name != NULL; g++)
		fprintf(out, "  %-16s %s\n", g->name, g->summary);
	fprintf(out, "\n`neurodag synth GENERATOR --help` lists its options.\n");
}

int
ctl_cmd_synth(int argc, char **argv)
{
	const struct ctl_synth_gen *g;
	struct options opts;
	char *cause = NULL, *usage;
	int rc;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		ctl_synth_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? CTL_EXIT_USAGE : CTL_EXIT_OK;
	}
	for (g = ctl_synth_table; g->name != NULL && strcmp(g->name, argv[1]) != 0; g++)
		;
	if (g->name == NULL) {
		fprintf(stderr, "neurodag synth: unknown generator '%s'\n\n", argv[1]);
		ctl_synth_usage(stderr);
		return CTL_EXIT_USAGE;
	}
	if (options_parse(&opts, g->options, argc - 1, argv + 1, 0, &cause) != 0) {
		fprintf(stderr, "neurodag synth %s: %s\n", g->name, cause);
		free(cause);
		return CTL_EXIT_USAGE;
	}
	if (opts.help) {
		usage = xasprintf("neurodag synth %s [options] -o OUTPUT", g->name);
		options_usage(stdout, usage, g->summary, g->options);
		free(usage);
		options_fini(&opts);
		return CTL_EXIT_OK;
	}
	if (options_get(&opts, "output") == NULL || opts.argc > 0) {
		fprintf(stderr, "neurodag synth %s: %s\n", g->name,
			opts.argc > 0 ? "unexpected arguments (see --help)"
				      : "where to? (-o OUTPUT)");
		options_fini(&opts);
		return CTL_EXIT_USAGE;
	}
	rc = g->fn(g, &opts, options_get(&opts, "output"), &cause);
	if (rc != 0)
		fprintf(stderr, "neurodag synth %s: %s\n", g->name, cause);
	else if (strcmp(g->name, "fmri") != 0)
		printf("output: %s\n", options_get(&opts, "output"));
	free(cause);
	options_fini(&opts);
	return rc == 0 ? CTL_EXIT_OK : rc == -EINVAL ? CTL_EXIT_USAGE : CTL_EXIT_FAILED;
}
