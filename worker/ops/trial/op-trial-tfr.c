/* What the time-frequency methods of freqanalysis (mtmconvol, welch, wavelet, superlet) share:
 * the parsing of toi, the output's time axis (trial definition and samplerate as the reference
 * derives them from toi), and the loop over a task's trials that keeps each trial's rows or
 * adds them to the task's partial sums for the trial average. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/xmalloc.h"
#include "worker/ops/trial/op-trial-param.h"
#include "worker/ops/trial/op-trial-tfr.h"

int
op_trial_tfr_toi(const json_t *step, const char *path, struct op_trial_tfr_toi *toi,
		 char **cause)
{
	json_t *v = json_object_get(step, "toi");

	memset(toi, 0, sizeof *toi);
	if (v == NULL || (json_is_string(v) && strcmp(json_string_value(v), "all") == 0)) {
		toi->kind = DSP_TFR_TOI_ALL;
		return 0;
	}
	if (json_is_number(v)) {
		toi->kind = DSP_TFR_TOI_FRACTION;
		toi->frac = json_number_value(v);
		return 0;
	}
	if (!json_is_array(v) || json_array_size(v) == 0 ||
	    json_array_size(v) > sizeof toi->list / sizeof toi->list[0])
		return error_set(cause, -EINVAL,
				 "%s.toi: Invalid value of `toi`; expected scalar or array-like or "
				 "'all' (a list of 1 to %zu times in s)",
				 path, sizeof toi->list / sizeof toi->list[0]);
	toi->kind = DSP_TFR_TOI_LIST;
	for (size_t i = 0; i < json_array_size(v); i++) {
		json_t *x = json_array_get(v, i);
		if (!json_is_number(x) || !isfinite(json_number_value(x)))
			return error_set(cause, -EINVAL, "%s.toi[%zu]: must be a time in s", path,
					 i);
		toi->list[i] = json_number_value(x);
	}
	toi->n = json_array_size(v);
	return 0;
}

int
op_trial_tfr_toi_bounds(const struct op_trial_tfr_toi *toi, const struct trial_layout *lay,
			const char *path, char **cause)
{
	double lo = INFINITY, hi = -INFINITY;

	if (toi->kind != DSP_TFR_TOI_LIST)
		return 0;
	for (size_t i = 0; i < lay->ntrials; i++) {
		lo = fmin(lo, lay->offset[i] / lay->fs);
		hi = fmax(hi, lay->offset[i] / lay->fs + (double)lay->len[i] / lay->fs);
	}
	for (size_t i = 0; i < toi->n; i++)
		if (!(toi->list[i] >= lo && toi->list[i] <= hi))
			return error_set(cause, -EINVAL,
					 "%s.toi: Invalid value of `toi`: '%g'; expected value to be "
					 "greater or equals %g and less or equals %g",
					 path, toi->list[i], lo, hi);
	return 0;
}

/* numpy.round(x, 2): round half to even of x * 100. */
static double
op_trial_tfr_round2(double x)
{
	return nearbyint(x * 100) / 100;
}

static bool
op_trial_tfr_equidistant(const double *v, size_t n)
{
	for (size_t i = 1; i + 1 < n; i++)
		if (!(fabs((v[i + 1] - v[i]) - (v[1] - v[0])) <= 1e-8 + 1e-5 * fabs(v[1] - v[0])))
			return false;
	return true;
}

/* The output's trial definition and samplerate (the reference's time attribute). */
static int
op_trial_tfr_axis(struct trial_run *t, const struct op_trial_tfr *k, char **cause)
{
	const struct trial_layout *lay = &t->lay;
	struct trial_spectral *s = &t->spec;
	size_t cols = 3 + lay->nextra, start = 0, n0 = k->ntime(k->m, lay->len[0]);
	double sr = lay->fs, off_mean = 0;

	if (k->welch || k->step > 0)
		sr = op_trial_tfr_round2(lay->fs / (double)k->step);
	else if (k->toi != NULL && k->ntoi > 1 && op_trial_tfr_equidistant(k->toi, k->ntoi))
		sr = 1 / (k->toi[1] - k->toi[0]);
	else if (k->toi != NULL)
		sr = 1;
	s->srate = sr;
	s->trl_cols = cols;
	s->trl_rows = s->keeptrials ? lay->ntrials : 1;
	s->trl = xcalloc(lay->ntrials * cols + 1, sizeof *s->trl);
	for (size_t i = 0; i < lay->ntrials; i++) {
		size_t n = k->ntime(k->m, lay->len[i]);
		double *row = s->trl + i * cols, off = lay->offset[i];
		if (!s->keeptrials && n != n0)
			return error_set(cause, -EINVAL,
					 "keeptrials: averaging over trials needs trials of one "
					 "length, these have %zu to %zu samples (keep the trials, or "
					 "cut them equal)",
					 trial_layout_minlen(lay), trial_layout_maxlen(lay));
		row[0] = (double)start;
		row[1] = (double)(start + n);
		row[2] = k->welch ? 0 : k->step > 0 ? off / (double)k->step
			 : k->toi != NULL ? k->toi[0] * sr : off;
		memcpy(row + 3, lay->extra + i * lay->nextra, lay->nextra * sizeof *row);
		off_mean += row[2];
		start += n;
	}
	if (!s->keeptrials) /* the first trial, at the mean onset */
		s->trl[2] = k->welch ? 0 : off_mean / (double)lay->ntrials;
	return 0;
}

