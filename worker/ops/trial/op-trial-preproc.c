/* preprocessing and resampledata as trial ops: the reference's parameter names, filters designed
 * once per task for the shortest trial of the whole input (so every task uses the same filter),
 * float32 results; resampledata rescales the layout (lengths, offsets, rate). */
#include "worker/ops/trial/op-trial-preproc.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/names.h"
#include "common/xmalloc.h"
#include "worker/dsp/spectral/dsp-preproc.h"
#include "worker/dsp/spectral/dsp-resampledata.h"
#include "worker/ops/spec/op-param.h"
#include "worker/ops/spec/op-run.h"
#include "worker/ops/trial/op-trial-param.h"

static const char *const op_trial_preproc_keys[] = {
    "filter_class", "filter_type", "freq",    "order",   "direction", "window",
    "polyremoval",  "zscore",      "rectify", "hilbert", NULL,
};

/* The filter a filter_class (but or firws) names: its type and its cutoff or band edges. */
static int
op_trial_preproc_filter(const json_t *step, const char *path, const char *cls, const char *type,
			struct dsp_preproc_params *p, char **cause)
{
	static const char *const types[] = {"lp", "hp", "bp", "bs"};
	static const enum dsp_filter_type type_of[] = {DSP_FILTER_LP, DSP_FILTER_HP, DSP_FILTER_BP,
						       DSP_FILTER_BS};
	json_t *freq = json_object_get(step, "freq");
	size_t nfreq;
	int k;

	if (strcmp(cls, "but") == 0)
		p->filter_class = DSP_PREPROC_BUT;
	else if (strcmp(cls, "firws") == 0)
		p->filter_class = DSP_PREPROC_FIRWS;
	else
		return error_set(cause, -EINVAL, "%s.filter_class: '%s' is not but or firws", path,
				 cls);
	if (type == NULL)
		return error_set(cause, -EINVAL, "%s.filter_type: required (lp, hp, bp, bs)", path);
	if ((k = names_find(type, types, NAMES_COUNT(types))) < 0)
		return error_set(cause, -EINVAL, "%s.filter_type: '%s' is not lp, hp, bp or bs",
				 path, type);
	p->filter_type = type_of[k];
	nfreq = p->filter_type == DSP_FILTER_BP || p->filter_type == DSP_FILTER_BS ? 2 : 1;
	if (nfreq == 1 && json_is_number(freq))
		p->freq[0] = json_number_value(freq);
	else if (json_is_array(freq) && json_array_size(freq) == nfreq &&
		 json_is_number(json_array_get(freq, 0)) &&
		 json_is_number(json_array_get(freq, nfreq - 1))) {
		p->freq[0] = json_number_value(json_array_get(freq, 0));
		p->freq[1] = json_number_value(json_array_get(freq, nfreq - 1));
	} else
		return error_set(cause, -EINVAL, "%s.freq: %s", path,
				 nfreq == 1 ? "required, a cutoff in Hz"
					    : "required, [low, high] band edges in Hz");
	if (!(p->freq[0] > 0) || (nfreq == 2 && !(p->freq[1] > p->freq[0])))
		return error_set(cause, -EINVAL, "%s.freq: must be positive%s", path,
				 nfreq == 2 ? " and increasing" : "");
	return 0;
}

/* The filter's direction (twopass, onepass; onepass-minphase for firws) and window. */
static int
op_trial_preproc_direction(const char *path, const char *dir, const char *win,
			   struct dsp_preproc_params *p, char **cause)
{
	static const char *const windows[] = {"hamming", "hann", "blackman"};
	static const enum dsp_taper_window window_of[] = {DSP_TAPER_HAMMING, DSP_TAPER_HANN,
							  DSP_TAPER_BLACKMAN};
	int k;

	if (strcmp(dir, "twopass") == 0)
		p->direction = DSP_FIRWS_TWOPASS;
	else if (strcmp(dir, "onepass") == 0)
		p->direction = DSP_FIRWS_ONEPASS;
	else if (strcmp(dir, "onepass-minphase") == 0 && p->filter_class == DSP_PREPROC_FIRWS)
		p->direction = DSP_FIRWS_ONEPASS_MINPHASE;
	else
		return error_set(cause, -EINVAL,
				 "%s.direction: '%s' is not twopass, onepass or "
				 "onepass-minphase (firws only)",
				 path, dir);
	if ((k = names_find(win, windows, NAMES_COUNT(windows))) < 0)
		return error_set(cause, -EINVAL, "%s.window: '%s' is not hamming, hann or blackman",
				 path, win);
	p->window = window_of[k];
	return 0;
}

static int
op_trial_preproc_parse(const json_t *step, const char *path, double fs,
		       struct dsp_preproc_params *p, char **cause)
{
	const char *cls, *type, *dir, *win, *hil;
	json_t *freq = json_object_get(step, "freq");
	long long order;

