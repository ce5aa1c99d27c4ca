/* Channel-wise filters and rate changes of a recording: highpass, lowpass, bandpass, notch
 * (zero-phase FIR), upsample, downsample, resample (FFT). The channel's estimated noise, when
 * it has one, goes through the same filter and rate change so ANC sees it as the data. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/xmalloc.h"
#include "worker/dsp/core/dsp-filter.h"
#include "worker/dsp/core/dsp-resample.h"
#include "worker/ops/rec/op-rec.h"

#define OP_REC_FILTER_MAX_HZ    1e6
#define OP_REC_FILTER_MAX_NOTCH 64

static int
op_rec_filter_validate_freq(const json_t *step, const char *path, char **cause)
{
	static const char *const keys[] = {"freq", NULL};
	double f;

	if (op_param_keys(step, path, keys, cause) != 0)
		return -EINVAL;
	if (op_param_number(step, path, "freq", 1, 0, OP_REC_FILTER_MAX_HZ, 0, &f, cause) != 0)
		return -EINVAL;
	if (!(f > 0))
		return error_set(cause, -EINVAL, "%s.freq: must be above 0 Hz", path);
	return 0;
}

static int
op_rec_filter_validate_bandpass(const json_t *step, const char *path, char **cause)
{
	static const char *const keys[] = {"low", "high", NULL};
	double lo, hi;

	if (op_param_keys(step, path, keys, cause) != 0 ||
	    op_param_number(step, path, "low", 1, 0, OP_REC_FILTER_MAX_HZ, 0, &lo, cause) != 0 ||
	    op_param_number(step, path, "high", 1, 0, OP_REC_FILTER_MAX_HZ, 0, &hi, cause) != 0)
		return -EINVAL;
	if (!(lo > 0))
		return error_set(cause, -EINVAL, "%s.low: must be above 0 Hz", path);
	if (!(hi > lo))
		return error_set(cause, -EINVAL, "%s.high: %g Hz must be above low (%g Hz)", path,
				 hi, lo);
	return 0;
}

static int
op_rec_filter_validate_notch(const json_t *step, const char *path, char **cause)
{
	static const char *const keys[] = {"freqs", "width", NULL};
	json_t *a = json_object_get(step, "freqs"), *v;
	double w;
	size_t i;

	if (op_param_keys(step, path, keys, cause) != 0 ||
	    op_param_number(step, path, "width", 0, 0, OP_REC_FILTER_MAX_HZ, 0, &w, cause) != 0)
		return -EINVAL;
	if (json_is_number(a))
		a = NULL; /* a single frequency is checked below as a number */
	if (a == NULL && !json_is_number(json_object_get(step, "freqs")))
		return error_set(cause, -EINVAL,
				 "%s.freqs: required, a frequency or an array of frequencies (Hz)",
				 path);
	if (a != NULL && (!json_is_array(a) || json_array_size(a) == 0 ||
			  json_array_size(a) > OP_REC_FILTER_MAX_NOTCH))
		return error_set(cause, -EINVAL, "%s.freqs: must be 1 to %d frequencies (Hz)", path,
				 OP_REC_FILTER_MAX_NOTCH);
	json_array_foreach(
	    a, i, v) if (!json_is_number(v) ||
			 !(json_number_value(v) >
			   0)) return error_set(cause, -EINVAL,
						"%s.freqs[%zu]: must be a frequency above 0 Hz",
						path, i);
	if (a == NULL && !(json_number_value(json_object_get(step, "freqs")) > 0))
		return error_set(cause, -EINVAL, "%s.freqs: must be above 0 Hz", path);
	return 0;
}

/* Apply a designed filter to the channel and its noise. */
static int
op_rec_filter_apply(struct rec_chan *c, const struct dsp_filter *f, char **cause)
{
	int rc = dsp_filter_apply(f, c->x, c->n, cause);

	if (rc == 0 && c->noise != NULL)
		rc = dsp_filter_apply(f, c->noise, c->n, cause);
	return rc;
}

static int
op_rec_filter_check_nyquist(const struct rec_chan *c, const json_t *step, const char *key, double f,
			    char **cause)
{
	if (f >= c->fs / 2)
		return error_set(cause, -EINVAL,
				 "steps[%ld].%s: %g Hz is not below the Nyquist frequency (%g Hz)",
				 op_rec_step_index(step), key, f, c->fs / 2);
	return 0;
}

