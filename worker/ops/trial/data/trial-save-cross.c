/* Connectivity parts and their CrossSpectralData container. A unit task describes the container
 * (shape, axes, trial definition, the plan) beside its part: its rows as an HDF5 part file in
 * container coordinates (keeptrials), or its trial sums as .npy (two-sum sum and error for cross
 * spectra and corr, phasor sums and counts for PPC). The final task stitches the rows, or adds
 * the sums part by part (one part in memory at a time) and reduces them. */
#include "worker/ops/trial/data/trial-save-cross.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/paths.h"
#include "common/xmalloc.h"
#include "worker/io/io-npy.h"
#include "worker/io/io-spy-stitch.h"
#include "worker/io/io-spy.h"
#include "worker/ops/trial/data/trial-cross.h"
#include "worker/ops/trial/data/trial-part.h"
#include "worker/ops/trial/data/trial-run.h"

/* The container's trial definition: one row per trial (keeptrials: rows_per_trial rows each)
 * or the single row of an average (the lags of corr, else one entry). */
static json_t *
trial_save_cross_trl(const struct trial_layout *lay, const struct trial_cross_plan *p)
{
	json_t *trl = json_array();
	json_int_t r = (json_int_t)p->rows_per_trial;

	if (!p->keeptrials) {
		double off = p->method == TRIAL_CROSS_PPC ? p->offset0 : 0;
		json_array_append_new(trl, json_pack("[I, I, f]", (json_int_t)0, r, off));
		return trl;
	}
	for (size_t t = 0; t < lay->ntrials; t++) {
		/* cross spectra keep each trial's offset; lags start at 0 */
		double off = p->method == TRIAL_CROSS_CSD ? lay->offset[t] : 0;
		json_t *row = json_pack("[I, I, f]", (json_int_t)t * r, (json_int_t)(t + 1) * r, off);
		for (size_t k = 0; p->method == TRIAL_CROSS_CSD && k < lay->nextra; k++)
			json_array_append_new(row, json_real(lay->extra[t * lay->nextra + k]));
		json_array_append_new(trl, row);
	}
	return trl;
}

/* Labels of cross-spectral channels idx (through the plan's input channels). */
static json_t *
trial_save_cross_labels(const struct trial_layout *lay, const struct trial_cross_plan *p,
			const size_t *idx, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(lay->channel[p->chans[idx[i]]]));
	return a;
}

static json_t *
trial_save_cross_describe(const struct trial_run *t)
{
	const struct trial_cross_plan *p = &t->cross->plan;
	size_t rows = p->keeptrials ? t->lay.ntrials * p->rows_per_trial : p->rows_per_trial;
	json_t *freq = json_array();

	for (size_t i = 0; i < p->nout_freq; i++)
		json_array_append_new(freq, json_real(p->freq[i]));
	return json_pack(
	    "{s:s, s:s, s:[I, I, I, I], s:f, s:o, s:o, s:o, s:o, s:o, s:o, s:b, s:{s:I, s:I}}",
	    "class", "crossspectral", "dtype", trial_cross_is_complex(p) ? "complex64" : "float32",
	    "shape", (json_int_t)rows, (json_int_t)p->nout_freq, (json_int_t)p->nrow,
	    (json_int_t)p->ncol, "samplerate", t->lay.fs, "channel_i",
	    trial_save_cross_labels(&t->lay, p, p->rows, p->nrow), "channel_j",
	    trial_save_cross_labels(&t->lay, p, p->cols, p->ncol), "freq", freq, "trl",
	    trial_save_cross_trl(&t->lay, p), "cfg",
	    t->cfg != NULL ? json_deep_copy(t->cfg) : json_object(), "cross",
	    trial_cross_plan_json(p), "average", !p->keeptrials, "part", "trial0",
	    (json_int_t)t->trial0, "ntrials", (json_int_t)t->ntr);
}

/* Container metadata from a description; the arrays are owned by the struct. */
struct trial_save_cross_meta {
	struct io_spy_meta m;
	double *trl, *freq;
	char **ci, **cj;
	size_t nci, ncj;
	char *cfg;
};

static const char *
trial_save_cross_str(const json_t *v)
{
	const char *s = json_string_value(v);

	return s != NULL ? s : "";
}

static void
trial_save_cross_meta_fini(struct trial_save_cross_meta *k)
{
	trial_part_strings_free(k->ci, k->nci);
	trial_part_strings_free(k->cj, k->ncj);
	free(k->trl);
	free(k->freq);
	free(k->cfg);
}

