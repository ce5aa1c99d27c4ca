/* The pulse (ballistocardiogram) artifact: detect_rpeaks (global: the R peaks of the ECG channel
 * as the steps before left it, into the task's result and the report input) and the beat-locked
 * corrections of the other channels, pulse_aas (averaged subtraction over neighbouring beats)
 * and pulse_obs (optimal basis set with the components chosen from the data). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/error.h"
#include "common/log.h"
#include "common/xmalloc.h"
#include "worker/ops/rec/op-rec.h"
#include "worker/ops/rec/data/rec-out.h"
#include "worker/ops/rec/data/rec-report.h"

static bool
op_rec_pulse_is_ecg(const char *label)
{
	return strcasestr(label, "ECG") != NULL || strcasestr(label, "EKG") != NULL;
}

static int
op_rec_pulse_parse_rpeaks(const json_t *step, const char *path, void *params, char **cause)
{
	static const char *const keys[] = {"channel", "lo", "hi", "refractory", NULL};
	struct op_rec_rpeak_params *p = params;

	dsp_rpeak_params_init(&p->rpeak);
	if (op_param_keys(step, path, keys, cause) != 0 ||
	    op_param_string(step, path, "channel", 0, NULL, &p->channel, cause) != 0 ||
	    op_param_number(step, path, "lo", 0, 0.1, 1000, 5, &p->rpeak.lo, cause) != 0 ||
	    op_param_number(step, path, "hi", 0, 0.2, 1000, 25, &p->rpeak.hi, cause) != 0 ||
	    op_param_number(step, path, "refractory", 0, 0.06, 1.9, 0.25, &p->rpeak.refractory,
			    cause) != 0)
		return -EINVAL;
	if (p->rpeak.hi <= p->rpeak.lo)
		return error_set(cause, -EINVAL, "%s.hi: %g Hz is not above lo (%g Hz)", path,
				 p->rpeak.hi, p->rpeak.lo);
	return 0;
}

/* The ECG channel: `channel`, else the first whose label names ECG or EKG. */
static int
op_rec_pulse_ecg_channel(const struct op_run *run, const json_t *step, size_t *out, char **cause)
{
	const struct op_rec_rpeak_params *p = run->params;
	const struct io_rec_header *h = run->rec->hdr;
	int c;

	if (p->channel != NULL) {
		if ((c = io_rec_channel_find(h, p->channel)) < 0)
			return error_set(cause, -EINVAL,
					 "steps[%ld].channel: no channel '%s' in %s",
					 op_rec_step_index(step), p->channel, h->path);
		*out = (size_t)c;
		return 0;
	}
	for (size_t i = 0; i < h->n_channels; i++)
		if (op_rec_pulse_is_ecg(h->channels[i].label)) {
			*out = i;
			return 0;
		}
	return error_set(cause, -EINVAL,
			 "steps[%ld]: %s has no channel named ECG or EKG; name the ECG channel "
			 "with \"channel\"",
			 op_rec_step_index(step), h->path);
}

static json_t *
op_rec_pulse_peaks_json(const struct dsp_rpeak_result *res)
{
	json_t *a = json_array();

	for (size_t i = 0; i < res->n; i++)
		json_array_append_new(a, json_integer(res->peaks[i]));
	return a;
}

