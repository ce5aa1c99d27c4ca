/* The FFT resampler's padding plan: n + 2·min(n/8, 100) samples padded up to a power of two,
 * split left/right, the length of the inverse transform and the trim; the padded samples and the
 * output samples the inverse transform leaves short. */
#include "worker/dsp/core/dsp-resample-plan.h"

#include <math.h>
#include <string.h>

void
dsp_resample_plan_make(struct dsp_resample_plan *p, size_t n, double ratio)
{
	size_t min_add = 2 * (n / 8 < 100 ? n / 8 : 100), padded = 1;
	double nl;

	while (padded < n + min_add)
		padded *= 2;
	p->pad_left = (padded - n) / 2;
	p->pad_right = padded - n - p->pad_left;
	p->old_len = padded;
	/* Python's round() rounds half to even, as nearbyint() does by default. */
	nl = nearbyint(ratio * (double)padded);
	p->new_len = nl < 1.0 ? 1 : (size_t)nl;
	p->final_len = (size_t)nearbyint(ratio * (double)n);
	p->trim_left = (size_t)nearbyint(ratio * (double)p->pad_left);
}

void
dsp_resample_plan_pad(double *xp, const double *x, size_t n, const struct dsp_resample_plan *p)
{
	size_t left = p->pad_left;

	for (size_t i = 0; i < left; i++)
		xp[i] = dsp_resample_plan_pad_at(x, n, p, i);
	memcpy(xp + left, x, n * sizeof *xp);
	for (size_t i = left + n; i < p->old_len; i++)
		xp[i] = dsp_resample_plan_pad_at(x, n, p, i);
}

size_t
dsp_resample_plan_avail(const struct dsp_resample_plan *p)
{
	size_t avail = p->trim_left < p->new_len ? p->new_len - p->trim_left : 0;

	return avail < p->final_len ? avail : p->final_len;
}

/* When the rounding of trim_left leaves fewer samples than final_len, repeat the last one. */
void
dsp_resample_plan_fill(double *y, const struct dsp_resample_plan *p)
{
	size_t avail = dsp_resample_plan_avail(p);

	for (size_t i = avail; i < p->final_len; i++)
		y[i] = avail > 0 ? y[avail - 1] : 0.0;
}
