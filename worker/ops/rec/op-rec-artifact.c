/* Channel-wise gradient-artifact removal: aas (averaged artifact subtraction at the realigned
 * triggers), pca (optimal basis set on the residual) and anc (adaptive noise cancellation with
 * the accumulated estimated noise as reference). */
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
#include "worker/ops/rec/op-rec.h"

int
op_rec_aas_validate_params(const json_t *step, const char *path, char **cause)
{
	static const char *const keys[] = {"window_size", "threshold", "mode", "realign", NULL};
	long long w;
	double th;
	const char *mode;
	bool realign;

	if (op_param_keys(step, path, keys, cause) != 0 ||
	    op_param_int(step, path, "window_size", 0, 1, 100000, 30, &w, cause) != 0 ||
	    op_param_number(step, path, "threshold", 0, -1, 1, 0.975, &th, cause) != 0 ||
	    op_param_string(step, path, "mode", 0, "blocks", &mode, cause) != 0 ||
	    op_param_bool(step, path, "realign", true, &realign, cause) != 0)
		return -EINVAL;
	if (strcmp(mode, "blocks") != 0 && strcmp(mode, "sliding") != 0)
		return error_set(cause, -EINVAL, "%s.mode: must be \"blocks\" or \"sliding\"",
				 path);
	return 0;
}

void
op_rec_aas_params(const json_t *step, struct dsp_aas_params *p)
{
	json_t *v;
	const char *mode = json_string_value(json_object_get(step, "mode"));

	p->window =
	    (v = json_object_get(step, "window_size")) != NULL ? (size_t)json_integer_value(v) : 30;
	p->threshold =
	    (v = json_object_get(step, "threshold")) != NULL ? json_number_value(v) : 0.975;
	p->mode = mode != NULL && strcmp(mode, "sliding") == 0 ? DSP_AAS_SLIDING : DSP_AAS_BLOCKS;
}

/* The channel's estimated-noise array, or NULL when no later step uses it ("_noise": false,
 * set by the graph builder when no anc follows). */
static double *
op_rec_artifact_noise(struct rec_chan *c, const json_t *step)
{
	if (json_is_false(json_object_get(step, "_noise"))) {
		free(c->noise);
		c->noise = NULL;
		return NULL;
	}
	if (c->noise == NULL)
		c->noise = xcalloc(c->n > 0 ? c->n : 1, sizeof *c->noise);
	return c->noise;
}

