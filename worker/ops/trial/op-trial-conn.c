/* connectivityanalysis as a trial op, with the reference's keywords, defaults and checks:
 * methods coh, corr, granger, csd and ppc, on time series (an implicit mtmfft with the
 * reference's demean_taper rule: on for granger) or on the complex per-trial spectra of a
 * freqanalysis step. Every unit task holds all channels of its trials and computes its part:
 * trial sums of cross spectra (or of the lagged products for corr), the PPC phasor sums, or the
 * per-trial rows with keeptrials; the final task reduces the parts (trial-save-cross.c). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/xmalloc.h"
#include "worker/ops/trial/op-trial-param.h"
#include "worker/ops/trial/op-trial.h"
#include "worker/ops/trial/data/trial-cross.h"

static const char *const op_trial_conn_keys[] = {
    "method",      "keeptrials", "output",  "foi",   "foilim",    "pad",       "channelcmb",
    "polyremoval", "tapsmofrq",  "nTaper",  "taper", "taper_opt", "jackknife", NULL,
};

static const char *const op_trial_conn_methods[] = {"coh", "corr", "granger", "csd", "ppc", NULL};

/* The keywords of the implicit mtmfft, copied from the step when the input is time series. */
static const char *const op_trial_conn_spectral_keys[] = {
    "foi", "foilim", "pad", "polyremoval", "tapsmofrq", "nTaper", "taper", "taper_opt", NULL,
};

struct op_trial_conn {
	enum trial_cross_method method;
	enum dsp_coh_output output;
	bool keeptrials;
	int polyremoval;
	const json_t *channelcmb;
};

/* Where the spectral methods take each trial's spectra from: the implicit mtmfft of time series
 * (computed trial by trial into the cross-spectral sums, never all held), or the spectra a
 * freqanalysis step left in the task. */
struct op_trial_conn_src {
	struct dsp_mtmfft *m; /* spectra computed from the samples, else NULL */
	bool borrowed;        /* m is freqanalysis's pending mtmfft (owned by t->spec) */
	size_t ntap, nfreq;
	const double *freqs;
	bool complex, keeptrials;
};

/* channelcmb = [senders, receivers]: two non-empty lists of channel indices or labels, one type
 * for all. Checked here without the labels; resolved against them in op_trial_conn_cmb. */
static int
op_trial_conn_cmb_shape(const json_t *cmb, const char *path, char **cause)
{
	int is_str = -1;

	if (!json_is_array(cmb))
		return error_set(cause, -EINVAL,
				 "%s.channelcmb: must be a list [senders, receivers]", path);
	if (json_array_size(cmb) != 2)
		return error_set(cause, -EINVAL,
				 "%s.channelcmb: invalid value 'length of %zu'; expected list with "
				 "exactly two elements: [senders, receivers]",
				 path, json_array_size(cmb));
	for (size_t k = 0; k < 2; k++) {
		const json_t *side = json_array_get(cmb, k);
		if (!json_is_array(side) || json_array_size(side) == 0)
			return error_set(cause, -EINVAL,
					 "%s.channelcmb[%zu]: must be a non-empty list of channel "
					 "names or indices",
					 path, k);
		for (size_t i = 0; i < json_array_size(side); i++) {
			const json_t *v = json_array_get(side, i);
			int s = json_is_string(v);
			if (!s && !(json_is_integer(v) && json_integer_value(v) >= 0))
				return error_set(cause, -EINVAL,
						 "%s.channelcmb[%zu][%zu]: must be a channel name "
						 "or index",
						 path, k, i);
			if (is_str >= 0 && s != is_str)
				return error_set(cause, -EINVAL,
						 "%s.channelcmb[%zu][%zu]: expected either all `int` "
						 "or all `str`",
						 path, k, i);
			is_str = s;
		}
	}
	return 0;
}

