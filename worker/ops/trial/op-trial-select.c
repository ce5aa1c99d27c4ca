/* selectdata as a trial step, with the reference's keywords: trials (indices, in any order,
 * repeats allowed), channel (names or indices), latency ([begin, end] in seconds, or
 * 'maxperiod', 'minperiod', 'prestim', 'poststim'; trials that do not cover the window are
 * dropped, the others cut to the samples within it) on time series, and frequency ([fmin, fmax]
 * or one value, the nearest bin) on the per-trial spectra of freqanalysis. The selection is also
 * what a step's "select" keyword means (a selectdata step before it). A task keeps its own
 * selected trials and channels; their place in the output follows the selection's order, so an
 * unsorted or repeating trial list needs every trial in one task, an unsorted channel list every
 * channel. */
#include "worker/ops/trial/op-trial-select.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/names.h"
#include "common/xmalloc.h"
#include "worker/ops/trial/op-trial-param.h"
#include "worker/ops/trial/op-trial.h"

static const char *const op_trial_select_keys[] = {"trials", "channel", "latency", "frequency",
						    NULL};

/* One selection, resolved against a layout. */
struct op_trial_select {
	size_t *trials, ntrials; /* input trials in output order */
	size_t *chans, nchans;   /* input channels in output order */
	size_t *first, *count;   /* per selected trial: samples kept (latency), or NULL */
	bool sorted_trials, sorted_chans; /* strictly increasing: parts stay contiguous */
};

static void
op_trial_select_fini(struct op_trial_select *s)
{
	free(s->trials);
	free(s->chans);
	free(s->first);
	free(s->count);
}

/* `v` (a selection value) means everything: absent, null or "all". */
static bool
op_trial_select_all(const json_t *v)
{
	return v == NULL || json_is_null(v) ||
	       (json_is_string(v) && strcmp(json_string_value(v), "all") == 0);
}

static int
op_trial_select_validate(const json_t *step, const char *path, char **cause)
{
	const json_t *lat = json_object_get(step, "latency");
	const json_t *fr = json_object_get(step, "frequency");

	if (op_param_keys(step, path, op_trial_select_keys, cause) != 0)
		return -EINVAL;
	if (!op_trial_select_all(lat) && !json_is_string(lat) &&
	    !(json_is_array(lat) && json_array_size(lat) == 2 &&
	      json_is_number(json_array_get(lat, 0)) && json_is_number(json_array_get(lat, 1))))
		return error_set(cause, -EINVAL,
				 "%s.latency: expected [begin, end] in seconds, or one of "
				 "['maxperiod', 'minperiod', 'prestim', 'poststim']",
				 path);
	if (!op_trial_select_all(fr) && !json_is_number(fr) &&
	    !(json_is_array(fr) && json_array_size(fr) == 2 &&
	      json_is_number(json_array_get(fr, 0)) && json_is_number(json_array_get(fr, 1))))
		return error_set(cause, -EINVAL,
				 "%s.frequency: expected [fmin, fmax] or one frequency (Hz)", path);
	return 0;
}

/* Element x of a selection list as an index below total: an integer, or with names (the
 * channel labels) also one of them; total when it is neither. */
static size_t
op_trial_select_index(const json_t *x, size_t total, const char *const *names)
{
	int k;

	if (json_is_integer(x))
		return json_integer_value(x) >= 0 && (size_t)json_integer_value(x) < total
			   ? (size_t)json_integer_value(x)
			   : total;
	k = names != NULL ? names_find(json_string_value(x), names, total) : -1;
	return k >= 0 ? (size_t)k : total;
}

/* What selection value v picks among total elements (all of them, one, or a list), in output
 * order, into *out (caller frees) and *n; *sorted when strictly increasing. Returns 0, or the
 * 1-based position of an element that is not an index (nor, with names, a name) below total. */
