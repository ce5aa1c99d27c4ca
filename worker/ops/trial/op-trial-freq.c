/* freqanalysis as a trial op: the keywords every method shares (with the reference's names and
 * checks), the dispatch by method, and method mtmfft (padding, averaging only equal trials,
 * DPSS NW and K from the mean trial length, per-trial spectra or the task's trial sums). The
 * time-frequency methods are in op-trial-mtmconvol.c and op-trial-wavelet.c. */
#include "worker/ops/trial/op-trial-freq.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/xmalloc.h"
#include "worker/dsp/spectral/dsp-mtmfft.h"
#include "worker/ops/trial/op-trial-tfr.h"

/* Every keyword of the reference's freqanalysis; those a method does not use are ignored, as
 * the reference ignores them (with a warning). */
static const char *const op_trial_freq_keys[] = {
    "method",      "output",    "keeptrials", "foi",       "foilim",    "pad",
    "polyremoval", "taper",     "taper_opt",  "tapsmofrq", "nTaper",    "keeptapers",
    "toi",         "t_ftimwin", "wavelet",    "width",     "order",     "order_max",
    "order_min",   "c_1",       "adaptive",   "ft_compat", "demean_taper", NULL,
};

struct op_trial_freq {
	struct op_trial_freq_common c;
	struct dsp_mtmfft_params p;
};

static int
op_trial_freq_pad(const json_t *step, const char *path, struct dsp_mtmfft_params *p, char **cause)
{
	json_t *v = json_object_get(step, "pad");

	if (v == NULL || (json_is_string(v) && strcmp(json_string_value(v), "maxperlen") == 0))
		p->pad = DSP_MTMFFT_PAD_MAXPERLEN;
	else if (json_is_string(v) && strcmp(json_string_value(v), "nextpow2") == 0)
		p->pad = DSP_MTMFFT_PAD_NEXTPOW2;
	else if (json_is_number(v) && json_number_value(v) > 0 && json_number_value(v) < 1e6) {
		p->pad = DSP_MTMFFT_PAD_SECONDS;
		p->pad_seconds = json_number_value(v);
	} else
		return error_set(cause, -EINVAL,
				 "%s.pad: must be \"maxperlen\", \"nextpow2\" or a "
				 "length in seconds",
				 path);
	return 0;
}

static int
op_trial_freq_list(const json_t *v, const char *path, const char *key, double *out, size_t max,
		   size_t *n, char **cause)
{
	if (!json_is_array(v) || json_array_size(v) == 0 || json_array_size(v) > max)
		return error_set(cause, -EINVAL,
				 "%s.%s: must be a list of 1 to %zu frequencies (Hz)", path, key,
				 max);
	for (size_t i = 0; i < json_array_size(v); i++) {
		json_t *x = json_array_get(v, i);
		if (!json_is_number(x) || !(json_number_value(x) >= 0) ||
		    !isfinite(json_number_value(x)))
			return error_set(cause, -EINVAL,
					 "%s.%s[%zu]: must be a frequency >= 0 (Hz)", path, key, i);
		out[i] = json_number_value(x);
	}
	*n = json_array_size(v);
	return 0;
}

static int
op_trial_freq_taper(const json_t *step, const char *path, struct op_trial_freq_common *c,
		    char **cause)
{
	json_t *topt = json_object_get(step, "taper_opt");
	const char *taper;

	/* taper null is the reference's None: no taper (boxcar). */
	taper = json_is_null(json_object_get(step, "taper")) ? "none" : NULL;
	if (taper == NULL && op_param_string(step, path, "taper", 0, "hann", &taper, cause) != 0)
		return -EINVAL;
	if (dsp_taper_window_parse(taper, &c->taper, cause) != 0 || c->taper == DSP_TAPER_DPSS) {
		free(*cause);
		*cause = NULL;
		return error_set(cause, -EINVAL,
				 "%s.taper: '%s' is not a window (none/boxcar, hann, "
				 "hamming, blackman, kaiser; multitapering with tapsmofrq)",
				 path, taper);
	}
	if (topt != NULL && !json_is_null(topt)) {
		json_t *beta = json_object_get(topt, "beta");
		if (!json_is_object(topt) || json_object_size(topt) != 1 || !json_is_number(beta))
			return error_set(cause, -EINVAL,
					 "%s.taper_opt: must be {\"beta\": number} "
					 "(kaiser)",
					 path);
		c->kaiser_beta = json_number_value(beta);
	} else if (c->taper == DSP_TAPER_KAISER) {
		return error_set(cause, -EINVAL, "%s.taper_opt: kaiser needs {\"beta\": number}",
				 path);
	}
	if (c->tapsmofrq > 0 && c->taper != DSP_TAPER_HANN)
		return error_set(cause, -EINVAL,
				 "%s.tapsmofrq: multitapering (dpss) replaces the "
				 "taper, which must stay hann (the default), not '%s'",
				 path, taper);
	return 0;
}

