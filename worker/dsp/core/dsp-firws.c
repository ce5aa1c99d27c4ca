/* Windowed-sinc FIR design and application: kernels sin(2 pi fc m)/m times a window with unit DC
 * gain, spectral inversion / sums for hp, bp and bs, real-cepstrum minimum phase, and overlap-free
 * FFT convolution of whole trials with cached plans. */
#include "worker/dsp/core/dsp-firws.h"

#include <complex.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/xmalloc.h"
#include "worker/dsp/core/fft-plan.h"

size_t
dsp_firws_default_order(size_t shortest_trial)
{
	size_t o = shortest_trial < 1000 ? shortest_trial : 1000;

	o -= o % 2;
	return o < 2 ? 2 : o;
}

/* Unit-DC-gain low-pass at fc = freq / fs (cycles per sample) into k[0..order]. */
static void
dsp_firws_lowpass(double fc, size_t order, const double *win, double *k)
{
	long h = (long)order / 2;
	double sum = 0;

	for (long m = -h; m <= h; m++) {
		double v = m == 0 ? 2 * M_PI * fc : sin(2 * M_PI * fc * (double)m) / (double)m;
		k[m + h] = v * win[m + h];
		sum += k[m + h];
	}
	for (size_t i = 0; i <= order; i++)
		k[i] /= sum;
}

int
dsp_firws_design(enum dsp_filter_type type, const double *freq, double fs, size_t order,
		 enum dsp_taper_window window, double **kernel, char **cause)
{
	int band = type == DSP_FILTER_BP || type == DSP_FILTER_BS;
	size_t len = order + 1;
	double *win, *k, *k2;

	*kernel = NULL;
	if (!(fs > 0) || !isfinite(fs))
		return error_set(cause, -EINVAL, "samplerate must be positive");
	if (order < 2 || order % 2 != 0 || order > 1u << 24)
		return error_set(cause, -EINVAL, "order %zu must be even and at least 2 for firws",
				 order);
	if (window != DSP_TAPER_HAMMING && window != DSP_TAPER_HANN && window != DSP_TAPER_BLACKMAN)
		return error_set(cause, -EINVAL,
				 "window must be hamming, hann or blackman for "
				 "firws, not %s",
				 dsp_taper_window_name(window));
	if ((size_t)type > DSP_FILTER_BS)
		return error_set(cause, -EINVAL, "filter_type: unknown");
	for (int i = 0; i < 1 + band; i++)
		if (!(freq[i] > 0 && freq[i] < fs / 2))
			return error_set(cause, -EINVAL,
					 "freq %g Hz must lie strictly between 0 and "
					 "%g Hz (samplerate / 2)",
					 freq[i], fs / 2);
	if (band && !(freq[0] < freq[1]))
		return error_set(cause, -EINVAL, "freq: band edges [%g, %g] must be increasing",
				 freq[0], freq[1]);
	win = xmalloc(len * sizeof *win);
	k = xmalloc(len * sizeof *k);
	k2 = xmalloc(len * sizeof *k2);
	dsp_taper_window_fill(window, len, 0, win, NULL);
	dsp_firws_lowpass(freq[0] / fs, order, win, k);
	switch (type) {
	case DSP_FILTER_LP:
		break;
	case DSP_FILTER_HP:
		for (size_t i = 0; i < len; i++)
			k[i] = -k[i];
		k[order / 2] += 1;
		break;
	case DSP_FILTER_BP: /* lp(hi) - lp(lo) */
		dsp_firws_lowpass(freq[1] / fs, order, win, k2);
		for (size_t i = 0; i < len; i++)
			k[i] = k2[i] - k[i];
		break;
	case DSP_FILTER_BS: /* lp(lo) + delta - lp(hi) */
		dsp_firws_lowpass(freq[1] / fs, order, win, k2);
		for (size_t i = 0; i < len; i++)
			k[i] -= k2[i];
		k[order / 2] += 1;
		break;
	}
	free(win);
	free(k2);
	*kernel = k;
	return 0;
}

void
dsp_firws_minphase(const double *k, size_t len, double *out)
{
	size_t nfft = 1, lim = (size_t)1 << 22;
	fftw_complex *a, *b;
	double peak = 0, floor_;

	while (nfft < 64 * len && nfft < lim)
		nfft *= 2;
	while (nfft < 2 * len)
		nfft *= 2;
	a = fft_alloc_complex(nfft);
	b = fft_alloc_complex(nfft);
	for (size_t i = 0; i < nfft; i++)
		a[i] = i < len ? k[i] : 0;
	fft_c2c(nfft, -1, a, b);
	for (size_t i = 0; i < nfft; i++)
		peak = fmax(peak, cabs(b[i]));
	/* Zeros of the response would give log(0): floor them far below the peak. */
	floor_ = peak > 0 ? peak * 1e-12 : 1e-300;
	for (size_t i = 0; i < nfft; i++)
		b[i] = log(fmax(cabs(b[i]), floor_));
	fft_c2c(nfft, 1, b, a); /* real cepstrum (times nfft) */
	for (size_t i = 0; i < nfft; i++) {
		double w = i == 0 || i == nfft / 2 ? 1 : i < nfft / 2 ? 2 : 0;
		a[i] = creal(a[i]) * w / (double)nfft;
	}
	fft_c2c(nfft, -1, a, b);
	for (size_t i = 0; i < nfft; i++)
		b[i] = cexp(b[i]);
	fft_c2c(nfft, 1, b, a);
	for (size_t i = 0; i < len; i++)
		out[i] = creal(a[i]) / (double)nfft;
	fft_free(a);
	fft_free(b);
}

/* One convolution pass over every column: x <- full(x * k)[off .. off + n). */
static void
dsp_firws_pass(const fftw_complex *kf, size_t p, size_t off, double *cols, size_t n, size_t nchan,
	       double *buf, fftw_complex *spec, int reverse)
{
	for (size_t c = 0; c < nchan; c++) {
		double *x = cols + c * n;
		for (size_t i = 0; i < n; i++)
			buf[i] = reverse ? x[n - 1 - i] : x[i];
		memset(buf + n, 0, (p - n) * sizeof *buf);
		fft_r2c(p, buf, spec);
		fft_spectrum_mul(spec, kf, p / 2 + 1);
		fft_c2r(p, spec, buf);
		for (size_t i = 0; i < n; i++) {
			double v = buf[off + i] / (double)p;
			if (reverse)
				x[n - 1 - i] = v;
			else
				x[i] = v;
		}
	}
}

void
dsp_firws_apply(const double *k, size_t len, enum dsp_firws_direction dir, double *cols, size_t n,
		size_t nchan)
{
	size_t p = fft_good_size(n + len - 1),
	       off = dir == DSP_FIRWS_ONEPASS_MINPHASE ? 0 : (len - 1) / 2;
	double *buf = fft_alloc_real(p);
	fftw_complex *kf = fft_alloc_complex(p / 2 + 1), *spec = fft_alloc_complex(p / 2 + 1);

	memset(buf, 0, p * sizeof *buf);
	memcpy(buf, k, len * sizeof *k);
	fft_r2c(p, buf, kf);
	dsp_firws_pass(kf, p, off, cols, n, nchan, buf, spec, 0);
	if (dir == DSP_FIRWS_TWOPASS)
		dsp_firws_pass(kf, p, off, cols, n, nchan, buf, spec, 1);
	fft_free(buf);
	fft_free(kf);
	fft_free(spec);
}
