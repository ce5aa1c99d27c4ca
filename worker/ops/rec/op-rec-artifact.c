/* Channel-wise gradient-artifact removal: aas (averaged artifact subtraction at the realigned
 * triggers), pca (optimal basis set on the residual), anc (adaptive noise cancellation with
 * the accumulated estimated noise as reference) and volume_artifact (the transitions at the
 * volume gaps). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/log.h"
#include "common/xmalloc.h"
#include "worker/dsp/fmri/dsp-aas.h"
#include "worker/dsp/fmri/dsp-anc.h"
#include "worker/dsp/fmri/dsp-metrics.h"
#include "worker/dsp/fmri/dsp-pca.h"
#include "worker/dsp/fmri/dsp-volume.h"
#include "worker/ops/rec/op-rec.h"
#include "worker/ops/rec/data/rec-motion.h"

/* `scale`: true, false or "auto"; the default is auto for the weighted modes, off for the
 * others (whose results stay those of the reference). */
static int
op_rec_aas_parse_scale(const json_t *step, const char *path, struct dsp_aas_params *p,
		       char **cause)
{
	const json_t *v = json_object_get(step, "scale");

	if (v == NULL)
		p->scale = p->mode == DSP_AAS_BLOCKS || p->mode == DSP_AAS_SLIDING
			       ? DSP_AAS_SCALE_OFF
			       : DSP_AAS_SCALE_AUTO;
	else if (json_is_boolean(v))
		p->scale = json_is_true(v) ? DSP_AAS_SCALE_ON : DSP_AAS_SCALE_OFF;
	else if (json_is_string(v) && strcmp(json_string_value(v), "auto") == 0)
		p->scale = DSP_AAS_SCALE_AUTO;
	else
		return error_set(cause, -EINVAL, "%s.scale: must be true, false or \"auto\"",
				 path);
	if (p->scale == DSP_AAS_SCALE_AUTO &&
	    (p->mode == DSP_AAS_BLOCKS || p->mode == DSP_AAS_SLIDING))
		return error_set(cause, -EINVAL,
				 "%s.scale: \"auto\" needs a weighted mode (nearest, farm, slice, "
				 "auto)",
				 path);
	return 0;
}

/* `shift`: fit each epoch's sub-sample shift with its scale (dsp-aas-auto.c); with scale "auto"
 * it refines the candidate chosen without it where its estimate is lower. Off by default (the
 * op's results stay those of plain AAS); the standard pipeline turns it on, with `realign` off:
 * the realignment to whole working samples on the first channel, which sees its EEG and QRS
 * complexes, moved the epochs by more than the shifts it left (deploy/examples/README.md). */
static int
op_rec_aas_parse_shift(const json_t *step, const char *path, struct dsp_aas_params *p,
		       char **cause)
{
	bool shift;

	if (op_param_bool(step, path, "shift", false, &shift, cause) != 0)
		return -EINVAL;
	if (shift && (p->scale == DSP_AAS_SCALE_OFF || p->mode == DSP_AAS_BLOCKS ||
		      p->mode == DSP_AAS_SLIDING))
		return error_set(cause, -EINVAL,
				 "%s.shift: needs a weighted mode with scale true or \"auto\"",
				 path);
	p->shift = shift;
	return 0;
}

