/* epoch_offset (run once, on the reference channel): where the artifact epochs start, from the
 * data (dsp_onset_quiet), in place of a fixed `offset` of detect_triggers; every later step
 * and channel adopts it with the trigger state. */
#include <errno.h>
#include <math.h>

#include "common/error.h"
#include "common/log.h"
#include "worker/dsp/fmri/dsp-onset.h"
#include "worker/ops/rec/op-rec.h"

static int
op_rec_offset_parse(const json_t *step, const char *path, void *params, char **cause)
{
	static const char *const keys[] = {NULL};

	(void)params;
	return op_param_keys(step, path, keys, cause);
}

static int
op_rec_offset_run(struct op_run *run, struct rec_chan *c, const json_t *step, char **cause)
{
	struct rec_epochs *t = &c->epochs;
	struct dsp_onset o;
	int rc;

	if ((rc = dsp_onset_quiet(c->x, c->n, t->t, t->n, c->fs, &o, cause)) != 0)
		return error_wrap(cause, rc, "steps[%ld]: ", op_rec_step_index(step));
	t->offset = (double)o.offset / c->fs;
	t->step = op_rec_step_index(step);
	log_info("epoch_offset: %.2f ms (quiet %.1f of %.1f ms)", 1e3 * t->offset,
		 1e3 * (double)o.quiet / c->fs, 1e3 * (double)o.cycle / c->fs);
	op_rec_result_set(run, "epoch_offset",
			  json_pack("{s:f, s:f, s:f}", "offset_s", t->offset, "quiet_s",
				    (double)o.quiet / c->fs, "cycle_s", (double)o.cycle / c->fs));
	return 0;
}

struct op_rec_offset_params {
	int unused;
};

const struct op_rec op_rec_epoch_offset = {
    .def = OP_REC_DEF("epoch_offset", OP_RUN_ONCE,
		      "start the artifact epochs in the middle of the slice cycle's quiet part "
		      "before each trigger (run once)",
		      struct op_rec_offset_params, op_rec_offset_parse),
    .flags = OP_REC_NEEDS_TRIGGERS,
    .chan = op_rec_offset_run,
};
