/* Trial views: layout conversion between (samples x channels) storage and the per-channel double
 * columns the kernels work on, and polynomial removal (demean, linear detrend) along time. */
#include "worker/dsp/core/dsp-trial.h"

#include <errno.h>

#include "common/error.h"

void
dsp_trial_to_columns(const struct dsp_trial *t, double *cols)
{
	size_t ld = t->ld ? t->ld : t->nchan;

	/* Row by row: each input row is read once, in order (a column-first walk reads one value
	 * of every cache line per column, nchan times over the trial). */
	if (t->dtype == DSP_TRIAL_F32) {
		const float *x = t->data;
		for (size_t n = 0; n < t->nsamp; n++)
			for (size_t c = 0; c < t->nchan; c++)
				cols[c * t->nsamp + n] = x[n * ld + c];
	} else {
		const double *x = t->data;
		for (size_t n = 0; n < t->nsamp; n++)
			for (size_t c = 0; c < t->nchan; c++)
				cols[c * t->nsamp + n] = x[n * ld + c];
	}
}

void
dsp_trial_from_columns(const double *cols, size_t nsamp, size_t nchan, float *out, size_t ld)
{
	if (ld == 0)
		ld = nchan;
	for (size_t n = 0; n < nsamp; n++)
		for (size_t c = 0; c < nchan; c++)
			out[n * ld + c] = (float)cols[c * nsamp + n];
}

int
dsp_trial_polyremoval(double *x, size_t n, int order, char **cause)
{
	double mean = 0, tc, stt = 0, sty = 0, slope;

	if (order < -1 || order > 1)
		return error_set(cause, -EINVAL, "polyremoval must be none, 0 or 1, not %d", order);
	if (order == -1 || n == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		mean += x[i];
	mean /= (double)n;
	if (order == 0) {
		for (size_t i = 0; i < n; i++)
			x[i] -= mean;
		return 0;
	}
	/* Least squares on a centred time axis: slope = sum(t'y)/sum(t'^2). */
	tc = 0.5 * (double)(n - 1);
	for (size_t i = 0; i < n; i++) {
		double u = (double)i - tc;
		stt += u * u;
		sty += u * (x[i] - mean);
	}
	slope = stt > 0 ? sty / stt : 0;
	for (size_t i = 0; i < n; i++)
		x[i] -= mean + slope * ((double)i - tc);
	return 0;
}

int
dsp_trial_poly_coeffs(const struct dsp_trial *t, int order, double *mean, double *slope,
		      char **cause)
{
	size_t ld = t->ld ? t->ld : t->nchan, nc = t->nchan, n = t->nsamp;
	double tc = 0.5 * ((double)n - 1), stt = 0;

	if (order < -1 || order > 1)
		return error_set(cause, -EINVAL, "polyremoval must be none, 0 or 1, not %d", order);
	for (size_t c = 0; c < nc; c++)
		mean[c] = slope[c] = 0;
	if (order == -1 || n == 0)
		return 0;
	/* Row-major passes: sum y and sum (i - tc) y per channel. */
	for (size_t i = 0; i < n; i++) {
		double u = (double)i - tc;
		if (t->dtype == DSP_TRIAL_F32) {
			const float *x = (const float *)t->data + i * ld;
			for (size_t c = 0; c < nc; c++) {
				mean[c] += x[c];
				slope[c] += u * x[c];
			}
		} else {
			const double *x = (const double *)t->data + i * ld;
			for (size_t c = 0; c < nc; c++) {
				mean[c] += x[c];
				slope[c] += u * x[c];
			}
		}
		stt += u * u;
	}
	for (size_t c = 0; c < nc; c++) {
		mean[c] /= (double)n;
		slope[c] = order == 1 && stt > 0 ? slope[c] / stt : 0;
	}
	return 0;
}

void
dsp_trial_fill_tapered(const struct dsp_trial *t, const double *mean, const double *slope,
		       const double *w, double *buf, size_t ldbuf)
{
	size_t ld = t->ld ? t->ld : t->nchan, nc = t->nchan, n = t->nsamp;
	double tc = 0.5 * ((double)n - 1);

	for (size_t i = 0; i < n; i++) {
		double u = (double)i - tc, wi = w != NULL ? w[i] : 1;
		if (t->dtype == DSP_TRIAL_F32) {
			const float *x = (const float *)t->data + i * ld;
			for (size_t c = 0; c < nc; c++)
				buf[c * ldbuf + i] = (x[c] - mean[c] - slope[c] * u) * wi;
		} else {
			const double *x = (const double *)t->data + i * ld;
			for (size_t c = 0; c < nc; c++)
				buf[c * ldbuf + i] = (x[c] - mean[c] - slope[c] * u) * wi;
		}
	}
}
