/* The metrics step (global): per EEG channel and aggregated correction metrics without a ground
 * truth (snr, rms_ratio, rms_residual, median_artifact and its reference level, fft_allen,
 * fft_niazy, the power at the slice and volume harmonics against artifact-free data) and,
 * against a ground-truth recording, artifact reduction in dB and residual RMS in µV, into the
 * task's inline result. Channels are independent: a few threads take them one at a time (the
 * job waits for this step anyway). */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "common/log.h"
#include "common/xmalloc.h"
#include "worker/dsp/fmri/dsp-metrics.h"
#include "worker/dsp/core/dsp-resample.h"
#include "worker/ops/rec/op-rec.h"
#include "worker/ops/rec/data/rec-out.h"

static json_t *
op_rec_metrics_num(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

static json_t *
op_rec_metrics_nums(const double *v, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, op_rec_metrics_num(v[i]));
	return a;
}

static int
op_rec_metrics_parse(const json_t *step, const char *path, void *params, char **cause)
{
	static const char *const keys[] = {"ground_truth", "truth_hp", "truth_lp",
					   "reference_interval", NULL};
	struct op_rec_metrics_params *p = params;
	const json_t *ri = json_object_get(step, "reference_interval");

	if (op_param_keys(step, path, keys, cause) != 0 ||
	    op_param_string(step, path, "ground_truth", 0, NULL, &p->ground_truth, cause) != 0 ||
	    op_param_number(step, path, "truth_hp", 0, 0, 1e6, 0, &p->truth_hp, cause) != 0 ||
	    op_param_number(step, path, "truth_lp", 0, 0, 1e6, 0, &p->truth_lp, cause) != 0)
		return -EINVAL;
	p->ref_start = p->ref_end = 0;
	if (ri == NULL)
		return 0;
	if (!json_is_array(ri) || json_array_size(ri) != 2 ||
	    !json_is_number(json_array_get(ri, 0)) || !json_is_number(json_array_get(ri, 1)) ||
	    !(json_number_value(json_array_get(ri, 0)) >= 0) ||
	    !(json_number_value(json_array_get(ri, 1)) > json_number_value(json_array_get(ri, 0))))
		return error_set(cause, -EINVAL,
				 "%s.reference_interval: must be [start, end] in seconds with 0 <= "
				 "start < end",
				 path);
	p->ref_start = json_number_value(json_array_get(ri, 0));
	p->ref_end = json_number_value(json_array_get(ri, 1));
	return 0;
}

/* A channel of a recording at rate fs and n samples (resampled when the rates differ). */
static int
op_rec_metrics_read(struct io_rec *f, size_t ch, double fs, size_t n, double **out,
		    char **cause)
{
	const struct io_rec_channel *c = &io_rec_header(f)->channels[ch];
	double *x, *y;
	size_t len;
	int rc = io_rec_read_channel(f, ch, &x, &len, cause);

	if (rc != 0)
		return rc;
	if (c->rate != fs) {
		y = xcalloc(dsp_resample_length(len, fs / c->rate) + 1, sizeof *y);
		rc = dsp_resample_rate(x, len, c->rate, fs, y, cause);
		free(x);
		x = y;
		len = dsp_resample_length(len, fs / c->rate);
	}
	if (rc == 0 && len < n)
		rc = error_set(cause, -EINVAL, "%s: channel %s has %zu samples at %g Hz, need %zu",
			       io_rec_header(f)->path, c->label, len, fs, n);
	if (rc != 0) {
		free(x);
		return rc;
	}
	*out = x;
	return 0;
}

/* A ground-truth path relative to the input recording's directory. */
static char *
op_rec_metrics_truth_path(const char *input, const char *gt)
{
	const char *slash = strrchr(input, '/');

	if (gt[0] == '/' || slash == NULL)
		return xstrdup(gt);
	return xasprintf("%.*s/%s", (int)(slash - input), input, gt);
}

/* Per input channel slots, filled by several threads (channels are independent); compacted
 * in channel order afterwards, so the aggregates do not depend on the thread count. */