int
op_trial_freq_common(const json_t *step, const char *path, struct op_trial_freq_common *c,
		     char **cause)
{
	json_t *foi = json_object_get(step, "foi"), *foilim = json_object_get(step, "foilim");
	const char *output;
	long long ntaper;

	memset(c, 0, sizeof *c);
	if (op_param_keys(step, path, op_trial_freq_keys, cause) != 0 ||
	    op_param_string(step, path, "method", 0, "mtmfft", &c->method, cause) != 0 ||
	    op_param_string(step, path, "output", 0, "pow", &output, cause) != 0 ||
	    (!json_is_null(json_object_get(step, "tapsmofrq")) &&
	     op_param_number(step, path, "tapsmofrq", 0, 1e-9, 1e9, 0, &c->tapsmofrq, cause) != 0) ||
	    (!json_is_null(json_object_get(step, "nTaper")) &&
	     op_param_int(step, path, "nTaper", 0, 1, 10000, 0, &ntaper, cause) != 0) ||
	    op_param_bool(step, path, "keeptrials", true, &c->keeptrials, cause) != 0 ||
	    op_param_bool(step, path, "keeptapers", false, &c->keeptapers, cause) != 0 ||
	    op_trial_param_poly(step, path, "polyremoval", 0, &c->polyremoval, cause) != 0 ||
	    op_trial_freq_taper(step, path, c, cause) != 0)
		return -EINVAL;
	if (json_is_null(json_object_get(step, "nTaper")))
		ntaper = 0;
	if (ntaper > 0 && c->tapsmofrq == 0)
		return error_set(cause, -EINVAL, "%s.nTaper: needs tapsmofrq (multitapering)",
				 path);
	c->ntaper = (size_t)ntaper;
	if (dsp_mtmfft_output_parse(output, &c->output, cause) != 0)
		return op_trial_param_wrap(cause, -EINVAL, path);
	c->output_name = output;
	if (c->tapsmofrq > 0 && !c->keeptapers && c->output != DSP_MTMFFT_POW)
		return error_set(cause, -EINVAL,
				 "%s.keeptapers: Invalid value of `output|keeptapers`: "
				 "'%s'|False; expected 'pow'|False or '%s'|True, set either "
				 "keeptapers=True or `output='pow'`!",
				 path, output, output);
	if (foi != NULL && !json_is_null(foi) && foilim != NULL && !json_is_null(foilim))
		return error_set(cause, -EINVAL,
				 "%s.foilim: Invalid value of `foi/foilim`: 'both'; expected "
				 "either `foi` or `foilim` specification",
				 path);
	if (foi != NULL && !json_is_null(foi) &&
	    op_trial_freq_list(foi, path, "foi", c->foi, sizeof c->foi / sizeof c->foi[0],
			       &c->nfoi, cause) != 0)
		return -EINVAL;
	if (foilim != NULL && !json_is_null(foilim)) {
		size_t n;
		if (op_trial_freq_list(foilim, path, "foilim", c->foilim, 2, &n, cause) != 0 ||
		    n != 2)
			return error_set(cause, -EINVAL,
					 "%s.foilim: must be [low, high] with "
					 "0 <= low <= high (Hz)",
					 path);
		if (c->foilim[0] > c->foilim[1]) { /* the reference sorts it */
			double lo = c->foilim[1];
			c->foilim[1] = c->foilim[0];
			c->foilim[0] = lo;
		}
		c->use_foilim = true;
	}
	return 0;
}