int
op_rec_aas_parse(const json_t *step, const char *path, void *params, char **cause)
{
	static const char *const keys[] = {"window_size", "threshold", "mode", "realign", "scale",
					   "shift", "interpolate_gaps", "farm_threshold", "farm_range",
					   "band", "rp_file", "motion_threshold", NULL};
	static const char *const modes[] = {"blocks", "sliding", "nearest", "farm", "slice",
					    "auto", NULL};
	static const enum dsp_aas_mode mode_of[] = {DSP_AAS_BLOCKS, DSP_AAS_SLIDING,
						    DSP_AAS_NEAREST, DSP_AAS_FARM, DSP_AAS_SLICE,
						    DSP_AAS_AUTO};
	struct op_rec_aas_params *p = params;
	struct dsp_aas_params *a = &p->aas;
	long long w, range;
	bool gaps;
	int mode;

	dsp_aas_params_init(a);
	if (op_param_keys(step, path, keys, cause) != 0 ||
	    op_param_int(step, path, "window_size", 0, 1, 100000, 30, &w, cause) != 0 ||
	    op_param_number(step, path, "threshold", 0, -1, 1, a->threshold, &a->threshold,
			    cause) != 0 ||
	    op_param_enum(step, path, "mode", modes, 0, &mode, cause) != 0 ||
	    op_param_bool(step, path, "realign", true, &p->realign, cause) != 0 ||
	    op_param_bool(step, path, "interpolate_gaps", false, &gaps, cause) != 0 ||
	    op_param_number(step, path, "farm_threshold", 0, 0, 1, a->farm_threshold,
			    &a->farm_threshold, cause) != 0 ||
	    op_param_int(step, path, "farm_range", 0, 1, 1000, 3, &range, cause) != 0 ||
	    op_param_number(step, path, "band", 0, 1, 1e5, a->band, &a->band, cause) != 0 ||
	    op_param_string(step, path, "rp_file", 0, NULL, &p->rp_file, cause) != 0 ||
	    op_param_number(step, path, "motion_threshold", 0, 0, 1e3, a->motion_threshold,
			    &a->motion_threshold, cause) != 0 ||
	    op_param_bool(step, path, "_noise", true, &p->keep_noise, cause) != 0)
		return -EINVAL;
	a->window = (size_t)w;
	a->mode = mode_of[mode];
	a->interpolate_gaps = gaps;
	a->farm_range = (size_t)range;
	if (p->rp_file != NULL && a->mode != DSP_AAS_NEAREST && a->mode != DSP_AAS_SLICE &&
	    a->mode != DSP_AAS_AUTO)
		return error_set(cause, -EINVAL,
				 "%s.rp_file: motion segments need mode nearest, slice or auto",
				 path);
	if (op_rec_aas_parse_scale(step, path, a, cause) != 0)
		return -EINVAL;
	return op_rec_aas_parse_shift(step, path, a, cause);
}

/* The channel's estimated-noise array, or NULL when no later step uses it (`keep` false: the
 * graph builder found no anc after the step). */
static double *
op_rec_artifact_noise(struct rec_chan *c, bool keep)
{
	if (!keep) {
		free(c->noise);
		c->noise = NULL;
		return NULL;
	}
	if (c->noise == NULL)
		c->noise = xcalloc(c->n > 0 ? c->n : 1, sizeof *c->noise);
	return c->noise;
}

/* Set what a step chose for this channel under key `step` of its choices. Takes v. */
static void
op_rec_artifact_choice(struct rec_chan *c, const char *step, json_t *v)
{
	if (c->choices == NULL)
		c->choices = json_object();
	json_object_set_new(c->choices, step, v);
}

/* RMS (µV) of the templates subtracted, over the artifact epochs. */
static double
op_rec_artifact_removed_uv(const struct dsp_aas_templates *tp)
{
	double acc = 0;

	for (size_t i = 0; i < tp->nepochs; i++) {
		const double *t = dsp_aas_template(tp, i);
		double a = tp->scale != NULL ? tp->scale[i] : 1.0;

		for (size_t k = 0; k < tp->len; k++)
			acc += a * a * t[k] * t[k];
	}
	return tp->nepochs ? 1e6 * sqrt(acc / (double)(tp->nepochs * tp->len)) : 0;
}