struct op_rec_metrics_acc {
	const struct op_rec_metrics_params *p;
	struct op_run *run;
	const json_t *step;
	struct io_rec *truth;
	struct dsp_metrics_channel *ch;
	double *p2p, *p2p_ref, *db, *uv;
	size_t *nep_ref; /* reference epochs of each channel (p2p_ref holds nep_max each) */
	size_t nep_max;
	double ref_s; /* seconds of reference data (of the last channel; all share the rate) */
	bool *done;
	json_t **per;
	char (*label)[IO_REC_LABEL];
	size_t nc, nep, next;
	pthread_mutex_t lock; /* EDF reads (one handle per file) and the fields below */
	int rc;
	char *cause;
};

/* Channel c's entry of the report's per_channel object. */
static json_t *
op_rec_metrics_channel_json(const struct op_rec_metrics_acc *a, size_t c, const json_t *choices)
{
	const struct dsp_metrics_channel *m = &a->ch[c];
	double d = m->var_acq - m->var_ref, hv[2][DSP_METRICS_HARMONICS];
	json_t *j;

	for (int k = 0; k < 2; k++)
		for (int h = 0; h < DSP_METRICS_HARMONICS; h++)
			hv[k][h] = dsp_metrics_harm_db(m->harm_acq[k][h], m->harm_ref[k][h]);
	j = json_pack("{s:o, s:o, s:o, s:o, s:{s:o, s:o}}", "snr",
		      op_rec_metrics_num(m->var_ref / (d > 1e-10 ? d : 1e-10)), "rms_ratio",
		      op_rec_metrics_num(m->rms_orig / m->rms_corr), "rms_residual",
		      op_rec_metrics_num(m->std_acq / m->std_ref), "fft_allen",
		      op_rec_metrics_nums(m->allen, DSP_METRICS_ALLEN_BANDS),
		      "harmonics_vs_reference", "slice",
		      op_rec_metrics_nums(hv[0], DSP_METRICS_HARMONICS), "volume",
		      op_rec_metrics_nums(hv[1], DSP_METRICS_HARMONICS));
	if (a->truth != NULL) {
		json_object_set_new(j, "artifact_reduction_db", op_rec_metrics_num(a->db[c]));
		json_object_set_new(j, "residual_uv", op_rec_metrics_num(a->uv[c]));
	}
	if (choices != NULL)
		json_object_set(j, "choices", (json_t *)choices);
	return j;
}

/* The input's channel c as recorded and, with a ground truth, its artifact-free version, at the
 * output's rate and length (EDF reads are serialised: one handle per file). */
static int
op_rec_metrics_inputs(struct op_rec_metrics_acc *a, size_t c, const struct rec_out *o,
		      double **orig, double **clean, char **cause)
{
	int rc;

	pthread_mutex_lock(&a->lock);
	rc = op_rec_metrics_read(a->run->rec->in, c, o->fs, o->n, orig, cause);
	if (rc == 0 && a->truth != NULL) {
		int k = io_rec_channel_find(io_rec_header(a->truth), o->label);
		if (k < 0)
			rc = error_set(
			    cause, -EINVAL, "steps[%ld].ground_truth: %s has no channel %s",
			    op_rec_step_index(a->step), io_rec_header(a->truth)->path, o->label);
		else
			rc = op_rec_metrics_read(a->truth, (size_t)k, o->fs, o->n, clean, cause);
	}
	pthread_mutex_unlock(&a->lock);
	return rc;
}