/* foi/foilim within [0, fs/2], the reference's check of both. */
int
op_trial_freq_nyquist(const struct op_trial_freq_common *c, double fs, const char *path,
		      char **cause)
{
	const double *v = c->use_foilim ? c->foilim : c->foi;
	size_t n = c->use_foilim ? 2 : c->nfoi;

	for (size_t i = 0; i < n; i++)
		if (!(v[i] >= 0 && v[i] <= fs / 2))
			return error_set(cause, -EINVAL,
					 "%s.%s: Invalid value of `%s`: '%g'; expected value to "
					 "be greater or equals 0 and less or equals %g",
					 path, c->use_foilim ? "foilim" : "foi",
					 c->use_foilim ? "foilim" : "foi", v[i], fs / 2);
	return 0;
}

/* Everything of mtmfft that can be checked without the data. */
static int
op_trial_freq_parse(const json_t *step, const char *path, double fs, struct op_trial_freq *f,
		    char **cause)
{
	struct dsp_mtmfft_params *p = &f->p;
	struct op_trial_freq_common *c = &f->c;

	dsp_mtmfft_params_init(p, fs);
	if (op_trial_freq_common(step, path, c, cause) != 0 ||
	    op_param_bool(step, path, "ft_compat", false, &p->ft_compat, cause) != 0 ||
	    op_param_bool(step, path, "demean_taper", false, &p->demean_taper, cause) != 0 ||
	    op_trial_freq_pad(step, path, p, cause) != 0)
		return -EINVAL;
	p->taper = c->taper;
	p->kaiser_beta = c->kaiser_beta;
	p->tapsmofrq = c->tapsmofrq;
	p->ntaper = c->ntaper;
	p->output = c->output;
	p->keeptapers = c->keeptapers;
	p->polyremoval = c->polyremoval;
	p->foi = c->nfoi > 0 ? c->foi : NULL;
	p->nfoi = c->nfoi;
	p->use_foilim = c->use_foilim;
	memcpy(p->foilim, c->foilim, sizeof p->foilim);
	return 0;
}

static const char *const op_trial_freq_methods[] = {"mtmfft", "mtmconvol", "welch", "wavelet",
						    "superlet", NULL};

static int
op_trial_freq_method(const char *method, const char *path, char **cause)
{
	for (size_t i = 0; op_trial_freq_methods[i] != NULL; i++)
		if (strcmp(method, op_trial_freq_methods[i]) == 0)
			return 0;
	return error_set(cause, -EINVAL,
			 "%s.method: Invalid value of `method`: '%s'; expected 'mtmfft' or "
			 "'mtmconvol' or 'welch' or 'wavelet' or 'superlet'",
			 path, method);
}

static int
op_trial_freq_validate(const json_t *step, const char *path, char **cause)
{
	struct op_trial_freq *f = xcalloc(1, sizeof *f);
	int rc = op_trial_freq_parse(step, path, 1, f, cause);

	if (rc == 0)
		rc = op_trial_freq_method(f->c.method, path, cause);
	free(f);
	return rc;
}

/* The output's trial definition: one row per trial at the trial's offset, or [0, 1, 0] for
 * the average (the reference's). */
static void
op_trial_freq_axis(struct trial_run *t)
{
	const struct trial_layout *lay = &t->lay;
	struct trial_spectral *s = &t->spec;
	size_t cols = s->keeptrials ? 3 + lay->nextra : 3;

	s->srate = lay->fs;
	s->trl_cols = cols;
	s->trl_rows = s->keeptrials ? lay->ntrials : 1;
	s->trl = xcalloc(s->trl_rows * cols, sizeof *s->trl);
	for (size_t i = 0; i < s->trl_rows; i++) {
		double *row = s->trl + i * cols;
		row[0] = (double)i;
		row[1] = (double)(i + 1);
		if (!s->keeptrials)
			break;
		row[2] = lay->offset[i];
		memcpy(row + 3, lay->extra + i * lay->nextra, lay->nextra * sizeof *row);
	}
}

