/* FIR filter design (firwin with a Hamming window, automatic transition widths) and zero-phase
 * application by FFT overlap-add, in place, with "reflect-limited" edge padding. */
#include "worker/dsp/core/dsp-filter.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/xmalloc.h"
#include "common/xsort.h"
#include "worker/dsp/core/fft-plan.h"

#define DSP_FILTER_LENGTH_FACTOR 3.3 /* Hamming window, firwin design */
#define DSP_FILTER_NOTCH_TRANS   0.5 /* Hz, each side of a stop band */
#define DSP_FILTER_MAX_BREAKS    64

double
dsp_filter_trans_lo(double lo)
{
	return fmin(fmax(0.25 * lo, 2.0), lo);
}

double
dsp_filter_trans_hi(double fs, double hi)
{
	return fmin(fmax(0.25 * hi, 2.0), fs / 2.0 - hi);
}

size_t
dsp_filter_length(double fs, double trans)
{
	/* Python's round() is round-half-even, as is nearbyint() in the default mode. */
	double len = nearbyint(DSP_FILTER_LENGTH_FACTOR * fs / trans);
	size_t n = len < 1.0 ? 1 : (size_t)len;

	return n % 2 == 0 ? n + 1 : n;
}

/* Add sign × (Hamming-windowed sinc low-pass of length m, cut-off c in units of Nyquist,
 * normalised to unit DC gain) into h[off .. off+m). */
static void
dsp_filter_add_lowpass(double *h, size_t off, size_t m, double c, double sign)
{
	double *lp = xmalloc(m * sizeof *lp);
	double alpha = 0.5 * (double)(m - 1), sum = 0.0;

	for (size_t k = 0; k < m; k++) {
		double t = c * ((double)k - alpha);
		double sinc = t == 0.0 ? 1.0 : sin(M_PI * t) / (M_PI * t);
		double w =
		    m > 1 ? 0.54 - 0.46 * cos(2.0 * M_PI * (double)k / (double)(m - 1)) : 1.0;

		lp[k] = c * sinc * w;
		sum += lp[k];
	}
	for (size_t k = 0; k < m; k++)
		h[off + k] += sign * lp[k] / sum;
	free(lp);
}

/* Build the taps from gain break points (0/1 gains at increasing frequencies from 0 to fs/2):
 * start from the top band and add or subtract one low-pass per gain change, each of the length
 * its own transition needs, centred in the n-tap result. */
static void
dsp_filter_from_breaks(struct dsp_filter *f, size_t n, double fs, const double *freq,
		       const int *gain, size_t nbreak)
{
	double nyq = fs / 2.0, prev_freq = freq[nbreak - 1];
	int prev_gain = gain[nbreak - 1];

	f->ntaps = n;
	f->taps = xcalloc(n, sizeof *f->taps);
	if (prev_gain == 1)
		f->taps[n / 2] = 1.0;
	for (size_t i = nbreak - 1; i-- > 0;) {
		if (gain[i] != prev_gain) {
			size_t m = dsp_filter_length(fs, prev_freq - freq[i]);
			double c = (prev_freq + freq[i]) / 2.0 / nyq;

			if (m > n)
				m = n;
			dsp_filter_add_lowpass(f->taps, (n - m) / 2, m, c,
					       gain[i] == 0 ? -1.0 : 1.0);
		}
		prev_gain = gain[i];
		prev_freq = freq[i];
	}
}

int
dsp_filter_design(struct dsp_filter *f, enum dsp_filter_kind kind, double fs, double lo, double hi,
		  char **cause)
{
	double freq[6], nyq = fs / 2.0, trans;
	int gain[6];
	size_t nb = 0;

	f->taps = NULL;
	f->ntaps = 0;
	if (!(fs > 0.0) || !isfinite(fs))
		return error_set(cause, -EINVAL, "sampling rate %g Hz must be positive", fs);
	if (kind != DSP_FILTER_LOWPASS && !(lo > 0.0 && lo < nyq))
		return error_set(cause, -EINVAL, "low cut-off %g Hz must be in (0, %g) Hz", lo,
				 nyq);
	if (kind != DSP_FILTER_HIGHPASS && !(hi > 0.0 && hi < nyq))
		return error_set(cause, -EINVAL, "high cut-off %g Hz must be in (0, %g) Hz", hi,
				 nyq);
	if (kind == DSP_FILTER_BANDPASS && !(lo < hi))
		return error_set(cause, -EINVAL,
				 "band-pass low cut-off %g Hz must be below high %g Hz", lo, hi);
	freq[nb] = 0.0;
	gain[nb++] = kind == DSP_FILTER_LOWPASS;
	trans = INFINITY;
	if (kind != DSP_FILTER_LOWPASS) {
		double t = dsp_filter_trans_lo(lo);

		freq[nb] = lo - t;
		gain[nb++] = 0;
		freq[nb] = lo;
		gain[nb++] = 1;
		trans = t;
	}
	if (kind != DSP_FILTER_HIGHPASS) {
		double t = dsp_filter_trans_hi(fs, hi);

		freq[nb] = hi;
		gain[nb++] = 1;
		freq[nb] = hi + t;
		gain[nb++] = 0;
		trans = fmin(trans, t);
	}
	freq[nb] = nyq;
	gain[nb++] = kind == DSP_FILTER_HIGHPASS;
	dsp_filter_from_breaks(f, dsp_filter_length(fs, trans), fs, freq, gain, nb);
	return 0;
}