static int
op_rec_artifact_run_aas(struct op_run *run, struct rec_chan *c, const json_t *step, char **cause)
{
	struct rec_trig *t = &c->trig;
	struct dsp_aas_templates tp = {0};
	struct dsp_aas_params p;
	long s0 = rec_trig_s0(t);
	int rc;

	op_rec_aas_params(step, &p);
	rc = dsp_aas_templates_make(&tp, c->x, c->n, t->t, t->n, t->L, s0, &p, cause);
	if (rc == 0)
		rc = dsp_aas_subtract(c->x, c->n, t->t_sub != NULL ? t->t_sub : t->t, t->n, s0, &tp,
				      op_rec_artifact_noise(c, step), cause);
	dsp_aas_templates_fini(&tp);
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
op_rec_artifact_validate_pca(const json_t *step, const char *path, char **cause)
{
	static const char *const keys[] = {"n_components", "hp", "variant", "solver", NULL};
	json_t *k = json_object_get(step, "n_components");
	const char *variant, *solver;
	double hp;

	if (op_param_keys(step, path, keys, cause) != 0 ||
	    op_param_number(step, path, "hp", 0, 0, 1e6, 1.0, &hp, cause) != 0 ||
	    op_param_string(step, path, "variant", 0, "obs", &variant, cause) != 0 ||
	    op_param_string(step, path, "solver", 0, "gram", &solver, cause) != 0)
		return -EINVAL;
	if (k != NULL &&
	    !(json_is_integer(k) && json_integer_value(k) >= 1 && json_integer_value(k) <= 10000) &&
	    !(json_is_real(k) && json_real_value(k) > 0 && json_real_value(k) <= 1))
		return error_set(cause, -EINVAL,
				 "%s.n_components: must be a variance fraction in (0, 1] or a "
				 "number of components (an integer >= 1)",
				 path);
	if (strcmp(variant, "obs") != 0 && strcmp(variant, "reference") != 0)
		return error_set(cause, -EINVAL, "%s.variant: must be \"obs\" or \"reference\"",
				 path);
	if (strcmp(solver, "gram") != 0 && strcmp(solver, "gesdd") != 0)
		return error_set(cause, -EINVAL, "%s.solver: must be \"gram\" or \"gesdd\"", path);
	return 0;
}

static int
op_rec_artifact_run_pca(struct op_run *run, struct rec_chan *c, const json_t *step, char **cause)
{
	struct rec_trig *t = &c->trig;
	struct dsp_pca_params p;
	struct dsp_pca_result res;
	json_t *k = json_object_get(step, "n_components"), *v;
	int rc;
	const char *variant = json_string_value(json_object_get(step, "variant"));
	const char *solver = json_string_value(json_object_get(step, "solver"));

	dsp_pca_params_init(&p);
	if (json_is_integer(k)) {
		p.n_components = (double)json_integer_value(k);
		p.exact = 1;
	} else if (k != NULL) {
		p.n_components = json_real_value(k);
	}
	if ((v = json_object_get(step, "hp")) != NULL)
		p.hp = json_number_value(v);
	if (variant != NULL && strcmp(variant, "reference") == 0)
		p.variant = DSP_PCA_REFERENCE;
	if (solver != NULL && strcmp(solver, "gesdd") == 0)
		p.solver = DSP_PCA_SOLVER_GESDD;
	rc = dsp_pca_apply(c->x, c->n, c->fs, t->t, t->n, t->L, &p, op_rec_artifact_noise(c, step),
			   &res, cause);
	if (rc == 0)
		log_debug("pca: channel %s: %zu components (%.3f of the variance) over %zu epochs",
			  c->label, res.k, res.explained, res.epochs);
	return rc;
}

static int
op_rec_artifact_validate_anc(const json_t *step, const char *path, char **cause)
{
	static const char *const keys[] = {"hp", "order", "mu_factor", "max_gain", NULL};
	double x;
	long long o;

	if (op_param_keys(step, path, keys, cause) != 0 ||
	    op_param_number(step, path, "hp", 0, 0, 1e6, 0, &x, cause) != 0 ||
	    op_param_int(step, path, "order", 0, 0, 1000000, 0, &o, cause) != 0 ||
	    op_param_number(step, path, "mu_factor", 0, 0, 10, 0.05, &x, cause) != 0 ||
	    op_param_number(step, path, "max_gain", 0, 0, 1e12, 50, &x, cause) != 0)
		return -EINVAL;
	return 0;
}

static int
op_rec_artifact_run_anc(struct op_run *run, struct rec_chan *c, const json_t *step, char **cause)
{
	struct rec_trig *t = &c->trig;
	struct dsp_anc_params p;
	struct dsp_anc_result res;
	json_t *v;
	int rc;

	if (c->noise == NULL)
		return error_set(cause, -EINVAL,
				 "steps[%ld]: anc needs the estimated noise of an aas or pca step "
				 "before it",
				 op_rec_step_index(step));
	dsp_anc_params_init(&p);
	p.hp = dsp_anc_cutoff(dsp_metrics_slice_freq(t->t, t->n, c->fs));
	if ((v = json_object_get(step, "hp")) != NULL && json_number_value(v) > 0)
		p.hp = json_number_value(v);
	if ((v = json_object_get(step, "order")) != NULL)
		p.order = (size_t)json_integer_value(v);
	if ((v = json_object_get(step, "mu_factor")) != NULL)
		p.mu_factor = json_number_value(v);
	if ((v = json_object_get(step, "max_gain")) != NULL)
		p.max_gain = json_number_value(v);
	rc =
	    dsp_anc_apply(c->x, c->n, c->fs, c->noise, t->t, t->n, t->L, &p, c->noise, &res, cause);
	if (rc == 0 && res.skipped)
		log_warn("anc: channel %s skipped (gain %.3g)", c->label, res.gain);
	return rc;
}

const struct op_rec op_rec_aas = {
    {"aas", OP_UNIT,
     "averaged artifact subtraction (`window_size` epochs, correlation `threshold`, `mode` "
     "blocks|sliding; `realign` once on the reference channel)",
     op_rec_aas_validate_params, op_rec_run},
    OP_REC_NEEDS_TRIGGERS,
    op_rec_artifact_run_aas,
    NULL,
    NULL};
const struct op_rec op_rec_pca = {
    {"pca", OP_UNIT,
     "optimal basis set: remove the leading `n_components` of the residual artifact",
     op_rec_artifact_validate_pca, op_rec_run},
    OP_REC_NEEDS_TRIGGERS,
    op_rec_artifact_run_pca,
    NULL,
    NULL};
const struct op_rec op_rec_anc = {
    {"anc", OP_UNIT, "adaptive noise cancellation with the estimated noise as reference",
     op_rec_artifact_validate_anc, op_rec_run},
    OP_REC_NEEDS_TRIGGERS,
    op_rec_artifact_run_anc,
    NULL,
    NULL};