static int
op_rec_filter_run_pass(struct rec_chan *c, const json_t *step, enum dsp_filter_kind kind,
		       char **cause)
{
	struct dsp_filter f = {0};
	double lo = 0, hi = 0;
	int rc;

	if (kind == DSP_FILTER_BANDPASS) {
		lo = json_number_value(json_object_get(step, "low"));
		hi = json_number_value(json_object_get(step, "high"));
		if ((rc = op_rec_filter_check_nyquist(c, step, "high", hi, cause)) != 0)
			return rc;
	} else if (kind == DSP_FILTER_HIGHPASS) {
		lo = json_number_value(json_object_get(step, "freq"));
	} else {
		hi = json_number_value(json_object_get(step, "freq"));
	}
	if (kind != DSP_FILTER_BANDPASS &&
	    (rc = op_rec_filter_check_nyquist(c, step, "freq", lo + hi, cause)) != 0)
		return rc;
	if ((rc = dsp_filter_design(&f, kind, c->fs, lo, hi, cause)) == 0)
		rc = op_rec_filter_apply(c, &f, cause);
	dsp_filter_fini(&f);
	return rc;
}

static int
op_rec_filter_run_highpass(struct op_run *run, struct rec_chan *c, const json_t *step, char **cause)
{
	return op_rec_filter_run_pass(c, step, DSP_FILTER_HIGHPASS, cause);
}

static int
op_rec_filter_run_lowpass(struct op_run *run, struct rec_chan *c, const json_t *step, char **cause)
{
	return op_rec_filter_run_pass(c, step, DSP_FILTER_LOWPASS, cause);
}

static int
op_rec_filter_run_bandpass(struct op_run *run, struct rec_chan *c, const json_t *step, char **cause)
{
	return op_rec_filter_run_pass(c, step, DSP_FILTER_BANDPASS, cause);
}

static int
op_rec_filter_run_notch(struct op_run *run, struct rec_chan *c, const json_t *step, char **cause)
{
	const json_t *a = json_object_get(step, "freqs");
	double freqs[OP_REC_FILTER_MAX_NOTCH], width;
	struct dsp_filter f = {0};
	size_t n = 0, i;
	json_t *v;
	int rc;

	if (json_is_number(a))
		freqs[n++] = json_number_value(a);
	json_array_foreach(a, i, v) freqs[n++] = json_number_value(v);
	for (i = 0; i < n; i++)
		if ((rc = op_rec_filter_check_nyquist(c, step, "freqs", freqs[i], cause)) != 0)
			return rc;
	width = json_is_number(json_object_get(step, "width"))
		    ? json_number_value(json_object_get(step, "width"))
		    : 0;
	if ((rc = dsp_filter_design_notch(&f, c->fs, freqs, n, width, cause)) == 0)
		rc = op_rec_filter_apply(c, &f, cause);
	dsp_filter_fini(&f);
	return rc;
}

static int
op_rec_filter_validate_factor(const json_t *step, const char *path, char **cause)
{
	static const char *const keys[] = {"factor", NULL};
	long long k;

	if (op_param_keys(step, path, keys, cause) != 0)
		return -EINVAL;
	return op_param_int(step, path, "factor", 1, 1, 1000000, 1, &k, cause);
}

static int
op_rec_filter_validate_rate(const json_t *step, const char *path, char **cause)
{
	static const char *const keys[] = {"rate", NULL};
	double r;

	if (op_param_keys(step, path, keys, cause) != 0 ||
	    op_param_number(step, path, "rate", 1, 0, 1e7, 0, &r, cause) != 0)
		return -EINVAL;
	if (!(r > 0))
		return error_set(cause, -EINVAL, "%s.rate: must be above 0 Hz", path);
	return 0;
}

/* Resample the channel (and its noise) to fs_new; refuses when the result would not fit in
 * the memory available now. */