static int
op_rec_metrics_channel(struct op_rec_metrics_acc *a, size_t c, char **cause)
{
	struct op_run *run = a->run;
	struct rec_out o;
	struct dsp_metrics_windows w;
	const struct rec_epochs *t;
	double *orig = NULL, *clean = NULL, sf, vf, db = NAN, uv = NAN;
	int rc;

	pthread_mutex_lock(&a->lock);
	rc = rec_out_open(run, c, &o, cause);
	pthread_mutex_unlock(&a->lock);
	if (rc != 0)
		return rc;
	if (!rec_out_measured(run, &o)) {
		rec_out_close(&o);
		return 0;
	}
	t = o.epochs.step >= 0 ? &o.epochs : &run->rec->epochs;
	if (t->n != a->nep || fabs(t->fs - o.fs) > 1e-9 * o.fs) {
		rc = error_set(cause, -EINVAL, "channel %s: no trigger state at its rate %g Hz",
			       o.label, o.fs);
		goto out;
	}
	if ((rc = op_rec_metrics_inputs(a, c, &o, &orig, &clean, cause)) != 0)
		goto out;
	sf = dsp_metrics_slice_freq(t->t, t->n, o.fs);
	vf = t->slices_per_volume > 0 ? sf / (double)t->slices_per_volume : 0;
	if ((rc = dsp_metrics_windows(o.n, o.fs, t->t, t->n, t->L, &w, cause)) != 0 ||
	    (a->p->ref_end > 0 && (rc = dsp_metrics_windows_reference(&w, o.n, o.fs,
								       a->p->ref_start,
								       a->p->ref_end, cause)) != 0))
		goto out;
	rc = dsp_metrics_channel_at(orig, o.x, o.n, o.fs, &w, sf, vf, &a->ch[c], cause);
	if (rc != 0)
		goto out;
	dsp_metrics_p2p(o.x, o.n, t->t, t->n, t->L, (int64_t)llround(t->offset * o.fs),
			a->p2p + c * a->nep);
	a->nep_ref[c] = dsp_metrics_p2p_reference(o.x, o.n, &w, t->L, a->p2p_ref + c * a->nep_max,
						  a->nep_max);
	a->ref_s = (double)(w.pre_end - w.ref_start + (o.n - w.post_start)) / o.fs;
	if (clean != NULL &&
	    (rc = dsp_metrics_truth(orig, o.x, clean, o.n, o.fs, t->t, t->n, a->p->truth_hp,
				    a->p->truth_lp, &db, &uv, cause)) != 0)
		goto out;
	a->db[c] = db;
	a->uv[c] = uv;
	a->per[c] = op_rec_metrics_channel_json(a, c, o.choices);
	memcpy(a->label[c], o.label, sizeof a->label[c]);
	a->done[c] = true;
out:
	free(orig);
	free(clean);
	rec_out_close(&o);
	return rc;
}

static void *
op_rec_metrics_thread(void *arg)
{
	struct op_rec_metrics_acc *a = arg;

	for (;;) {
		char *cause = NULL;
		size_t c;
		int rc;

		pthread_mutex_lock(&a->lock);
		c = a->rc == 0 ? a->next++ : a->nc;
		pthread_mutex_unlock(&a->lock);
		if (c >= a->nc)
			return NULL;
		rc = op_run_cancelled(a->run) ? error_set(&cause, -ECANCELED, "cancelled")
					      : op_rec_metrics_channel(a, c, &cause);
		if (rc != 0) {
			pthread_mutex_lock(&a->lock);
			if (a->rc == 0) {
				a->rc = rc;
				a->cause = cause;
				cause = NULL;
			}
			pthread_mutex_unlock(&a->lock);
			free(cause);
		}
	}
}

static void
op_rec_metrics_acc_init(struct op_rec_metrics_acc *a, struct op_run *run, const json_t *step,
			struct io_rec *truth)
{
	size_t nc = run->rec->hdr->n_channels;

	memset(a, 0, sizeof *a);
	a->run = run;
	a->step = step;
	a->p = run->params;
	a->truth = truth;
	a->nc = nc;
	a->nep = run->rec->epochs.n;
	a->ch = xcalloc(nc, sizeof *a->ch);
	a->p2p = xcalloc(nc * (a->nep > 0 ? a->nep : 1), sizeof *a->p2p);
	/* The reference data cannot hold more epochs than the recording has samples per epoch. */
	a->nep_max = run->rec->epochs.L > 0 ? run->rec->hdr->duration * run->rec->epochs.fs /
						      (double)run->rec->epochs.L + 1
					    : 1;
	a->p2p_ref = xcalloc(nc * a->nep_max, sizeof *a->p2p_ref);
	a->nep_ref = xcalloc(nc, sizeof *a->nep_ref);
	a->db = xcalloc(nc, sizeof *a->db);
	a->uv = xcalloc(nc, sizeof *a->uv);
	a->done = xcalloc(nc, sizeof *a->done);
	a->per = xcalloc(nc, sizeof *a->per);
	a->label = xcalloc(nc, sizeof *a->label);
	pthread_mutex_init(&a->lock, NULL);
}

