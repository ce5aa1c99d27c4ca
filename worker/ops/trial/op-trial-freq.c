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
#include "worker/ops/trial/op-trial-freq-common.h"
#include "worker/ops/spec/op-param.h"
#include "worker/ops/spec/op-run.h"
#include "worker/ops/trial/op-trial-param.h"
#include "worker/ops/trial/op-trial-tfr.h"

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

const struct op_trial op_trial_freqanalysis = OP_TRIAL_DEF(
    "freqanalysis", "spectra of trials (methods mtmfft, mtmconvol, welch, wavelet, superlet)",
    op_trial_freq_validate, op_trial_freq_apply);
