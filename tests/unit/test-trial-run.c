/* The trial runner on small data, in process: task slices of the grid, a pipeline built by the
 * graph builder and run task by task (like `neurodag run --serial`), its .spy output against the
 * kernels run directly on the whole set, trial averages, resampled AnalogData, and the submit
 * checks of trial steps. */
#include <criterion/criterion.h>
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/paths.h"
#include "scheduler/graph/graph.h"
#include "worker/dsp/spectral/dsp-mtmfft.h"
#include "worker/io/io-spy-read.h"
#include "worker/ops/trial/op-trial.h"
#include "worker/synth/synth-trials.h"
#include "worker/ops/task-run.h"

static const struct synth_trials_gen test_white = {.kind = SYNTH_TRIALS_WHITE_NOISE, .sigma = 1};

static char tmpdir[64];

static void
setup(void)
{
	strcpy(tmpdir, "/tmp/nd-trial-run-XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir));
}

static void
teardown(void)
{
	paths_remove_tree(tmpdir);
}

/* Build the pipeline and run every task in stage order; returns the first failure's rc. */
static int
run_pipeline(const char *text, char **cause)
{
	struct graph *g = NULL;
	char *workdir = NULL;
	json_t *results = json_object();
	int rc;

	workdir = malloc(strlen(tmpdir) + 8);
	sprintf(workdir, "%s/work", tmpdir);
	rc = graph_build(text, NULL, NULL, workdir, &g, cause);
	for (uint32_t t = 0; rc == 0 && t < g->ntasks; t++) {
		char *spec = graph_task_spec(g, 1, t), *result = NULL;
		char *deps = json_object_size(results) ? json_dumps(results, JSON_COMPACT) : NULL;
		rc = task_run(spec, deps, 1, NULL, &result, cause);
		free(result);
		free(spec);
		free(deps);
	}
	graph_free(g);
	json_decref(results);
	free(workdir);
	return rc;
}

/* `data` of a SpectralData container as floats; *n gets the element count. */
static float *
read_spectral(const char *h5path, size_t *n)
{
	hid_t f = H5Fopen(h5path, H5F_ACC_RDONLY, H5P_DEFAULT), d, s;
	hsize_t dims[4];
	float *v;

	cr_assert_geq(f, 0, "cannot open %s", h5path);
	d = H5Dopen2(f, "data", H5P_DEFAULT);
	s = H5Dget_space(d);
	cr_assert_eq(H5Sget_simple_extent_ndims(s), 4);
	H5Sget_simple_extent_dims(s, dims, NULL);
	*n = (size_t)(dims[0] * dims[1] * dims[2] * dims[3]);
	v = malloc(*n * sizeof *v);
	cr_assert_geq(H5Dread(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v), 0);
	H5Sclose(s);
	H5Dclose(d);
	H5Fclose(f);
	return v;
}

Test(trial_run, slices_cover_the_grid)
{
	const struct task_grid g = {.channels = 10, .trials = 7, .chan_per_task = 4,
				    .trials_per_task = 3, .shape_c = 3, .shape_t = 3};
	const struct task_grid *grid = &g;
	size_t t0, nt, c0, nc;

	cr_assert_eq(trial_run_slice(grid, 5, &t0, &nt, &c0, &nc, NULL), 0);
	cr_assert(t0 == 6 && nt == 1 && c0 == 4 && nc == 4, "task 5: trials %zu+%zu chans %zu+%zu",
		  t0, nt, c0, nc);
	cr_assert_eq(trial_run_slice(grid, 7, &t0, &nt, &c0, &nc, NULL), 0);
	cr_assert(t0 == 3 && nt == 3 && c0 == 8 && nc == 2, "task 7: trials %zu+%zu chans %zu+%zu",
		  t0, nt, c0, nc);
	cr_assert_neq(trial_run_slice(grid, 9, &t0, &nt, &c0, &nc, NULL), 0, "past the grid");
}

static const struct synth_trials_shape wn_shape = {9, 64, 5, 128, 3};

static void
check_spectra(const char *steps, bool keeptrials)
{
	struct synth_trials *wn;
	struct dsp_mtmfft_params p;
	struct dsp_mtmfft *m;
	char *text, *cause = NULL, h5[128];
	float *got, *want;
	size_t n, stride;

	text = malloc(1024);
	snprintf(text, 1024,
		 "{\"input\": {\"format\": \"synth\", \"synth\": \"white_noise\", \"trials\": 9, "
		 "\"samples\": 64, \"channels\": 5, \"samplerate\": 128, \"seed\": 3}, "
		 "\"steps\": [%s], \"output\": {\"path\": \"%s/out.spy\"}, "
		 "\"execution\": {\"chan_per_task\": 2, \"trials_per_task\": 4}}",
		 steps, tmpdir);
	cr_assert_eq(run_pipeline(text, &cause), 0, "%s", cause);
	snprintf(h5, sizeof h5, "%s/out.spy/out.spectral", tmpdir);
	got = read_spectral(h5, &n);

	cr_assert_eq(synth_trials_generate(&wn, &test_white, &wn_shape, NULL), 0);
	dsp_mtmfft_params_init(&p, 128);
	p.use_foilim = true;
	p.foilim[0] = 2;
	p.foilim[1] = 40;
	cr_assert_eq(dsp_mtmfft_new(&p, 64, &m, NULL), 0);
	stride = dsp_mtmfft_nfreq(m) * 5;
	cr_assert_eq(n, (keeptrials ? 9 : 1) * stride, "output size %zu", n);
	want = calloc(9 * stride, sizeof *want);
	for (size_t t = 0; t < 9; t++) {
		struct dsp_trial x = {wn->data + t * 64 * 5, DSP_TRIAL_F64, 64, 5, 0};
		cr_assert_eq(dsp_mtmfft_trial(m, &x, want + t * stride, NULL), 0);
	}
	if (!keeptrials)
		for (size_t i = 0; i < stride; i++) {
			double s = 0;
			for (size_t t = 0; t < 9; t++)
				s += want[t * stride + i];
			want[i] = (float)(s / 9);
		}
	/* Same kernel on the same samples: equal up to float32 rounding of the trial sums. */
	for (size_t i = 0; i < n; i++)
		cr_assert(fabsf(got[i] - want[i]) <= 1e-6f * fabsf(want[i]),
			  "element %zu: %g vs %g", i, got[i], want[i]);
	dsp_mtmfft_free(m);
	synth_trials_free(wn);
	free(want);
	free(got);
	free(text);
}

Test(trial_run, spectra_of_chunked_tasks_equal_the_kernel_on_the_whole_set, .init = setup,
     .fini = teardown)
{
	check_spectra("{\"op\": \"freqanalysis\", \"foilim\": [2, 40]}", true);
}

Test(trial_run, trial_average_from_partial_sums, .init = setup, .fini = teardown)
{
	check_spectra("{\"op\": \"freqanalysis\", \"foilim\": [2, 40], \"keeptrials\": false}",
		      false);
}

Test(trial_run, resampledata_writes_analog_data_with_a_scaled_trial_definition, .init = setup,
     .fini = teardown)
{
	char text[1024], *cause = NULL, path[128];
	struct io_spy_read *r;
	const struct io_spy_read_info *info;

	snprintf(text, sizeof text,
		 "{\"input\": {\"format\": \"synth\", \"synth\": \"harmonic\", \"trials\": 5, "
		 "\"samples\": 100, \"channels\": 3, \"samplerate\": 200, \"freq\": 10}, "
		 "\"steps\": [{\"op\": \"resampledata\", \"method\": \"downsample\", "
		 "\"resamplefs\": 100}, {\"op\": \"write_spy\"}], "
		 "\"output\": {\"format\": \"spy\", \"path\": \"%s/ds.spy\"}, "
		 "\"execution\": {\"trials_per_task\": 2}}",
		 tmpdir);
	cr_assert_eq(run_pipeline(text, &cause), 0, "%s", cause);
	snprintf(path, sizeof path, "%s/ds.spy", tmpdir);
	cr_assert_eq(io_spy_read_open(&r, path, 0, &cause), 0, "%s", cause);
	info = io_spy_read_info(r);
	cr_assert_eq(info->samplerate, 100);
	cr_assert(info->nsamples == 250 && info->nchan == 3 && info->ntrials == 5,
		  "%llu samples, %llu channels, %zu trials", (unsigned long long)info->nsamples,
		  (unsigned long long)info->nchan, info->ntrials);
	cr_assert(info->trl[3 * 3] == 150 && info->trl[3 * 3 + 1] == 200, "trial 3 at [150, 200)");
	io_spy_read_close(r);
}

Test(trial_run, submit_checks_name_the_parameter)
{
	struct trial_layout lay = {0};
	size_t len[2] = {100, 100};
	double off[2] = {0, 0};
	char *ch[1] = {"a"}, *cause = NULL;
	json_t *steps;

	lay.fs = 200;
	lay.ntrials = 2;
	lay.nchan = 1;
	lay.len = len;
	lay.offset = off;
	lay.channel = ch;
	steps = json_loads("[{\"op\": \"freqanalysis\", \"foilim\": [1, 150]}]", 0, NULL);
	cr_assert_neq(op_trial_plan(steps, &lay, NULL, &cause), 0);
	cr_assert(strstr(cause, "steps[0].foilim") != NULL, "%s", cause);
	json_decref(steps);
	free(cause);
	cause = NULL;
	steps = json_loads("[{\"op\": \"freqanalysis\"}, {\"op\": \"preprocessing\", "
			   "\"rectify\": true}]",
			   0, NULL);
	cr_assert_neq(op_trial_plan(steps, &lay, NULL, &cause), 0);
	cr_assert(strstr(cause, "steps[1]: preprocessing works on time series") != NULL, "%s",
		  cause);
	json_decref(steps);
	free(cause);
	cause = NULL;
	steps = json_loads("[{\"op\": \"preprocessing\", \"filter_class\": \"but\", "
			   "\"filter_type\": \"lp\", \"freq\": 120}]",
			   0, NULL);
	cr_assert_neq(op_trial_plan(steps, &lay, NULL, &cause), 0, "120 Hz is above Nyquist at 200 Hz");
	cr_assert(strstr(cause, "steps[0].freq") != NULL, "%s", cause);
	json_decref(steps);
	free(cause);
}

/* What the steps ask of the grid: cross-channel measures every channel, an unsorted trial list
 * every trial, a fused connectivity step after freqanalysis no held spectra. */
Test(trial_run, plan_reports_what_the_grid_must_give)
{
	struct trial_layout lay = {0};
	size_t len[3] = {100, 100, 100};
	double off[3] = {0, 0, 0};
	char *ch[2] = {"a", "b"}, *cause = NULL;
	struct op_trial_plan_info info;
	json_t *steps;

	lay.fs = 200;
	lay.ntrials = 3;
	lay.nchan = 2;
	lay.len = len;
	lay.offset = off;
	lay.channel = ch;
	steps = json_loads("[{\"op\": \"freqanalysis\", \"output\": \"fourier\"}, "
			   "{\"op\": \"connectivityanalysis\"}]",
			   0, NULL);
	cr_assert_eq(op_trial_plan(steps, &lay, &info, &cause), 0, "%s", cause);
	cr_assert(info.all_channels && !info.all_trials && info.needs_fused);
	/* fused: only the input block; staged: the spectra freqanalysis keeps */
	cr_assert_eq(info.values_fused, 200);
	cr_assert_eq(info.values_staged, 1 * 51 * 2 * 2);
	json_decref(steps);
	steps = json_loads("[{\"op\": \"selectdata\", \"trials\": [2, 0]}, {\"op\": "
			   "\"freqanalysis\"}]",
			   0, NULL);
	cr_assert_eq(op_trial_plan(steps, &lay, &info, &cause), 0, "%s", cause);
	cr_assert(info.all_trials && !info.all_channels);
	json_decref(steps);
	steps = json_loads("[{\"op\": \"connectivityanalysis\", \"method\": \"csd\", "
			   "\"keeptrials\": true}]",
			   0, NULL);
	cr_assert_eq(op_trial_plan(steps, &lay, &info, &cause), 0, "%s", cause);
	/* kept cross spectra: 51 frequencies × 2 × 2 complex per trial */
	cr_assert_eq(info.values_fused, 51 * 2 * 2 * 2);
	json_decref(steps);
}