static size_t
op_trial_select_list(const json_t *v, size_t total, const char *const *names, size_t **out,
		     size_t *n, bool *sorted)
{
	bool all = op_trial_select_all(v);

	*n = all ? total : json_is_array(v) ? json_array_size(v) : 1;
	*out = xcalloc(*n + 1, sizeof **out);
	*sorted = true;
	for (size_t i = 0; i < *n; i++) {
		size_t k = all ? i
			       : op_trial_select_index(json_is_array(v) ? json_array_get(v, i) : v,
						       total, names);

		if (k >= total)
			return i + 1;
		(*out)[i] = k;
		if (i > 0 && k <= (*out)[i - 1])
			*sorted = false;
	}
	return 0;
}

/* trials: the input trials in output order. */
static int
op_trial_select_trials(const json_t *v, const struct trial_layout *lay, const char *path,
		       struct op_trial_select *s, char **cause)
{
	if (op_trial_select_list(v, lay->ntrials, NULL, &s->trials, &s->ntrials,
				 &s->sorted_trials) != 0)
		return error_set(cause, -EINVAL,
				 "%s.trials: invalid value; expected list/array of values "
				 "b/w 0 and %zu",
				 path, lay->ntrials - 1);
	if (s->ntrials == 0)
		return error_set(cause, -EINVAL, "%s.trials: the selection is empty", path);
	return 0;
}

/* channel: names or indices, or one of them. */
static int
op_trial_select_channels(const json_t *v, const struct trial_layout *lay, const char *path,
			 struct op_trial_select *s, char **cause)
{
	size_t bad = op_trial_select_list(v, lay->nchan, (const char *const *)lay->channel,
					  &s->chans, &s->nchans, &s->sorted_chans);

	if (bad != 0)
		return error_set(cause, -EINVAL,
				 "%s.channel[%zu]: invalid value; expected names or "
				 "indices of existing channels",
				 path, bad - 1);
	if (s->nchans == 0)
		return error_set(cause, -EINVAL, "%s.channel: the selection is empty", path);
	return 0;
}

/* The latency window [w0, w1] in seconds over the selected trials. */
static int
op_trial_select_window(const json_t *v, const struct trial_layout *lay, const char *path,
		       const struct op_trial_select *s, double w[2], char **cause)
{
	double lo = INFINITY, hi = -INFINITY, lo_max = -INFINITY, hi_min = INFINITY;
	bool any_pre = false, any_post = false;
	const char *name = json_string_value(v);

	for (size_t i = 0; i < s->ntrials; i++) {
		size_t k = s->trials[i];
		double a = lay->offset[k] / lay->fs, b = (lay->offset[k] + (double)lay->len[k] - 1) /
							    lay->fs;
		lo = fmin(lo, a), hi = fmax(hi, b), lo_max = fmax(lo_max, a), hi_min = fmin(hi_min, b);
		any_pre |= a < 0;
		any_post |= b > 0;
	}
	if (name == NULL) {
		w[0] = json_number_value(json_array_get(v, 0));
		w[1] = json_number_value(json_array_get(v, 1));
		if (w[0] > hi)
			return error_set(cause, -EINVAL,
					 "%s.latency[0]: invalid value '%g'; expected start of "
					 "latency window < %gs",
					 path, w[0], hi);
		if (w[1] < lo)
			return error_set(cause, -EINVAL,
					 "%s.latency[1]: invalid value '%g'; expected end of latency "
					 "window > %gs",
					 path, w[1], lo);
		if (w[0] > w[1])
			return error_set(cause, -EINVAL,
					 "%s.latency: invalid value 'start=%g, end=%g'; expected "
					 "start < end latency window",
					 path, w[0], w[1]);
	} else if (strcmp(name, "maxperiod") == 0) {
		w[0] = lo, w[1] = hi;
	} else if (strcmp(name, "minperiod") == 0) {
		if (lo_max > hi_min)
			return error_set(cause, -EINVAL,
					 "%s.latency: invalid value 'minperiod - no common time "
					 "window for all trials'; expected overlapping trials",
					 path);
		w[0] = lo_max, w[1] = hi_min;
	} else if (strcmp(name, "prestim") == 0 && any_pre) {
		w[0] = lo, w[1] = 0;
	} else if (strcmp(name, "poststim") == 0 && any_post) {
		w[0] = 0, w[1] = hi;
	} else {
		return error_set(cause, -EINVAL,
				 "%s.latency: invalid value '%s'; expected one of ['maxperiod', "
				 "'minperiod', 'prestim', 'poststim'] (with trials before / after 0 s "
				 "for prestim / poststim)",
				 path, name);
	}
	return 0;
}

