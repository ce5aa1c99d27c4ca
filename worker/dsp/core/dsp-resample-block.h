/* FFT resampling by an integer factor one block of output at a time: the samples [a, b) of
 * dsp_resample's whole-signal result, computed from the block's stretch of the padded input and
 * a margin either side, so that a caller can resample a channel of any length in memory set by
 * the block and margin sizes. */
#ifndef ND_DSP_RESAMPLE_BLOCK_H
#define ND_DSP_RESAMPLE_BLOCK_H

#include <stddef.h>

/* Input samples x[s0, s1) (0 <= s0 < s1 <= n) into out; ctx is the caller's. */
typedef void (*dsp_resample_read_cb)(void *ctx, size_t s0, size_t s1, double *out);

/* Where a block's input lies and how far it reaches. */
struct dsp_resample_block_params {
	size_t n;       /* input samples of the whole signal */
	unsigned up;    /* upsampling factor, or 1 */
	unsigned down;  /* downsampling factor, or 1 (one of up, down is 1) */
	size_t margin;  /* input samples used beyond the block on either side (tapered) */
};

/* The input samples output block [a, b) reads: [*s0, *s1) within [0, n). */
void dsp_resample_block_span(const struct dsp_resample_block_params *p, size_t a, size_t b,
			     size_t *s0, size_t *s1);
/* Output samples [a, b) (b <= round(n·up/down)) of the whole-signal FFT resampling into
 * y[0 .. b − a), reading the input through read (only within dsp_resample_block_span).
 * Upsampling: the block's padded input, tapered over the margins, resampled by one FFT of a
 * power-of-two length; the output grid is the whole signal's (sample j at input position j/up).
 * Downsampling: the same stretch low-passed at the whole signal's cut-off by one FFT, then
 * evaluated where the whole signal's inverse transform puts output sample j, (j + trim)·N/L
 * padded samples (N the padded length, L its inverse transform's length: not exactly `down`
 * apart when `down` does not divide N), by a Kaiser-windowed sinc. The result differs from the
 * whole-signal one only by what lies beyond the margins (measured in tests/unit/
 * test-dsp-resample-block.c). No ownership is transferred. Returns 0 or -EINVAL. */
int dsp_resample_block(const struct dsp_resample_block_params *p, dsp_resample_read_cb read,
		       void *ctx, size_t a, size_t b, double *y, char **cause);

#endif
