/* Slice triggers of a recording: detect_triggers (annotation texts or stim-channel codes matched
 * with a POSIX extended regex; global) and the run-once aligners on the reference channel:
 * align_slices, align_subsample and aas_realign (the AAS realignment on the first channel). */
#include <errno.h>
#include <math.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/error.h"
#include "common/log.h"
#include "common/xmalloc.h"
#include "worker/dsp/fmri/dsp-aas.h"
#include "worker/dsp/fmri/dsp-trigger.h"
#include "worker/ops/rec/op-rec.h"

static int
op_rec_trigger_parse_detect(const json_t *step, const char *path, void *params, char **cause)
{
	static const char *const keys[] = {"regex", "offset", NULL};
	struct op_rec_detect_params *p = params;
	regex_t rx;
	int rc;

	if (op_param_keys(step, path, keys, cause) != 0 ||
	    op_param_string(step, path, "regex", 1, NULL, &p->regex, cause) != 0 ||
	    op_param_number(step, path, "offset", 0, -1, 1, 0, &p->offset, cause) != 0)
		return -EINVAL;
	if ((rc = regcomp(&rx, p->regex, REG_EXTENDED | REG_NOSUB)) != 0) {
		char msg[256];
		regerror(rc, &rx, msg, sizeof msg);
		return error_set(cause, -EINVAL, "%s.regex: '%s' is not a valid extended regex: %s",
				 path, p->regex, msg);
	}
	regfree(&rx);
	return 0;
}

/* Triggers from a stim/status channel: the onsets of non-zero codes that match. */
static int
op_rec_trigger_from_stim(struct rec_task *r, regex_t *rx, double fs0, int64_t **t, size_t *n,
			 char **cause)
{
	const struct io_rec_header *h = r->hdr;
	static const char *const names[] = {"STATUS", "STI", "TRIG", NULL};

	for (size_t c = 0; c < h->n_channels; c++) {
		double *x, prev = 0;
		size_t len, cap = 0;
		int rc, hit = 0;

		for (const char *const *nm = names; *nm != NULL; nm++)
			hit |= strcasestr(h->channels[c].label, *nm) != NULL;
		if (!hit)
			continue;
		if ((rc = io_rec_read_channel(r->in, c, &x, &len, cause)) != 0)
			return rc;
		for (size_t i = 0; i < len; i++) {
			long code = lround(x[i] / h->channels[c].volt_scale);
			char text[32];
			if (code != 0 && (double)code != prev) {
				snprintf(text, sizeof text, "%ld", code);
				if (regexec(rx, text, 0, NULL, 0) == 0) {
					if (*n == cap)
						*t = xreallocarray(*t, cap = cap ? 2 * cap : 1024,
								   sizeof **t);
					(*t)[(*n)++] =
					    llround((double)i * fs0 / h->channels[c].rate);
				}
			}
			prev = (double)code;
		}
		free(x);
		return 0;
	}
	return 0;
}

/* "'a', 'b', 'c'": up to five distinct annotation texts, for the no-match error. */
static char *
op_rec_trigger_examples(const struct io_rec_header *h)
{
	char *out = xstrdup("");
	size_t shown = 0;

	for (size_t i = 0; i < h->n_annotations && shown < 5; i++) {
		int seen = 0;
		for (size_t k = 0; k < i && !seen; k++)
			seen = strcmp(h->annotations[k].text, h->annotations[i].text) == 0;
		if (!seen) {
			char *next =
			    xasprintf("%s%s'%s'", out, *out ? ", " : "", h->annotations[i].text);
			free(out);
			out = next;
			shown++;
		}
	}
	return out;
}