static int
op_rec_filter_rate(struct rec_chan *c, const json_t *step, const char *key, double fs_new,
		   char **cause)
{
	double ratio = fs_new / c->fs;
	size_t m = dsp_resample_length(c->n, ratio);
	size_t need = dsp_resample_bytes(c->n, ratio) + (c->noise != NULL ? m * sizeof(double) : 0);
	size_t avail = op_rec_mem_available();
	double *y;
	int rc;

	if (ratio == 1.0)
		return 0;
	if (m == 0 || (avail > 0 && need > avail) || need / sizeof(double) < m)
		return error_set(cause, -ENOMEM,
				 "steps[%ld].%s: resampling %zu samples from %g Hz to %g Hz needs "
				 "%.1f GB, only %.1f GB of memory is available",
				 op_rec_step_index(step), key, c->n, c->fs, fs_new,
				 (double)need / 1e9, (double)avail / 1e9);
	y = xmalloc(m * sizeof *y);
	if ((rc = dsp_resample(c->x, c->n, ratio, y, cause)) != 0) {
		free(y);
		return rc;
	}
	free(c->x);
	c->x = y;
	if (c->noise != NULL) {
		y = xmalloc(m * sizeof *y);
		if ((rc = dsp_resample(c->noise, c->n, ratio, y, cause)) != 0) {
			free(y);
			return rc;
		}
		free(c->noise);
		c->noise = y;
	}
	c->n = m;
	c->fs = fs_new;
	return 0;
}

static int
op_rec_filter_run_up(struct op_run *run, struct rec_chan *c, const json_t *step, char **cause)
{
	double k = (double)json_integer_value(json_object_get(step, "factor"));
	int rc = op_rec_filter_rate(c, step, "factor", c->fs * k, cause);

	if (rc == 0)
		rec_trig_rescale(&c->trig, c->fs, op_rec_step_index(step));
	return rc;
}

static int
op_rec_filter_run_down(struct op_run *run, struct rec_chan *c, const json_t *step, char **cause)
{
	double k = (double)json_integer_value(json_object_get(step, "factor"));
	int rc = op_rec_filter_rate(c, step, "factor", c->fs / k, cause);

	if (rc == 0)
		rec_trig_rescale(&c->trig, c->fs, op_rec_step_index(step));
	return rc;
}

static int
op_rec_filter_run_resample(struct op_run *run, struct rec_chan *c, const json_t *step, char **cause)
{
	double fs = json_number_value(json_object_get(step, "rate"));
	int rc = op_rec_filter_rate(c, step, "rate", fs, cause);

	if (rc == 0)
		rec_trig_rescale(&c->trig, c->fs, op_rec_step_index(step));
	return rc;
}

const struct op_rec op_rec_highpass = {{"highpass", OP_UNIT,
					"zero-phase FIR high-pass at `freq` Hz",
					op_rec_filter_validate_freq, op_rec_run},
				       0,
				       op_rec_filter_run_highpass,
				       NULL,
				       NULL};
const struct op_rec op_rec_lowpass = {{"lowpass", OP_UNIT, "zero-phase FIR low-pass at `freq` Hz",
				       op_rec_filter_validate_freq, op_rec_run},
				      0,
				      op_rec_filter_run_lowpass,
				      NULL,
				      NULL};
const struct op_rec op_rec_bandpass = {{"bandpass", OP_UNIT,
					"zero-phase FIR band-pass `low`..`high` Hz",
					op_rec_filter_validate_bandpass, op_rec_run},
				       0,
				       op_rec_filter_run_bandpass,
				       NULL,
				       NULL};
const struct op_rec op_rec_notch = {
    {"notch", OP_UNIT, "zero-phase FIR band-stop at each of `freqs` Hz (`width` Hz wide)",
     op_rec_filter_validate_notch, op_rec_run},
    0,
    op_rec_filter_run_notch,
    NULL,
    NULL};
const struct op_rec op_rec_upsample = {{"upsample", OP_UNIT,
					"FFT resampling to `factor` times the rate",
					op_rec_filter_validate_factor, op_rec_run},
				       OP_REC_ALL_CHANNELS,
				       op_rec_filter_run_up,
				       NULL,
				       NULL};
const struct op_rec op_rec_downsample = {{"downsample", OP_UNIT,
					  "FFT resampling to 1/`factor` of the rate",
					  op_rec_filter_validate_factor, op_rec_run},
					 OP_REC_ALL_CHANNELS,
					 op_rec_filter_run_down,
					 NULL,
					 NULL};
const struct op_rec op_rec_resample = {
    {"resample", OP_UNIT, "FFT resampling to `rate` Hz", op_rec_filter_validate_rate, op_rec_run},
    OP_REC_ALL_CHANNELS,
    op_rec_filter_run_resample,
    NULL,
    NULL};