static int
op_rec_pulse_run_rpeaks(struct op_run *run, const json_t *step, char **cause)
{
	const struct op_rec_rpeak_params *p = run->params;
	struct dsp_rpeak_result res;
	struct rec_out o;
	json_t *rep;
	size_t ch = 0;
	int rc;

	if ((rc = op_rec_pulse_ecg_channel(run, step, &ch, cause)) != 0 ||
	    (rc = rec_out_open(run, ch, &o, cause)) != 0)
		return rc;
	rc = dsp_rpeak_detect(o.x, o.n, o.fs, &p->rpeak, &res, cause);
	if (rc == 0 && res.n < 3)
		rc = error_set(cause, -EINVAL, "%s: %zu R peaks found, 3 are needed", o.label,
			       res.n);
	if (rc != 0) {
		rec_out_close(&o);
		dsp_rpeak_result_fini(&res);
		return error_wrap(cause, rc, "steps[%ld]: ", op_rec_step_index(step));
	}
	log_info("detect_rpeaks: %zu R peaks on %s, median RR %.3f s (%zu dropped, %zu found "
		 "again)",
		 res.n, o.label, res.rr_median, res.removed, res.added);
	op_rec_result_set(
	    run, "r_peaks",
	    json_pack("{s:I, s:f, s:s, s:I, s:f, s:f, s:i, s:I, s:I, s:o}", "step",
		      (json_int_t)op_rec_step_index(step), "fs", o.fs, "channel", o.label, "count",
		      (json_int_t)res.n, "rr_median_s", res.rr_median, "heart_rate_bpm",
		      res.rr_median > 0 ? 60 / res.rr_median : 0.0, "polarity", res.polarity,
		      "removed", (json_int_t)res.removed, "added", (json_int_t)res.added, "samples",
		      op_rec_pulse_peaks_json(&res)));
	rep = json_pack("{s:f, s:s, s:o}", "fs", o.fs, "channel", o.label, "samples",
			op_rec_pulse_peaks_json(&res));
	if (run->rec->src_stage >= 0)
		json_object_set_new(rep, "before_stage", json_integer(run->rec->src_stage));
	rc = rec_report_put(run->spec.stage.workdir, "r_peaks", rep, cause);
	rec_out_close(&o);
	dsp_rpeak_result_fini(&res);
	return rc;
}

static int
op_rec_pulse_parse(const json_t *step, const char *path, void *params, char **cause, bool obs)
{
	static const char *const keys_aas[] = {"delay", "window", NULL};
	static const char *const keys_obs[] = {"delay",          "window",     "n_components",
					       "max_components", "null_draws", NULL};
	struct op_rec_pulse_params *p = params;
	const json_t *k = json_object_get(step, "n_components");
	long long w, mc, nd;

	dsp_pulse_obs_params_init(&p->obs);
	if (op_param_keys(step, path, obs ? keys_obs : keys_aas, cause) != 0 ||
	    op_param_number(step, path, "delay", 0, -1, 2, 0.21, &p->delay, cause) != 0 ||
	    op_param_int(step, path, "window", 0, 0, 100000, obs ? 0 : 21, &w, cause) != 0 ||
	    op_param_int(step, path, "max_components", 0, 0, 16, 8, &mc, cause) != 0 ||
	    op_param_int(step, path, "null_draws", 0, 1, 1000, 8, &nd, cause) != 0)
		return -EINVAL;
	if (!obs && w == 0)
		return error_set(cause, -EINVAL, "%s.window: pulse_aas averages 1 or more beats",
				 path);
	p->window = (size_t)w;
	p->obs.window = (size_t)w;
	p->obs.max_components = (size_t)mc;
	p->obs.null_draws = (size_t)nd;
	if (k != NULL && !(json_is_string(k) && strcmp(json_string_value(k), "auto") == 0) &&
	    !(json_is_integer(k) && json_integer_value(k) >= 0 && json_integer_value(k) <= 16))
		return error_set(cause, -EINVAL,
				 "%s.n_components: \"auto\" (chosen from the data) or 0 to 16",
				 path);
	p->obs.n_components = json_is_integer(k) ? (long)json_integer_value(k) : -1;
	return 0;
}

static int
op_rec_pulse_parse_aas(const json_t *step, const char *path, void *params, char **cause)
{
	return op_rec_pulse_parse(step, path, params, cause, false);
}

static int
op_rec_pulse_parse_obs(const json_t *step, const char *path, void *params, char **cause)
{
	return op_rec_pulse_parse(step, path, params, cause, true);
}

/* The beats of channel c from the newest R peaks before this step; 1 when c is the ECG (left
 * alone), 0, or -EINVAL. */
