/* The "edf" / "bdf" input runner: opens the recording for every task, picks the task's channels
 * (its channel group, or the reference channel of a run-once task), loads each channel from the
 * EDF or from the previous unit stage's files, and after the steps writes it back as .npy with a
 * small JSON sidecar (rate, trigger state) that later stages and the export read. */
#include "worker/ops/rec/rec-run.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/error.h"
#include "common/log.h"
#include "common/paths.h"
#include "common/timeutil.h"
#include "common/xmalloc.h"
#include "worker/io/io-npy.h"
#include "worker/ops/task-format.h"

bool
rec_run_is_eeg(const struct io_edf_channel *c)
{
	static const char *const other[] = {"EMG",    "ECG", "EKG",  "EOG",   "RESP",
					    "STATUS", "STI", "TRIG", "EVENT", NULL};

	if (!c->is_voltage && c->dimension[0] != '\0') /* "bpm", "%", ...; blank: by label */
		return false;
	for (const char *const *o = other; *o != NULL; o++)
		if (strcasestr(c->label, *o) != NULL)
			return false;
	return true;
}

int
rec_run_open_edf(const char *path, struct io_edf_file **out, char **cause)
{
	for (int tries = 0;; tries++) {
		char *c2 = NULL;
		int rc = io_edf_open(path, out, &c2);

		if (rc != -EBUSY || tries >= 6000) {
			if (rc != 0)
				error_set(cause, rc, "%s", c2);
			free(c2);
			return rc;
		}
		free(c2);
		nanosleep(&(struct timespec){0, 10000000}, NULL);
	}
}

char *
rec_run_chan_path(const char *workdir, int stage, size_t chan, const char *what)
{
	return xasprintf("%s/u%d/%s%zu.%s", workdir, stage, what, chan,
			 strcmp(what, "meta") == 0 ? "json" : "npy");
}

int
rec_run_find_source(const char *workdir, int stage)
{
	for (int s = stage - 1; s >= 0; s--) {
		char *d = xasprintf("%s/u%d", workdir, s);
		struct stat st;
		int ok = stat(d, &st) == 0 && S_ISDIR(st.st_mode);

		free(d);
		if (ok)
			return s;
	}
	return -1;
}

void
rec_run_chan_fini(struct rec_chan *c)
{
	free(c->x);
	free(c->noise);
	c->x = c->noise = NULL;
	rec_trig_fini(&c->trig);
}

static int
rec_run_load_npy(const char *path, double **x, size_t *n, char **cause)
{
	struct io_npy_header h;
	void *data;
	int rc = io_npy_read(path, &h, &data, cause);

	if (rc != 0)
		return rc;
	if (h.dtype != IO_NPY_F8 || h.ndim != 1) {
		free(data);
		return error_set(cause, -EINVAL, "%s: expected a 1-d float64 array", path);
	}
	*x = data;
	*n = h.count;
	return 0;
}

int
rec_run_meta_load(const char *workdir, int src, size_t chan, double *fs, struct rec_trig *trig,
		  json_t **meta, char **cause)
{
	char *path = rec_run_chan_path(workdir, src, chan, "meta");
	json_t *m = json_load_file(path, 0, NULL), *t;
	int rc;

	*meta = NULL;
	if (m == NULL) {
		rc = error_set(cause, -EIO, "%s: missing or unreadable", path);
		free(path);
		return rc;
	}
	free(path);
	*fs = json_number_value(json_object_get(m, "fs"));
	t = json_object_get(m, "triggers");
	if (t != NULL && (rc = rec_trig_from_json(t, trig, cause)) != 0) {
		json_decref(m);
		return rc;
	}
	*meta = m;
	return 0;
}