/* Keep the trials that cover [w0, w1] entirely (in order), each cut to its samples in it. */
static int
op_trial_select_latency(const json_t *v, const struct trial_layout *lay, const char *path,
			struct op_trial_select *s, char **cause)
{
	double w[2] = {0, 0};
	size_t kept = 0;
	int rc;

	if ((rc = op_trial_select_window(v, lay, path, s, w, cause)) != 0)
		return rc;
	s->first = xcalloc(s->ntrials + 1, sizeof *s->first);
	s->count = xcalloc(s->ntrials + 1, sizeof *s->count);
	for (size_t i = 0; i < s->ntrials; i++) {
		size_t k = s->trials[i], a = lay->len[k], b = 0;
		double t0 = lay->offset[k] / lay->fs;
		double t1 = (lay->offset[k] + (double)lay->len[k] - 1) / lay->fs;
		if (!(t0 <= w[0] && t1 >= w[1]))
			continue;
		/* samples whose time (i + offset) / fs lies in [w0, w1], as the reference's time
		 * axis gives them */
		for (size_t n = 0; n < lay->len[k]; n++) {
			double t = ((double)n + lay->offset[k]) / lay->fs;
			if (t >= w[0] && t <= w[1]) {
				a = n < a ? n : a;
				b = n + 1;
			}
		}
		if (b <= a)
			continue;
		s->trials[kept] = k;
		s->first[kept] = a;
		s->count[kept] = b - a;
		kept++;
	}
	if (kept == 0)
		return error_set(cause, -EINVAL,
				 "%s.latency: invalid value 'no trial that completely covers the "
				 "latency window'; expected at least one trial covering the latency "
				 "window",
				 path);
	s->ntrials = kept;
	return 0;
}

/* The layout after the selection. */
static void
op_trial_select_layout(const struct trial_layout *in, const struct op_trial_select *s,
		       struct trial_layout *out)
{
	memset(out, 0, sizeof *out);
	out->fs = in->fs;
	out->ntrials = s->ntrials;
	out->nchan = s->nchans;
	out->nextra = in->nextra;
	out->len = xcalloc(s->ntrials + 1, sizeof *out->len);
	out->offset = xcalloc(s->ntrials + 1, sizeof *out->offset);
	out->extra = xcalloc(s->ntrials * in->nextra + 1, sizeof *out->extra);
	for (size_t i = 0; i < s->ntrials; i++) {
		size_t k = s->trials[i];
		out->len[i] = s->count != NULL ? s->count[i] : in->len[k];
		out->offset[i] = in->offset[k] + (s->first != NULL ? (double)s->first[i] : 0);
		memcpy(out->extra + i * in->nextra, in->extra + k * in->nextra,
		       in->nextra * sizeof *out->extra);
	}
	out->channel = xcalloc(s->nchans + 1, sizeof *out->channel);
	for (size_t c = 0; c < s->nchans; c++)
		out->channel[c] = xstrdup(in->channel[s->chans[c]]);
}

/* The task's selected trials and channels: output runs [*first, *first + *n) of the selected
 * entries whose input index lies in [lo, lo + len) (all entries when unsorted: the task then
 * holds everything). */
