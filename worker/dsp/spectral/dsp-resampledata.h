/* resampledata: integer-factor downsampling (optionally after an anti-alias FIR low-pass) and
 * polyphase resampling to a new rate like scipy.signal.resample_poly (Kaiser 5.0 FIR). */
#ifndef ND_DSP_RESAMPLEDATA_H
#define ND_DSP_RESAMPLEDATA_H

#include <stddef.h>

#include "worker/dsp/core/dsp-trial.h"

enum dsp_resampledata_method {
	DSP_RESAMPLEDATA_DOWNSAMPLE,
	DSP_RESAMPLEDATA_RESAMPLE,
};

struct dsp_resampledata_params {
	double fs;
	enum dsp_resampledata_method method;
	double resamplefs; /* new rate; for downsample fs / resamplefs must be an integer */
	double lpfreq;     /* downsample: anti-alias low-pass cutoff in Hz, 0 = none */
	size_t order;      /* anti-alias FIR order, 0 = firws default */
};

struct dsp_resampledata;

/* Validate and prepare (ratio, filters). On success *out is owned by the caller
 * (dsp_resampledata_free). Returns 0 or -EINVAL naming resamplefs, lpfreq or order. */
int dsp_resampledata_new(const struct dsp_resampledata_params *p, size_t shortest_trial,
			 struct dsp_resampledata **out, char **cause);
void dsp_resampledata_free(struct dsp_resampledata *rs);
/* Samples out of a trial of n samples (trial definitions scale by resamplefs / fs). */
size_t dsp_resampledata_outlen(const struct dsp_resampledata *rs, size_t n);
/* The reduced up / down factors (downsample: 1 / factor). */
void dsp_resampledata_ratio(const struct dsp_resampledata *rs, size_t *up, size_t *down);

/* One trial into out[i * nchan + c] float32, outlen rows. Thread-safe. */
int dsp_resampledata_trial(const struct dsp_resampledata *rs, const struct dsp_trial *x, float *out,
			   char **cause);

/* scipy.signal.resample_poly's filter for (up, down) reduced: firwin(20 max + 1, 1 / max,
 * kaiser 5.0) * up, padded as scipy pads it; *h malloc'd (caller frees), *pre_remove is the
 * number of leading outputs dropped. */
void dsp_resampledata_poly_filter(size_t up, size_t down, double **h, size_t *len,
				  size_t *pre_remove, size_t n_in);
/* resample_poly of x[0..n) with the filter above into out[0..ceil(n up / down)). */
void dsp_resampledata_poly(const double *x, size_t n, size_t up, size_t down, const double *h,
			   size_t len, size_t pre_remove, double *out);

#endif