int
rec_run_chan_load(struct op_run *run, size_t index, int src, struct rec_chan *c, char **cause)
{
	const struct io_edf_header *h = run->rec->hdr;
	char *path;
	json_t *meta;
	int rc;

	memset(c, 0, sizeof *c);
	c->trig.step = -1;
	c->index = index;
	snprintf(c->label, sizeof c->label, "%s", h->channels[index].label);
	c->eeg = rec_run_is_eeg(&h->channels[index]);
	c->fs = h->channels[index].rate;
	if (src < 0)
		return io_edf_read_channel(run->rec->edf, index, &c->x, &c->n, cause);
	rc = rec_run_meta_load(run->spec.stage.workdir, src, index, &c->fs, &c->trig, &meta, cause);
	if (rc == 0) {
		path = rec_run_chan_path(run->spec.stage.workdir, src, index, "c");
		rc = rec_run_load_npy(path, &c->x, &c->n, cause);
		free(path);
	}
	if (rc == 0 && json_is_true(json_object_get(meta, "noise"))) {
		size_t nn;
		path = rec_run_chan_path(run->spec.stage.workdir, src, index, "n");
		rc = rec_run_load_npy(path, &c->noise, &nn, cause);
		if (rc == 0 && nn != c->n)
			rc = error_set(cause, -EINVAL, "%s: %zu samples, expected %zu", path, nn,
				       c->n);
		free(path);
	}
	json_decref(meta);
	if (rc != 0)
		rec_run_chan_fini(c);
	return rc;
}

/* Write to a temporary name and rename, so a retried task never leaves half a file. */
static int
rec_run_save_npy(const char *path, const double *x, size_t n, char **cause)
{
	char *tmp = xasprintf("%s.tmp%d", path, (int)getpid());
	int rc = io_npy_write(tmp, IO_NPY_F8, 1, &n, x, cause);

	if (rc == 0 && rename(tmp, path) != 0)
		rc = error_set(cause, -errno, "cannot rename %s: %s", tmp, strerror(errno));
	if (rc != 0)
		unlink(tmp);
	free(tmp);
	return rc;
}

static int
rec_run_chan_save(struct op_run *run, struct rec_chan *c, char **cause)
{
	char *dir = xasprintf("%s/u%d", run->spec.stage.workdir, run->rec->stage), *path, *tmp;
	json_t *meta;
	int rc = paths_mkdirs(dir, 0755, cause);

	free(dir);
	if (rc != 0)
		return rc;
	path = rec_run_chan_path(run->spec.stage.workdir, run->rec->stage, c->index, "c");
	rc = rec_run_save_npy(path, c->x, c->n, cause);
	free(path);
	if (rc == 0 && c->noise != NULL) {
		path = rec_run_chan_path(run->spec.stage.workdir, run->rec->stage, c->index, "n");
		rc = rec_run_save_npy(path, c->noise, c->n, cause);
		free(path);
	}
	if (rc != 0)
		return rc;
	meta = json_pack("{s:s, s:f, s:I, s:b, s:b}", "label", c->label, "fs", c->fs, "n",
			 (json_int_t)c->n, "noise", c->noise != NULL, "eeg", c->eeg);
	if (c->trig.step >= 0)
		json_object_set_new(meta, "triggers", rec_trig_to_json(&c->trig));
	path = rec_run_chan_path(run->spec.stage.workdir, run->rec->stage, c->index, "meta");
	tmp = xasprintf("%s.tmp%d", path, (int)getpid());
	if (json_dump_file(meta, tmp, JSON_COMPACT) != 0 || rename(tmp, path) != 0)
		rc = error_set(cause, -EIO, "cannot write %s", path);
	json_decref(meta);
	free(tmp);
	free(path);
	return rc;
}

/* The run-once reference channel: the stage's ref_channel (the first aligner naming one), else
 * the first EEG channel. */
static int
rec_run_ref_channel(struct op_run *run, size_t *out, char **cause)
{
	const struct io_edf_header *h = run->rec->hdr;
	const char *label = run->spec.stage.ref_channel;
	int c;

	if (label != NULL) {
		if ((c = io_edf_channel_find(h, label)) < 0)
			return error_set(cause, -EINVAL, "ref_channel: no channel '%s' in %s",
					 label, h->path);
		*out = (size_t)c;
		return 0;
	}
	for (size_t i = 0; i < h->n_channels; i++)
		if (rec_run_is_eeg(&h->channels[i])) {
			*out = i;
			return 0;
		}
	return error_set(cause, -EINVAL, "%s: no EEG channel to align on", h->path);
}

