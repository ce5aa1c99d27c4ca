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
#include "worker/dsp/core/dsp-resample-block.h"
#include "worker/dsp/core/dsp-resample.h"
#include "worker/ops/rec/op-rec-window.h"
#include "worker/ops/rec/op-rec.h"

#define OP_REC_FILTER_MAX_HZ 1e6
static int
op_rec_filter_freq(const json_t *step, const char *path, const char *key, double *f, char **cause)
{
	if (op_param_number(step, path, key, 1, 0, OP_REC_FILTER_MAX_HZ, 0, f, cause) != 0)
		return -EINVAL;
	if (!(*f > 0))
		return error_set(cause, -EINVAL, "%s.%s: must be above 0 Hz", path, key);
	return 0;
}

static int
op_rec_filter_parse_highpass(const json_t *step, const char *path, void *params, char **cause)
{
	static const char *const keys[] = {"freq", NULL};
	struct op_rec_band_params *p = params;

	if (op_param_keys(step, path, keys, cause) != 0)
		return -EINVAL;
	return op_rec_filter_freq(step, path, "freq", &p->lo, cause);
}

static int
op_rec_filter_parse_lowpass(const json_t *step, const char *path, void *params, char **cause)
{
	static const char *const keys[] = {"freq", NULL};
	struct op_rec_band_params *p = params;

	if (op_param_keys(step, path, keys, cause) != 0)
		return -EINVAL;
	return op_rec_filter_freq(step, path, "freq", &p->hi, cause);
}

static int
op_rec_filter_parse_bandpass(const json_t *step, const char *path, void *params, char **cause)
{
	static const char *const keys[] = {"low", "high", NULL};
	struct op_rec_band_params *p = params;

	if (op_param_keys(step, path, keys, cause) != 0 ||
	    op_rec_filter_freq(step, path, "low", &p->lo, cause) != 0 ||
	    op_param_number(step, path, "high", 1, 0, OP_REC_FILTER_MAX_HZ, 0, &p->hi, cause) != 0)
		return -EINVAL;
	if (!(p->hi > p->lo))
		return error_set(cause, -EINVAL, "%s.high: %g Hz must be above low (%g Hz)", path,
				 p->hi, p->lo);
	return 0;
}