static void
op_trial_select_run(const size_t *idx, size_t n, bool sorted, size_t lo, size_t len,
		    size_t *first, size_t *count)
{
	size_t f = n, c = 0;

	for (size_t i = 0; i < n; i++)
		if (!sorted || (idx[i] >= lo && idx[i] < lo + len)) {
			f = i < f ? i : f;
			c++;
		}
	*first = c > 0 ? f : 0;
	*count = c;
}

/* Cut the task's samples to its selected trials, samples and channels. */
static void
op_trial_select_data(struct trial_run *t, const struct op_trial_select *s, size_t tr0,
		     size_t ntr, size_t ch0, size_t nch)
{
	size_t esz = t->dtype == DSP_TRIAL_F32 ? sizeof(float) : sizeof(double), total = 0;
	size_t *off = xcalloc(ntr + 1, sizeof *off);
	char *out;

	for (size_t i = 0; i < ntr; i++) {
		size_t k = tr0 + i;
		off[i] = total;
		total += (s->count != NULL ? s->count[k] : t->lay.len[s->trials[k]]) * nch;
	}
	out = xmalloc(total * esz + 1);
	for (size_t i = 0; i < ntr; i++) {
		size_t k = tr0 + i, local = s->trials[k] - t->trial0;
		size_t a = s->first != NULL ? s->first[k] : 0;
		size_t len = s->count != NULL ? s->count[k] : t->lay.len[s->trials[k]];
		const char *src = (const char *)t->data + t->off[local] * esz;
		char *dst = out + off[i] * esz;
		for (size_t n = 0; n < len; n++)
			for (size_t c = 0; c < nch; c++)
				memcpy(dst + (n * nch + c) * esz,
				       src + ((a + n) * t->nch + (s->chans[ch0 + c] - t->chan0)) * esz,
				       esz);
	}
	free(t->data);
	free(t->off);
	t->data = out;
	t->off = off;
}

/* frequency on per-trial spectra: the bins within [fmin, fmax], or the nearest to one value. */
static int
op_trial_select_frequency(struct trial_run *t, const json_t *v, const char *path, char **cause)
{
	struct trial_spectral *s = &t->spec;
	double lo = json_is_number(v) ? json_number_value(v) : json_number_value(json_array_get(v, 0));
	double hi = json_is_number(v) ? lo : json_number_value(json_array_get(v, 1));
	size_t *bins = xcalloc(s->nfreq + 1, sizeof *bins), nb = 0, best = 0;
	int rc = 0;

	if (!s->keeptrials || s->ntap == 0)
		rc = error_set(cause, -EINVAL,
			       "%s.frequency: selects bins of per-trial spectra; for trial "
			       "averages use foi or foilim in freqanalysis",
			       path);
	else if (lo < s->freqs[0] || hi > s->freqs[s->nfreq - 1] || (!json_is_number(v) && lo >= hi))
		rc = error_set(cause, -EINVAL,
			       "%s.frequency: invalid value [%g, %g]; expected frequencies within "
			       "[%g, %g] with frequency[0] < frequency[1]",
			       path, lo, hi, s->freqs[0], s->freqs[s->nfreq - 1]);
	for (size_t f = 0; rc == 0 && f < s->nfreq; f++) {
		if (fabs(s->freqs[f] - lo) < fabs(s->freqs[best] - lo))
			best = f;
		if (!json_is_number(v) && s->freqs[f] >= lo && s->freqs[f] <= hi)
			bins[nb++] = f;
	}
	if (rc == 0 && json_is_number(v))
		bins[nb++] = best;
	if (rc == 0 && nb == 0)
		rc = error_set(cause, -EINVAL, "%s.frequency: no frequency bin in [%g, %g]", path,
			       lo, hi);
	if (rc == 0 && t->loaded && s->pending != NULL)
		rc = s->compute(t, cause);
	if (rc == 0) {
		size_t cw = s->complex ? 2 : 1, row = s->nfreq * t->nch * cw, nrow = t->ntr * s->ntap;
		for (size_t r = 0; t->loaded && r < nrow; r++)
			for (size_t b = 0; b < nb; b++)
				memmove(s->out + (r * nb + b) * t->nch * cw,
					s->out + r * row + bins[b] * t->nch * cw,
					t->nch * cw * sizeof *s->out);
		for (size_t b = 0; b < nb; b++)
			s->freqs[b] = s->freqs[bins[b]];
		s->nfreq = nb;
	}
	free(bins);
	return rc;
}

