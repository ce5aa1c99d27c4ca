/* The recording input runner ("edf", "bdf", "brainvision", "eeglab"): opens the recording for
 * every task through the recording-reader interface, picks the task's channels
 * (its channel group, or the reference channel of a run-once task), loads each channel from the
 * EDF or from the previous unit stage's files before the steps, and writes it back after them. */
#include "worker/ops/rec/data/rec-runner.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/paths.h"
#include "common/timeutil.h"
#include "common/xmalloc.h"
#include "worker/ops/rec/data/rec-chan.h"
#include "worker/ops/rec/data/rec-task.h"

/* Whether the pick_channels / drop_channels steps among the stage's steps leave channel `label`
 * corrected (it is by default). */
static bool
rec_runner_picked(const struct op_run *run, const char *label)
{
	const json_t *step;
	bool on = true;
	size_t i;

	json_array_foreach(run->spec.stage.steps, i, step)
	{
		const char *op = json_string_value(json_object_get(step, "op"));
		const json_t *a = json_object_get(step, "channels"), *v;
		bool listed = json_is_string(a) && strcmp(json_string_value(a), label) == 0;
		size_t k;

		if (strcmp(op, "pick_channels") != 0 && strcmp(op, "drop_channels") != 0)
			continue;
		json_array_foreach(a, k, v) listed |= strcmp(json_string_value(v), label) == 0;
		on = strcmp(op, "drop_channels") == 0 ? on && !listed : listed;
	}
	return on;
}

/* The run-once reference channel: the stage's ref_channel (the first aligner naming one), else
 * the first EEG channel the stage corrects, else the first ECG, EOG or EMG channel it does. */
static int
rec_runner_ref_channel(struct op_run *run, size_t *out, char **cause)
{
	const struct io_rec_header *h = run->rec->hdr;
	const char *label = run->spec.stage.ref_channel;
	int c;

	if (label != NULL) {
		if ((c = io_rec_channel_find(h, label)) < 0)
			return error_set(cause, -EINVAL, "ref_channel: no channel '%s' in %s",
					 label, h->path);
		*out = (size_t)c;
		return 0;
	}
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < h->n_channels; i++)
			if (rec_chan_role(&h->channels[i]) ==
				(pass == 0 ? REC_CHAN_EEG : REC_CHAN_BODY) &&
			    rec_runner_picked(run, h->channels[i].label)) {
				*out = i;
				return 0;
			}
	return error_set(cause, -EINVAL, "%s: no channel to align on (EEG, ECG, EOG or EMG)",
			 h->path);
}

static int
rec_runner_begin(struct op_run *run, char **cause)
{
	const struct task_stage *st = &run->spec.stage;
	struct rec_task *r = xcalloc(1, sizeof *r);
	int rc;

	run->rec = r;
	r->epochs.step = -1;
	r->timing = json_object();
	r->peak = json_object();
	r->path = json_string_value(json_object_get(st->input, "path"));
	r->kind = st->kind;
	r->stage = st->index;
	if (r->path == NULL || st->workdir == NULL)
		return error_set(cause, -EINVAL, "task spec: input.path or workdir missing");
	if ((rc = rec_task_open(r->path, json_string_value(json_object_get(st->input, "format")),
				&r->in, cause)) != 0)
		return rc;
	r->hdr = io_rec_header(r->in);
	r->src_stage = rec_chan_find_source(run->spec.stage.workdir, r->stage);
	if (r->kind == OP_UNIT) {
		size_t cpt = st->grid.chan_per_task;
		size_t first = (size_t)run->spec.index * (cpt > 0 ? cpt : 1);

		if (first >= r->hdr->n_channels)
			return error_set(cause, -EINVAL,
					 "task %u: no channels from %zu (%zu in %s)",
					 run->spec.index, first, r->hdr->n_channels, r->path);
		r->nchan = r->hdr->n_channels - first < cpt ? r->hdr->n_channels - first : cpt;
		r->chan = xcalloc(r->nchan, sizeof *r->chan);
		for (size_t i = 0; i < r->nchan; i++)
			r->chan[i].index = first + i;
	} else if (r->kind == OP_RUN_ONCE) {
		r->nchan = 1;
		r->chan = xcalloc(1, sizeof *r->chan);
		if ((rc = rec_runner_ref_channel(run, &r->chan[0].index, cause)) != 0)
			return rc;
	}
	return 0;
}