/* freqs: one frequency or an array of them, each above 0 Hz. */
static int
op_rec_filter_parse_notch(const json_t *step, const char *path, void *params, char **cause)
{
	static const char *const keys[] = {"freqs", "width", NULL};
	struct op_rec_notch_params *p = params;
	json_t *a = json_object_get(step, "freqs"), *v;
	size_t i;

	if (op_param_keys(step, path, keys, cause) != 0 ||
	    op_param_number(step, path, "width", 0, 0, OP_REC_FILTER_MAX_HZ, 0, &p->width, cause) !=
		0)
		return -EINVAL;
	if (json_is_number(a)) {
		if (!(json_number_value(a) > 0))
			return error_set(cause, -EINVAL, "%s.freqs: must be above 0 Hz", path);
		p->freqs[p->n++] = json_number_value(a);
		return 0;
	}
	if (a == NULL)
		return error_set(cause, -EINVAL,
				 "%s.freqs: required, a frequency or an array of frequencies (Hz)",
				 path);
	if (!json_is_array(a) || json_array_size(a) == 0 || json_array_size(a) > OP_REC_NOTCH_MAX)
		return error_set(cause, -EINVAL, "%s.freqs: must be 1 to %d frequencies (Hz)", path,
				 OP_REC_NOTCH_MAX);
	json_array_foreach(a, i, v)
	{
		if (!json_is_number(v) || !(json_number_value(v) > 0))
			return error_set(cause, -EINVAL,
					 "%s.freqs[%zu]: must be a frequency above 0 Hz", path, i);
		p->freqs[p->n++] = json_number_value(v);
	}
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
op_rec_filter_run_pass(struct op_run *run, struct rec_chan *c, const json_t *step,
		       enum dsp_filter_kind kind, char **cause)
{
	const struct op_rec_band_params *p = run->params;
	struct dsp_filter f = {0};
	int rc;

	if (kind == DSP_FILTER_BANDPASS)
		rc = op_rec_filter_check_nyquist(c, step, "high", p->hi, cause);
	else
		rc = op_rec_filter_check_nyquist(c, step, "freq", p->lo + p->hi, cause);
	if (rc != 0)
		return rc;
	if ((rc = dsp_filter_design(&f, kind, c->fs, p->lo, p->hi, cause)) == 0)
		rc = op_rec_filter_apply(c, &f, cause);
	dsp_filter_fini(&f);
	return rc;
}

static int
op_rec_filter_run_highpass(struct op_run *run, struct rec_chan *c, const json_t *step, char **cause)
{
	return op_rec_filter_run_pass(run, c, step, DSP_FILTER_HIGHPASS, cause);
}

static int
op_rec_filter_run_lowpass(struct op_run *run, struct rec_chan *c, const json_t *step, char **cause)
{
	return op_rec_filter_run_pass(run, c, step, DSP_FILTER_LOWPASS, cause);
}

static int
op_rec_filter_run_bandpass(struct op_run *run, struct rec_chan *c, const json_t *step, char **cause)
{
	return op_rec_filter_run_pass(run, c, step, DSP_FILTER_BANDPASS, cause);
}

static int
op_rec_filter_run_notch(struct op_run *run, struct rec_chan *c, const json_t *step, char **cause)
{
	const struct op_rec_notch_params *p = run->params;
	struct dsp_filter f = {0};
	int rc;

	for (size_t i = 0; i < p->n; i++)
		if ((rc = op_rec_filter_check_nyquist(c, step, "freqs", p->freqs[i], cause)) != 0)
			return rc;
	if ((rc = dsp_filter_design_notch(&f, c->fs, p->freqs, p->n, p->width, cause)) == 0)
		rc = op_rec_filter_apply(c, &f, cause);
	dsp_filter_fini(&f);
	return rc;
}

static int
op_rec_filter_parse_factor(const json_t *step, const char *path, void *params, char **cause)
{
	static const char *const keys[] = {"factor", "block_s", NULL};
	struct op_rec_rate_params *p = params;

	if (op_param_keys(step, path, keys, cause) != 0 ||
	    op_param_number(step, path, "block_s", 0, 0, 1e6, 0, &p->block_s, cause) != 0)
		return -EINVAL;
	return op_param_int(step, path, "factor", 1, 1, 1000000, 1, &p->factor, cause);
}

static int
op_rec_filter_parse_up(const json_t *step, const char *path, void *params, char **cause)
{
	static const char *const keys[] = {"factor", "block_s", "window_mb", NULL};
	struct op_rec_rate_params *p = params;

	if (op_param_keys(step, path, keys, cause) != 0 ||
	    op_param_number(step, path, "block_s", 0, 0, 1e6, 0, &p->block_s, cause) != 0 ||
	    op_param_number(step, path, "window_mb", 0, 0, 1e6, OP_REC_WINDOW_MB, &p->window_mb,
			    cause) != 0)
		return -EINVAL;
	return op_param_int(step, path, "factor", 1, 1, 1000000, 1, &p->factor, cause);
}

static void
op_rec_filter_read(void *ctx, size_t s0, size_t s1, double *out)
{
	memcpy(out, (const double *)ctx + s0, (s1 - s0) * sizeof *out);
}

/* x[0..n) resampled by up/down into y in blocks of `block` output samples (see
 * op_rec_rate_params.block_s). */
static int
op_rec_filter_blocks(const double *x, size_t n, double fs, unsigned up, unsigned down,
		     size_t block, double *y, char **cause)
{
	struct dsp_resample_block_params bp = {
	    .n = n, .up = up, .down = down, .margin = (size_t)(OP_REC_BLOCK_MARGIN_S * fs)};
	size_t m = dsp_resample_length(n, (double)up / (double)down);
	int rc = 0;

	for (size_t a = 0; a < m && rc == 0; a += block)
		rc = dsp_resample_block(&bp, op_rec_filter_read, (void *)x, a,
					a + block < m ? a + block : m, y + a, cause);
	return rc;
}

static int
op_rec_filter_parse_rate(const json_t *step, const char *path, void *params, char **cause)
{
	static const char *const keys[] = {"rate", NULL};
	struct op_rec_rate_params *p = params;

	if (op_param_keys(step, path, keys, cause) != 0 ||
	    op_param_number(step, path, "rate", 1, 0, 1e7, 0, &p->rate, cause) != 0)
		return -EINVAL;
	if (!(p->rate > 0))
		return error_set(cause, -EINVAL, "%s.rate: must be above 0 Hz", path);
	return 0;
}

/* Resample v[0..n) at rate fs into y: in blocks (up/down integer factors, block > 0 output
 * samples) or in one transform. */
static int
op_rec_filter_resample(const double *v, size_t n, double fs, double ratio, size_t block,
		       unsigned up, unsigned down, double *y, char **cause)
{
	if (block > 0)
		return op_rec_filter_blocks(v, n, fs, up, down, block, y, cause);
	return dsp_resample(v, n, ratio, y, cause);
}

/* Resample the channel (and its noise, the pending noise added after the data is resampled) to
 * fs_new (block_s: see op_rec_rate_params); refuses when the result would not fit in the memory
 * available now. */
static int
op_rec_filter_rate(struct rec_chan *c, const json_t *step, const char *key, double fs_new,
		   const struct op_rec_rate_params *rp, unsigned up, unsigned down, char **cause)
{
	double ratio = fs_new / c->fs;
	size_t m = dsp_resample_length(c->n, ratio);
	size_t block = rp != NULL && rp->block_s > 0 ? (size_t)ceil(rp->block_s * fs_new) : 0;
	size_t need = (block > 0 ? m * sizeof(double) : dsp_resample_bytes(c->n, ratio)) +
		      (c->noise != NULL || c->pending.ctx != NULL ? m * sizeof(double) : 0);
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
	if ((rc = op_rec_filter_resample(c->x, c->n, c->fs, ratio, block, up, down, y, cause)) != 0) {
		free(y);
		return rc;
	}
	free(c->x);
	c->x = y;
	/* The pending noise (AAS's templates) is added at the old rate once the data is done. */
	rec_chan_noise_settle(c);
	if (c->noise != NULL) {
		y = xmalloc(m * sizeof *y);
		if ((rc = op_rec_filter_resample(c->noise, c->n, c->fs, ratio, block, up, down, y,
						 cause)) != 0) {
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
	const struct op_rec_rate_params *p = run->params;
	int rc = op_rec_window_run(run, c, step, p, cause);

	if (rc != 0) /* done in windows, with the steps after it */
		return rc > 0 ? 0 : rc;
	rc = op_rec_filter_rate(c, step, "factor", c->fs * (double)p->factor, p,
				    (unsigned)p->factor, 1, cause);

	if (rc == 0)
		rec_epochs_rescale(&c->epochs, c->fs, op_rec_step_index(step));
	return rc;
}

static int
op_rec_filter_run_down(struct op_run *run, struct rec_chan *c, const json_t *step, char **cause)
{
	const struct op_rec_rate_params *p = run->params;
	int rc = op_rec_filter_rate(c, step, "factor", c->fs / (double)p->factor, p, 1,
				    (unsigned)p->factor, cause);

	if (rc == 0)
		rec_epochs_rescale(&c->epochs, c->fs, op_rec_step_index(step));
	return rc;
}

static int
op_rec_filter_run_resample(struct op_run *run, struct rec_chan *c, const json_t *step, char **cause)
{
	const struct op_rec_rate_params *p = run->params;
	int rc = op_rec_filter_rate(c, step, "rate", p->rate, NULL, 1, 1, cause);

	if (rc == 0)
		rec_epochs_rescale(&c->epochs, c->fs, op_rec_step_index(step));
	return rc;
}

const struct op_rec op_rec_highpass = {
    .def = OP_REC_DEF("highpass", OP_UNIT, "zero-phase FIR high-pass at `freq` Hz",
		      struct op_rec_band_params, op_rec_filter_parse_highpass),
    .chan = op_rec_filter_run_highpass,
};
const struct op_rec op_rec_lowpass = {
    .def = OP_REC_DEF("lowpass", OP_UNIT, "zero-phase FIR low-pass at `freq` Hz",
		      struct op_rec_band_params, op_rec_filter_parse_lowpass),
    .chan = op_rec_filter_run_lowpass,
};
const struct op_rec op_rec_bandpass = {
    .def = OP_REC_DEF("bandpass", OP_UNIT, "zero-phase FIR band-pass `low`..`high` Hz",
		      struct op_rec_band_params, op_rec_filter_parse_bandpass),
    .chan = op_rec_filter_run_bandpass,
};
const struct op_rec op_rec_notch = {
    .def = OP_REC_DEF("notch", OP_UNIT,
		      "zero-phase FIR band-stop at each of `freqs` Hz (`width` Hz wide)",
		      struct op_rec_notch_params, op_rec_filter_parse_notch),
    .chan = op_rec_filter_run_notch,
};
const struct op_rec op_rec_upsample = {
    .def = OP_REC_DEF("upsample", OP_UNIT,
		      "FFT resampling to `factor` times the rate (long channels: with the "
		      "steps to the downsample, in windows of `window_mb` MB and more)",
		      struct op_rec_rate_params, op_rec_filter_parse_up),
    .flags = OP_REC_NOISE_PENDING,
    .chan = op_rec_filter_run_up,
};
const struct op_rec op_rec_downsample = {
    .def = OP_REC_DEF("downsample", OP_UNIT, "FFT resampling to 1/`factor` of the rate",
		      struct op_rec_rate_params, op_rec_filter_parse_factor),
    .flags = OP_REC_NOISE_PENDING,
    .chan = op_rec_filter_run_down,
};
const struct op_rec op_rec_resample = {
    .def = OP_REC_DEF("resample", OP_UNIT, "FFT resampling to `rate` Hz", struct op_rec_rate_params,
		      op_rec_filter_parse_rate),
    .flags = OP_REC_NOISE_PENDING,
    .chan = op_rec_filter_run_resample,
};
