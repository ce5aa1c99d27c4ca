/* TimeLockData parts and their container. A unit task writes its time-locked trials as an HDF5
 * part in container coordinates and its statistics (count, mean, squared deviations, covariances)
 * as .npy, beside a description of the container; the final task stitches the trials into
 * `data` and merges the statistics part by part into `avg`, `var` and `cov`. */
#include "worker/ops/trial/data/trial-save-timelock.h"

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
#include "worker/ops/trial/data/trial-part.h"
#include "worker/ops/trial/data/trial-timelock.h"

static json_t *
trial_save_timelock_describe(const struct trial_run *t)
{
	const struct trial_layout *lay = &t->lay;
	const struct trial_timelock *s = t->tl;
	json_t *trl = json_array(), *ch = json_array();
	size_t n = s->nsamp;

	for (size_t i = 0; i < lay->ntrials; i++) {
		json_t *row = json_pack("[I, I, f]", (json_int_t)(i * n), (json_int_t)((i + 1) * n),
					lay->offset[i]);
		for (size_t k = 0; k < lay->nextra; k++)
			json_array_append_new(row, json_real(lay->extra[i * lay->nextra + k]));
		json_array_append_new(trl, row);
	}
	for (size_t c = 0; c < lay->nchan; c++)
		json_array_append_new(ch, json_string(lay->channel[c]));
	return json_pack("{s:s, s:s, s:[I, I], s:f, s:o, s:o, s:o, s:{s:b, s:b, s:i, s:I, s:I},"
			 " s:{s:I, s:I, s:I, s:I}}",
			 "class", "timelock", "dtype", "float32", "shape",
			 (json_int_t)(lay->ntrials * n), (json_int_t)lay->nchan, "samplerate",
			 lay->fs, "channel", ch, "trl", trl, "cfg",
			 t->cfg != NULL ? json_deep_copy(t->cfg) : json_object(), "timelock",
			 "covariance", s->covariance, "keeptrials", s->keeptrials, "ddof", s->ddof,
			 "nsamp", (json_int_t)n, "ntrials", (json_int_t)lay->ntrials, "part",
			 "trial0", (json_int_t)t->trial0, "ntrials", (json_int_t)t->ntr, "chan0",
			 (json_int_t)t->chan0, "nchan", (json_int_t)t->nch);
}

/* Container metadata from a description; arrays owned by the struct. */
struct trial_save_timelock_meta {
	struct io_spy_meta m;
	double *trl;
	char **channel;
	size_t nchannel;
	char *cfg;
};

static void
trial_save_timelock_meta_fini(struct trial_save_timelock_meta *k)
{
	trial_part_strings_free(k->channel, k->nchannel);
	free(k->trl);
	free(k->cfg);
}

static int
trial_save_timelock_meta(const json_t *d, struct trial_save_timelock_meta *k, char **cause)
{
	json_t *trl = json_object_get(d, "trl"), *ch = json_object_get(d, "channel");
	size_t cols = json_array_size(json_array_get(trl, 0));

	memset(k, 0, sizeof *k);
	if (json_array_size(trl) == 0 || cols < 3 || !json_is_array(ch))
		return error_set(cause, -EBADMSG, "not the description of time-locked parts");
	k->m.dataclass = IO_SPY_TIMELOCK;
	k->m.dtype = IO_SPY_FLOAT32;
	k->m.shape[0] = (uint64_t)json_integer_value(json_array_get(json_object_get(d, "shape"), 0));
	k->m.shape[1] = json_array_size(ch);
	k->m.samplerate = json_number_value(json_object_get(d, "samplerate"));
	k->trl = trial_part_trl(trl, &k->m.ntrials, &k->m.trl_cols);
	k->m.trl = k->trl;
	k->channel = trial_part_strings(ch, &k->nchannel);
	k->m.channel = (const char *const *)k->channel;
	k->cfg = json_dumps(json_object_get(d, "cfg"), JSON_COMPACT | JSON_SORT_KEYS);
	k->m.cfg_json = k->cfg;
	k->m.log = "computed by neurodag " ND_VERSION;
	return 0;
}

