/* Recording ops where the kernels meet I/O: trigger states (JSON, rescaling, adoption), the
 * graph a recording pipeline becomes (implicit aas_realign and export_edf, indices kept), and
 * tasks run through task_run on a synthetic EDF compared with the kernels called directly. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/paths.h"
#include "common/xmalloc.h"
#include "scheduler/graph/graph.h"
#include "worker/dsp/core/dsp-filter.h"
#include "worker/dsp/core/dsp-resample.h"
#include "worker/io/io-edf.h"
#include "worker/io/io-npy.h"
#include "worker/ops/rec/data/rec-task.h"
#include "worker/synth/synth-fmri.h"
#include "worker/ops/task-run.h"

static char op_rec_dir[] = "/tmp/nd-test-op-rec-XXXXXX";
static char *op_rec_edf;
static struct synth_fmri_params op_rec_params;

static void
op_rec_setup(void)
{
	char *cause = NULL;

	cr_assert_not_null(mkdtemp(op_rec_dir));
	op_rec_edf = xasprintf("%s/rec.edf", op_rec_dir);
	synth_fmri_params_init(&op_rec_params);
	op_rec_params.n_eeg = 2;
	op_rec_params.duration = 12;
	cr_assert_eq(synth_fmri_write(&op_rec_params, op_rec_edf, NULL, &cause), 0, "%s", cause);
}

static void
op_rec_teardown(void)
{
	paths_remove_tree(op_rec_dir);
	free(op_rec_edf);
}

/* Run every task of the pipeline in stage order, as `neurodag run --serial` does; returns the
 * kept inline results (caller decrefs). */
static json_t *
op_rec_run_graph(const char *steps, const char *mode, const char *output)
{
	char *text =
	    xasprintf("{\"input\": {\"format\": \"edf\", \"path\": \"%s\"}, \"steps\": %s, "
		      "\"execution\": {\"mode\": \"%s\"}}",
		      op_rec_edf, steps, mode);
	char *workdir = xasprintf("%s/work-%s", op_rec_dir, mode), *cause = NULL;
	json_t *results = json_object();
	struct graph *g;

	cr_assert_eq(graph_build(text, NULL, output, workdir, &g, &cause), 0, "%s", cause);
	for (uint32_t t = 0; t < g->ntasks; t++) {
		char *spec = graph_task_spec(g, 1, t), *deps = json_dumps(results, JSON_COMPACT);
		char *result = NULL, key[16];

		cr_assert_eq(task_run(spec, deps, 1, NULL, &result, &cause), 0, "task %u: %s", t,
			     cause);
		if (result != NULL && graph_keeps_result(g, t)) {
			snprintf(key, sizeof key, "%u", t);
			json_object_set_new(results, key, json_loads(result, 0, NULL));
		}
		free(result), free(spec), free(deps);
	}
	graph_free(g);
	free(text);
	free(workdir);
	return results;
}

static double *
op_rec_load(const char *mode, int stage, size_t chan, size_t *n)
{
	char *path = xasprintf("%s/work-%s/u%d/c%zu.npy", op_rec_dir, mode, stage, chan),
	     *cause = NULL;
	struct io_npy_header h;
	void *data;

	cr_assert_eq(io_npy_read(path, &h, &data, &cause), 0, "%s", cause);
	free(path);
	*n = h.count;
	return data;
}

Test(op_rec, trigger_state_json_and_rescale)
{
	int64_t t[3] = {100, 393, 686};
	struct rec_epochs a = {.step = 4,
			     .fs = 2048,
			     .fs0 = 2048,
			     .offset = -0.005,
			     .n = 3,
			     .L = 293,
			     .slices_per_volume = 21,
			     .volume_gaps = 1};
	struct rec_epochs b = {.step = -1};
	json_t *j;

	a.t = xmalloc(sizeof t);
	memcpy(a.t, t, sizeof t);
	j = rec_epochs_to_json(&a);
	cr_assert_eq(rec_epochs_from_json(j, &b, NULL), 0);
	json_decref(j);
	cr_assert(b.step == 4 && b.n == 3 && b.L == 293 && b.slices_per_volume == 21 &&
		  b.volume_gaps && b.offset == -0.005 && b.t_sub == NULL);
	cr_assert_arr_eq(b.t, t, sizeof t);
	rec_epochs_rescale(&b, 20480, 6);
	cr_assert(b.t[0] == 1000 && b.t[2] == 6860 && b.L == 2930 && b.fs == 20480 && b.step == 6);
	cr_assert_eq(rec_epochs_s0(&b), -102); /* trunc(-0.005 · 20480) */
	rec_epochs_rescale(&b, 2048, 8);
	cr_assert_arr_eq(b.t, t, sizeof t);
	cr_assert_eq(b.L, 293);
	rec_epochs_fini(&a);
	rec_epochs_fini(&b);
}