static int
op_trial_conn_parse(const json_t *step, const char *path, struct op_trial_conn *c, char **cause)
{
	const char *method, *output;
	bool jackknife;
	size_t m;

	memset(c, 0, sizeof *c);
	if (op_param_keys(step, path, op_trial_conn_keys, cause) != 0 ||
	    op_param_string(step, path, "method", 0, "coh", &method, cause) != 0 ||
	    op_param_string(step, path, "output", 0, "abs", &output, cause) != 0 ||
	    op_param_bool(step, path, "keeptrials", false, &c->keeptrials, cause) != 0 ||
	    op_param_bool(step, path, "jackknife", false, &jackknife, cause) != 0 ||
	    op_trial_param_poly(step, path, "polyremoval", 0, &c->polyremoval, cause) != 0)
		return -EINVAL;
	for (m = 0; op_trial_conn_methods[m] != NULL; m++)
		if (strcmp(method, op_trial_conn_methods[m]) == 0)
			break;
	if (op_trial_conn_methods[m] == NULL)
		return error_set(cause, -EINVAL,
				 "%s.method: invalid value '%s'; expected 'coh' or 'corr' or "
				 "'granger' or 'csd' or 'ppc'",
				 path, method);
	c->method = (enum trial_cross_method)m;
	if (jackknife)
		return error_set(cause, -EINVAL,
				 "%s.jackknife: jackknife variance estimates are not available",
				 path);
	if (c->method == TRIAL_CROSS_COH && dsp_coh_output_parse(output, &c->output, cause) != 0)
		return op_trial_param_wrap(cause, -EINVAL, path);
	if (c->keeptrials && (c->method == TRIAL_CROSS_COH || c->method == TRIAL_CROSS_PPC ||
			      c->method == TRIAL_CROSS_GRANGER))
		return error_set(cause, -EINVAL,
				 "%s.keeptrials: invalid value 'true'; expected False, trial "
				 "averaging needed for method %s!",
				 path, method);
	c->channelcmb = json_object_get(step, "channelcmb");
	if (json_is_null(c->channelcmb))
		c->channelcmb = NULL;
	if (c->channelcmb != NULL && op_trial_conn_cmb_shape(c->channelcmb, path, cause) != 0)
		return -EINVAL;
	if (c->method == TRIAL_CROSS_CORR) {
		const json_t *pad = json_object_get(step, "pad");
		if (pad != NULL && !(json_is_string(pad) &&
				     strcmp(json_string_value(pad), "maxperlen") == 0))
			return error_set(cause, -EINVAL,
					 "%s.pad: expected 'maxperlen', no padding needed/allowed "
					 "for cross-correlations",
					 path);
	}
	return 0;
}

static int
op_trial_conn_validate(const json_t *step, const char *path, char **cause)
{
	struct op_trial_conn c;

	return op_trial_conn_parse(step, path, &c, cause);
}

/* One side of channelcmb as channel indices. */
static int
op_trial_conn_side(const json_t *side, const struct trial_layout *lay, const char *path,
		   size_t k, size_t **out, size_t *n, char **cause)
{
	*n = json_array_size(side);
	*out = xcalloc(*n + 1, sizeof **out);
	for (size_t i = 0; i < *n; i++) {
		const json_t *v = json_array_get(side, i);
		size_t c = lay->nchan;
		if (json_is_string(v)) {
			for (c = 0; c < lay->nchan; c++)
				if (strcmp(lay->channel[c], json_string_value(v)) == 0)
					break;
		} else if ((json_int_t)lay->nchan > json_integer_value(v)) {
			c = (size_t)json_integer_value(v);
		}
		if (c >= lay->nchan) {
			char *s = json_dumps(v, JSON_ENCODE_ANY);
			error_set(cause, -EINVAL,
				  "%s.channelcmb[%zu][%zu]: invalid value '%s'; expected names or "
				  "indices of existing channels",
				  path, k, i, s);
			free(s);
			return -EINVAL;
		}
		(*out)[i] = c;
	}
	return 0;
}

/* The container's channel axes: all channels, or channelcmb's senders × receivers; the cross
 * spectra then cover only the channels channelcmb names (a sub-block needs no others). */
static int
op_trial_conn_axes(const struct op_trial_conn *c, const struct trial_layout *lay, const char *path,
		   struct trial_cross_plan *p, char **cause)
{
	size_t *pos;