static int
dsp_filter_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int
dsp_filter_design_notch(struct dsp_filter *f, double fs, const double *freqs, size_t nfreqs,
			double width, char **cause)
{
	double freq[DSP_FILTER_MAX_BREAKS], sorted[(DSP_FILTER_MAX_BREAKS - 2) / 4];
	int gain[DSP_FILTER_MAX_BREAKS];
	double nyq = fs / 2.0, tb = DSP_FILTER_NOTCH_TRANS;
	size_t nb = 0;

	f->taps = NULL;
	f->ntaps = 0;
	if (!(fs > 0.0) || !isfinite(fs))
		return error_set(cause, -EINVAL, "sampling rate %g Hz must be positive", fs);
	if (nfreqs == 0 || nfreqs > sizeof sorted / sizeof sorted[0])
		return error_set(cause, -EINVAL, "notch needs 1 to %zu frequencies, got %zu",
				 sizeof sorted / sizeof sorted[0], nfreqs);
	memcpy(sorted, freqs, nfreqs * sizeof *sorted);
	xqsort(sorted, nfreqs, sizeof *sorted, dsp_filter_cmp_double);
	freq[nb] = 0.0;
	gain[nb++] = 1;
	for (size_t i = 0; i < nfreqs; i++) {
		double fc = sorted[i], w = width > 0.0 ? width : fc / 200.0;
		double pass_lo = fc - w / 2.0 - tb, pass_hi = fc + w / 2.0 + tb;

		if (!isfinite(fc) || !(pass_lo > 0.0) || !(pass_hi < nyq))
			return error_set(cause, -EINVAL,
					 "notch frequency %g Hz (width %g Hz) must leave its band "
					 "inside (0, %g) Hz",
					 fc, w, nyq);
		if (pass_lo < freq[nb - 1])
			return error_set(cause, -EINVAL,
					 "notch frequency %g Hz overlaps the previous stop band",
					 fc);
		freq[nb] = pass_lo;
		gain[nb++] = 1;
		freq[nb] = pass_lo + tb;
		gain[nb++] = 0;
		freq[nb] = pass_hi - tb;
		gain[nb++] = 0;
		freq[nb] = pass_hi;
		gain[nb++] = 1;
	}
	freq[nb] = nyq;
	gain[nb++] = 1;
	dsp_filter_from_breaks(f, dsp_filter_length(fs, tb), fs, freq, gain, nb);
	return 0;
}

void
dsp_filter_fini(struct dsp_filter *f)
{
	if (f == NULL)
		return;
	free(f->taps);
	f->taps = NULL;
	f->ntaps = 0;
}

/* Choose the FFT length for overlap-add of an m-tap filter over lp padded samples: the cheapest
 * power of two by (blocks × n log n) with a penalty for large transforms (cache), or a single
 * transform of a fast mixed-radix size when the whole signal fits in one. */
static size_t
dsp_filter_fft_size(size_t m, size_t lp)
{
	size_t best = 0, lo = 1, hi, one;
	double best_cost = INFINITY, cost;

	while (lo < 2 * m - 1)
		lo *= 2;
	for (hi = lo; hi < lp + m - 1; hi *= 2)
		;
	for (size_t nfft = lo; nfft <= hi; nfft *= 2) {
		double blocks = ceil((double)lp / (double)(nfft - m + 1));

		cost = blocks * (double)nfft * (log2((double)nfft) + 1.0);
		cost += 4e-5 * (double)nfft * (double)lp;
		if (cost < best_cost) {
			best_cost = cost;
			best = nfft;
		}
	}
	one = fft_good_size(lp + m - 1);
	cost = 1.25 * (double)one * (log2((double)one) + 1.0) + 4e-5 * (double)one * (double)lp;
	if (cost < best_cost)
		best = one;
	return best;
}

/* Copy padded samples xp[p0 .. p0+len) into buf. The padded signal is e reflect-limited samples,
 * x, e more, then zeros; the right pad reads the saved copy `end` = x[n-1-e .. n-1]. */