Test(op_rec, graph_adds_realign_and_export, .init = op_rec_setup, .fini = op_rec_teardown)
{
	const char *steps = "[{\"op\": \"detect_triggers\", \"regex\": \"1\"}, "
			    "{\"op\": \"upsample\", \"factor\": 4}, {\"op\": \"align_slices\"}, "
			    "{\"op\": \"aas\"}, {\"op\": \"downsample\", \"factor\": 4}]";
	char *text =
	    xasprintf("{\"input\": {\"format\": \"edf\", \"path\": \"%s\"}, \"steps\": %s}",
		      op_rec_edf, steps);
	char *cause = NULL;
	json_t *s, *st;
	struct graph *g;

	cr_assert_eq(graph_build(text, NULL, "/tmp/x.edf", "/tmp/w", &g, &cause), 0, "%s", cause);
	/* detect | run once: upsample, align_slices, aas_realign | units | export | report */
	cr_assert_eq(g->nstages, 5);
	cr_assert_str_eq(g->stages[1].label, "upsample+align_slices+aas_realign");
	cr_assert_str_eq(g->stages[2].label, "upsample+aas+downsample");
	cr_assert_eq(g->stages[2].count, 4); /* 2 EEG + EMG + ECG */
	cr_assert_str_eq(g->stages[3].label, "export_edf");
	cr_assert_str_eq(g->stages[4].label, "report");
	st = json_loads(g->stages[1].spec, 0, NULL);
	s = json_array_get(json_object_get(st, "steps"), 2);
	cr_assert_eq(json_integer_value(json_object_get(s, "index")), 3,
		     "realign keeps aas's index");
	json_decref(st);
	st = json_loads(g->stages[3].spec, 0, NULL);
	s = json_array_get(json_object_get(st, "steps"), 0);
	cr_assert_eq(json_integer_value(json_object_get(s, "index")), 5);
	json_decref(st);
	graph_free(g);
	/* No output: no export; realign off: no run-once step of its own. */
	free(text);
	text = xasprintf("{\"input\": {\"format\": \"edf\", \"path\": \"%s\"}, \"steps\": "
			 "[{\"op\": \"detect_triggers\", \"regex\": \"1\"}, {\"op\": \"aas\", "
			 "\"realign\": false}]}",
			 op_rec_edf);
	cr_assert_eq(graph_build(text, NULL, NULL, "/tmp/w", &g, &cause), 0, "%s", cause);
	cr_assert_eq(g->nstages, 2);
	cr_assert_str_eq(g->stages[1].label, "aas");
	graph_free(g);
	free(text);
}

Test(op_rec, highpass_task_equals_kernel, .init = op_rec_setup, .fini = op_rec_teardown)
{
	json_t *r = op_rec_run_graph("[{\"op\": \"highpass\", \"freq\": 1.0}]", "fused", NULL);
	struct io_edf_file *f;
	double *x, *y;
	size_t n, m;

	cr_assert_eq(io_edf_open(op_rec_edf, &f, NULL), 0);
	for (size_t c = 0; c < 4; c++) {
		cr_assert_eq(io_edf_read_channel(f, c, &x, &n, NULL), 0);
		y = op_rec_load("fused", 0, c, &m);
		cr_assert_eq(m, n);
		/* EEG, EMG and ECG all carry the artifact: each is filtered exactly as the
		 * kernel does. */
		cr_assert_eq(dsp_filter_highpass(x, n, 2048, 1.0, NULL), 0);
		cr_assert_arr_eq(x, y, n * sizeof *x, "channel %zu", c);
		free(x), free(y);
	}
	io_edf_close(f);
	json_decref(r);
}

