/* Writing trial results: each unit task writes its rows straight into the output container when
 * it holds every channel (trial-direct.h), else its own part (an HDF5 part file in container
 * coordinates), or its partial trial sums as .npy, and a .json describing the output container;
 * the final task seals the container written in place, or stitches the parts into it in order,
 * or adds the partial sums (two-sum, so the mean is the same however trials were chunked) and
 * writes the average. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/paths.h"
#include "common/xmalloc.h"
#include "worker/io/io-npy.h"
#include "worker/io/io-spy-h5.h"
#include "worker/io/io-spy-stitch.h"
#include "worker/io/io-spy-writer.h"
#include "worker/ops/trial/data/trial-direct.h"
#include "worker/ops/trial/data/trial-part.h"
#include "worker/ops/trial/data/trial-save-cross.h"
#include "worker/ops/trial/data/trial-save-timelock.h"
#include "worker/ops/trial/data/trial-save.h"

static json_t *
trial_save_doubles(const double *v, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_real(v[i]));
	return a;
}

/* The output container's description, the same in every task of a stage. */
static json_t *
trial_save_describe(const struct trial_run *t)
{
	const struct trial_layout *lay = &t->lay;
	json_t *d = json_object(), *ch = json_array(), *shape = json_array();

	for (size_t c = 0; c < lay->nchan; c++)
		json_array_append_new(ch, json_string(lay->channel[c]));
	json_object_set_new(d, "samplerate", json_real(lay->fs));
	json_object_set_new(d, "channel", ch);
	json_object_set_new(d, "cfg", t->cfg != NULL ? json_deep_copy(t->cfg) : json_object());
	if (t->kind == TRIAL_RUN_ANALOG) {
		json_t *trl = json_array();
		size_t start = 0;
		for (size_t i = 0; i < lay->ntrials; i++) {
			json_t *row = json_pack("[I, I, f]", (json_int_t)start,
						(json_int_t)(start + lay->len[i]), lay->offset[i]);
			for (size_t k = 0; k < lay->nextra; k++)
				json_array_append_new(row,
						      json_real(lay->extra[i * lay->nextra + k]));
			json_array_append_new(trl, row);
			start += lay->len[i];
		}
		json_array_append_new(shape, json_integer((json_int_t)start));
		json_array_append_new(shape, json_integer((json_int_t)lay->nchan));
		json_object_set_new(d, "class", json_string("analog"));
		json_object_set_new(d, "dtype", json_string("float32"));
		json_object_set_new(d, "trl", trl);
	} else {
		const struct trial_spectral *s = &t->spec;
		json_t *tap = json_array(), *trl = json_array();
		for (size_t k = 0; k < s->ntap; k++)
			json_array_append_new(tap, strcmp(s->taper, "dpss") == 0
						       ? json_sprintf("dpss%zu", k)
						       : json_string(s->taper));
		for (size_t i = 0; i < s->trl_rows; i++) {
			json_t *row = json_array();
			for (size_t k = 0; k < s->trl_cols; k++)
				json_array_append_new(row, json_real(s->trl[i * s->trl_cols + k]));
			json_array_append_new(trl, row);
		}
		json_object_set_new(d, "samplerate", json_real(s->srate));
		json_object_set_new(d, "trl", trl);
		json_array_append_new(
		    shape, json_integer((json_int_t)s->trl[(s->trl_rows - 1) * s->trl_cols + 1]));
		json_array_append_new(shape, json_integer((json_int_t)s->ntap));
		json_array_append_new(shape, json_integer((json_int_t)s->nfreq));
		json_array_append_new(shape, json_integer((json_int_t)lay->nchan));
		json_object_set_new(d, "class", json_string("spectral"));
		json_object_set_new(d, "dtype", json_string(s->complex ? "complex64" : "float32"));
		json_object_set_new(d, "freq", trial_save_doubles(s->freqs, s->nfreq));
		json_object_set_new(d, "taper", tap);
		json_object_set_new(d, "average", json_boolean(!s->keeptrials));
	}
	json_object_set_new(d, "shape", shape);
	json_object_set_new(d, "part",
			    json_pack("{s:I, s:I, s:I, s:I}", "trial0", (json_int_t)t->trial0,
				      "ntrials", (json_int_t)t->ntr, "chan0", (json_int_t)t->chan0,
				      "nchan", (json_int_t)t->nch));
	return d;
}

/* Container metadata from a description; arrays it points into are owned by `keep`. */
struct trial_save_meta {
	struct io_spy_meta m;
	double *trl, *freq;
	char **channel, **taper;
	size_t nchannel, ntaper;
	char *cfg;
};