static int
trial_save_cross_meta(const json_t *d, struct trial_save_cross_meta *k, char **cause)
{
	json_t *shape = json_object_get(d, "shape"), *trl = json_object_get(d, "trl");
	json_t *freq = json_object_get(d, "freq");
	size_t cols = json_array_size(json_array_get(trl, 0)), nfreq;

	memset(k, 0, sizeof *k);
	if (json_array_size(shape) != 4 || json_array_size(trl) == 0 || cols < 3 ||
	    !json_is_array(freq))
		return error_set(cause, -EBADMSG, "not the description of connectivity parts");
	k->m.dataclass = IO_SPY_CROSSSPECTRAL;
	k->m.dtype = strcmp(trial_save_cross_str(json_object_get(d, "dtype")), "complex64") == 0
			 ? IO_SPY_COMPLEX64
			 : IO_SPY_FLOAT32;
	for (size_t i = 0; i < 4; i++)
		k->m.shape[i] = (uint64_t)json_integer_value(json_array_get(shape, i));
	k->m.samplerate = json_number_value(json_object_get(d, "samplerate"));
	k->trl = trial_part_trl(trl, &k->m.ntrials, &k->m.trl_cols);
	k->m.trl = k->trl;
	k->freq = trial_part_numbers(freq, &nfreq);
	k->m.freq = k->freq;
	k->ci = trial_part_strings(json_object_get(d, "channel_i"), &k->nci);
	k->cj = trial_part_strings(json_object_get(d, "channel_j"), &k->ncj);
	k->m.channel = (const char *const *)k->ci;
	k->m.channel_j = (const char *const *)k->cj;
	k->cfg = json_dumps(json_object_get(d, "cfg"), JSON_COMPACT | JSON_SORT_KEYS);
	k->m.cfg_json = k->cfg;
	k->m.log = "computed by neurodag " ND_VERSION;
	if (k->nci != k->m.shape[2] || k->ncj != k->m.shape[3] ||
	    nfreq != k->m.shape[1])
		return error_set(cause, -EBADMSG, "connectivity part description: axes do not "
						  "match the shape");
	return 0;
}

/* keeptrials: the task's rows as a part file in container coordinates. */
static int
trial_save_cross_rows(const struct trial_run *t, const json_t *d, const char *base, char **cause)
{
	struct trial_save_cross_meta k;
	uint64_t start[IO_SPY_MAX_RANK], count[IO_SPY_MAX_RANK];
	char *path = xasprintf("%s.h5", base), *tmp = paths_hidden_temp(path, NULL);
	struct io_spy_file *f = NULL;
	int rc;

	rc = trial_save_cross_meta(d, &k, cause);
	trial_run_h5_lock();
	if (rc == 0)
		rc = io_spy_trials_slab(&k.m, t->trial0, t->ntr, 0, 0, start, count, cause);
	if (rc == 0)
		rc = io_spy_part_create(&f, tmp, &k.m, start, count, cause);
	if (rc == 0)
		rc = io_spy_write_trials(f, t->trial0, t->ntr, 0, 0, t->cross->out, cause);
	if (rc == 0) {
		rc = io_spy_close(f, cause);
		f = NULL;
	}
	io_spy_discard(f);
	trial_run_h5_unlock();
	rc = paths_publish(tmp, path, rc, PATHS_WORK_FILE, cause);
	trial_save_cross_meta_fini(&k);
	free(path);
	free(tmp);
	return rc;
}

/* The doubles of a part's packed sums. */
static size_t
trial_save_cross_packed_len(const struct trial_cross_plan *p)
{
	return p->method == TRIAL_CROSS_PPC ? dsp_ppc_packed_len(p->nfreq, p->nchan)
					    : dsp_csd_packed_len(p->nfreq, p->nchan);
}

/* Averages: the task's sums, packed upper triangles, as <base>.npy (1-D doubles). */
static int
trial_save_cross_sums(const struct trial_cross *c, json_t *d, const char *base, char **cause)
{
	char *path = xasprintf("%s.npy", base), *tmp = paths_hidden_temp(path, NULL);
	size_t len = trial_save_cross_packed_len(&c->plan), shape[1] = {len};
	double *v = xmalloc(len * sizeof *v + 1);
	int rc;

	if (c->has_ppc)
		dsp_ppc_acc_pack(&c->ppc, v);
	else
		dsp_csd_acc_pack(&c->acc, v);
	json_object_set_new(d, "count",
			    json_integer((json_int_t)(c->has_ppc ? c->ppc.count : c->acc.count)));
	rc = io_npy_write(tmp, IO_NPY_F8, 1, shape, v, cause);
	rc = paths_publish(tmp, path, rc, PATHS_WORK_FILE, cause);
	free(v);
	free(path);
	free(tmp);
	return rc;
}

int
trial_save_cross_unit(const struct trial_run *t, const char *base, char **cause)
{
	json_t *d = trial_save_cross_describe(t);
	int rc;

	if (t->ntr == 0) { /* a selection left this task nothing: only the description */
		json_object_set_new(d, "empty", json_true());
		rc = 0;
	} else if (t->cross->plan.keeptrials) {
		rc = trial_save_cross_rows(t, d, base, cause);
	} else {
		rc = trial_save_cross_sums(t->cross, d, base, cause);
	}
	if (rc == 0)
		rc = trial_part_json(d, base, cause);
	json_decref(d);
	return rc;
}