	if (c->channelcmb == NULL) {
		p->nchan = p->nrow = p->ncol = lay->nchan;
		p->chans = xcalloc(lay->nchan, sizeof *p->chans);
		p->rows = xcalloc(lay->nchan, sizeof *p->rows);
		p->cols = xcalloc(lay->nchan, sizeof *p->cols);
		for (size_t i = 0; i < lay->nchan; i++)
			p->chans[i] = p->rows[i] = p->cols[i] = i;
		return 0;
	}
	if (op_trial_conn_side(json_array_get(c->channelcmb, 0), lay, path, 0, &p->rows, &p->nrow,
			       cause) != 0 ||
	    op_trial_conn_side(json_array_get(c->channelcmb, 1), lay, path, 1, &p->cols, &p->ncol,
			       cause) != 0)
		return -EINVAL;
	p->pairs = c->method == TRIAL_CROSS_GRANGER;
	for (size_t s = 0; p->pairs && s < p->nrow; s++)
		for (size_t r = 0; r < p->ncol; r++)
			if (p->rows[s] == p->cols[r])
				return error_set(cause, -EINVAL,
						 "%s.channelcmb: channel '%s' is both a sender and "
						 "a receiver; Granger causality needs two channels",
						 path, lay->channel[p->rows[s]]);
	/* the named channels in input order, and rows and columns as indices among them */
	pos = xcalloc(lay->nchan + 1, sizeof *pos);
	for (size_t i = 0; i < p->nrow; i++)
		pos[p->rows[i]] = 1;
	for (size_t i = 0; i < p->ncol; i++)
		pos[p->cols[i]] = 1;
	p->chans = xcalloc(lay->nchan + 1, sizeof *p->chans);
	for (size_t ch = 0; ch < lay->nchan; ch++)
		if (pos[ch]) {
			pos[ch] = p->nchan;
			p->chans[p->nchan++] = ch;
		}
	for (size_t i = 0; i < p->nrow; i++)
		p->rows[i] = pos[p->rows[i]];
	for (size_t i = 0; i < p->ncol; i++)
		p->cols[i] = pos[p->cols[i]];
	free(pos);
	return 0;
}

/* Time series in: the implicit mtmfft, a freqanalysis step with the spectral keywords of this
 * step, complex per-taper spectra of every trial (demean_taper for granger, as the reference). */
static int
op_trial_conn_spectra(struct trial_run *t, const json_t *step, const struct op_trial_conn *c,
		      const char *path, struct op_trial_conn_src *src, char **cause)
{
	json_t *fa;
	int rc;

	if (c->method == TRIAL_CROSS_GRANGER &&
	    (json_object_get(step, "foi") != NULL || json_object_get(step, "foilim") != NULL))
		return error_set(cause, -EINVAL,
				 "%s.foi: invalid value 'foi or foilim specification'; expected no "
				 "foi specification for Granger analysis",
				 path);
	fa = json_pack("{s:s, s:s, s:s, s:b, s:b, s:b}", "op", "freqanalysis", "method", "mtmfft",
		       "output", "fourier", "keeptapers", 1, "keeptrials", 1, "demean_taper",
		       c->method == TRIAL_CROSS_GRANGER);
	for (size_t i = 0; op_trial_conn_spectral_keys[i] != NULL; i++) {
		json_t *v = json_object_get(step, op_trial_conn_spectral_keys[i]);
		if (v != NULL)
			json_object_set(fa, op_trial_conn_spectral_keys[i], v);
	}
	rc = op_trial_freq_prepare(fa, path, &t->lay, &src->m, &src->ntap, &src->keeptrials,
				   cause);
	if (rc == 0) {
		src->nfreq = dsp_mtmfft_nfreq(src->m);
		src->freqs = dsp_mtmfft_freqs(src->m);
		src->complex = true;
	}
	json_decref(fa);
	return rc;
}

/* Granger needs the spectra of every bin 0 .. fs/2 (no foi or foilim in freqanalysis). */
static int
op_trial_conn_full_band(const struct op_trial_conn_src *s, double fs, const char *path,
			char **cause)
{
	double df = s->nfreq > 1 ? s->freqs[1] - s->freqs[0] : 0;
	bool ok = s->nfreq >= 3 && s->freqs[0] == 0 && df > 0 &&
		  s->freqs[s->nfreq - 1] + df > fs / 2 + 1e-9 * fs;

	for (size_t f = 1; ok && f < s->nfreq; f++)
		ok = fabs(s->freqs[f] - (double)f * df) <= 1e-9 * fs;
	if (!ok)
		return error_set(cause, -EINVAL,
				 "%s: granger needs the spectra of all frequencies 0 .. %g Hz; run "
				 "freqanalysis without foi or foilim",
				 path, fs / 2);
	return 0;
}

/* The input of the step: time series (their implicit spectra for the spectral methods) or the
 * complex per-trial spectra of freqanalysis. */