static void
trial_save_meta_fini(struct trial_save_meta *k)
{
	trial_part_strings_free(k->channel, k->nchannel);
	trial_part_strings_free(k->taper, k->ntaper);
	free(k->trl);
	free(k->freq);
	free(k->cfg);
}

static int
trial_save_meta_parse(const json_t *d, const char *path, struct trial_save_meta *k, char **cause)
{
	const char *cls = json_string_value(json_object_get(d, "class"));
	const char *dtype = json_string_value(json_object_get(d, "dtype"));
	json_t *shape = json_object_get(d, "shape"), *trl = json_object_get(d, "trl");
	json_t *freq = json_object_get(d, "freq");
	size_t rank;

	memset(k, 0, sizeof *k);
	if (cls == NULL || dtype == NULL || !json_is_array(shape))
		return error_set(cause, -EBADMSG, "%s: not a part description", path);
	k->m.dataclass = strcmp(cls, "analog") == 0 ? IO_SPY_ANALOG : IO_SPY_SPECTRAL;
	k->m.dtype = strcmp(dtype, "complex64") == 0 ? IO_SPY_COMPLEX64 : IO_SPY_FLOAT32;
	rank = (size_t)io_spy_rank(k->m.dataclass);
	if (json_array_size(shape) != rank)
		return error_set(cause, -EBADMSG, "%s: shape of rank %zu", path,
				 json_array_size(shape));
	for (size_t i = 0; i < rank; i++)
		k->m.shape[i] = (uint64_t)json_integer_value(json_array_get(shape, i));
	k->m.samplerate = json_number_value(json_object_get(d, "samplerate"));
	if (json_is_array(trl) && json_array_size(trl) > 0) {
		k->trl = trial_part_trl(trl, &k->m.ntrials, &k->m.trl_cols);
		k->m.trl = k->trl;
	}
	if (json_is_array(freq)) {
		size_t nfreq;
		k->freq = trial_part_numbers(freq, &nfreq);
		k->m.freq = k->freq;
	}
	k->channel = trial_part_strings(json_object_get(d, "channel"), &k->nchannel);
	k->m.channel = (const char *const *)k->channel;
	if (json_is_array(json_object_get(d, "taper"))) {
		k->taper = trial_part_strings(json_object_get(d, "taper"), &k->ntaper);
		k->m.taper = (const char *const *)k->taper;
	}
	k->cfg = json_dumps(json_object_get(d, "cfg"), JSON_COMPACT | JSON_SORT_KEYS);
	k->m.cfg_json = k->cfg;
	k->m.log = "computed by neurodag " ND_VERSION;
	return 0;
}

/* The task's data as float32 trials back to back (converted if still double). */
static const float *
trial_save_f32(const struct trial_run *t, float **conv)
{
	size_t n = 0;

	*conv = NULL;
	if (t->dtype == DSP_TRIAL_F32)
		return t->data;
	for (size_t i = 0; i < t->ntr; i++)
		n += t->lay.len[t->trial0 + i] * t->nch;
	*conv = xreallocarray(NULL, n + 1, sizeof **conv);
	for (size_t i = 0; i < n; i++)
		(*conv)[i] = (float)((const double *)t->data)[i];
	return *conv;
}

static int
trial_save_part(const struct trial_run *t, const struct io_spy_meta *m, const char *base,
		char **cause)
{
	uint64_t start[IO_SPY_MAX_RANK], count[IO_SPY_MAX_RANK];
	char *path = xasprintf("%s.h5", base), *tmp = paths_hidden_temp(path, NULL);
	struct io_spy_file *f = NULL;
	float *conv = NULL;
	const void *buf = t->kind == TRIAL_RUN_SPECTRAL ? (const void *)t->spec.out
							: (const void *)trial_save_f32(t, &conv);
	int rc;

	trial_run_h5_lock();
	rc = io_spy_trials_slab(m, t->trial0, t->ntr, t->chan0, t->nch, start, count, cause);
	if (rc == 0)
		rc = io_spy_part_create(&f, tmp, m, start, count, cause);
	if (rc == 0)
		rc = io_spy_write_trials(f, t->trial0, t->ntr, t->chan0, t->nch, buf, cause);
	if (rc == 0) {
		rc = io_spy_close(f, cause);
		f = NULL;
	}
	io_spy_discard(f);
	trial_run_h5_unlock();
	rc = paths_publish(tmp, path, rc, PATHS_WORK_FILE, cause);
	free(conv);
	free(path);
	free(tmp);
	return rc;
}

