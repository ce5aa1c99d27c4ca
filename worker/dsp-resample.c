/* FFT resampling: pad n + 2·min(n/8, 100) samples up to a power of two (reflect-limited, split
 * left/right), real FFT, Nyquist-bin rule, inverse FFT of round(ratio·padded) points, trim. */
#include "worker/dsp-resample.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#include "common/error.h"
#include "worker/fft-plan.h"

/* The padding plan shared by the length, memory and resampling functions. */
struct dsp_resample_plan {
	size_t old_len, new_len, final_len;
	size_t pad_left, pad_right, trim_left;
};

static void
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

size_t
dsp_resample_length(size_t n, double ratio)
{
	return (size_t)nearbyint(ratio * (double)n);
}

size_t
dsp_resample_bytes(size_t n, double ratio)
{
	struct dsp_resample_plan p;
	size_t big;

	dsp_resample_plan_make(&p, n, ratio);
	big = p.old_len > p.new_len ? p.old_len : p.new_len;
	return sizeof(double) * p.final_len + sizeof(fftw_complex) * (big / 2 + 1);
}

/* Reflect-limited padding: zeros where the reflection runs out, then 2·x[0] − x[k..1] on the
 * left; 2·x[n−1] − x[n−2..] then zeros on the right. */
static void
dsp_resample_pad(double *xp, const double *x, size_t n, size_t left, size_t right)
{
	size_t zl = left >= n ? left - n + 1 : 0, k = 0;

	for (size_t i = 0; i < zl; i++)
		xp[k++] = 0.0;
	for (size_t j = left - zl; j >= 1; j--)
		xp[k++] = 2.0 * x[0] - x[j];
	memcpy(xp + k, x, n * sizeof *xp);
	k += n;
	for (size_t j = 0; j < right; j++)
		xp[k++] = j + 2 <= n ? 2.0 * x[n - 1] - x[n - 2 - j] : 0.0;
}

int
dsp_resample(const double *x, size_t n, double ratio, double *y, char **cause)
{
	struct dsp_resample_plan p;
	size_t use_len, nbins, keep, avail;
	double *out;
	fftw_complex *X;

	if (!(ratio > 0.0) || !isfinite(ratio))
		return error_set(cause, -EINVAL, "resampling ratio %g must be positive", ratio);
	if (n == 0)
		return 0;
	dsp_resample_plan_make(&p, n, ratio);
	if (p.final_len == 0)
		return 0;
	/* One buffer for both transforms, in place: the padded input (old_len doubles), its
	 * spectrum, then the output (new_len doubles). */
	nbins = (p.old_len > p.new_len ? p.old_len : p.new_len) / 2 + 1;
	X = fft_alloc_complex(nbins);
	dsp_resample_pad((double *)X, x, n, p.pad_left, p.pad_right);
	fft_r2c_inplace(p.old_len, X);

	use_len = p.new_len < p.old_len ? p.new_len : p.old_len;
	if (use_len % 2 == 0)
		X[use_len / 2] *= p.new_len < p.old_len ? 2.0 : 0.5;
	/* numpy's irfft(X·new/old, new_len) = unnormalised inverse / old_len. */
	keep = p.old_len / 2 + 1 < p.new_len / 2 + 1 ? p.old_len / 2 + 1 : p.new_len / 2 + 1;
	for (size_t k = 0; k < keep; k++)
		X[k] /= (double)p.old_len;
	for (size_t k = keep; k < p.new_len / 2 + 1; k++)
		X[k] = 0.0;
	/* irfft ignores the imaginary parts of the DC and (even-length) Nyquist bins. */
	X[0] = creal(X[0]);
	if (p.new_len % 2 == 0)
		X[p.new_len / 2] = creal(X[p.new_len / 2]);
	fft_c2r_inplace(p.new_len, X);
	out = (double *)X;

	/* Trim round(ratio·pad_left) at the start, the rest at the end. When the rounding leaves
	 * fewer samples than final_len, repeat the last one. */
	avail = p.trim_left < p.new_len ? p.new_len - p.trim_left : 0;
	if (avail > p.final_len)
		avail = p.final_len;
	if (avail > 0)
		memcpy(y, out + p.trim_left, avail * sizeof *y);
	for (size_t i = avail; i < p.final_len; i++)
		y[i] = avail > 0 ? y[avail - 1] : 0.0;
	fftw_free(X);
	return 0;
}

int
dsp_resample_up(const double *x, size_t n, unsigned k, double *y, char **cause)
{
	if (k == 0)
		return error_set(cause, -EINVAL, "upsampling factor must be at least 1");
	return dsp_resample(x, n, (double)k, y, cause);
}

int
dsp_resample_down(const double *x, size_t n, unsigned k, double *y, char **cause)
{
	if (k == 0)
		return error_set(cause, -EINVAL, "downsampling factor must be at least 1");
	return dsp_resample(x, n, 1.0 / (double)k, y, cause);
}

int
dsp_resample_rate(const double *x, size_t n, double fs, double fs_new, double *y, char **cause)
{
	if (!(fs > 0.0) || !isfinite(fs))
		return error_set(cause, -EINVAL, "sampling rate %g Hz must be positive", fs);
	if (!(fs_new > 0.0) || !isfinite(fs_new))
		return error_set(cause, -EINVAL, "new sampling rate %g Hz must be positive",
				 fs_new);
	return dsp_resample(x, n, fs_new / fs, y, cause);
}