/* The task's trials as a part file (float32), and its statistics as .npy. */
static int
trial_save_timelock_files(const struct trial_run *t, const json_t *d, const char *base, char **cause)
{
	struct trial_save_timelock_meta k;
	uint64_t start[IO_SPY_MAX_RANK], count[IO_SPY_MAX_RANK];
	char *h5 = xasprintf("%s.h5", base), *tmp = paths_hidden_temp(h5, NULL);
	char *npy = xasprintf("%s.npy", base), *ntmp = paths_hidden_temp(npy, NULL);
	size_t len = trial_timelock_packed_len(t->tl), shape[1] = {len}, n = 0;
	double *v = xmalloc(len * sizeof *v + 1);
	float *f32 = NULL;
	struct io_spy_file *f = NULL;
	int rc;

	for (size_t i = 0; i < t->ntr; i++)
		n += t->lay.len[t->trial0 + i] * t->nch;
	if (t->dtype != DSP_TRIAL_F32) {
		f32 = xmalloc(n * sizeof *f32 + 1);
		for (size_t i = 0; i < n; i++)
			f32[i] = (float)((const double *)t->data)[i];
	}
	rc = trial_save_timelock_meta(d, &k, cause);
	trial_run_h5_lock();
	if (rc == 0)
		rc = io_spy_trials_slab(&k.m, t->trial0, t->ntr, t->chan0, t->nch, start, count,
					cause);
	if (rc == 0)
		rc = io_spy_part_create(&f, tmp, &k.m, start, count, cause);
	if (rc == 0)
		rc = io_spy_write_trials(f, t->trial0, t->ntr, t->chan0, t->nch,
					 f32 != NULL ? (const void *)f32 : t->data, cause);
	if (rc == 0) {
		rc = io_spy_close(f, cause);
		f = NULL;
	}
	io_spy_discard(f);
	trial_run_h5_unlock();
	rc = paths_publish(tmp, h5, rc, PATHS_WORK_FILE, cause);
	trial_timelock_pack(t->tl, v);
	if (rc == 0)
		rc = io_npy_write(ntmp, IO_NPY_F8, 1, shape, v, cause);
	rc = paths_publish(ntmp, npy, rc, PATHS_WORK_FILE, cause);
	trial_save_timelock_meta_fini(&k);
	free(f32);
	free(v);
	free(h5);
	free(tmp);
	free(npy);
	free(ntmp);
	return rc;
}

int
trial_save_timelock_unit(const struct trial_run *t, const char *base, char **cause)
{
	json_t *d = trial_save_timelock_describe(t);
	int rc = 0;

	if (t->ntr == 0 || t->nch == 0)
		json_object_set_new(d, "empty", json_true());
	else
		rc = trial_save_timelock_files(t, d, base, cause);
	if (rc == 0)
		rc = trial_part_json(d, base, cause);
	json_decref(d);
	return rc;
}

/* Merge every part's statistics into s (initialised for all channels and trials). */
static int
trial_save_timelock_merge(const char *workdir, int stage, uint32_t nparts, struct trial_timelock *s,
		    char **cause)
{
	int rc = 0;

	for (uint32_t u = 0; u < nparts && rc == 0; u++) {
		char *base = trial_part_base(workdir, stage, u), *npy = xasprintf("%s.npy", base);
		struct io_npy_header h;
		json_t *d = NULL, *part;
		double *v = NULL;
		size_t c0, nch, t0, ntr, ncov, want;

		rc = trial_part_load_json(base, &d, cause);
		part = json_object_get(d, "part");
		c0 = (size_t)json_integer_value(json_object_get(part, "chan0"));
		nch = (size_t)json_integer_value(json_object_get(part, "nchan"));
		t0 = (size_t)json_integer_value(json_object_get(part, "trial0"));
		ntr = (size_t)json_integer_value(json_object_get(part, "ntrials"));
		ncov = !s->covariance ? 0 : s->keeptrials ? ntr : 1;
		want = 1 + 2 * s->nsamp * nch + ncov * s->nchan * s->nchan;
		if (rc == 0 && !json_is_true(json_object_get(d, "empty"))) {
			rc = io_npy_read(npy, &h, (void **)&v, cause);
			if (rc == 0 && (h.dtype != IO_NPY_F8 || h.ndim != 1 || h.shape[0] != want ||
					c0 + nch > s->nchan || (s->keeptrials && t0 + ntr > s->ncov)))
				rc = error_set(cause, -EBADMSG,
					       "%s does not hold the statistics of channels [%zu, "
					       "+%zu)",
					       npy, c0, nch);
			if (rc == 0)
				trial_timelock_merge(s, v, c0, nch, ncov, t0);
		}
		free(v);
		json_decref(d);
		free(npy);
		free(base);
	}
	return rc;
}

