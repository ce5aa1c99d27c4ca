/* Internal to the FFT resampler: the polyphase forms of its two long transforms
 * (dsp-resample-poly.c), which compute the same result as the single-transform path of
 * dsp-resample.c without its new_len- or old_len-sized buffer. */
#ifndef ND_DSP_RESAMPLE_POLY_H
#define ND_DSP_RESAMPLE_POLY_H

#include <stddef.h>

#include "worker/dsp/core/dsp-resample-plan.h"

/* Upsampling with new_len = m·old_len (m ≥ 2, old_len even): m inverse transforms of old_len
 * points, one per output phase, written straight into y (final_len doubles). */
void dsp_resample_poly_up(const double *x, size_t n, const struct dsp_resample_plan *p, size_t m,
			  double *y);
/* Working memory of dsp_resample_poly_up in bytes, without x and y. */
size_t dsp_resample_poly_up_bytes(const struct dsp_resample_plan *p);

/* Downsampling (new_len < old_len): bins 0..new_len/2 of the padded signal's spectrum from
 * old_len/part forward transforms of `part` points (part a power of two, 2 ≤ part < old_len),
 * then the inverse transform of new_len points, trimmed into y. */
void dsp_resample_poly_down(const double *x, size_t n, const struct dsp_resample_plan *p,
			    size_t part, double *y);
size_t dsp_resample_poly_down_bytes(const struct dsp_resample_plan *p, size_t part);

#endif