static void
op_trial_tfr_two_sum(double *sum, double *comp, double x)
{
	double r = *sum + x, bp = r - *sum;

	*comp += (*sum - (r - bp)) + (x - bp);
	*sum = r;
}

static int
op_trial_tfr_compute(struct trial_run *t, const struct op_trial_tfr *k, char **cause)
{
	struct trial_spectral *s = &t->spec;
	size_t row = s->ntap * s->nfreq * t->nch * (s->complex ? 2 : 1), rows = 0, at = 0;
	size_t maxrows = 0;
	double *buf;
	void *work = NULL;
	int rc = 0;

	for (size_t i = 0; i < t->ntr; i++) {
		size_t n = k->ntime(k->m, t->lay.len[t->trial0 + i]);
		rows += n;
		maxrows = n > maxrows ? n : maxrows;
	}
	buf = xreallocarray(NULL, maxrows * row + 1, sizeof *buf);
	if (s->keeptrials) {
		s->out = xreallocarray(NULL, rows * row + 1, sizeof *s->out);
	} else {
		struct dsp_mtmfft_accum *a = &s->acc;
		memset(a, 0, sizeof *a);
		a->len = maxrows * row;
		a->ntap = s->ntap;
		a->nchan = t->nch;
		a->sum = xcalloc(a->len + 1, sizeof *a->sum);
		a->comp = xcalloc(a->len + 1, sizeof *a->comp);
		s->has_acc = true;
	}
	for (size_t i = 0; i < t->ntr && rc == 0; i++) {
		struct dsp_trial x;
		size_t n = k->ntime(k->m, t->lay.len[t->trial0 + i]);
		trial_run_view(t, i, &x);
		rc = trial_run_cancelled(t, cause);
		if (rc == 0)
			rc = k->trial(k->m, &x, t->lay.offset[t->trial0 + i], buf, &work, cause);
		if (rc != 0)
			break;
		if (s->keeptrials) {
			for (size_t j = 0; j < n * row; j++)
				s->out[at + j] = (float)buf[j];
			at += n * row;
		} else {
			for (size_t j = 0; j < s->acc.len; j++)
				op_trial_tfr_two_sum(&s->acc.sum[j], &s->acc.comp[j], buf[j]);
			s->acc.count++;
		}
	}
	k->work_free(work);
	free(buf);
	return rc;
}

int
op_trial_tfr_finish(struct trial_run *t, const struct op_trial_tfr *k, const json_t *step,
		    const char *path, char **cause)
{
	struct trial_spectral *s = &t->spec;
	int rc;

	s->keeptrials = k->keeptrials;
	s->complex = k->complex;
	s->ntap = k->ntap;
	s->nfreq = k->nfreq;
	s->freqs = xreallocarray(NULL, k->nfreq + 1, sizeof *s->freqs);
	memcpy(s->freqs, k->freqs, k->nfreq * sizeof *s->freqs);
	s->taper = xstrdup(k->taper);
	if ((rc = op_trial_tfr_axis(t, k, cause)) != 0)
		return op_trial_param_wrap(cause, rc, path);
	if (t->loaded && (rc = op_trial_tfr_compute(t, k, cause)) != 0)
		return op_trial_param_wrap(cause, rc, path);
	t->kind = TRIAL_RUN_SPECTRAL;
	free(t->data);
	t->data = NULL;
	trial_run_log_step(t, step);
	return 0;
}
