/* The step wrapper the recording ops share (trigger-state sync before the step, per-channel or
 * per-task dispatch, carried-through channels skipped, per-op timing) and their small helpers:
 * step index, inline results, upstream results, available memory. */
#include "worker/ops/rec/op-rec.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/timeutil.h"

long
op_rec_step_index(const json_t *step)
{
	return (long)json_integer_value(json_object_get(step, "index"));
}

void
op_rec_result_set(struct op_run *run, const char *key, json_t *v)
{
	if (run->result == NULL)
		run->result = json_object();
	json_object_set_new(run->result, key, v);
}

const json_t *
op_rec_dep_newest(const struct op_run *run, const char *key, long step)
{
	const json_t *best = NULL, *v;
	const char *k;
	long best_step = -1;

	json_object_foreach((json_t *)run->deps, k, v)
	{
		const json_t *r = json_object_get(v, key);
		long s;

		if (!json_is_object(r))
			continue;
		s = (long)json_integer_value(json_object_get(r, "step"));
		if (s <= step && s > best_step) {
			best = r;
			best_step = s;
		}
	}
	return best;
}

size_t
op_rec_mem_available(void)
{
	return rec_task_proc_kb("/proc/meminfo", "MemAvailable") * 1024;
}

int
op_rec_run(struct op_run *run, const json_t *step, char **cause)
{
	const char *name = json_string_value(json_object_get(step, "op"));
	const struct op_rec *op = (const struct op_rec *)run->op;
	struct rec_task *r = run->rec;
	long idx = op_rec_step_index(step);
	double t0 = time_mono_s();
	size_t hwm = rec_task_hwm_kb();
	int rc;

	if (r == NULL)
		return error_set(cause, -EINVAL,
				 "op '%s' needs a recording input (format edf or bdf)", name);
	if (op->def.kind == OP_GLOBAL || r->nchan == 0) {
		if ((rc = rec_epochs_sync(run, idx, 0, &r->epochs, cause)) != 0)
			return rc;
		if ((op->flags & OP_REC_NEEDS_TRIGGERS) && r->epochs.step < 0)
			return error_set(cause, -EINVAL,
					 "no triggers: put a detect_triggers step before %s", name);
		rc = op->task != NULL ? op->task(run, step, cause) : 0;
	} else {
		struct rec_chan *c = &r->chan[r->cur];

		if (!c->corrected && !(op->flags & OP_REC_ALL_CHANNELS))
			return 0;
		if (idx <= r->window_through) /* done in windows by the upsample before it */
			return 0;
		if (!(op->flags & OP_REC_NOISE_PENDING))
			rec_chan_noise_settle(c);
		if ((rc = rec_epochs_sync(run, idx, c->fs, &c->epochs, cause)) != 0)
			return rc;
		if ((op->flags & OP_REC_NEEDS_TRIGGERS) && c->epochs.step < 0)
			return error_set(cause, -EINVAL,
					 "no triggers: put a detect_triggers step before %s", name);
		rc = op->chan != NULL ? op->chan(run, c, step, cause) : 0;
		if (rc != 0)
			error_wrap(cause, rc, "channel %s: ", c->label);
	}
	/* Steps run in windows from this one timed themselves. */
	rec_task_time(run, name, time_mono_s() - t0 - r->window_s);
	r->window_s = 0;
	rec_task_peak(run, name, hwm);
	return rc;
}