	dsp_preproc_params_init(p, fs);
	if (op_param_keys(step, path, op_trial_preproc_keys, cause) != 0 ||
	    op_param_string(step, path, "filter_class", 0, NULL, &cls, cause) != 0 ||
	    op_param_string(step, path, "filter_type", 0, NULL, &type, cause) != 0 ||
	    op_param_string(step, path, "direction", 0, "twopass", &dir, cause) != 0 ||
	    op_param_string(step, path, "window", 0, "hamming", &win, cause) != 0 ||
	    op_param_string(step, path, "hilbert", 0, NULL, &hil, cause) != 0 ||
	    op_param_int(step, path, "order", 0, 1, 100000000, 0, &order, cause) != 0 ||
	    op_trial_param_poly(step, path, "polyremoval", -1, &p->polyremoval, cause) != 0 ||
	    op_param_bool(step, path, "zscore", false, &p->zscore, cause) != 0 ||
	    op_param_bool(step, path, "rectify", false, &p->rectify, cause) != 0)
		return -EINVAL;
	p->order = (size_t)order;
	if (cls == NULL && (type != NULL || freq != NULL))
		return error_set(cause, -EINVAL,
				 "%s.filter_class: required with filter_type and "
				 "freq (but or firws)",
				 path);
	if (cls != NULL && op_trial_preproc_filter(step, path, cls, type, p, cause) != 0)
		return -EINVAL;
	if (op_trial_preproc_direction(path, dir, win, p, cause) != 0)
		return -EINVAL;
	if (hil != NULL && dsp_preproc_hilbert_parse(hil, &p->hilbert, cause) != 0)
		return op_trial_param_wrap(cause, -EINVAL, path);
	if (p->hilbert == DSP_PREPROC_HILBERT_COMPLEX)
		return error_set(cause, -EINVAL,
				 "%s.hilbert: complex output cannot be stored as "
				 "AnalogData (abs, real, imag, absreal, absimag, angle)",
				 path);
	if (p->rectify && p->hilbert != DSP_PREPROC_HILBERT_NONE)
		return error_set(cause, -EINVAL,
				 "%s.rectify: rectify and hilbert are mutually "
				 "exclusive",
				 path);
	return 0;
}

static int
op_trial_preproc_validate(const json_t *step, const char *path, char **cause)
{
	struct dsp_preproc_params p;

	return op_trial_preproc_parse(step, path, 1, &p, cause);
}

/* Run fn's trial kernel on a zero trial of n samples and one channel: per-trial errors (a trial
 * too short for the filter) surface at submit. */
typedef int (*op_trial_kernel_fn)(const void *k, const struct dsp_trial *x, float *out,
				  char **cause);

static int
op_trial_preproc_kernel(const void *k, const struct dsp_trial *x, float *out, char **cause)
{
	return dsp_preproc_trial(k, x, out, cause);
}

static int
op_trial_resample_kernel(const void *k, const struct dsp_trial *x, float *out, char **cause)
{
	return dsp_resampledata_trial(k, x, out, cause);
}

/* Every local trial through the kernel; outlen(k, n) rows each. Without data, one zero trial of
 * the shortest length instead. */
static int
op_trial_kernel_all(struct trial_run *t, const void *k, op_trial_kernel_fn fn, const size_t *newlen,
		    char **cause)
{
	size_t total = 0, *off = xcalloc(t->ntr + 1, sizeof *off);
	float *out;
	int rc = 0;

	if (!t->loaded) {
		size_t n = trial_layout_minlen(&t->lay), m = n;
		for (size_t i = 0; i < t->lay.ntrials; i++)
			if (t->lay.len[i] == n)
				m = newlen[i];
		double *z = xcalloc(n + 1, sizeof *z);
		float *o = xcalloc(m + 1, sizeof *o);
		struct dsp_trial x = {z, DSP_TRIAL_F64, n, 1, 0};
		rc = fn(k, &x, o, cause);
		free(z);
		free(o);
		free(off);
		return rc;
	}
	for (size_t i = 0; i < t->ntr; i++) {
		off[i] = total;
		total += newlen[t->trial0 + i] * t->nch;
	}
	out = xreallocarray(NULL, total + 1, sizeof *out);
	for (size_t i = 0; i < t->ntr && rc == 0; i++) {
		struct dsp_trial x;
		trial_run_view(t, i, &x);
		rc = trial_run_cancelled(t, cause);
		if (rc == 0)
			rc = fn(k, &x, out + off[i], cause);
	}
	trial_run_set_f32(t, out, off);
	return rc;
}