static void
op_rec_metrics_acc_fini(struct op_rec_metrics_acc *a)
{
	for (size_t c = 0; c < a->nc; c++)
		json_decref(a->per[c]);
	pthread_mutex_destroy(&a->lock);
	free(a->cause);
	free(a->ch);
	free(a->p2p);
	free(a->p2p_ref);
	free(a->nep_ref);
	free(a->db);
	free(a->uv);
	free(a->done);
	free(a->per);
	free(a->label);
}

/* Every channel, on up to 8 threads: the rest of the job waits for this step, so it uses the
 * cores of this node. */
static void
op_rec_metrics_channels(struct op_rec_metrics_acc *a)
{
	size_t nthreads = (size_t)sysconf(_SC_NPROCESSORS_ONLN);
	pthread_t *threads;

	nthreads = nthreads < 1 ? 1 : nthreads > 8 ? 8 : nthreads > a->nc ? a->nc : nthreads;
	threads = xcalloc(nthreads, sizeof *threads);
	for (size_t i = 1; i < nthreads; i++)
		if (pthread_create(&threads[i], NULL, op_rec_metrics_thread, a) != 0)
			threads[i] = 0;
	op_rec_metrics_thread(a);
	for (size_t i = 1; i < nthreads; i++)
		if (threads[i] != 0)
			pthread_join(threads[i], NULL);
	free(threads);
}

/* One field of the channels' choices of one step: numbers by their median (and range),
 * strings and booleans by how many channels have each value. */
static json_t *
op_rec_metrics_choice_field(json_t *per, const char *step, const char *field)
{
	const char *label;
	json_t *ch, *counts = NULL, *out;
	double *v = xmalloc((json_object_size(per) + 1) * sizeof *v);
	size_t n = 0;

	json_object_foreach(per, label, ch) {
		json_t *f = json_object_get(json_object_get(json_object_get(ch, "choices"), step),
					    field);
		const char *key;

		if (json_is_number(f)) {
			v[n++] = json_number_value(f);
			continue;
		}
		key = json_is_string(f) ? json_string_value(f)
		      : json_is_boolean(f) ? (json_is_true(f) ? "true" : "false")
					   : NULL;
		if (key == NULL)
			continue;
		if (counts == NULL)
			counts = json_object();
		json_object_set_new(counts, key,
				    json_integer(json_integer_value(json_object_get(counts, key)) + 1));
	}
	if (counts != NULL) {
		free(v);
		return counts;
	}
	out = n == 0 ? json_null()
		     : json_pack("{s:o, s:o, s:o}", "median",
				 op_rec_metrics_num(dsp_metrics_median(v, n)), "min",
				 op_rec_metrics_num(v[0]), "max", op_rec_metrics_num(v[0]));
	for (size_t i = 1; i < n; i++) {
		if (v[i] < json_number_value(json_object_get(out, "min")))
			json_object_set_new(out, "min", json_real(v[i]));
		if (v[i] > json_number_value(json_object_get(out, "max")))
			json_object_set_new(out, "max", json_real(v[i]));
	}
	free(v);
	return out;
}

/* The channels' choices summed up: {"aas": {"weighting": {"nearest": 20, ..}, "window":
 * {"median": .., "min": .., "max": ..}, ..}, "pca": .., "anc": ..}. */
static json_t *
op_rec_metrics_choices(json_t *per)
{
	json_t *out = json_object(), *ch, *steps, *fields, *value;
	const char *label, *step, *field;

	json_object_foreach(per, label, ch) {
		steps = json_object_get(ch, "choices");
		json_object_foreach(steps, step, fields) {
			json_t *o = json_object_get(out, step);

			if (o == NULL)
				json_object_set_new(out, step, o = json_object());
			json_object_foreach(fields, field, value)
				if (json_object_get(o, field) == NULL)
					json_object_set_new(
					    o, field, op_rec_metrics_choice_field(per, step, field));
		}
	}
	return out;
}