static json_t *
op_rec_artifact_num(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

static json_t *
op_rec_artifact_choice_json(const struct dsp_aas_choice *ch, double removed_uv,
			    const struct dsp_aas_params *p)
{
	static const char *const names[] = {"blocks", "sliding", "nearest", "farm", "slice", "auto"};
	int weighted = p->mode != DSP_AAS_BLOCKS && p->mode != DSP_AAS_SLIDING;

	return json_pack("{s:s, s:I, s:b, s:o, s:o, s:b, s:o, s:o, s:o, s:I, s:o, s:f}",
			 "weighting",
			 names[weighted ? ch->mode : p->mode], "window",
			 (json_int_t)(weighted ? ch->window : p->window), "scaled", ch->scaled,
			 "scale_min", op_rec_artifact_num(ch->scaled ? ch->scale_min : 1),
			 "scale_max", op_rec_artifact_num(ch->scaled ? ch->scale_max : 1),
			 "shifted", ch->shifted, "shift_min",
			 op_rec_artifact_num(ch->shifted ? ch->shift_min : 0), "shift_max",
			 op_rec_artifact_num(ch->shifted ? ch->shift_max : 0), "shift_weight",
			 op_rec_artifact_num(ch->shifted ? ch->shift_weight : 0), "segments",
			 (json_int_t)(weighted ? ch->segments : 1), "vs_next_db",
			 op_rec_artifact_num(ch->error_db), "removed_uv", removed_uv);
}

static json_t *
op_rec_artifact_aas_choice(const struct dsp_aas_templates *tp, const struct dsp_aas_params *p)
{
	return op_rec_artifact_choice_json(&tp->choice, op_rec_artifact_removed_uv(tp), p);
}

void
op_rec_aas_choice_set(struct rec_chan *c, const struct dsp_aas_choice *ch, double removed_uv,
		      const struct dsp_aas_params *p)
{
	op_rec_artifact_choice(c, "aas", op_rec_artifact_choice_json(ch, removed_uv, p));
}

/* AAS's estimated noise, added to the channel's when a later step needs it (rec_noise_pending):
 * the templates and the triggers they were subtracted at. */
struct op_rec_aas_noise {
	struct dsp_aas_templates tp;
	int64_t *t;
	size_t nt;
	long s0;
};

static void
op_rec_aas_noise_add(void *ctx, double *noise, size_t n)
{
	struct op_rec_aas_noise *a = ctx;

	/* The same checks passed when the templates were subtracted: it cannot fail. */
	(void)dsp_aas_subtract(NULL, n, a->t, a->nt, a->s0, &a->tp, noise, NULL);
}

static void
op_rec_aas_noise_release(void *ctx)
{
	struct op_rec_aas_noise *a = ctx;

	dsp_aas_templates_fini(&a->tp);
	free(a->t);
	free(a);
}

/* Hand the templates *tp (left zeroed) subtracted at t[0..nt) to the channel as pending noise. */
static void
op_rec_aas_noise_defer(struct rec_chan *c, struct dsp_aas_templates *tp, const int64_t *t,
		       size_t nt, long s0)
{
	struct op_rec_aas_noise *a = xmalloc(sizeof *a);

	a->tp = *tp;
	memset(tp, 0, sizeof *tp);
	a->t = xmalloc((nt ? nt : 1) * sizeof *a->t);
	memcpy(a->t, t, nt * sizeof *a->t);
	a->nt = nt;
	a->s0 = s0;
	c->pending = (struct rec_noise_pending){
	    .ctx = a, .add = op_rec_aas_noise_add, .release = op_rec_aas_noise_release};
}

static int
op_rec_artifact_run_aas(struct op_run *run, struct rec_chan *c, const json_t *step, char **cause)
{
	struct rec_epochs *t = &c->epochs;
	const struct op_rec_aas_params *p = run->params;
	struct dsp_aas_params a = p->aas;
	struct dsp_aas_templates tp = {0};
	long s0 = rec_epochs_s0(t);
	const int64_t *t_sub = t->t_sub != NULL ? t->t_sub : t->t;
	double *motion = NULL;
	int rc;

	a.fs = c->fs;
	a.decim = t->fs0 > 0 ? (size_t)lround(c->fs / t->fs0) : 1;
	a.decim = a.decim ? a.decim : 1;
	a.slices_per_volume = t->volume_gaps ? t->slices_per_volume : 0;
	if (p->rp_file != NULL) {
		char *file = rec_motion_path(run->rec->path, p->rp_file);

		rc = rec_motion_read(file, &motion, &a.nmotion, cause);
		free(file);
		if (rc != 0)
			return error_wrap(cause, rc, "steps[%ld].rp_file: ", op_rec_step_index(step));
		a.motion = motion;
	}
	rc = dsp_aas_templates_make(&tp, c->x, c->n, t->t, t->n, t->L, s0, &a, cause);
	if (!p->keep_noise)
		op_rec_artifact_noise(c, false);
	/* The noise is added when a later step needs it: the working-rate noise and the
	 * templates are not held at once. */
	if (rc == 0)
		rc = dsp_aas_subtract(c->x, c->n, t_sub, t->n, s0, &tp, NULL, cause);
	if (rc == 0)
		op_rec_artifact_choice(c, "aas", op_rec_artifact_aas_choice(&tp, &a));
	if (rc == 0 && p->keep_noise)
		op_rec_aas_noise_defer(c, &tp, t_sub, t->n, s0);
	dsp_aas_templates_fini(&tp);
	free(motion);
	if (rc == 0 && t->t_sub != NULL) {
		/* Later steps work at the triggers the artifact was subtracted at. */
		free(t->t);
		t->t = t->t_sub;
		t->t_sub = NULL;
	}
	if (rc == 0)
		t->step = op_rec_step_index(step);
	return rc;
}

static int
op_rec_artifact_parse_pca(const json_t *step, const char *path, void *params, char **cause)
{
	static const char *const keys[] = {"n_components", "hp", "variant", "solver", "band_only",
					   NULL};
	static const char *const variants[] = {"obs", "reference", NULL};
	static const char *const solvers[] = {"gram", "gesdd", NULL};
	struct op_rec_pca_params *p = params;
	json_t *k = json_object_get(step, "n_components");
	int variant, solver;

	dsp_pca_params_init(&p->pca);
	if (op_param_keys(step, path, keys, cause) != 0 ||
	    op_param_number(step, path, "hp", 0, 0, 1e6, p->pca.hp, &p->pca.hp, cause) != 0 ||
	    op_param_enum(step, path, "variant", variants, 0, &variant, cause) != 0 ||
	    op_param_enum(step, path, "solver", solvers, 0, &solver, cause) != 0 ||
	    op_param_bool(step, path, "_noise", true, &p->keep_noise, cause) != 0)
		return -EINVAL;
	if (json_is_string(k) && strcmp(json_string_value(k), "auto") == 0) {
		p->pca.choose = 1;
	} else if (json_is_integer(k) && json_integer_value(k) >= 1 &&
		   json_integer_value(k) <= 10000) {
		p->pca.n_components = (double)json_integer_value(k);
		p->pca.exact = 1;
	} else if (json_is_real(k) && json_real_value(k) > 0 && json_real_value(k) <= 1) {
		p->pca.n_components = json_real_value(k);
	} else if (k != NULL) {
		return error_set(cause, -EINVAL,
				 "%s.n_components: must be a variance fraction in (0, 1], a "
				 "number of components (an integer >= 1) or \"auto\"",
				 path);
	}
	{
		bool band;

		if (op_param_bool(step, path, "band_only", p->pca.choose, &band, cause) != 0)
			return -EINVAL;
		p->pca.band_only = band;
	}
	p->pca.variant = variant == 1 ? DSP_PCA_REFERENCE : DSP_PCA_OBS;
	p->pca.solver = solver == 1 ? DSP_PCA_SOLVER_GESDD : DSP_PCA_SOLVER_GRAM;
	return 0;
}

static int
op_rec_artifact_run_pca(struct op_run *run, struct rec_chan *c, const json_t *step, char **cause)
{
	const struct op_rec_pca_params *p = run->params;
	struct rec_epochs *t = &c->epochs;
	struct dsp_pca_params q = p->pca;
	struct dsp_pca_result res;
	int rc;

	q.slices_per_volume = t->volume_gaps ? t->slices_per_volume : 0;
	rc = dsp_pca_apply(c->x, c->n, c->fs, t->t, t->n, t->L, &q,
			   op_rec_artifact_noise(c, p->keep_noise), &res, cause);
	if (rc == 0) {
		log_debug("pca: channel %s: %zu components (%.3f of the variance) over %zu epochs",
			  c->label, res.k, res.explained, res.epochs);
		op_rec_artifact_choice(
		    c, "pca",
		    json_pack("{s:I, s:o, s:o, s:b, s:f}", "components", (json_int_t)res.k,
			      "explained", op_rec_artifact_num(res.k ? res.explained : NAN),
			      "cv_gain_db", op_rec_artifact_num(res.cv_gain_db), "band_only",
			      q.band_only, "removed_uv", res.removed_uv));
	}
	return rc;
}

static int
op_rec_artifact_parse_anc(const json_t *step, const char *path, void *params, char **cause)
{
	static const char *const keys[] = {"hp",	 "order", "mu_factor", "max_gain",
					   "normalised", "judge", "band",      NULL};
	struct op_rec_anc_params *p = params;
	long long order;
	bool norm, judge;

	dsp_anc_params_init(&p->anc);
	if (op_param_keys(step, path, keys, cause) != 0 ||
	    op_param_number(step, path, "hp", 0, 0, 1e6, 0, &p->anc.hp, cause) != 0 ||
	    op_param_int(step, path, "order", 0, 0, 1000000, 0, &order, cause) != 0 ||
	    op_param_number(step, path, "mu_factor", 0, 0, 10, p->anc.mu_factor, &p->anc.mu_factor,
			    cause) != 0 ||
	    op_param_number(step, path, "max_gain", 0, 0, 1e12, p->anc.max_gain, &p->anc.max_gain,
			    cause) != 0 ||
	    op_param_bool(step, path, "normalised", false, &norm, cause) != 0 ||
	    op_param_bool(step, path, "judge", false, &judge, cause) != 0 ||
	    op_param_number(step, path, "band", 0, 1, 1e5, p->anc.band, &p->anc.band, cause) != 0)
		return -EINVAL;
	p->anc.normalised = norm;
	p->anc.judge = judge;
	p->anc.order = (size_t)order;
	p->hp_given = p->anc.hp > 0;
	return 0;
}

static int
op_rec_artifact_run_anc(struct op_run *run, struct rec_chan *c, const json_t *step, char **cause)
{
	const struct op_rec_anc_params *ap = run->params;
	struct rec_epochs *t = &c->epochs;
	struct dsp_anc_params p = ap->anc;
	struct dsp_anc_result res;
	int rc;

	if (c->noise == NULL)
		return error_set(cause, -EINVAL,
				 "steps[%ld]: anc needs the estimated noise of an aas or pca step "
				 "before it",
				 op_rec_step_index(step));
	if (!ap->hp_given)
		p.hp = dsp_anc_cutoff(dsp_metrics_slice_freq(t->t, t->n, c->fs));
	rc =
	    dsp_anc_apply(c->x, c->n, c->fs, c->noise, t->t, t->n, t->L, &p, c->noise, &res, cause);
	if (rc == 0 && res.skipped && !p.judge)
		log_warn("anc: channel %s skipped (gain %.3g)", c->label, res.gain);
	if (rc == 0)
		op_rec_artifact_choice(
		    c, "anc",
		    json_pack("{s:b, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:f}", "on",
			      !res.skipped, "harmonic_excess_uv",
			      op_rec_artifact_num(res.judged.excess_uv), "output_uv",
			      op_rec_artifact_num(res.judged.output_uv),
			      "gain", op_rec_artifact_num(res.gain), "mu",
			      op_rec_artifact_num(res.mu), "harmonics_before_db",
			      op_rec_artifact_num(res.judged.before_db), "harmonics_after_db",
			      op_rec_artifact_num(res.judged.after_db), "off_harmonic_db",
			      op_rec_artifact_num(res.judged.off_db), "alpha",
			      op_rec_artifact_num(res.alpha), "removed_uv", res.removed_uv));
	return rc;
}

static int
op_rec_artifact_parse_volume(const json_t *step, const char *path, void *params, char **cause)
{
	static const char *const keys[] = {"template_count", "weighting_position",
					   "weighting_slope", "interpolate", NULL};
	struct op_rec_volume_params *p = params;
	long long tc;
	bool interp;

	dsp_volume_params_init(&p->vol);
	if (op_param_keys(step, path, keys, cause) != 0 ||
	    op_param_int(step, path, "template_count", 0, 1, 1000, 5, &tc, cause) != 0 ||
	    op_param_number(step, path, "weighting_position", 0, 0, 1, 0.8, &p->vol.position,
			    cause) != 0 ||
	    op_param_number(step, path, "weighting_slope", 0, 1e-6, 1e6, 20, &p->vol.slope,
			    cause) != 0 ||
	    op_param_bool(step, path, "interpolate", true, &interp, cause) != 0)
		return -EINVAL;
	p->vol.templates = (size_t)tc;
	p->vol.interpolate = interp;
	return 0;
}

static int
op_rec_artifact_run_volume(struct op_run *run, struct rec_chan *c, const json_t *step, char **cause)
{
	const struct op_rec_volume_params *p = run->params;
	const struct rec_epochs *t = &c->epochs;
	struct dsp_volume_result res;
	int rc = dsp_volume_correct(c->x, c->n, t->t, t->n, t->L, rec_epochs_s0(t), &p->vol, &res,
				    cause);

	if (rc == 0)
		log_debug("volume_artifact: channel %s: %zu of %zu volume gaps corrected", c->label,
			  res.corrected, res.gaps);
	return rc;
}

const struct op_rec op_rec_aas = {
    .def = OP_REC_DEF(
	"aas", OP_UNIT,
	"averaged artifact subtraction (`window_size` epochs, correlation `threshold`, `mode` "
	"blocks|sliding; `realign` once on the reference channel)",
	struct op_rec_aas_params, op_rec_aas_parse),
    .flags = OP_REC_NEEDS_TRIGGERS,
    .chan = op_rec_artifact_run_aas,
};
const struct op_rec op_rec_pca = {
    .def =
	OP_REC_DEF("pca", OP_UNIT,
		   "optimal basis set: remove the leading `n_components` of the residual artifact",
		   struct op_rec_pca_params, op_rec_artifact_parse_pca),
    .flags = OP_REC_NEEDS_TRIGGERS,
    .chan = op_rec_artifact_run_pca,
};
const struct op_rec op_rec_anc = {
    .def = OP_REC_DEF("anc", OP_UNIT,
		      "adaptive noise cancellation with the estimated noise as reference",
		      struct op_rec_anc_params, op_rec_artifact_parse_anc),
    .flags = OP_REC_NEEDS_TRIGGERS,
    .chan = op_rec_artifact_run_anc,
};
const struct op_rec op_rec_volume_artifact = {
    .def = OP_REC_DEF("volume_artifact", OP_UNIT,
		      "volume-transition artifact at each volume gap: boundary slices minus their "
		      "`template_count` neighbours, logistic weights, gap interpolated",
		      struct op_rec_volume_params, op_rec_artifact_parse_volume),
    .flags = OP_REC_NEEDS_TRIGGERS,
    .chan = op_rec_artifact_run_volume,
};