static int
trial_save_sums(const struct trial_run *t, json_t *d, const char *base, char **cause)
{
	const struct dsp_mtmfft_accum *a = &t->spec.acc;
	char *path = xasprintf("%s.npy", base), *tmp = paths_hidden_temp(path, NULL);
	size_t shape[2] = {2, a->len};
	double *v = xreallocarray(NULL, 2 * a->len + 1, sizeof *v);
	int rc;

	memcpy(v, a->sum, a->len * sizeof *v);
	memcpy(v + a->len, a->comp, a->len * sizeof *v);
	json_object_set_new(d, "count", json_integer((json_int_t)a->count));
	rc = io_npy_write(tmp, IO_NPY_F8, 2, shape, v, cause);
	rc = paths_publish(tmp, path, rc, PATHS_WORK_FILE, cause);
	free(v);
	free(path);
	free(tmp);
	return rc;
}

/* The task's rows straight into the output container (trial-direct.h). */
static int
trial_save_direct(const struct trial_run *t, const struct io_spy_meta *m, const char *workdir,
		  int stage, const json_t *output, char **cause)
{
	float *conv = NULL;
	const void *buf = t->kind == TRIAL_RUN_SPECTRAL ? (const void *)t->spec.out
							: (const void *)trial_save_f32(t, &conv);
	int rc = trial_direct_unit(t, m, workdir, stage, output, buf, cause);

	free(conv);
	return rc;
}

int
trial_save_unit(const struct trial_run *t, const char *workdir, int stage, uint32_t index,
		const json_t *direct, char **cause)
{
	char *base, *b;
	json_t *d;
	struct trial_save_meta k;
	int rc;

	if (t->kind == TRIAL_RUN_CROSS || t->kind == TRIAL_RUN_TIMELOCK) {
		b = trial_part_base(workdir, stage, index);
		rc = t->kind == TRIAL_RUN_CROSS ? trial_save_cross_unit(t, b, cause)
						: trial_save_timelock_unit(t, b, cause);
		free(b);
		return rc;
	}
	base = trial_part_base(workdir, stage, index);
	d = trial_save_describe(t);
	if (t->ntr == 0 || t->nch == 0) {
		/* a selection left this task nothing: only the description */
		json_object_set_new(d, "empty", json_true());
		rc = 0;
	} else if (t->kind == TRIAL_RUN_SPECTRAL && !t->spec.keeptrials) {
		rc = trial_save_sums(t, d, base, cause);
	} else {
		rc = trial_save_meta_parse(d, base, &k, cause);
		if (rc == 0 && direct != NULL && trial_direct_fits(t, &k.m)) {
			rc = trial_save_direct(t, &k.m, workdir, stage, direct, cause);
			json_object_set_new(d, "direct", json_true());
		} else if (rc == 0) {
			rc = trial_save_part(t, &k.m, base, cause);
		}
		trial_save_meta_fini(&k);
	}
	if (rc == 0)
		rc = trial_part_json(d, base, cause);
	json_decref(d);
	free(base);
	return rc;
}

static void
trial_save_two_sum(double *sum, double *comp, double x)
{
	double s = *sum + x, bp = s - *sum;

	*comp += (*sum - (s - bp)) + (x - bp);
	*sum = s;
}