static size_t
rec_runner_parts(struct op_run *run)
{
	return run->rec->nchan > 0 ? run->rec->nchan : 1;
}

static int
rec_runner_load(struct op_run *run, size_t part, char **cause)
{
	struct rec_task *r = run->rec;
	double t0 = time_mono_s();
	size_t hwm = rec_task_hwm_kb();
	int rc;

	if (r->nchan == 0)
		return 0;
	r->cur = part;
	rc = rec_chan_load(r->in, run->spec.stage.workdir, r->chan[part].index, r->src_stage,
			   &r->chan[part], cause);
	rec_task_time(run, "load", time_mono_s() - t0);
	rec_task_peak(run, "load", hwm);
	return rc;
}

static int
rec_runner_save(struct op_run *run, size_t part, int rc, char **cause)
{
	struct rec_task *r = run->rec;
	double t0 = time_mono_s();

	if (r->nchan == 0)
		return 0;
	if (rc == 0 && r->kind == OP_UNIT) {
		rec_chan_noise_settle(&r->chan[part]);
		rc = rec_chan_save(run->spec.stage.workdir, r->stage, &r->chan[part], cause);
	}
	if (rc == 0 && r->kind == OP_RUN_ONCE) {
		if (run->result == NULL)
			run->result = json_object();
		json_object_set_new(run->result, "triggers",
				    rec_epochs_to_json(&r->chan[part].epochs));
		json_object_set_new(run->result, "reference_channel",
				    json_string(r->chan[part].label));
	}
	rec_chan_fini(&r->chan[part]);
	rec_task_time(run, "save", time_mono_s() - t0);
	return rc;
}

/* Each task leaves its timing and peaks in the work dir (timing/, memory/); the export step sums
 * the one and takes the largest of the other for the report. */
static void
rec_runner_save_timing(struct op_run *run)
{
	const char *what[] = {"timing", "memory"};
	json_t *v[] = {run->rec->timing, run->rec->peak};

	for (int i = 0; i < 2; i++) {
		char *dir = xasprintf("%s/%s", run->spec.stage.workdir, what[i]), *path;

		if (paths_mkdirs(dir, 0755, NULL) == 0) {
			path = xasprintf("%s/s%d-t%u.json", dir, run->rec->stage, run->spec.index);
			json_dump_file(v[i], path, JSON_COMPACT);
			free(path);
		}
		free(dir);
	}
}

static int
rec_runner_end(struct op_run *run, int rc, char **cause)
{
	struct rec_task *r = run->rec;

	if (r == NULL)
		return 0;
	if (rc == 0 && run->spec.stage.workdir != NULL && r->in != NULL)
		rec_runner_save_timing(run);
	for (size_t i = 0; i < r->nchan; i++)
		rec_chan_fini(&r->chan[i]);
	free(r->chan);
	rec_epochs_fini(&r->epochs);
	json_decref(r->timing);
	json_decref(r->peak);
	io_rec_close(r->in);
	free(r);
	run->rec = NULL;
	return 0;
}

/* One runner for every recording format: io_rec_open (through rec-task.c) tells them apart. */
#define REC_RUNNER_FORMAT(name)                                                                    \
	{                                                                                          \
		.format = (name), .begin = rec_runner_begin, .end = rec_runner_end,                \
		.parts = rec_runner_parts, .load = rec_runner_load, .save = rec_runner_save,       \
	}

const struct task_format rec_runner_format = REC_RUNNER_FORMAT("edf");
const struct task_format rec_runner_format_bdf = REC_RUNNER_FORMAT("bdf");
const struct task_format rec_runner_format_brainvision = REC_RUNNER_FORMAT("brainvision");
const struct task_format rec_runner_format_eeglab = REC_RUNNER_FORMAT("eeglab");