/* Add avg, var (nsamp × nchan) and, with covariance, cov (nchan² or ntrials × nchan²). */
static int
trial_save_timelock_datasets(struct io_spy_file *f, const struct trial_timelock *s, char **cause)
{
	uint64_t shape2[2] = {s->nsamp, s->nchan}, shape3[3] = {s->ncov, s->nchan, s->nchan};
	float *avg, *var, *cov;
	int rc;

	trial_timelock_finalize(s, &avg, &var, &cov);
	rc = io_spy_add_dataset(f, "avg", 2, shape2, avg, cause);
	if (rc == 0)
		rc = io_spy_add_dataset(f, "var", 2, shape2, var, cause);
	if (rc == 0 && cov != NULL)
		rc = s->keeptrials ? io_spy_add_dataset(f, "cov", 3, shape3, cov, cause)
				   : io_spy_add_dataset(f, "cov", 2, shape3 + 1, cov, cause);
	free(avg);
	free(var);
	free(cov);
	return rc;
}

int
trial_save_timelock_final(const char *workdir, int stage, uint32_t nparts, const char *output,
		    const json_t *d0, json_t **result, char **cause)
{
	const json_t *tl = json_object_get(d0, "timelock");
	struct trial_save_timelock_meta k;
	struct trial_timelock s;
	struct io_spy_file *f = NULL;
	struct io_spy_container c = {0};
	size_t n = 0;
	char **parts = NULL;
	int rc;

	rc = trial_save_timelock_meta(d0, &k, cause);
	if (rc != 0)
		return rc;
	trial_timelock_init(&s, (size_t)json_integer_value(json_object_get(tl, "nsamp")),
			    k.nchannel, json_is_true(json_object_get(tl, "covariance")),
			    json_is_true(json_object_get(tl, "keeptrials")),
			    (int)json_integer_value(json_object_get(tl, "ddof")),
			    (size_t)json_integer_value(json_object_get(tl, "ntrials")));
	rc = trial_save_timelock_merge(workdir, stage, nparts, &s, cause);
	if (rc == 0)
		parts = trial_part_files(workdir, stage, nparts, &n);
	trial_run_h5_lock();
	if (rc == 0)
		rc = io_spy_container_begin(&c, output, IO_SPY_TIMELOCK, NULL, cause);
	if (rc == 0)
		rc = io_spy_create(&f, c.tmp, &k.m, cause);
	if (rc == 0)
		rc = io_spy_stitch_parts(f, (const char *const *)parts, n, cause);
	if (rc == 0)
		rc = trial_save_timelock_datasets(f, &s, cause);
	if (rc == 0) {
		rc = io_spy_close(f, cause);
		f = NULL;
	}
	io_spy_discard(f);
	trial_run_h5_unlock();
	if (c.tmpdir != NULL)
		rc = io_spy_container_publish(&c, rc, cause);
	if (rc == 0)
		*result = json_pack("{s:s, s:s, s:O}", "output", c.path, "class", "TimeLockData",
				    "shape", json_object_get(d0, "shape"));
	for (size_t u = 0; u < n; u++)
		free(parts[u]);
	free(parts);
	io_spy_container_fini(&c);
	trial_timelock_fini(&s);
	trial_save_timelock_meta_fini(&k);
	return rc;
}