static int
op_trial_conn_input(struct trial_run *t, const json_t *step, const struct op_trial_conn *c,
		    const char *path, struct op_trial_conn_src *src, char **cause)
{
	bool spectral = t->kind == TRIAL_RUN_SPECTRAL;
	int rc;

	memset(src, 0, sizeof *src);
	if (t->kind != TRIAL_RUN_ANALOG && !spectral)
		return error_set(cause, -EINVAL,
				 "%s: connectivityanalysis works on time series or spectra, not on "
				 "the output of another connectivityanalysis",
				 path);
	if (c->channelcmb != NULL && !spectral)
		return error_set(cause, -EINVAL,
				 "%s.channelcmb: expected SpectralData, `channelcmb` not supported "
				 "for other data types (add a freqanalysis step with output "
				 "'fourier' before)",
				 path);
	if (c->method == TRIAL_CROSS_CORR)
		return spectral ? error_set(cause, -EINVAL,
					    "%s: invalid value 'SpectralData'; expected AnalogData "
					    "instance as input for method corr",
					    path)
				: 0;
	for (size_t r = 0; spectral && r < t->spec.trl_rows; r++) {
		const double *row = t->spec.trl + r * t->spec.trl_cols;
		if (row[1] - row[0] != 1)
			return error_set(cause, -EINVAL,
					 "%s: time-resolved spectra (%g rows per trial) are not "
					 "supported; connectivityanalysis takes the spectra of "
					 "freqanalysis method mtmfft",
					 path, row[1] - row[0]);
	}
	if (spectral) {
		src->ntap = t->spec.ntap;
		src->nfreq = t->spec.nfreq;
		src->freqs = t->spec.freqs;
		src->complex = t->spec.complex;
		src->keeptrials = t->spec.keeptrials;
		/* freqanalysis left its spectra pending: take them trial by trial from the samples */
		src->m = t->spec.pending;
		src->borrowed = src->m != NULL;
	}
	if (t->lay.ntrials < 2 || (spectral && !src->keeptrials))
		return error_set(cause, -EINVAL,
				 "%s: invalid value 'only one trial'; expected multi-trial input "
				 "data, spectral connectivity measures critically depend on trial "
				 "averaging!",
				 path);
	if (!spectral && (rc = op_trial_conn_spectra(t, step, c, path, src, cause)) != 0)
		return rc;
	if (!src->complex)
		return error_set(cause, -EINVAL,
				 "%s: invalid value 'real valued spectral data'; expected complex "
				 "valued spectra, set `output='fourier'` in freqanalysis!",
				 path);
	if (c->method == TRIAL_CROSS_GRANGER)
		return op_trial_conn_full_band(src, t->lay.fs, path, cause);
	return 0;
}

/* The plan of the step on this layout (after op_trial_conn_input). */
static int
op_trial_conn_plan(struct trial_run *t, const struct op_trial_conn *c,
		   const struct op_trial_conn_src *src, const char *path,
		   struct trial_cross_plan *p, char **cause)
{
	const struct trial_layout *lay = &t->lay;
	int rc;

	memset(p, 0, sizeof *p);
	p->method = c->method;
	p->output = c->output;
	p->keeptrials = c->keeptrials;
	p->offset0 = lay->ntrials > 0 ? lay->offset[0] : 0;
	if ((rc = op_trial_conn_axes(c, lay, path, p, cause)) != 0)
		return rc;
	if (c->method != TRIAL_CROSS_CORR) {
		p->ntap = src->ntap;
		p->nfreq = p->nout_freq = src->nfreq;
		p->freq = xmalloc(p->nfreq * sizeof *p->freq);
		memcpy(p->freq, src->freqs, p->nfreq * sizeof *p->freq);
		p->rows_per_trial = 1;
		return 0;
	}
	size_t lo = trial_layout_minlen(lay), hi = trial_layout_maxlen(lay);
	if (!c->keeptrials && lo != hi)
		return error_set(cause, -EINVAL,
				 "%s.keeptrials: averaging correlations over trials needs trials "
				 "of one length, these have %zu to %zu samples",
				 path, lo, hi);
	if (c->keeptrials && lo != hi)
		return error_set(cause, -EINVAL,
				 "%s: corr needs trials of one length, these have %zu to %zu "
				 "samples",
				 path, lo, hi);
	if ((rc = dsp_xcov_init(&p->xc, hi, lay->nchan, c->polyremoval, cause)) != 0)
		return op_trial_param_wrap(cause, rc, path);
	p->ntap = 1;
	p->nfreq = p->xc.nfreq;
	p->nout_freq = 1;
	p->freq = xcalloc(1, sizeof *p->freq);
	p->rows_per_trial = p->xc.nlag;
	return 0;
}

