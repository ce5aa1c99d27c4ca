/* A channel of a recording task and its files between stages: loaded from the input or from the
 * .npy arrays and JSON sidecar (rate, trigger state, estimated noise) a unit stage wrote, and
 * saved again after the steps. */
#include "worker/ops/rec/data/rec-chan.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/error.h"
#include "common/paths.h"
#include "common/xmalloc.h"
#include "worker/io/io-npy.h"

enum rec_chan_role
rec_chan_role(const struct io_rec_channel *c)
{
	static const char *const other[] = {"RESP", "STATUS", "STI", "TRIG", "EVENT", NULL};
	static const char *const body[] = {"EMG", "ECG", "EKG", "EOG", NULL};

	if (!c->is_voltage && c->unit[0] != '\0') /* "bpm", "%", ...; blank: by label */
		return REC_CHAN_OTHER;
	for (const char *const *o = other; *o != NULL; o++)
		if (strcasestr(c->label, *o) != NULL)
			return REC_CHAN_OTHER;
	for (const char *const *o = body; *o != NULL; o++)
		if (strcasestr(c->label, *o) != NULL)
			return REC_CHAN_BODY;
	return REC_CHAN_EEG;
}

bool
rec_chan_is_eeg(const struct io_rec_channel *c)
{
	return rec_chan_role(c) == REC_CHAN_EEG;
}

bool
rec_chan_is_corrected(const struct io_rec_channel *c)
{
	return rec_chan_role(c) != REC_CHAN_OTHER;
}

char *
rec_chan_path(const char *workdir, int stage, size_t chan, const char *what)
{
	return xasprintf("%s/u%d/%s%zu.%s", workdir, stage, what, chan,
			 strcmp(what, "meta") == 0 ? "json" : "npy");
}

int
rec_chan_find_source(const char *workdir, int stage)
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

static void
rec_chan_pending_drop(struct rec_chan *c)
{
	if (c->pending.ctx != NULL && c->pending.release != NULL)
		c->pending.release(c->pending.ctx);
	memset(&c->pending, 0, sizeof c->pending);
}

void
rec_chan_noise_settle(struct rec_chan *c)
{
	if (c->pending.ctx == NULL)
		return;
	if (c->noise == NULL)
		c->noise = xcalloc(c->n > 0 ? c->n : 1, sizeof *c->noise);
	c->pending.add(c->pending.ctx, c->noise, c->n);
	rec_chan_pending_drop(c);
}

void
rec_chan_fini(struct rec_chan *c)
{
	rec_chan_pending_drop(c);
	free(c->x);
	free(c->noise);
	c->x = c->noise = NULL;
	json_decref(c->choices);
	c->choices = NULL;
	rec_epochs_fini(&c->epochs);
}

static int
rec_chan_load_npy(const char *path, double **x, size_t *n, char **cause)
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
rec_chan_meta_load(const char *workdir, int src, size_t chan, double *fs, struct rec_epochs *epochs,
		   json_t **meta, char **cause)
{
	char *path = rec_chan_path(workdir, src, chan, "meta");
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
	if (t != NULL && (rc = rec_epochs_from_json(t, epochs, cause)) != 0) {
		json_decref(m);
		return rc;
	}
	*meta = m;
	return 0;
}

int
rec_chan_load(struct io_rec *in, const char *workdir, size_t index, int src,
	      struct rec_chan *c, char **cause)
{
	const struct io_rec_header *h = io_rec_header(in);
	char *path;
	json_t *meta;
	int rc;

	memset(c, 0, sizeof *c);
	c->epochs.step = -1;
	c->index = index;
	snprintf(c->label, sizeof c->label, "%s", h->channels[index].label);
	c->eeg = rec_chan_is_eeg(&h->channels[index]);
	c->corrected = rec_chan_is_corrected(&h->channels[index]);
	c->fs = h->channels[index].rate;
	if (src < 0)
		return io_rec_read_channel(in, index, &c->x, &c->n, cause);
	rc = rec_chan_meta_load(workdir, src, index, &c->fs, &c->epochs, &meta, cause);
	if (rc == 0 && json_is_boolean(json_object_get(meta, "corrected")))
		c->corrected = json_is_true(json_object_get(meta, "corrected"));
	if (rc == 0) {
		path = rec_chan_path(workdir, src, index, "c");
		rc = rec_chan_load_npy(path, &c->x, &c->n, cause);
		free(path);
	}
	if (rc == 0 && json_is_true(json_object_get(meta, "noise"))) {
		size_t nn;
		path = rec_chan_path(workdir, src, index, "n");
		rc = rec_chan_load_npy(path, &c->noise, &nn, cause);
		if (rc == 0 && nn != c->n)
			rc = error_set(cause, -EINVAL, "%s: %zu samples, expected %zu", path, nn,
				       c->n);
		free(path);
	}
	if (rc == 0 && json_is_object(json_object_get(meta, "choices")))
		c->choices = json_incref(json_object_get(meta, "choices"));
	json_decref(meta);
	if (rc != 0)
		rec_chan_fini(c);
	return rc;
}

/* Write to a temporary name and rename, so a retried task never leaves half a file. */
static int
rec_chan_save_npy(const char *path, const double *x, size_t n, char **cause)
{
	char *tmp = paths_hidden_temp(path, NULL);
	int rc = io_npy_write(tmp, IO_NPY_F8, 1, &n, x, cause);

	rc = paths_publish(tmp, path, rc, PATHS_WORK_FILE, cause);
	free(tmp);
	return rc;
}

int
rec_chan_save(const char *workdir, int stage, const struct rec_chan *c, char **cause)
{
	char *dir = xasprintf("%s/u%d", workdir, stage), *path;
	json_t *meta;
	int rc = paths_mkdirs(dir, 0755, cause);

	free(dir);
	if (rc != 0)
		return rc;
	path = rec_chan_path(workdir, stage, c->index, "c");
	rc = rec_chan_save_npy(path, c->x, c->n, cause);
	free(path);
	if (rc == 0 && c->noise != NULL) {
		path = rec_chan_path(workdir, stage, c->index, "n");
		rc = rec_chan_save_npy(path, c->noise, c->n, cause);
		free(path);
	}
	if (rc != 0)
		return rc;
	meta = json_pack("{s:s, s:f, s:I, s:b, s:b, s:b}", "label", c->label, "fs", c->fs, "n",
			 (json_int_t)c->n, "noise", c->noise != NULL, "eeg", c->eeg, "corrected",
			 c->corrected);
	if (c->epochs.step >= 0)
		json_object_set_new(meta, "triggers", rec_epochs_to_json(&c->epochs));
	if (c->choices != NULL)
		json_object_set(meta, "choices", c->choices);
	path = rec_chan_path(workdir, stage, c->index, "meta");
	rc = paths_publish_json(meta, path, JSON_COMPACT, PATHS_WORK_FILE, cause);
	json_decref(meta);
	free(path);
	return rc;
}