static int
op_rec_pulse_beats(const struct op_run *run, const struct rec_chan *c, const json_t *step,
		   struct dsp_pulse_beats *b, char **cause)
{
	const struct op_rec_pulse_params *p = run->params;
	const json_t *rp = op_rec_dep_newest(run, "r_peaks", op_rec_step_index(step)), *s;
	const char *ecg = json_string_value(json_object_get(rp, "channel"));
	double fs = json_number_value(json_object_get(rp, "fs"));
	int64_t *r;
	size_t n = 0, i;
	int rc;

	if (rp == NULL || !(fs > 0))
		return error_set(cause, -EINVAL, "no R peaks: put a detect_rpeaks step before %s",
				 json_string_value(json_object_get(step, "op")));
	if (op_rec_pulse_is_ecg(c->label) || (ecg != NULL && strcmp(ecg, c->label) == 0))
		return 1;
	r = xcalloc(json_array_size(json_object_get(rp, "samples")) + 1, sizeof *r);
	json_array_foreach(json_object_get(rp, "samples"), i, s)
	{
		int64_t v = (int64_t)llround((double)json_integer_value(s) * c->fs / fs);

		if (n == 0 || v > r[n - 1])
			r[n++] = v;
	}
	rc = dsp_pulse_beats_make(r, n, c->fs, p->delay, c->n, b, cause);
	free(r);
	return rc;
}

static int
op_rec_pulse_run_aas(struct op_run *run, struct rec_chan *c, const json_t *step, char **cause)
{
	const struct op_rec_pulse_params *p = run->params;
	struct dsp_pulse_beats b;
	int rc = op_rec_pulse_beats(run, c, step, &b, cause);

	if (rc != 0)
		return rc > 0 ? 0 : rc;
	rc = dsp_pulse_aas(c->x, c->n, &b, p->window, cause);
	dsp_pulse_beats_fini(&b);
	return rc;
}

static int
op_rec_pulse_run_obs(struct op_run *run, struct rec_chan *c, const json_t *step, char **cause)
{
	const struct op_rec_pulse_params *p = run->params;
	struct dsp_pulse_obs_result res;
	struct dsp_pulse_beats b;
	int rc = op_rec_pulse_beats(run, c, step, &b, cause);

	if (rc != 0)
		return rc > 0 ? 0 : rc;
	rc = dsp_pulse_obs(c->x, c->n, &b, &p->obs, &res, cause);
	if (rc == 0 && res.skipped)
		log_info("pulse_obs: channel %s: no beat-locked artifact (mean beat at %.2f of the "
			 "random-position null), left alone",
			 c->label, res.locked);
	else if (rc == 0)
		log_info("pulse_obs: channel %s: %zu components, %.2f uV removed (mean beat %.1f "
			 "times the null's energy)",
			 c->label, res.k, 1e6 * res.removed_rms, res.locked);
	dsp_pulse_beats_fini(&b);
	return rc;
}

const struct op_rec op_rec_detect_rpeaks = {
    .def = OP_REC_DEF("detect_rpeaks", OP_GLOBAL,
		      "R peaks of the ECG channel (`channel`, else the first named ECG/EKG) as the "
		      "steps before left it, robust to missed and extra beats",
		      struct op_rec_rpeak_params, op_rec_pulse_parse_rpeaks),
    .task = op_rec_pulse_run_rpeaks,
};
const struct op_rec op_rec_pulse_aas = {
    .def = OP_REC_DEF("pulse_aas", OP_UNIT,
		      "pulse artifact: subtract the average of the `window` nearest beats "
		      "(epochs `delay` s after each R peak)",
		      struct op_rec_pulse_params, op_rec_pulse_parse_aas),
    .chan = op_rec_pulse_run_aas,
};
const struct op_rec op_rec_pulse_obs = {
    .def = OP_REC_DEF("pulse_obs", OP_UNIT,
		      "pulse artifact: optimal basis set (mean beat and `n_components`, chosen "
		      "from the data by default) fitted to every beat",
		      struct op_rec_pulse_params, op_rec_pulse_parse_obs),
    .chan = op_rec_pulse_run_obs,
};
