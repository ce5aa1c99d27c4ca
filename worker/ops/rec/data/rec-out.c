/* Reading a recording pipeline's per-channel results in global steps (metrics, export): the
 * last unit stage's arrays mapped read-only with their sidecar, or the input channel itself. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "worker/ops/rec/data/rec-out.h"

#include "worker/ops/rec/data/rec-chan.h"
#include "worker/ops/rec/data/rec-task.h"

int
rec_out_open(struct op_run *run, size_t chan, struct rec_out *o, char **cause)
{
	const struct io_rec_header *h = run->rec->hdr;
	int src = run->rec->src_stage, rc;
	char *path;
	json_t *meta;

	memset(o, 0, sizeof *o);
	o->epochs.step = -1;
	snprintf(o->label, sizeof o->label, "%s", h->channels[chan].label);
	o->eeg = rec_chan_is_eeg(&h->channels[chan]);
	o->corrected = rec_chan_is_corrected(&h->channels[chan]);
	if (src < 0) {
		o->fs = h->channels[chan].rate;
		rc = io_rec_read_channel(run->rec->in, chan, &o->owned, &o->n, cause);
		o->x = o->owned;
		return rc;
	}
	rc = rec_chan_meta_load(run->spec.stage.workdir, src, chan, &o->fs, &o->epochs, &meta,
				cause);
	if (rc == 0 && json_is_boolean(json_object_get(meta, "corrected")))
		o->corrected = json_is_true(json_object_get(meta, "corrected"));
	if (rc == 0 && json_is_object(json_object_get(meta, "choices")))
		o->choices = json_incref(json_object_get(meta, "choices"));
	json_decref(meta);
	path = rec_chan_path(run->spec.stage.workdir, src, chan, "c");
	if (rc == 0 && (rc = io_npy_map_open(path, &o->map, cause)) == 0) {
		if (o->map.h.dtype != IO_NPY_F8 || o->map.h.ndim != 1)
			rc = error_set(cause, -EINVAL, "%s: expected a 1-d float64 array", path);
		o->x = o->map.data;
		o->n = o->map.h.count;
	}
	free(path);
	if (rc != 0)
		rec_out_close(o);
	return rc;
}

bool
rec_out_measured(const struct op_run *run, const struct rec_out *o)
{
	const struct io_rec_header *h = run->rec->hdr;
	bool any_eeg = false;

	for (size_t i = 0; i < h->n_channels && !any_eeg; i++)
		any_eeg = rec_chan_is_eeg(&h->channels[i]);
	return o->corrected && (o->eeg || !any_eeg);
}

void
rec_out_close(struct rec_out *o)
{
	io_npy_map_close(&o->map);
	free(o->owned);
	json_decref(o->choices);
	rec_epochs_fini(&o->epochs);
	memset(o, 0, sizeof *o);
}