static int
op_rec_trigger_run_detect(struct op_run *run, const json_t *step, char **cause)
{
	struct rec_task *r = run->rec;
	const struct io_rec_header *h = r->hdr;
	const struct op_rec_detect_params *p = run->params;
	const char *re = p->regex;
	struct dsp_trigger_info info;
	const json_t *crop;
	double fs0 = 0;
	int64_t *t = NULL;
	size_t n = 0, cap = 0;
	regex_t rx;
	int rc;

	for (size_t c = 0; c < h->n_channels && fs0 == 0; c++)
		if (rec_chan_is_corrected(&h->channels[c]))
			fs0 = h->channels[c].rate;
	if (fs0 == 0)
		return error_set(cause, -EINVAL,
				 "%s: no channel to correct (EEG, ECG, EOG or EMG in volts)",
				 r->path);
	if (regcomp(&rx, re, REG_EXTENDED | REG_NOSUB) != 0)
		return error_set(cause, -EINVAL, "steps[%ld].regex: invalid",
				 op_rec_step_index(step));
	for (size_t i = 0; i < h->n_annotations; i++) {
		if (regexec(&rx, h->annotations[i].text, 0, NULL, 0) != 0)
			continue;
		if (n == cap)
			t = xreallocarray(t, cap = cap ? 2 * cap : 1024, sizeof *t);
		t[n++] = llround(h->annotations[i].onset * fs0);
	}
	if (h->n_annotations == 0 &&
	    (rc = op_rec_trigger_from_stim(r, &rx, fs0, &t, &n, cause)) != 0) {
		regfree(&rx);
		free(t);
		return rc;
	}
	regfree(&rx);
	if (n == 0) {
		char *ex = op_rec_trigger_examples(h);
		rc = error_set(
		    cause, -EINVAL,
		    "steps[%ld].regex: no annotation of %s matches '%s' (%zu annotations%s%s)",
		    op_rec_step_index(step), r->path, re, h->n_annotations, *ex ? ", e.g. " : "",
		    ex);
		free(ex);
		return rc;
	}
	if (n < 2 || (rc = dsp_trigger_analyze(t, n, &info, NULL)) != 0) {
		free(t);
		return error_set(
		    cause, -EINVAL,
		    "steps[%ld].regex: '%s' matches %zu annotations, which do not form a "
		    "train of increasing slice triggers",
		    op_rec_step_index(step), re, n);
	}
	rec_epochs_fini(&r->epochs);
	r->epochs.step = op_rec_step_index(step);
	r->epochs.fs = r->epochs.fs0 = fs0;
	r->epochs.offset = p->offset;
	r->epochs.t = t;
	r->epochs.n = n;
	r->epochs.L = info.artifact_len;
	r->epochs.slices_per_volume = info.slices_per_volume;
	r->epochs.volume_gaps = info.volume_gaps;
	if ((crop = op_rec_dep_newest(run, "crop", op_rec_step_index(step))) != NULL &&
	    (rc = op_rec_crop_epochs(crop, &r->epochs, cause)) != 0)
		return error_wrap(cause, rc, "steps[%ld]: ", op_rec_step_index(step));
	n = r->epochs.n;
	log_info("detect_triggers: %zu triggers, L = %zu, %zu slices per volume", n, r->epochs.L,
		 r->epochs.slices_per_volume);
	op_rec_result_set(run, "triggers", rec_epochs_to_json(&r->epochs));
	op_rec_result_set(run, "detected", json_integer((json_int_t)n));
	return 0;
}

static int
op_rec_trigger_parse_align(const json_t *step, const char *path, void *params, char **cause)
{
	static const char *const keys[] = {"ref_index", "ref_channel", NULL};
	struct op_rec_align_params *p = params;
	long long ref;

	if (op_param_keys(step, path, keys, cause) != 0 ||
	    op_param_int(step, path, "ref_index", 0, 0, 100000000, 0, &ref, cause) != 0 ||
	    op_param_string(step, path, "ref_channel", 0, NULL, &p->ref_channel, cause) != 0)
		return -EINVAL;
	p->ref_index = (size_t)ref;
	return 0;
}

static int
op_rec_trigger_ref(const struct op_run *run, const struct rec_chan *c, const json_t *step,
		   size_t *ref, char **cause)
{
	const struct op_rec_align_params *p = run->params;

	*ref = p->ref_index;
	if (*ref >= c->epochs.n)
		return error_set(cause, -EINVAL,
				 "steps[%ld].ref_index: %zu is past the %zu triggers",
				 op_rec_step_index(step), *ref, c->epochs.n);
	return 0;
}