static int
rec_run_begin(struct op_run *run, char **cause)
{
	const struct task_stage *st = &run->spec.stage;
	struct rec_run *r = xcalloc(1, sizeof *r);
	int rc;

	run->rec = r;
	r->trig.step = -1;
	r->timing = json_object();
	r->path = json_string_value(json_object_get(st->input, "path"));
	r->kind = st->kind;
	r->stage = st->index;
	if (r->path == NULL || st->workdir == NULL)
		return error_set(cause, -EINVAL, "task spec: input.path or workdir missing");
	if ((rc = rec_run_open_edf(r->path, &r->edf, cause)) != 0)
		return rc;
	r->hdr = io_edf_header(r->edf);
	r->src_stage = rec_run_find_source(run->spec.stage.workdir, r->stage);
	if (r->kind == OP_UNIT) {
		size_t cpt = st->grid.chan_per_task;
		size_t first = (size_t)run->spec.index * (cpt > 0 ? cpt : 1);

		if (first >= r->hdr->n_channels)
			return error_set(cause, -EINVAL,
					 "task %u: no channels from %zu (%zu in %s)", run->spec.index,
					 first, r->hdr->n_channels, r->path);
		r->nchan = r->hdr->n_channels - first < cpt ? r->hdr->n_channels - first : cpt;
		r->chan = xcalloc(r->nchan, sizeof *r->chan);
		for (size_t i = 0; i < r->nchan; i++)
			r->chan[i].index = first + i;
	} else if (r->kind == OP_RUN_ONCE) {
		r->nchan = 1;
		r->chan = xcalloc(1, sizeof *r->chan);
		if ((rc = rec_run_ref_channel(run, &r->chan[0].index, cause)) != 0)
			return rc;
	}
	return 0;
}

static size_t
rec_run_parts(struct op_run *run)
{
	return run->rec->nchan > 0 ? run->rec->nchan : 1;
}

static int
rec_run_load(struct op_run *run, size_t part, char **cause)
{
	struct rec_run *r = run->rec;
	double t0 = time_mono_s();
	int rc;

	if (r->nchan == 0)
		return 0;
	r->cur = part;
	rc = rec_run_chan_load(run, r->chan[part].index, r->src_stage, &r->chan[part], cause);
	rec_run_time(run, "load", time_mono_s() - t0);
	return rc;
}

static int
rec_run_save(struct op_run *run, size_t part, int rc, char **cause)
{
	struct rec_run *r = run->rec;
	double t0 = time_mono_s();

	if (r->nchan == 0)
		return 0;
	if (rc == 0 && r->kind == OP_UNIT)
		rc = rec_run_chan_save(run, &r->chan[part], cause);
	if (rc == 0 && r->kind == OP_RUN_ONCE) {
		if (run->result == NULL)
			run->result = json_object();
		json_object_set_new(run->result, "triggers", rec_trig_to_json(&r->chan[part].trig));
		json_object_set_new(run->result, "reference_channel",
				    json_string(r->chan[part].label));
	}
	rec_run_chan_fini(&r->chan[part]);
	rec_run_time(run, "save", time_mono_s() - t0);
	return rc;
}

/* Each task leaves its timing in the work dir; the export step sums them for the report. */
static void
rec_run_save_timing(struct op_run *run)
{
	char *dir = xasprintf("%s/timing", run->spec.stage.workdir), *path;

	if (paths_mkdirs(dir, 0755, NULL) == 0) {
		path = xasprintf("%s/s%d-t%u.json", dir, run->rec->stage, run->spec.index);
		json_dump_file(run->rec->timing, path, JSON_COMPACT);
		free(path);
	}
	free(dir);
}

static int
rec_run_end(struct op_run *run, int rc, char **cause)
{
	struct rec_run *r = run->rec;

	if (r == NULL)
		return 0;
	if (rc == 0 && run->spec.stage.workdir != NULL && r->edf != NULL)
		rec_run_save_timing(run);
	for (size_t i = 0; i < r->nchan; i++)
		rec_run_chan_fini(&r->chan[i]);
	free(r->chan);
	rec_trig_fini(&r->trig);
	json_decref(r->timing);
	io_edf_close(r->edf);
	free(r);
	run->rec = NULL;
	return 0;
}

void
rec_run_time(struct op_run *run, const char *op, double seconds)
{
	json_t *v = json_object_get(run->rec->timing, op);

	json_object_set_new(run->rec->timing, op,
			    json_real((v != NULL ? json_number_value(v) : 0) + seconds));
}

const struct task_format rec_run_format = {
    .format = "edf",
    .begin = rec_run_begin,
    .end = rec_run_end,
    .parts = rec_run_parts,
    .load = rec_run_load,
    .save = rec_run_save,
};

const struct task_format rec_run_format_bdf = {
    .format = "bdf",
    .begin = rec_run_begin,
    .end = rec_run_end,
    .parts = rec_run_parts,
    .load = rec_run_load,
    .save = rec_run_save,
};