static int
op_trial_select_analog(struct trial_run *t, const json_t *step, const char *path, char **cause)
{
	struct op_trial_select s = {0};
	struct trial_layout lay;
	size_t tr0, ntr, ch0, nch;
	const json_t *lat = json_object_get(step, "latency");
	int rc;

	rc = op_trial_select_trials(json_object_get(step, "trials"), &t->lay, path, &s, cause);
	if (rc == 0)
		rc = op_trial_select_channels(json_object_get(step, "channel"), &t->lay, path, &s,
					      cause);
	if (rc == 0 && !op_trial_select_all(lat))
		rc = op_trial_select_latency(lat, &t->lay, path, &s, cause);
	if (rc != 0) {
		op_trial_select_fini(&s);
		return rc;
	}
	/* out of order: the output's trials (channels) interleave across tasks' ranges */
	t->all_trials |= !s.sorted_trials;
	t->all_channels |= !s.sorted_chans;
	t->needs_fused = true;
	op_trial_select_run(s.trials, s.ntrials, s.sorted_trials, t->trial0, t->ntr, &tr0, &ntr);
	op_trial_select_run(s.chans, s.nchans, s.sorted_chans, t->chan0, t->nch, &ch0, &nch);
	if (t->loaded)
		op_trial_select_data(t, &s, tr0, ntr, ch0, nch);
	op_trial_select_layout(&t->lay, &s, &lay);
	trial_layout_fini(&t->lay);
	t->lay = lay;
	t->trial0 = tr0, t->ntr = ntr, t->chan0 = ch0, t->nch = nch;
	op_trial_select_fini(&s);
	return 0;
}

int
op_trial_select_apply(struct trial_run *t, const json_t *step, const char *path, char **cause)
{
	const json_t *fr = json_object_get(step, "frequency");
	bool on_time = !op_trial_select_all(json_object_get(step, "trials")) ||
		       !op_trial_select_all(json_object_get(step, "channel")) ||
		       !op_trial_select_all(json_object_get(step, "latency"));
	int rc;

	if ((rc = op_trial_select_validate(step, path, cause)) != 0)
		return rc;
	if (t->kind == TRIAL_RUN_CROSS)
		return error_set(cause, -EINVAL,
				 "%s: selectdata cannot follow connectivityanalysis (select "
				 "frequencies with foi or foilim, channels with channelcmb)",
				 path);
	if (t->kind == TRIAL_RUN_ANALOG && !op_trial_select_all(fr))
		return error_set(cause, -EINVAL,
				 "%s.frequency: invalid value; no `frequency` selection available "
				 "for AnalogData",
				 path);
	if (t->kind == TRIAL_RUN_SPECTRAL && on_time)
		return error_set(cause, -EINVAL,
				 "%s: on spectra selectdata takes frequency; select trials, "
				 "channels and latency before freqanalysis",
				 path);
	if (t->kind == TRIAL_RUN_SPECTRAL)
		rc = op_trial_select_frequency(t, fr, path, cause);
	else
		rc = op_trial_select_analog(t, step, path, cause);
	if (rc == 0)
		trial_run_log_step(t, step);
	return rc;
}

const struct op_trial op_trial_selectdata =
    OP_TRIAL_DEF("selectdata",
		 "select trials, channels and a latency window of time series, or frequencies "
		 "of spectra (also a step's \"select\" keyword)",
		 op_trial_select_validate, op_trial_select_apply);