/* Checks across all trials: equal lengths for a trial average. */
static int
op_trial_freq_check(const struct dsp_mtmfft *m, const struct trial_layout *lay,
		    const struct op_trial_freq *f, const char *path, size_t *ntap, char **cause)
{
	size_t lo = trial_layout_minlen(lay), hi = trial_layout_maxlen(lay);
	int rc;

	if (!f->c.keeptrials && lo != hi)
		return error_set(cause, -EINVAL,
				 "%s.keeptrials: averaging over trials needs trials "
				 "of one length, these have %zu to %zu samples (keep the trials, "
				 "or cut them equal)",
				 path, lo, hi);
	/* NW and K come from the mean length, so every trial has the same taper count. */
	if ((rc = dsp_mtmfft_ntapers(m, lay->len[0], ntap, cause)) != 0)
		return op_trial_param_wrap(cause, rc, path);
	return 0;
}

static int
op_trial_freq_compute(struct trial_run *t, const struct dsp_mtmfft *m, char **cause)
{
	struct trial_spectral *s = &t->spec;
	size_t stride = s->ntap * s->nfreq * t->nch * (s->complex ? 2 : 1);
	struct dsp_trial x;
	int rc = 0;

	dsp_mtmfft_accum_init(&s->acc, m, s->ntap, t->nch);
	s->has_acc = true;
	if (s->keeptrials) {
		/* An accumulator of one trial at a time: its work buffers serve every trial. */
		s->out = xreallocarray(NULL, t->ntr * stride + 1, sizeof *s->out);
		for (size_t i = 0; i < t->ntr && rc == 0; i++) {
			memset(s->acc.sum, 0, s->acc.len * sizeof *s->acc.sum);
			memset(s->acc.comp, 0, s->acc.len * sizeof *s->acc.comp);
			s->acc.count = 0;
			trial_run_view(t, i, &x);
			rc = trial_run_cancelled(t, cause);
			if (rc == 0)
				rc = dsp_mtmfft_accum_add(&s->acc, m, &x, cause);
			if (rc == 0)
				rc = dsp_mtmfft_accum_finalize(&s->acc, s->out + i * stride, cause);
		}
		return rc;
	}
	for (size_t i = 0; i < t->ntr && rc == 0; i++) {
		trial_run_view(t, i, &x);
		rc = trial_run_cancelled(t, cause);
		if (rc == 0)
			rc = dsp_mtmfft_accum_add(&s->acc, m, &x, cause);
	}
	return rc;
}

int
op_trial_freq_prepare(const json_t *step, const char *path, const struct trial_layout *lay,
		      struct dsp_mtmfft **mp, size_t *ntap, bool *keeptrials, char **cause)
{
	struct op_trial_freq *f = xcalloc(1, sizeof *f);
	struct dsp_mtmfft *m = NULL;
	int rc;

	*mp = NULL;
	rc = op_trial_freq_parse(step, path, lay->fs, f, cause);
	if (rc == 0 && strcmp(f->c.method, "mtmfft") != 0)
		rc = error_set(cause, -EINVAL, "%s.method: '%s' here must be mtmfft", path,
			       f->c.method);
	if (rc == 0)
		f->p.nw_len = trial_layout_meanlen(lay);
	if (rc == 0 && (rc = dsp_mtmfft_new(&f->p, trial_layout_maxlen(lay), &m, cause)) != 0)
		op_trial_param_wrap(cause, rc, path);
	if (rc == 0)
		rc = op_trial_freq_check(m, lay, f, path, ntap, cause);
	if (rc == 0) {
		*mp = m;
		*keeptrials = f->c.keeptrials;
	} else {
		dsp_mtmfft_free(m);
	}
	free(f);
	return rc;
}

/* The spectra a lazy mtmfft left pending (trial_spectral.compute). */
static int
op_trial_freq_compute_pending(struct trial_run *t, char **cause)
{
	struct dsp_mtmfft *m = t->spec.pending;
	int rc;

	t->spec.pending = NULL;
	rc = op_trial_freq_compute(t, m, cause);
	dsp_mtmfft_free(m);
	free(t->data);
	t->data = NULL;
	return rc;
}

