/* What the time-frequency methods (mtmconvol, welch, wavelet, superlet) share: the reference's
 * nearest-bin frequency matching, the conversion of complex coefficients to an output, and the
 * trimming and subsampling of a trial for a list of times of interest. */
#ifndef ND_DSP_TFR_H
#define ND_DSP_TFR_H

#include <math.h>
#include <stdbool.h>
#include <stddef.h>

#include "worker/dsp/spectral/dsp-mtmfft.h"

/* Times of interest: a window-overlap fraction (mtmconvol, welch), every sample, or a list. */
enum dsp_tfr_toi {
	DSP_TFR_TOI_FRACTION,
	DSP_TFR_TOI_ALL,
	DSP_TFR_TOI_LIST,
};

/* Indices into grid[0..n) (ascending) nearest to each sel[i]: searchsorted left, one step
 * down only when the left neighbour is strictly closer (ties go up); with `squash` repeated
 * indices are dropped, keeping first occurrences in order. Returns the count written to idx
 * (room for nsel). */
size_t dsp_tfr_best_match(const double *grid, size_t n, const double *sel, size_t nsel,
			  bool squash, size_t *idx);
/* Indices of grid entries with lo <= grid[i] <= hi, ascending; returns the count. */
size_t dsp_tfr_span(const double *grid, size_t n, double lo, double hi, size_t *idx);
/* numpy.fft.rfftfreq(n, 1 / fs) into out[0 .. n/2]. */
void dsp_tfr_rfftfreq(size_t n, double fs, double *out);

/* Values per output entry: 2 for fourier (re, im), else 1. */
static inline size_t
dsp_tfr_width(enum dsp_mtmfft_output o)
{
	return o == DSP_MTMFFT_FOURIER ? 2 : 1;
}

/* dst[0] (and dst[1] for fourier) += w * output(re + i im). */
static inline void
dsp_tfr_convert_add(enum dsp_mtmfft_output o, double re, double im, double w, double *dst)
{
	switch (o) {
	case DSP_MTMFFT_POW:
		dst[0] += w * (re * re + im * im);
		break;
	case DSP_MTMFFT_ABS:
		dst[0] += w * hypot(re, im);
		break;
	case DSP_MTMFFT_FOURIER:
		dst[0] += w * re;
		dst[1] += w * im;
		break;
	case DSP_MTMFFT_REAL:
		dst[0] += w * re;
		break;
	case DSP_MTMFFT_IMAG:
		dst[0] += w * im;
		break;
	case DSP_MTMFFT_ANGLE:
		dst[0] += w * atan2(im, re);
		break;
	case DSP_MTMFFT_ABSREAL:
		dst[0] += w * fabs(re);
		break;
	case DSP_MTMFFT_ABSIMAG:
		dst[0] += w * fabs(im);
		break;
	}
}

/* The samples a wavelet or superlet transform keeps for an equidistant toi list on a trial of
 * nsamp samples starting at time t0 (s), as the reference computes them: the transform runs on
 * samples [*a, *b) of the (detrended) trial and keeps the indices keep[0..ntoi) of its output.
 * Returns 0, or -EINVAL when a kept index falls outside the trimmed range. */
int dsp_tfr_trim(const double *toi, size_t ntoi, double fs, double t0, size_t nsamp, size_t *a,
		 size_t *b, size_t *keep, char **cause);

#endif