int
op_trial_preproc_apply(struct trial_run *t, const json_t *step, const char *path, char **cause)
{
	struct dsp_preproc_params p;
	struct dsp_preproc *pp = NULL;
	int rc;

	rc = op_trial_param_need_analog(t, path, "preprocessing", cause);
	if (rc == 0)
		rc = op_trial_preproc_parse(step, path, t->lay.fs, &p, cause);
	if (rc == 0 && (rc = dsp_preproc_new(&p, trial_layout_minlen(&t->lay), &pp, cause)) != 0)
		op_trial_param_wrap(cause, rc, path);
	if (rc == 0 &&
	    (rc = op_trial_kernel_all(t, pp, op_trial_preproc_kernel, t->lay.len, cause)) != 0)
		op_trial_param_wrap(cause, rc, path);
	if (rc == 0)
		trial_run_log_step(t, step);
	dsp_preproc_free(pp);
	return rc;
}

static const char *const op_trial_resample_keys[] = {"method", "resamplefs", "lpfreq", "order",
						     NULL};

static int
op_trial_resample_parse(const json_t *step, const char *path, double fs,
			struct dsp_resampledata_params *p, char **cause)
{
	static const char *const methods[] = {"downsample", "resample"};
	static const enum dsp_resampledata_method method_of[] = {DSP_RESAMPLEDATA_DOWNSAMPLE,
								 DSP_RESAMPLEDATA_RESAMPLE};
	const char *method;
	long long order;
	int k;

	memset(p, 0, sizeof *p);
	p->fs = fs;
	if (op_param_keys(step, path, op_trial_resample_keys, cause) != 0 ||
	    op_param_string(step, path, "method", 0, "resample", &method, cause) != 0 ||
	    op_param_number(step, path, "resamplefs", 1, 1e-9, 1e9, 0, &p->resamplefs, cause) !=
		0 ||
	    op_param_number(step, path, "lpfreq", 0, 0, 1e9, 0, &p->lpfreq, cause) != 0 ||
	    op_param_int(step, path, "order", 0, 2, 100000000, 0, &order, cause) != 0)
		return -EINVAL;
	p->order = (size_t)order;
	if ((k = names_find(method, methods, NAMES_COUNT(methods))) < 0)
		return error_set(cause, -EINVAL, "%s.method: '%s' is not downsample or resample",
				 path, method);
	p->method = method_of[k];
	if (p->method == DSP_RESAMPLEDATA_RESAMPLE && p->lpfreq != 0)
		return error_set(cause, -EINVAL,
				 "%s.lpfreq: only for method downsample (resample "
				 "filters itself)",
				 path);
	return 0;
}

static int
op_trial_resample_validate(const json_t *step, const char *path, char **cause)
{
	struct dsp_resampledata_params p;

	return op_trial_resample_parse(step, path, 1, &p, cause);
}

int
op_trial_resample_apply(struct trial_run *t, const json_t *step, const char *path, char **cause)
{
	struct dsp_resampledata_params p;
	struct dsp_resampledata *rs = NULL;
	size_t *newlen = NULL, up = 1, down = 1;
	int rc;

	rc = op_trial_param_need_analog(t, path, "resampledata", cause);
	if (rc == 0)
		rc = op_trial_resample_parse(step, path, t->lay.fs, &p, cause);
	if (rc == 0 &&
	    (rc = dsp_resampledata_new(&p, trial_layout_minlen(&t->lay), &rs, cause)) != 0)
		op_trial_param_wrap(cause, rc, path);
	if (rc == 0) {
		newlen = xcalloc(t->lay.ntrials + 1, sizeof *newlen);
		for (size_t i = 0; i < t->lay.ntrials; i++)
			newlen[i] = dsp_resampledata_outlen(rs, t->lay.len[i]);
		if ((rc = op_trial_kernel_all(t, rs, op_trial_resample_kernel, newlen, cause)) != 0)
			op_trial_param_wrap(cause, rc, path);
	}
	if (rc == 0) {
		dsp_resampledata_ratio(rs, &up, &down);
		for (size_t i = 0; i < t->lay.ntrials; i++) {
			t->lay.len[i] = newlen[i];
			t->lay.offset[i] = round(t->lay.offset[i] * (double)up / (double)down);
		}
		t->lay.fs = p.resamplefs;
		trial_run_log_step(t, step);
	}
	free(newlen);
	dsp_resampledata_free(rs);
	return rc;
}

const struct op_trial op_trial_preprocessing = OP_TRIAL_DEF(
    "preprocessing",
    "filter trials (but, firws; lp, hp, bp, bs), polyremoval, zscore, rectify, hilbert",
    op_trial_preproc_validate, op_trial_preproc_apply);

const struct op_trial op_trial_resampledata =
    OP_TRIAL_DEF("resampledata", "downsample (with an anti-alias low-pass) or resample trials",
		 op_trial_resample_validate, op_trial_resample_apply);