/* Add every task's partial sums into the full (ntap, nfreq, nchan) array and divide. */
static int
trial_save_merge(const char *workdir, int stage, uint32_t nparts, const struct io_spy_meta *m,
		 float **outp, char **cause)
{
	size_t cw = m->dtype == IO_SPY_COMPLEX64 ? 2 : 1, nc = (size_t)m->shape[3];
	size_t rows = (size_t)(m->shape[0] * m->shape[1] * m->shape[2]), len = rows * nc * cw;
	double *sum = xcalloc(len, sizeof *sum), *comp = xcalloc(len, sizeof *comp);
	uint64_t *count = xcalloc(nc, sizeof *count);
	float *out = NULL;
	int rc = 0;

	for (uint32_t u = 0; u < nparts && rc == 0; u++) {
		char *base = trial_part_base(workdir, stage, u), *npy = xasprintf("%s.npy", base);
		struct io_npy_header h;
		json_t *d = NULL, *part;
		double *v = NULL;
		size_t c0, k;

		rc = trial_part_load_json(base, &d, cause);
		if (rc == 0 && json_is_true(json_object_get(d, "empty"))) {
			json_decref(d);
			free(npy);
			free(base);
			continue;
		}
		if (rc == 0)
			rc = io_npy_read(npy, &h, (void **)&v, cause);
		part = json_object_get(d, "part");
		c0 = (size_t)json_integer_value(json_object_get(part, "chan0"));
		k = (size_t)json_integer_value(json_object_get(part, "nchan"));
		if (rc == 0 && (h.dtype != IO_NPY_F8 || h.ndim != 2 || h.shape[0] != 2 ||
				h.shape[1] != rows * k * cw || c0 + k > nc))
			rc = error_set(cause, -EBADMSG,
				       "%s does not hold the partial sums of "
				       "channels [%zu, +%zu)",
				       npy, c0, k);
		for (size_t r = 0; rc == 0 && r < rows; r++)
			for (size_t c = 0; c < k * cw; c++) {
				size_t dst = (r * nc + c0) * cw + c, src = r * k * cw + c;
				trial_save_two_sum(&sum[dst], &comp[dst], v[src]);
				comp[dst] += v[h.shape[1] + src];
			}
		for (size_t c = c0; rc == 0 && c < c0 + k; c++)
			count[c] += (uint64_t)json_integer_value(json_object_get(d, "count"));
		free(v);
		json_decref(d);
		free(npy);
		free(base);
	}
	for (size_t c = 0; rc == 0 && c < nc; c++)
		if (count[c] != count[0] || count[c] == 0)
			rc = error_set(cause, -EBADMSG,
				       "channel %zu averages %llu trials, channel 0 "
				       "%llu",
				       c, (unsigned long long)count[c],
				       (unsigned long long)count[0]);
	if (rc == 0) {
		out = xreallocarray(NULL, len, sizeof *out);
		for (size_t i = 0; i < len; i++)
			out[i] = (float)((sum[i] + comp[i]) / (double)count[(i / cw) % nc]);
	}
	free(sum);
	free(comp);
	free(count);
	*outp = out;
	return rc;
}

/* Write the container of stage `stage` into c's temporary directory: the merged average, or
 * the unit tasks' part files stitched (unless the tasks wrote it directly: then c names it
 * already). */
static int
trial_save_container(const char *workdir, int stage, uint32_t nparts, const char *output,
		     const struct trial_save_meta *k, const float *avg, struct io_spy_container *c,
		     char **cause)
{
	int rc = 0;

	if (avg == NULL)
		rc = trial_direct_final(workdir, stage, nparts, &k->m, output, c, cause);
	if (rc != 0 || c->tmpdir != NULL)
		return rc;
	rc = io_spy_container_begin(c, output, k->m.dataclass, NULL, cause);
	if (rc != 0)
		return rc;
	return avg != NULL ? io_spy_write(c->tmp, &k->m, avg, cause)
			   : trial_part_stitch(workdir, stage, nparts, &k->m, c->tmp, cause);
}

int
trial_save_final(const char *workdir, int stage, uint32_t nparts, const char *output,
		 json_t **result, char **cause)
{
	char *base = trial_part_base(workdir, stage, 0);
	const char *cls;
	struct trial_save_meta k = {0};
	struct io_spy_container c = {0};
	json_t *d = NULL;
	float *avg = NULL;
	int rc;

	rc = trial_part_load_json(base, &d, cause);
	cls = rc == 0 ? json_string_value(json_object_get(d, "class")) : NULL;
	if (cls != NULL &&
	    (strcmp(cls, "crossspectral") == 0 || strcmp(cls, "timelock") == 0)) {
		rc = strcmp(cls, "timelock") == 0
			 ? trial_save_timelock_final(workdir, stage, nparts, output, d, result, cause)
			 : trial_save_cross_final(workdir, stage, nparts, output, d, result, cause);
		json_decref(d);
		free(base);
		return rc;
	}
	if (rc == 0)
		rc = trial_save_meta_parse(d, base, &k, cause);
	if (rc == 0 && json_is_true(json_object_get(d, "average")))
		rc = trial_save_merge(workdir, stage, nparts, &k.m, &avg, cause);
	trial_run_h5_lock();
	if (rc == 0)
		rc = trial_save_container(workdir, stage, nparts, output, &k, avg, &c, cause);
	trial_run_h5_unlock();
	if (c.tmpdir != NULL)
		rc = io_spy_container_publish(&c, rc, cause);
	if (rc == 0) {
		json_t *shape = json_deep_copy(json_object_get(d, "shape"));
		*result = json_pack("{s:s, s:s, s:o}", "output", c.path, "class",
				    k.m.dataclass == IO_SPY_ANALOG ? "AnalogData" : "SpectralData",
				    "shape", shape);
	}
	io_spy_container_fini(&c);
	trial_save_meta_fini(&k);
	json_decref(d);
	free(avg);
	free(base);
	return rc;
}

