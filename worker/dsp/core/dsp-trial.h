/* A view of one trial stored as (samples x channels), row-major, possibly a channel slice of a
 * wider array, and the conversions every trial kernel shares: gather into per-channel double
 * columns, scatter back to float32, and polynomial removal along time. */
#ifndef ND_DSP_TRIAL_H
#define ND_DSP_TRIAL_H

#include <stddef.h>

enum dsp_trial_dtype {
	DSP_TRIAL_F32,
	DSP_TRIAL_F64,
};

/* Filter response types shared by the IIR and FIR designers. */
enum dsp_filter_type {
	DSP_FILTER_LP,
	DSP_FILTER_HP,
	DSP_FILTER_BP,
	DSP_FILTER_BS,
};

/* No ownership: `data` remains owned by the caller for as long as the view is used. */
struct dsp_trial {
	const void *data; /* sample 0 of channel 0 */
	enum dsp_trial_dtype dtype;
	size_t nsamp; /* samples (rows) */
	size_t nchan; /* channels (columns) in this view */
	size_t ld;    /* elements between consecutive samples; 0 means nchan */
};

/* Copy the trial into cols[c * nsamp + n] (channel-major doubles). */
void dsp_trial_to_columns(const struct dsp_trial *t, double *cols);

/* Write channel-major doubles cols[c * nsamp + n] to out[n * ld + c] as float32 (ld 0 = nchan). */
void dsp_trial_from_columns(const double *cols, size_t nsamp, size_t nchan, float *out, size_t ld);

/* Remove a polynomial of degree `order` along x[0..n): -1 none, 0 the mean, 1 the least-squares
 * line (scipy.signal.detrend 'linear'). Returns 0, or -EINVAL for another order. */
int dsp_trial_polyremoval(double *x, size_t n, int order, char **cause);

/* Per-channel polynomial coefficients of the trial for polyremoval `order` (-1, 0, 1): the fit
 * at sample i is mean[c] + slope[c] * (i - (nsamp - 1) / 2). Returns 0 or -EINVAL. */
int dsp_trial_poly_coeffs(const struct dsp_trial *t, int order, double *mean, double *slope,
			  char **cause);

/* buf[c * ldbuf + i] = (x[i][c] - fit_c(i)) * w[i] for i < nsamp (w NULL means 1). */
void dsp_trial_fill_tapered(const struct dsp_trial *t, const double *mean, const double *slope,
			    const double *w, double *buf, size_t ldbuf);

#endif