static int
op_rec_trigger_run_slices(struct op_run *run, struct rec_chan *c, const json_t *step, char **cause)
{
	struct rec_epochs *t = &c->epochs;
	struct dsp_trigger_info info;
	size_t ref;
	int rc;

	if ((rc = op_rec_trigger_ref(run, c, step, &ref, cause)) != 0)
		return rc;
	rc = dsp_trigger_align_slices(c->x, c->n, t->t, t->n, ref, t->L, rec_epochs_s0(t),
				      t->fs / t->fs0, &info, cause);
	if (rc != 0)
		return rc;
	t->L = info.artifact_len;
	t->slices_per_volume = info.slices_per_volume;
	t->volume_gaps = info.volume_gaps;
	rec_epochs_moved(t, op_rec_step_index(step));
	return 0;
}

static int
op_rec_trigger_run_subsample(struct op_run *run, struct rec_chan *c, const json_t *step,
			     char **cause)
{
	struct rec_epochs *t = &c->epochs;
	long *shifts;
	json_t *a;
	size_t ref;
	int rc;

	if ((rc = op_rec_trigger_ref(run, c, step, &ref, cause)) != 0)
		return rc;
	shifts = xcalloc(t->n, sizeof *shifts);
	rc = dsp_trigger_align_subsample(c->x, c->n, t->t, t->n, ref, t->L, t->offset, t->fs,
					 t->fs / t->fs0, shifts, cause);
	if (rc == 0) {
		a = json_array();
		for (size_t i = 0; i < t->n; i++)
			json_array_append_new(a, json_integer(shifts[i]));
		op_rec_result_set(run, "subsample_shifts", a);
		rec_epochs_moved(t, op_rec_step_index(step));
	}
	free(shifts);
	return rc;
}

static int
op_rec_trigger_run_realign(struct op_run *run, struct rec_chan *c, const json_t *step, char **cause)
{
	struct rec_epochs *t = &c->epochs;
	const struct op_rec_aas_params *p = run->params;
	struct dsp_aas_params a = p->aas;
	struct dsp_aas_templates tp = {0};
	long s0 = rec_epochs_s0(t);
	int rc;

	/* The weighted modes realign on plain templates of the W nearest other epochs: what they
	 * choose per channel is chosen after, on each channel's own data. */
	if (a.mode != DSP_AAS_BLOCKS && a.mode != DSP_AAS_SLIDING) {
		a.mode = DSP_AAS_NEAREST;
		a.scale = DSP_AAS_SCALE_OFF;
		a.motion = NULL;
		a.interpolate_gaps = 0;
	}
	rc = dsp_aas_templates_make(&tp, c->x, c->n, t->t, t->n, t->L, s0, &a, cause);
	if (rc == 0) {
		free(t->t_sub);
		t->t_sub = xmalloc(t->n * sizeof *t->t_sub);
		rc = dsp_aas_realign(c->x, c->n, t->t, t->n, s0, &tp, t->fs / t->fs0, t->t_sub,
				     cause);
		t->step = op_rec_step_index(step);
	}
	dsp_aas_templates_fini(&tp);
	return rc;
}

const struct op_rec op_rec_detect_triggers = {
    .def =
	OP_REC_DEF("detect_triggers", OP_GLOBAL,
		   "slice triggers from annotations matching `regex` (`offset`: artifact start, s)",
		   struct op_rec_detect_params, op_rec_trigger_parse_detect),
    .task = op_rec_trigger_run_detect,
};
const struct op_rec op_rec_align_slices = {
    .def = OP_REC_DEF(
	"align_slices", OP_RUN_ONCE,
	"align every slice trigger to trigger `ref_index` by cross-correlation (run once)",
	struct op_rec_align_params, op_rec_trigger_parse_align),
    .flags = OP_REC_NEEDS_TRIGGERS,
    .chan = op_rec_trigger_run_slices,
};
const struct op_rec op_rec_align_subsample = {
    .def = OP_REC_DEF("align_subsample", OP_RUN_ONCE,
		      "fine trigger alignment at the working rate (run once)",
		      struct op_rec_align_params, op_rec_trigger_parse_align),
    .flags = OP_REC_NEEDS_TRIGGERS,
    .chan = op_rec_trigger_run_subsample,
};
const struct op_rec op_rec_aas_realign = {
    .def =
	OP_REC_DEF("aas_realign", OP_RUN_ONCE,
		   "AAS trigger realignment on the reference channel (run once; added before aas)",
		   struct op_rec_aas_params, op_rec_aas_parse),
    .flags = OP_REC_NEEDS_TRIGGERS,
    .chan = op_rec_trigger_run_realign,
};
