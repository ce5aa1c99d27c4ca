/* Internal to the FFT resampler: the padding plan of one resampling (dsp-resample-plan.c),
 * shared by the single-transform path (dsp-resample.c) and the polyphase paths
 * (dsp-resample-poly.c). */
#ifndef ND_DSP_RESAMPLE_PLAN_H
#define ND_DSP_RESAMPLE_PLAN_H

#include <stddef.h>

/* Padding and lengths of one resampling: old_len is the padded length (a power of two),
 * new_len = round(ratio·old_len) the length of the inverse transform. */
struct dsp_resample_plan {
	size_t old_len, new_len, final_len;
	size_t pad_left, pad_right, trim_left;
};

void dsp_resample_plan_make(struct dsp_resample_plan *p, size_t n, double ratio);

/* Sample i (< old_len) of the padded signal. Reflect-limited padding: zeros where the
 * reflection runs out, then 2·x[0] − x[left−i] on the left; 2·x[n−1] − x[n−2−j] then zeros on
 * the right. */
static inline double
dsp_resample_plan_pad_at(const double *x, size_t n, const struct dsp_resample_plan *p, size_t i)
{
	size_t left = p->pad_left, j;

	if (i < left)
		return left - i < n ? 2.0 * x[0] - x[left - i] : 0.0;
	if (i < left + n)
		return x[i - left];
	j = i - left - n;
	return j + 2 <= n ? 2.0 * x[n - 1] - x[n - 2 - j] : 0.0;
}
/* All old_len padded samples into xp. */
void dsp_resample_plan_pad(double *xp, const double *x, size_t n,
			   const struct dsp_resample_plan *p);

/* How many output samples come straight from the inverse transform (the rest repeat the last
 * one, see dsp_resample_plan_fill). */
size_t dsp_resample_plan_avail(const struct dsp_resample_plan *p);
/* Repeat y[avail−1] (or 0) into y[avail..final_len). */
void dsp_resample_plan_fill(double *y, const struct dsp_resample_plan *p);

#endif