Test(op_rec, resampling_scales_data_and_triggers, .init = op_rec_setup, .fini = op_rec_teardown)
{
	json_t *r = op_rec_run_graph("[{\"op\": \"detect_triggers\", \"regex\": \"^1$\"}, "
				     "{\"op\": \"upsample\", \"factor\": 3}]",
				     "staged", NULL);
	const json_t *t0 = json_object_get(json_object_get(r, "0"), "triggers");
	size_t ntrig, n, m;
	const size_t *truth;
	struct synth_fmri *s;
	struct io_edf_file *f;
	double *x, *y, *z;
	char *meta = xasprintf("%s/work-staged/u1/meta3.json", op_rec_dir);
	json_t *mj = json_load_file(meta, 0, NULL), *mt;

	cr_assert_eq(synth_fmri_new(&op_rec_params, &s, NULL), 0);
	truth = synth_fmri_triggers(s, &ntrig);
	cr_assert_eq(json_integer_value(json_object_get(t0, "count")), (json_int_t)ntrig);
	cr_assert_eq(json_integer_value(json_object_get(t0, "L")),
		     (json_int_t)synth_fmri_artifact_length(s));
	cr_assert_eq(json_integer_value(json_array_get(json_object_get(t0, "samples"), 5)),
		     (json_int_t)truth[5]);
	/* Every channel (ECG too) goes to 3·2048 Hz with its triggers. */
	cr_assert_not_null(mj);
	cr_assert_float_eq(json_number_value(json_object_get(mj, "fs")), 6144.0, 1e-12);
	mt = json_object_get(mj, "triggers");
	cr_assert_eq(json_integer_value(json_array_get(json_object_get(mt, "samples"), 5)),
		     (json_int_t)truth[5] * 3);
	cr_assert_eq(io_edf_open(op_rec_edf, &f, NULL), 0);
	cr_assert_eq(io_edf_read_channel(f, 0, &x, &n, NULL), 0);
	z = xmalloc(dsp_resample_length(n, 3) * sizeof *z);
	cr_assert_eq(dsp_resample_up(x, n, 3, z, NULL), 0);
	y = op_rec_load("staged", 1, 0, &m);
	cr_assert_eq(m, 3 * n);
	cr_assert_arr_eq(y, z, m * sizeof *y);
	free(x), free(y), free(z), free(meta);
	json_decref(mj);
	io_edf_close(f);
	synth_fmri_free(s);
	json_decref(r);
}

Test(op_rec, export_keeps_channels_annotations_and_data, .init = op_rec_setup,
     .fini = op_rec_teardown)
{
	char *out = xasprintf("%s/out.edf", op_rec_dir);
	json_t *r = op_rec_run_graph("[{\"op\": \"lowpass\", \"freq\": 70}]", "fused", out);
	struct io_edf_file *in, *f;
	const struct io_edf_header *hi, *ho;
	double *x, *y;
	size_t n, m;

	cr_assert_eq(io_edf_open(op_rec_edf, &in, NULL), 0);
	cr_assert_eq(io_edf_open(out, &f, NULL), 0);
	hi = io_edf_header(in);
	ho = io_edf_header(f);
	cr_assert_eq(ho->n_channels, hi->n_channels);
	cr_assert_eq(ho->n_annotations, hi->n_annotations);
	for (size_t c = 0; c < ho->n_channels; c++) {
		double lsb = (ho->channels[c].phys_max - ho->channels[c].phys_min) /
			     (ho->channels[c].dig_max - ho->channels[c].dig_min) *
			     ho->channels[c].volt_scale;
		cr_assert_str_eq(ho->channels[c].label, hi->channels[c].label);
		cr_assert_float_eq(ho->channels[c].rate, 2048.0, 1e-9);
		cr_assert_eq(io_edf_read_channel(f, c, &x, &n, NULL), 0);
		y = op_rec_load("fused", 0, c, &m);
		cr_assert_eq(n, m);
		/* 16-bit EDF: within one quantisation step of the exported array */
		for (size_t i = 0; i < n; i++)
			cr_assert(fabs(x[i] - y[i]) <= lsb, "channel %zu sample %zu", c, i);
		free(x), free(y);
	}
	for (size_t i = 0; i < ho->n_annotations; i++)
		cr_assert(fabs(ho->annotations[i].onset - hi->annotations[i].onset) < 1e-3 &&
			  strcmp(ho->annotations[i].text, hi->annotations[i].text) == 0);
	cr_assert_not_null(json_object_get(json_object_get(r, "4"), "timing_s"));
	io_edf_close(in);
	io_edf_close(f);
	free(out);
	json_decref(r);
}