static int
op_trial_freq_mtmfft(struct trial_run *t, const json_t *step, const char *path,
		     struct op_trial_freq *f, char **cause)
{
	struct trial_spectral *s = &t->spec;
	struct dsp_mtmfft *m = NULL;
	size_t ntap = 1;
	int rc = 0;

	f->p.nw_len = trial_layout_meanlen(&t->lay);
	if ((rc = dsp_mtmfft_new(&f->p, trial_layout_maxlen(&t->lay), &m, cause)) != 0)
		op_trial_param_wrap(cause, rc, path);
	if (rc == 0)
		rc = op_trial_freq_check(m, &t->lay, f, path, &ntap, cause);
	if (rc == 0) {
		s->keeptrials = f->c.keeptrials;
		s->complex = dsp_mtmfft_is_complex(m);
		s->ntap = ntap;
		s->nfreq = dsp_mtmfft_nfreq(m);
		s->freqs = xreallocarray(NULL, s->nfreq, sizeof *s->freqs);
		memcpy(s->freqs, dsp_mtmfft_freqs(m), s->nfreq * sizeof *s->freqs);
		s->taper = xstrdup(f->p.tapsmofrq > 0 ? "dpss" : dsp_taper_window_name(f->p.taper));
		op_trial_freq_axis(t);
		if (s->keeptrials) /* the task holds its trials' spectra */
			t->values_per_trial = ntap * s->nfreq * t->lay.nchan * (s->complex ? 2 : 1);
		/* Kept trials are computed lazily (a later step may take them one by one); trial
		 * averages now. */
		if (t->loaded && !s->keeptrials && (rc = op_trial_freq_compute(t, m, cause)) != 0)
			op_trial_param_wrap(cause, rc, path);
	}
	if (rc == 0) {
		t->kind = TRIAL_RUN_SPECTRAL;
		if (t->loaded && s->keeptrials) {
			dsp_mtmfft_free(s->pending);
			s->pending = m;
			s->compute = op_trial_freq_compute_pending;
			m = NULL;
		} else {
			free(t->data);
			t->data = NULL;
		}
		trial_run_log_step(t, step);
	}
	dsp_mtmfft_free(m);
	return rc;
}

int
op_trial_freq_apply(struct trial_run *t, const json_t *step, const char *path, char **cause)
{
	struct op_trial_freq *f = xcalloc(1, sizeof *f);
	const char *method;
	int rc;

	rc = op_trial_param_need_analog(t, path, "freqanalysis", cause);
	if (rc == 0)
		rc = op_trial_freq_parse(step, path, t->lay.fs, f, cause);
	if (rc == 0)
		rc = op_trial_freq_method(f->c.method, path, cause);
	method = rc == 0 ? f->c.method : "";
	if (rc == 0 && strcmp(method, "mtmfft") == 0)
		rc = op_trial_freq_mtmfft(t, step, path, f, cause);
	else if (rc == 0 && (strcmp(method, "mtmconvol") == 0 || strcmp(method, "welch") == 0))
		rc = op_trial_mtmconvol_apply(t, step, path, strcmp(method, "welch") == 0, cause);
	else if (rc == 0)
		rc = op_trial_wavelet_apply(t, step, path, strcmp(method, "superlet") == 0, cause);
	free(f);
	return rc;
}

static int
op_trial_freq_run(struct op_run *run, const json_t *step, char **cause)
{
	char path[32];

	op_trial_param_path(step, path, sizeof path);
	if (run->trial == NULL || !run->trial->loaded)
		return error_set(cause, -EINVAL,
				 "%s: freqanalysis needs a trial input (spy, synth, "
				 "or edf with trials)",
				 path);
	json_t *params = json_copy((json_t *)step);
	int rc;

	json_object_del(params, "index");
	rc = op_trial_freq_apply(run->trial, params, path, cause);
	json_decref(params);
	return rc;
}

const struct op_def op_trial_freqanalysis = {
    .name = "freqanalysis",
    .kind = OP_UNIT,
    .summary = "spectra of trials (methods mtmfft, mtmconvol, welch, wavelet, superlet)",
    .validate = op_trial_freq_validate,
    .run = op_trial_freq_run,
};