/* Local trial i's spectra (ntap × nfreq × the plan's channels, complex doubles): computed from
 * its samples, or freqanalysis's float32 values; `all` (ntap × nfreq × every channel) is the
 * scratch for a channel subset. */
static int
op_trial_conn_trial_spectra(const struct trial_run *t, const struct op_trial_conn_src *src,
			    const struct trial_cross_plan *p, size_t i, double *all, double *x,
			    char **cause)
{
	const struct trial_spectral *s = &t->spec;
	size_t nc = t->nch, rows = p->ntap * p->nfreq, n = 2 * rows * nc;
	bool subset = p->nchan < nc;
	double *dst = subset ? all : x;
	struct dsp_trial view;
	int rc = 0;

	if (src->m != NULL) {
		trial_run_view(t, i, &view);
		rc = dsp_mtmfft_trial_f64(src->m, &view, dst, cause);
	} else {
		for (size_t k = 0; k < n; k++)
			dst[k] = s->out[i * n + k];
	}
	for (size_t r = 0; rc == 0 && subset && r < rows; r++)
		for (size_t c = 0; c < p->nchan; c++) {
			x[2 * (r * p->nchan + c)] = all[2 * (r * nc + p->chans[c])];
			x[2 * (r * p->nchan + c) + 1] = all[2 * (r * nc + p->chans[c]) + 1];
		}
	return rc;
}

/* keeptrials csd: the trial's cross spectra, its channelcmb block, as complex64 rows. */
static void
op_trial_conn_csd_row(const struct trial_cross_plan *p, const double *x, double *s, double *full,
		      float *row)
{
	size_t n = p->nfreq * p->nrow * p->ncol;

	dsp_csd_trial(x, p->ntap, p->nfreq, p->nchan, s);
	dsp_csd_expand(s, p->nfreq, p->nchan, 1.0, full);
	dsp_csd_select(full, p->nfreq, p->nchan, p->rows, p->nrow, p->cols, p->ncol, s);
	for (size_t k = 0; k < 2 * n; k++)
		row[k] = (float)s[k];
}

static int
op_trial_conn_compute_spectral(struct trial_run *t, const struct op_trial_conn_src *src,
			       struct trial_cross *c, char **cause)
{
	struct trial_cross_plan *p = &c->plan;
	size_t nspec = 2 * p->ntap * p->nfreq * p->nchan, m2 = 2 * p->nfreq * p->nchan * p->nchan;
	double *x = xmalloc(nspec * sizeof *x + 1), *s = NULL, *full = NULL, *all = NULL;
	int rc = 0;

	if (p->method == TRIAL_CROSS_PPC || p->keeptrials)
		s = xmalloc(m2 * sizeof *s);
	if (p->keeptrials)
		full = xmalloc(m2 * sizeof *full);
	if (p->nchan < t->nch)
		all = xmalloc(2 * p->ntap * p->nfreq * t->nch * sizeof *all);
	for (size_t i = 0; i < t->ntr && rc == 0; i++) {
		if ((rc = trial_run_cancelled(t, cause)) != 0)
			break;
		if (p->method == TRIAL_CROSS_PPC) {
			rc = op_trial_conn_trial_spectra(t, src, p, i, all, x, cause);
			dsp_csd_trial(x, p->ntap, p->nfreq, p->nchan, s);
			dsp_ppc_acc_add(&c->ppc, s);
		} else if (p->keeptrials) {
			rc = op_trial_conn_trial_spectra(t, src, p, i, all, x, cause);
			op_trial_conn_csd_row(p, x, s, full, c->out + i * trial_cross_row_values(p));
		} else {
			rc = op_trial_conn_trial_spectra(t, src, p, i, all,
							 dsp_csd_acc_slot(&c->acc), cause);
			dsp_csd_acc_commit(&c->acc);
		}
	}
	if (c->has_acc)
		dsp_csd_acc_flush(&c->acc);
	free(x);
	free(s);
	free(full);
	free(all);
	return rc;
}