static void
dsp_filter_fill(double *buf, size_t p0, size_t len, const double *x, size_t n, size_t e,
		const double *end)
{
	for (size_t k = 0; k < len;) {
		size_t p = p0 + k;

		if (p < e) {
			buf[k++] = 2.0 * x[0] - x[e - p];
		} else if (p < e + n) {
			size_t cnt = e + n - p < len - k ? e + n - p : len - k;

			memcpy(buf + k, x + (p - e), cnt * sizeof *buf);
			k += cnt;
		} else if (p < 2 * e + n) {
			buf[k++] = 2.0 * end[e] - end[e - 1 - (p - e - n)];
		} else {
			memset(buf + k, 0, (len - k) * sizeof *buf);
			k = len;
		}
	}
}

/* Write c[p0 .. p0+len) = v[0 .. len) into y[i] = c[i + shift], i in [0, n). */
static void
dsp_filter_put(double *y, size_t n, size_t shift, size_t p0, size_t len, const double *v)
{
	size_t lo = p0 > shift ? p0 : shift, hi = p0 + len < shift + n ? p0 + len : shift + n;

	for (size_t c = lo; c < hi; c++)
		y[c - shift] = v[c - p0];
}

int
dsp_filter_apply(const struct dsp_filter *f, double *x, size_t n, char **cause)
{
	size_t m = f->ntaps, e, lp, nfft, blk, h0, nblocks;
	double *buf, *tail, *end;
	fftw_complex *H, *X;

	if (m == 0 || m % 2 == 0 || f->taps == NULL)
		return error_set(cause, -EINVAL, "filter has %zu taps; an odd number is needed", m);
	if (n < 2)
		return 0;
	e = (m < n ? m : n) - 1;
	lp = n + 2 * e;
	h0 = (m - 1) / 2;
	nfft = dsp_filter_fft_size(m, lp);
	blk = nfft - m + 1;
	buf = fft_alloc_real(nfft);
	H = fft_alloc_complex(nfft / 2 + 1);
	X = fft_alloc_complex(nfft / 2 + 1);
	tail = xcalloc(m, sizeof *tail);
	end = xmalloc((e + 1) * sizeof *end);
	memcpy(end, x + (n - 1 - e), (e + 1) * sizeof *end);

	memset(buf, 0, nfft * sizeof *buf);
	memcpy(buf, f->taps, m * sizeof *buf);
	fft_r2c(nfft, buf, H);
	for (size_t k = 0; k <= nfft / 2; k++)
		H[k] /= (double)nfft;

	/* Full convolution c = xp * h; output y[i] = c[i + e + h0]. Block b covers c[bB, bB+B),
	 * complete after block b; x[i] is consumed by block (i+e)/B, before y[i] is written. */
	nblocks = (lp + blk - 1) / blk;
	for (size_t b = 0; b < nblocks; b++) {
		size_t p0 = b * blk;

		dsp_filter_fill(buf, p0, blk, x, n, e, end);
		memset(buf + blk, 0, (nfft - blk) * sizeof *buf);
		fft_r2c(nfft, buf, X);
		fft_spectrum_mul(X, H, nfft / 2 + 1);
		fft_c2r(nfft, X, buf);
		for (size_t k = 0; k + 1 < m; k++)
			buf[k] += tail[k];
		/* c[p0 + k] = buf[k] for k < blk: write those that are outputs. */
		dsp_filter_put(x, n, e + h0, p0, blk, buf);
		memcpy(tail, buf + blk, (m - 1) * sizeof *tail);
	}
	/* No more input: the tail holds the rest of c, complete. */
	dsp_filter_put(x, n, e + h0, nblocks * blk, m - 1, tail);
	fft_free(buf);
	fft_free(H);
	fft_free(X);
	free(tail);
	free(end);
	return 0;
}

static int
dsp_filter_run(double *x, size_t n, enum dsp_filter_kind kind, double fs, double lo, double hi,
	       char **cause)
{
	struct dsp_filter f;
	int rc = dsp_filter_design(&f, kind, fs, lo, hi, cause);

	if (rc == 0)
		rc = dsp_filter_apply(&f, x, n, cause);
	dsp_filter_fini(&f);
	return rc;
}

int
dsp_filter_highpass(double *x, size_t n, double fs, double fc, char **cause)
{
	return dsp_filter_run(x, n, DSP_FILTER_HIGHPASS, fs, fc, 0.0, cause);
}

int
dsp_filter_lowpass(double *x, size_t n, double fs, double fc, char **cause)
{
	return dsp_filter_run(x, n, DSP_FILTER_LOWPASS, fs, 0.0, fc, cause);
}

int
dsp_filter_bandpass(double *x, size_t n, double fs, double lo, double hi, char **cause)
{
	return dsp_filter_run(x, n, DSP_FILTER_BANDPASS, fs, lo, hi, cause);
}

int
dsp_filter_notch(double *x, size_t n, double fs, const double *freqs, size_t nfreqs, double width,
		 char **cause)
{
	struct dsp_filter f;
	int rc = dsp_filter_design_notch(&f, fs, freqs, nfreqs, width, cause);

	if (rc == 0)
		rc = dsp_filter_apply(&f, x, n, cause);
	dsp_filter_fini(&f);
	return rc;
}