/* Add part u's sums into acc or ppc. */
static int
trial_save_cross_add(const char *base, const struct trial_cross_plan *p, struct dsp_csd_acc *acc,
		     struct dsp_ppc_acc *ppc, char **cause)
{
	char *npy = xasprintf("%s.npy", base);
	size_t len = trial_save_cross_packed_len(p);
	bool is_ppc = p->method == TRIAL_CROSS_PPC;
	struct io_npy_header h;
	json_t *d = NULL;
	double *v = NULL;
	int rc;

	rc = trial_part_load_json(base, &d, cause);
	if (rc == 0 && json_is_true(json_object_get(d, "empty"))) {
		json_decref(d);
		free(npy);
		return 0;
	}
	if (rc == 0)
		rc = io_npy_read(npy, &h, (void **)&v, cause);
	if (rc == 0 && (h.dtype != IO_NPY_F8 || h.ndim != 1 || h.shape[0] != len))
		rc = error_set(cause, -EBADMSG, "%s does not hold the connectivity sums of this "
						"job",
			       npy);
	if (rc == 0) {
		uint64_t n = (uint64_t)json_integer_value(json_object_get(d, "count"));
		if (is_ppc)
			dsp_ppc_acc_add_packed(ppc, v, n);
		else
			dsp_csd_acc_add_packed(acc, v, n);
	}
	free(v);
	json_decref(d);
	free(npy);
	return rc;
}

/* Merge every part's sums, reduce, write the container at h5. */
static int
trial_save_cross_average(const char *workdir, int stage, uint32_t nparts,
			 const struct trial_cross_plan *p, struct trial_save_cross_meta *k,
			 const char *h5, char **cause)
{
	bool is_ppc = p->method == TRIAL_CROSS_PPC;
	struct dsp_csd_acc acc = {0};
	struct dsp_ppc_acc ppc = {0};
	float *data = NULL;
	json_t *info = NULL;
	char *info_text = NULL;
	int rc = 0;

	if (is_ppc)
		dsp_ppc_acc_init(&ppc, p->nfreq, p->nchan);
	else
		dsp_csd_acc_init(&acc, p->nfreq, p->nchan, p->ntap);
	for (uint32_t u = 0; u < nparts && rc == 0; u++) {
		char *base = trial_part_base(workdir, stage, u);
		rc = trial_save_cross_add(base, p, &acc, &ppc, cause);
		free(base);
	}
	if (rc == 0)
		rc = trial_cross_finalize(p, &acc, &ppc, &data, &info, cause);
	if (rc == 0 && info != NULL) {
		info_text = json_dumps(info, JSON_COMPACT | JSON_REAL_PRECISION(17));
		k->m.info_json = info_text;
	}
	trial_run_h5_lock();
	if (rc == 0)
		rc = io_spy_write(h5, &k->m, data, cause);
	trial_run_h5_unlock();
	if (is_ppc)
		dsp_ppc_acc_fini(&ppc);
	else
		dsp_csd_acc_fini(&acc);
	json_decref(info);
	free(info_text);
	free(data);
	return rc;
}

static int
trial_save_cross_stitch(const char *workdir, int stage, uint32_t nparts,
			const struct io_spy_meta *m, const char *h5, char **cause)
{
	int rc;

	trial_run_h5_lock();
	rc = trial_part_stitch(workdir, stage, nparts, m, h5, cause);
	trial_run_h5_unlock();
	return rc;
}

int
trial_save_cross_final(const char *workdir, int stage, uint32_t nparts, const char *output,
		       const json_t *d0, json_t **result, char **cause)
{
	struct trial_save_cross_meta k;
	struct trial_cross_plan p = {0};
	struct io_spy_container c = {0};
	int rc;

	rc = trial_save_cross_meta(d0, &k, cause);
	if (rc == 0)
		rc = trial_cross_plan_parse(json_object_get(d0, "cross"), &p, cause);
	if (rc == 0)
		rc = io_spy_container_begin(&c, output, IO_SPY_CROSSSPECTRAL, NULL, cause);
	if (rc == 0 && p.keeptrials)
		rc = trial_save_cross_stitch(workdir, stage, nparts, &k.m, c.tmp, cause);
	else if (rc == 0)
		rc = trial_save_cross_average(workdir, stage, nparts, &p, &k, c.tmp, cause);
	if (c.tmpdir != NULL)
		rc = io_spy_container_publish(&c, rc, cause);
	if (rc == 0)
		*result = json_pack("{s:s, s:s, s:O}", "output", c.path, "class",
				    "CrossSpectralData", "shape", json_object_get(d0, "shape"));
	io_spy_container_fini(&c);
	trial_cross_plan_fini(&p);
	trial_save_cross_meta_fini(&k);
	return rc;
}
