/* FFT resampling: pad n + 2·min(n/8, 100) samples up to a power of two (reflect-limited, split
 * left/right), real FFT, Nyquist-bin rule, inverse FFT of round(ratio·padded) points, trim.
 * Owns the single-transform path (the padding plan is dsp-resample-plan.c); long upsamplings by
 * an integer factor and long downsamplings go to the polyphase paths of dsp-resample-poly.c. */
#include "worker/dsp/core/dsp-resample.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#include "common/error.h"
#include "worker/dsp/core/dsp-resample-plan.h"
#include "worker/dsp/core/dsp-resample-poly.h"
#include "worker/dsp/core/fft-plan.h"

/* Where the polyphase paths take over (measured on 2 MB of L2 cache per core, see
 * tests/bench/bench-dsp-resample.c --sizes): upsampling by an integer factor once the inverse
 * transform has 2^19 points; downsampling to at most a quarter once the padded signal has 2^21
 * points, in phases of at least 2^18 points and at most 16 phases (their accumulation costs
 * phases × kept bins). Below these, the single transform is as fast or its buffer is small. */
#define DSP_RESAMPLE_UP_MIN     (1u << 19)
#define DSP_RESAMPLE_DOWN_MIN   (1u << 21)
#define DSP_RESAMPLE_PART       (1u << 18)
#define DSP_RESAMPLE_PHASES_MAX 16

/* Which path resamples with plan p: 0 for the single-transform one, else the upsampling factor
 * (*part = 0) or, with *part > 0, the downsampling one in phases of *part points. */
static size_t
dsp_resample_path(const struct dsp_resample_plan *p, size_t *part)
{
	size_t N = p->old_len, L = p->new_len;

	*part = 0;
	if (L >= DSP_RESAMPLE_UP_MIN && N >= 2 && L > N && L % N == 0)
		return L / N;
	if (N >= DSP_RESAMPLE_DOWN_MIN && L <= N / 4) {
		*part = N / DSP_RESAMPLE_PHASES_MAX > DSP_RESAMPLE_PART
			    ? N / DSP_RESAMPLE_PHASES_MAX
			    : DSP_RESAMPLE_PART;
		return 1;
	}
	return 0;
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
	size_t big, m, part;

	dsp_resample_plan_make(&p, n, ratio);
	m = dsp_resample_path(&p, &part);
	if (m > 1)
		return sizeof(double) * p.final_len + dsp_resample_poly_up_bytes(&p);
	if (part > 0)
		return sizeof(double) * p.final_len + dsp_resample_poly_down_bytes(&p, part);
	big = p.old_len > p.new_len ? p.old_len : p.new_len;
	return sizeof(double) * p.final_len + sizeof(fftw_complex) * (big / 2 + 1);
}

static int
dsp_resample_check(double ratio, char **cause)
{
	if (!(ratio > 0.0) || !isfinite(ratio))
		return error_set(cause, -EINVAL, "resampling ratio %g must be positive", ratio);
	return 0;
}

int
dsp_resample_direct(const double *x, size_t n, double ratio, double *y, char **cause)
{
	struct dsp_resample_plan p;
	size_t use_len, nbins, keep, avail;
	fftw_complex *X;
	int rc;

	if ((rc = dsp_resample_check(ratio, cause)) != 0 || n == 0)
		return rc;
	dsp_resample_plan_make(&p, n, ratio);
	if (p.final_len == 0)
		return 0;
	/* One buffer for both transforms, in place: the padded input (old_len doubles), its
	 * spectrum, then the output (new_len doubles). */
	nbins = (p.old_len > p.new_len ? p.old_len : p.new_len) / 2 + 1;
	X = fft_alloc_complex(nbins);
	dsp_resample_plan_pad((double *)X, x, n, &p);
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

	/* Trim round(ratio·pad_left) at the start, the rest at the end. */
	avail = dsp_resample_plan_avail(&p);
	if (avail > 0)
		memcpy(y, (double *)X + p.trim_left, avail * sizeof *y);
	dsp_resample_plan_fill(y, &p);
	fft_free(X);
	return 0;
}

int
dsp_resample(const double *x, size_t n, double ratio, double *y, char **cause)
{
	struct dsp_resample_plan p;
	size_t m, part;
	int rc;

	if ((rc = dsp_resample_check(ratio, cause)) != 0 || n == 0)
		return rc;
	dsp_resample_plan_make(&p, n, ratio);
	if (p.final_len == 0)
		return 0;
	m = dsp_resample_path(&p, &part);
	if (m > 1)
		dsp_resample_poly_up(x, n, &p, m, y);
	else if (part > 0)
		dsp_resample_poly_down(x, n, &p, part, y);
	else
		return dsp_resample_direct(x, n, ratio, y, cause);
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