static int
op_trial_conn_compute_corr(struct trial_run *t, struct trial_cross *c, char **cause)
{
	struct trial_cross_plan *p = &c->plan;
	size_t nc = p->nchan, per = p->xc.nlag * nc * nc;
	double *spec = NULL, *s = NULL, *cc = NULL, *std = xmalloc(nc * sizeof *std + 1);
	struct dsp_trial x;
	int rc = 0;

	if (p->keeptrials) {
		spec = xmalloc(2 * p->nfreq * nc * sizeof *spec);
		s = xmalloc(2 * p->nfreq * nc * nc * sizeof *s);
		cc = xmalloc(per * sizeof *cc);
	}
	for (size_t i = 0; i < t->ntr && rc == 0; i++) {
		if ((rc = trial_run_cancelled(t, cause)) != 0)
			break;
		trial_run_view(t, i, &x);
		if (!p->keeptrials) {
			rc = dsp_xcov_spectra(&p->xc, &x, dsp_csd_acc_slot(&c->acc), NULL, cause);
			dsp_csd_acc_commit(&c->acc);
			continue;
		}
		rc = dsp_xcov_spectra(&p->xc, &x, spec, std, cause);
		if (rc == 0) {
			dsp_csd_trial(spec, 1, p->nfreq, nc, s);
			dsp_xcov_lags(&p->xc, s, 1.0, cc);
			dsp_xcov_norm_trial(&p->xc, cc, std, c->out + i * per);
		}
	}
	if (c->has_acc)
		dsp_csd_acc_flush(&c->acc);
	free(spec);
	free(s);
	free(cc);
	free(std);
	return rc;
}

/* The task's part: accumulators or per-trial rows, then the computation. */
static int
op_trial_conn_compute(struct trial_run *t, const struct op_trial_conn_src *src,
		      struct trial_cross *c, char **cause)
{
	struct trial_cross_plan *p = &c->plan;

	if (p->keeptrials) {
		c->out_len = t->ntr * p->rows_per_trial * trial_cross_row_values(p);
		c->out = xmalloc(c->out_len * sizeof *c->out + 1);
	} else if (p->method == TRIAL_CROSS_PPC) {
		dsp_ppc_acc_init(&c->ppc, p->nfreq, p->nchan);
		c->has_ppc = true;
	} else {
		dsp_csd_acc_init(&c->acc, p->nfreq, p->nchan, p->ntap);
		c->has_acc = true;
	}
	return p->method == TRIAL_CROSS_CORR ? op_trial_conn_compute_corr(t, c, cause)
					     : op_trial_conn_compute_spectral(t, src, c, cause);
}

int
op_trial_conn_apply(struct trial_run *t, const json_t *step, const char *path, char **cause)
{
	struct op_trial_conn c;
	struct op_trial_conn_src src = {0};
	struct trial_cross *x;
	int rc;

	if ((rc = op_trial_conn_parse(step, path, &c, cause)) != 0 ||
	    (rc = op_trial_conn_input(t, step, &c, path, &src, cause)) != 0) {
		if (!src.borrowed)
			dsp_mtmfft_free(src.m);
		return rc;
	}
	x = xcalloc(1, sizeof *x);
	rc = op_trial_conn_plan(t, &c, &src, path, &x->plan, cause);
	if (rc == 0 && t->loaded)
		rc = op_trial_conn_compute(t, &src, x, cause);
	if (!src.borrowed)
		dsp_mtmfft_free(src.m);
	if (rc != 0) {
		trial_cross_free(x);
		return rc;
	}
	/* what the task holds now: the per-trial rows (keeptrials), not the spectra it took */
	t->values_per_trial =
	    x->plan.keeptrials ? x->plan.rows_per_trial * trial_cross_row_values(&x->plan) : 0;
	t->all_channels = true;
	t->needs_fused = t->kind == TRIAL_RUN_SPECTRAL;
	trial_cross_free(t->cross);
	t->cross = x;
	t->kind = TRIAL_RUN_CROSS;
	free(t->data);
	t->data = NULL;
	free(t->spec.out);
	t->spec.out = NULL;
	dsp_mtmfft_free(t->spec.pending);
	t->spec.pending = NULL;
	trial_run_log_step(t, step);
	return 0;
}

const struct op_trial op_trial_connectivityanalysis =
    OP_TRIAL_DEF("connectivityanalysis",
		 "connectivity between channels over trials (coh, corr, granger, csd, ppc), on "
		 "time series or the complex spectra of freqanalysis",
		 op_trial_conn_validate, op_trial_conn_apply);
