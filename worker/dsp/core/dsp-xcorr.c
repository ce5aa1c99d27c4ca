/* Un-normalised cross-correlation over a lag window: direct dot products for small windows, one
 * FFT correlation when the window is wide enough for that to be cheaper. */
#include "worker/dsp/core/dsp-xcorr.h"

#include <math.h>
#include <string.h>

#include "worker/dsp/core/fft-plan.h"

static double
dsp_xcorr_dot(const double *a, const double *b, size_t n)
{
	double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
	size_t i = 0;

	for (; i + 4 <= n; i += 4) {
		s0 += a[i] * b[i];
		s1 += a[i + 1] * b[i + 1];
		s2 += a[i + 2] * b[i + 2];
		s3 += a[i + 3] * b[i + 3];
	}
	for (; i < n; i++)
		s0 += a[i] * b[i];
	return (s0 + s1) + (s2 + s3);
}

static void
dsp_xcorr_direct(const double *s, size_t ns, const double *r, size_t nr, size_t w, double *c)
{
	for (size_t j = 0; j <= 2 * w; j++) {
		long k = (long)j - (long)w;
		/* n in [max(0, −k), min(nr, ns − k)) */
		long lo = k < 0 ? -k : 0, hi = (long)ns - k;

		if (hi > (long)nr)
			hi = (long)nr;
		c[j] = hi > lo ? dsp_xcorr_dot(s + lo + k, r + lo, (size_t)(hi - lo)) : 0.0;
	}
}

/* Circular correlation of length N >= ns + nr − 1 has no aliasing: lag k sits at k mod N. */
static void
dsp_xcorr_fft(const double *s, size_t ns, const double *r, size_t nr, size_t w, double *c)
{
	size_t nfft = fft_good_size(ns + nr - 1), nb = nfft / 2 + 1;
	double *buf = fft_alloc_real(nfft);
	fftw_complex *S = fft_alloc_complex(nb), *R = fft_alloc_complex(nb);

	memset(buf, 0, nfft * sizeof *buf);
	memcpy(buf, s, ns * sizeof *buf);
	fft_r2c(nfft, buf, S);
	memset(buf, 0, nfft * sizeof *buf);
	memcpy(buf, r, nr * sizeof *buf);
	fft_r2c(nfft, buf, R);
	fft_spectrum_mul_conj(S, R, (double)nfft, nb);
	fft_c2r(nfft, S, buf);
	for (size_t j = 0; j <= 2 * w; j++) {
		long k = (long)j - (long)w;

		/* Lags beyond the overlap are exactly zero. */
		if (k <= -(long)nr || k >= (long)ns)
			c[j] = 0.0;
		else
			c[j] = buf[k < 0 ? nfft - (size_t)(-k) : (size_t)k];
	}
	fft_free(buf);
	fft_free(S);
	fft_free(R);
}

void
dsp_xcorr_values(const double *s, size_t ns, const double *r, size_t nr, size_t w, double *c)
{
	double direct = (double)(2 * w + 1) * (double)(nr < ns ? nr : ns);
	double n = (double)(ns + nr);

	if (ns == 0 || nr == 0) {
		memset(c, 0, (2 * w + 1) * sizeof *c);
		return;
	}
	if (direct > 12.0 * n * log2(n) + 20000.0)
		dsp_xcorr_fft(s, ns, r, nr, w, c);
	else
		dsp_xcorr_direct(s, ns, r, nr, w, c);
}

long
dsp_xcorr_shift(const double *s, size_t ns, const double *r, size_t nr, size_t w)
{
	double stack[129], *c = 2 * w + 1 <= 129 ? stack : fft_alloc_real(2 * w + 1);
	size_t best = 0;

	dsp_xcorr_values(s, ns, r, nr, w, c);
	for (size_t j = 1; j <= 2 * w; j++)
		if (c[j] > c[best])
			best = j;
	if (c != stack)
		fft_free(c);
	return (long)best - (long)w;
}