/* The report: the EEG channels compacted in channel order, then aggregated. */
static json_t *
op_rec_metrics_report(struct op_rec_metrics_acc *a)
{
	struct dsp_metrics_summary s;
	json_t *per = json_object(), *m;
	size_t k = 0, nr = a->nep_max;
	double med_art, med_ref;

	for (size_t c = 0; c < a->nc; c++) {
		if (!a->done[c])
			continue;
		a->ch[k] = a->ch[c];
		memmove(a->p2p + k * a->nep, a->p2p + c * a->nep, a->nep * sizeof *a->p2p);
		memmove(a->p2p_ref + k * a->nep_max, a->p2p_ref + c * a->nep_max,
			a->nep_max * sizeof *a->p2p_ref);
		nr = a->nep_ref[c] < nr ? a->nep_ref[c] : nr;
		a->db[k] = a->db[c];
		a->uv[k] = a->uv[c];
		json_object_set_new(per, a->label[c], a->per[c]);
		a->per[c] = NULL;
		k++;
	}
	/* Reference epochs side by side: the first nr of each channel. */
	for (size_t c = 1; c < k; c++)
		memmove(a->p2p_ref + c * nr, a->p2p_ref + c * a->nep_max, nr * sizeof *a->p2p_ref);
	dsp_metrics_aggregate(a->ch, k, &s);
	med_art = dsp_metrics_median_artifact(a->p2p, k, a->nep);
	med_ref = nr > 0 ? dsp_metrics_median_artifact(a->p2p_ref, k, nr) : NAN;
	m = json_pack(
	    "{s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:{s:o, s:o}, s:{s:o, s:o}, s:o, s:o}",
	    "channels", (json_int_t)k, "snr", op_rec_metrics_num(s.snr), "rms_ratio",
	    op_rec_metrics_num(s.rms_ratio), "rms_residual", op_rec_metrics_num(s.rms_residual),
	    "median_artifact", op_rec_metrics_num(med_art), "median_artifact_reference",
	    op_rec_metrics_num(med_ref), "median_artifact_ratio",
	    op_rec_metrics_num(med_ref > 0 ? med_art / med_ref : NAN), "fft_allen",
	    op_rec_metrics_nums(s.allen, DSP_METRICS_ALLEN_BANDS), "fft_niazy", "slice",
	    op_rec_metrics_nums(s.niazy[0], DSP_METRICS_HARMONICS), "volume",
	    op_rec_metrics_nums(s.niazy[1], DSP_METRICS_HARMONICS), "harmonics_vs_reference",
	    "slice", op_rec_metrics_nums(s.harm_vs_ref[0], DSP_METRICS_HARMONICS), "volume",
	    op_rec_metrics_nums(s.harm_vs_ref[1], DSP_METRICS_HARMONICS), "reference_s",
	    op_rec_metrics_num(a->ref_s), "per_channel", per);
	json_object_set_new(m, "choices", op_rec_metrics_choices(per));
	if (a->truth != NULL) {
		double db = dsp_metrics_median(a->db, k), uv = dsp_metrics_median(a->uv, k);
		json_object_set_new(m, "artifact_reduction_db", op_rec_metrics_num(db));
		json_object_set_new(m, "residual_uv", op_rec_metrics_num(uv));
		log_info("metrics: %.2f dB, %.3f uV residual (medians over %zu channels)", db, uv,
			 k);
	}
	return m;
}

static int
op_rec_metrics_run(struct op_run *run, const json_t *step, char **cause)
{
	const struct op_rec_metrics_params *p = run->params;
	struct io_rec *truth = NULL;
	struct op_rec_metrics_acc a;
	int rc;

	if (p->ground_truth != NULL) {
		char *file = op_rec_metrics_truth_path(run->rec->path, p->ground_truth);
		rc = rec_task_open(file, NULL, &truth, cause);
		free(file);
		if (rc != 0)
			return error_wrap(cause, rc,
					  "steps[%ld].ground_truth: ", op_rec_step_index(step));
	}
	op_rec_metrics_acc_init(&a, run, step, truth);
	op_rec_metrics_channels(&a);
	if ((rc = a.rc) != 0)
		error_set(cause, rc, "%s", a.cause);
	else
		op_rec_result_set(run, "metrics", op_rec_metrics_report(&a));
	op_rec_metrics_acc_fini(&a);
	io_rec_close(truth);
	return rc;
}

const struct op_rec op_rec_metrics = {
    .def = OP_REC_DEF("metrics", OP_GLOBAL,
		      "correction metrics per channel and aggregated (optional `ground_truth` EDF)",
		      struct op_rec_metrics_params, op_rec_metrics_parse),
    .flags = OP_REC_NEEDS_TRIGGERS,
    .task = op_rec_metrics_run,
};
