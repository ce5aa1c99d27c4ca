/* freqanalysis (method mtmfft) as a trial op: parameters with the reference's names, checks that
 * need the rate and the trial lengths (foilim within [0, fs/2], padding, averaging only equal
 * trials, one taper count with keeptapers), and per-trial spectra or the task's trial sums. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/xmalloc.h"
#include "worker/dsp/spectral/dsp-mtmfft.h"
#include "worker/ops/trial/op-trial-param.h"
#include "worker/ops/trial/op-trial.h"

static const char *const op_trial_freq_keys[] = {
    "method",     "output",     "taper",     "taper_opt",    "tapsmofrq",
    "nTaper",     "foi",        "foilim",    "pad",          "polyremoval",
    "keeptrials", "keeptapers", "ft_compat", "demean_taper", NULL,
};

struct op_trial_freq {
	struct dsp_mtmfft_params p;
	double foi[4096];
	bool keeptrials;
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

/* Everything that can be checked without the data: names, types, combinations. */
static int
op_trial_freq_parse(const json_t *step, const char *path, double fs, struct op_trial_freq *f,
		    char **cause)
{
	struct dsp_mtmfft_params *p = &f->p;
	const char *method, *taper, *output;
	double tapsmofrq;
	long long ntaper;
	json_t *foi = json_object_get(step, "foi"), *foilim = json_object_get(step, "foilim");
	json_t *topt = json_object_get(step, "taper_opt");
	bool keeptapers, ftc, dmt;
	size_t n;

	dsp_mtmfft_params_init(p, fs);
	if (op_param_keys(step, path, op_trial_freq_keys, cause) != 0 ||
	    op_param_string(step, path, "method", 0, "mtmfft", &method, cause) != 0)
		return -EINVAL;
	/* taper null is the reference's None: no taper (boxcar). */
	taper = json_is_null(json_object_get(step, "taper")) ? "none" : NULL;
	if ((taper == NULL &&
	     op_param_string(step, path, "taper", 0, "hann", &taper, cause) != 0) ||
	    op_param_string(step, path, "output", 0, "pow", &output, cause) != 0 ||
	    op_param_number(step, path, "tapsmofrq", 0, 1e-9, 1e9, 0, &tapsmofrq, cause) != 0 ||
	    op_param_int(step, path, "nTaper", 0, 1, 10000, 0, &ntaper, cause) != 0 ||
	    op_param_bool(step, path, "keeptrials", true, &f->keeptrials, cause) != 0 ||
	    op_param_bool(step, path, "keeptapers", false, &keeptapers, cause) != 0 ||
	    op_param_bool(step, path, "ft_compat", false, &ftc, cause) != 0 ||
	    op_param_bool(step, path, "demean_taper", false, &dmt, cause) != 0 ||
	    op_trial_param_poly(step, path, "polyremoval", 0, &p->polyremoval, cause) != 0 ||
	    op_trial_freq_pad(step, path, p, cause) != 0)
		return -EINVAL;
	if (strcmp(method, "mtmfft") != 0)
		return error_set(cause, -EINVAL,
				 "%s.method: '%s' is not available (mtmfft; "
				 "mtmconvol, welch, wavelet and superlet are not implemented yet)",
				 path, method);
	if (dsp_taper_window_parse(taper, &p->taper, cause) != 0 || p->taper == DSP_TAPER_DPSS) {
		free(*cause);
		*cause = NULL;
		return error_set(cause, -EINVAL,
				 "%s.taper: '%s' is not a window (none/boxcar, hann, "
				 "hamming, blackman, kaiser; multitapering with tapsmofrq)",
				 path, taper);
	}
	if (topt != NULL) {
		json_t *beta = json_object_get(topt, "beta");
		if (!json_is_object(topt) || json_object_size(topt) != 1 || !json_is_number(beta))
			return error_set(cause, -EINVAL,
					 "%s.taper_opt: must be {\"beta\": number} "
					 "(kaiser)",
					 path);
		p->kaiser_beta = json_number_value(beta);
	} else if (p->taper == DSP_TAPER_KAISER) {
		return error_set(cause, -EINVAL, "%s.taper_opt: kaiser needs {\"beta\": number}",
				 path);
	}
	if (tapsmofrq > 0 && p->taper != DSP_TAPER_HANN)
		return error_set(cause, -EINVAL,
				 "%s.tapsmofrq: multitapering (dpss) replaces the "
				 "taper, which must stay hann (the default), not '%s'",
				 path, taper);
	if (ntaper > 0 && tapsmofrq == 0)
		return error_set(cause, -EINVAL, "%s.nTaper: needs tapsmofrq (multitapering)",
				 path);
	p->tapsmofrq = tapsmofrq;
	p->ntaper = (size_t)ntaper;
	if (dsp_mtmfft_output_parse(output, &p->output, cause) != 0)
		return op_trial_param_wrap(cause, -EINVAL, path);
	/* One taper: its spectrum is the output, whatever the output; several tapers are averaged
	 * only as power. */
	if (tapsmofrq > 0 && p->output != DSP_MTMFFT_POW && !keeptapers)
		return error_set(cause, -EINVAL,
				 "%s.keeptapers: multitaper output '%s' needs keeptapers true "
				 "(or output 'pow')",
				 path, output);
	p->keeptapers = keeptapers;
	p->ft_compat = ftc;
	p->demean_taper = dmt;
	if (foi != NULL && foilim != NULL)
		return error_set(cause, -EINVAL, "%s.foilim: foi and foilim are mutually exclusive",
				 path);
	if (foi != NULL) {
		if (op_trial_freq_list(foi, path, "foi", f->foi, sizeof f->foi / sizeof f->foi[0],
				       &n, cause) != 0)
			return -EINVAL;
		p->foi = f->foi;
		p->nfoi = n;
	}
	if (foilim != NULL) {
		if (op_trial_freq_list(foilim, path, "foilim", p->foilim, 2, &n, cause) != 0 ||
		    n != 2 || p->foilim[0] > p->foilim[1])
			return error_set(cause, -EINVAL,
					 "%s.foilim: must be [low, high] with "
					 "0 <= low <= high (Hz)",
					 path);
		p->use_foilim = true;
	}
	return 0;
}