/* Read a part file's whole `data` (float32) into buf of n values. */
static int
trial_save_read_part(const char *path, float *buf, size_t n, char **cause)
{
	hid_t f, d, s;
	hssize_t npts;
	int rc = 0;

	io_spy_h5_quiet();
	if ((f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT)) < 0)
		return error_set(cause, -EIO, "cannot open part file %s", path);
	if ((d = H5Dopen2(f, "data", H5P_DEFAULT)) < 0) {
		H5Fclose(f);
		return error_set(cause, -EIO, "part file %s has no dataset 'data'", path);
	}
	s = H5Dget_space(d);
	npts = H5Sget_simple_extent_npoints(s);
	if (npts < 0 || (size_t)npts != n)
		rc = error_set(cause, -EBADMSG, "part file %s holds %lld values, expected %zu",
			       path, (long long)npts, n);
	else if (H5Dread(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0)
		rc = error_set(cause, -EIO, "part file %s: cannot read 'data'", path);
	H5Sclose(s);
	H5Dclose(d);
	H5Fclose(f);
	return rc;
}

/* The layout a stage's description records (the whole data set after its steps). */
static int
trial_save_layout_parse(const json_t *d, const char *path, struct trial_layout *lay, char **cause)
{
	json_t *trl = json_object_get(d, "trl"), *ch = json_object_get(d, "channel");
	size_t cols = json_array_size(json_array_get(trl, 0));

	if (!json_is_array(trl) || json_array_size(trl) == 0 || cols < 3 || !json_is_array(ch))
		return error_set(cause, -EBADMSG, "%s: not the description of time series", path);
	memset(lay, 0, sizeof *lay);
	lay->fs = json_number_value(json_object_get(d, "samplerate"));
	lay->ntrials = json_array_size(trl);
	lay->nextra = cols - 3;
	lay->len = xcalloc(lay->ntrials + 1, sizeof *lay->len);
	lay->offset = xcalloc(lay->ntrials + 1, sizeof *lay->offset);
	lay->extra = xcalloc(lay->ntrials * lay->nextra + 1, sizeof *lay->extra);
	for (size_t i = 0; i < lay->ntrials; i++) {
		json_t *row = json_array_get(trl, i);
		lay->len[i] = (size_t)(json_number_value(json_array_get(row, 1)) -
				       json_number_value(json_array_get(row, 0)));
		lay->offset[i] = json_number_value(json_array_get(row, 2));
		for (size_t k = 0; k < lay->nextra; k++)
			lay->extra[i * lay->nextra + k] =
			    json_number_value(json_array_get(row, 3 + k));
	}
	lay->channel = trial_part_strings(ch, &lay->nchan);
	return 0;
}

int
trial_save_load_stage(struct trial_run *t, const char *workdir, int stage, uint32_t index,
		      char **cause)
{
	char *base = trial_part_base(workdir, stage, index), *h5 = xasprintf("%s.h5", base);
	json_t *d = NULL, *part;
	size_t total = 0;
	float *buf;
	int rc;

	rc = trial_part_load_json(base, &d, cause);
	if (rc == 0)
		rc = trial_save_layout_parse(d, base, &t->lay, cause);
	part = json_object_get(d, "part");
	if (rc == 0 && ((size_t)json_integer_value(json_object_get(part, "trial0")) != t->trial0 ||
			(size_t)json_integer_value(json_object_get(part, "ntrials")) != t->ntr ||
			(size_t)json_integer_value(json_object_get(part, "chan0")) != t->chan0 ||
			(size_t)json_integer_value(json_object_get(part, "nchan")) != t->nch))
		rc = error_set(cause, -EBADMSG, "%s covers other trials or channels than task %u",
			       base, index);
	if (rc == 0) {
		t->off = xcalloc(t->ntr + 1, sizeof *t->off);
		for (size_t i = 0; i < t->ntr; i++) {
			t->off[i] = total;
			total += t->lay.len[t->trial0 + i] * t->nch;
		}
		buf = xreallocarray(NULL, total + 1, sizeof *buf);
		trial_run_h5_lock();
		rc = trial_save_read_part(h5, buf, total, cause);
		trial_run_h5_unlock();
		t->data = buf;
		t->dtype = DSP_TRIAL_F32;
		t->kind = TRIAL_RUN_ANALOG;
		t->cfg = json_deep_copy(json_object_get(d, "cfg"));
	}
	json_decref(d);
	free(h5);
	free(base);
	return rc;
}