static int
op_trial_freq_validate(const json_t *step, const char *path, char **cause)
{
	struct op_trial_freq *f = xcalloc(1, sizeof *f);
	int rc = op_trial_freq_parse(step, path, 1, f, cause);

	free(f);
	return rc;
}

/* Checks across all trials: the taper count per length with keeptapers, equal lengths for a
 * trial average. */
static int
op_trial_freq_check(const struct dsp_mtmfft *m, const struct trial_layout *lay,
		    const struct op_trial_freq *f, const char *path, size_t *ntap, char **cause)
{
	size_t lo = trial_layout_minlen(lay), hi = trial_layout_maxlen(lay), k0 = 0, k;
	int rc;

	if (!f->keeptrials && lo != hi)
		return error_set(cause, -EINVAL,
				 "%s.keeptrials: averaging over trials needs trials "
				 "of one length, these have %zu to %zu samples (keep the trials, "
				 "or cut them equal)",
				 path, lo, hi);
	for (size_t t = 0; t < lay->ntrials; t++) {
		if (t > 0 && lay->len[t] == lay->len[t - 1])
			continue;
		if ((rc = dsp_mtmfft_ntapers(m, lay->len[t], &k, cause)) != 0)
			return op_trial_param_wrap(cause, rc, path);
		if (t > 0 && k != k0)
			return error_set(cause, -EINVAL,
					 "%s.keeptapers: trials of %zu and %zu samples "
					 "give %zu and %zu tapers, which cannot share one output",
					 path, lay->len[0], lay->len[t], k0, k);
		k0 = k;
	}
	*ntap = k0;
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
op_trial_freq_apply(struct trial_run *t, const json_t *step, const char *path, char **cause)
{
	struct op_trial_freq *f = xcalloc(1, sizeof *f);
	struct dsp_mtmfft *m = NULL;
	struct trial_spectral *s = &t->spec;
	size_t ntap = 1;
	int rc;

	rc = op_trial_param_need_analog(t, path, "freqanalysis", cause);
	if (rc == 0)
		rc = op_trial_freq_parse(step, path, t->lay.fs, f, cause);
	if (rc == 0)
		f->p.nw_len = trial_layout_meanlen(&t->lay);
	if (rc == 0 && (rc = dsp_mtmfft_new(&f->p, trial_layout_maxlen(&t->lay), &m, cause)) != 0)
		op_trial_param_wrap(cause, rc, path);
	if (rc == 0)
		rc = op_trial_freq_check(m, &t->lay, f, path, &ntap, cause);
	if (rc == 0) {
		s->keeptrials = f->keeptrials;
		s->complex = dsp_mtmfft_is_complex(m);
		s->ntap = ntap;
		s->nfreq = dsp_mtmfft_nfreq(m);
		s->freqs = xreallocarray(NULL, s->nfreq, sizeof *s->freqs);
		memcpy(s->freqs, dsp_mtmfft_freqs(m), s->nfreq * sizeof *s->freqs);
		s->taper = xstrdup(f->p.tapsmofrq > 0 ? "dpss" : dsp_taper_window_name(f->p.taper));
		if (t->loaded && (rc = op_trial_freq_compute(t, m, cause)) != 0)
			op_trial_param_wrap(cause, rc, path);
	}
	if (rc == 0) {
		t->kind = TRIAL_RUN_SPECTRAL;
		free(t->data);
		t->data = NULL;
		trial_run_log_step(t, step);
	}
	dsp_mtmfft_free(m);
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
    .summary = "spectra of trials (method mtmfft: tapers, multitaper dpss, foi/foilim, pad, output)",
    .validate = op_trial_freq_validate,
    .run = op_trial_freq_run,
};
