/* FFT resampling of one channel (the reference toolbox's method: reflect-limited padding to a
 * power of two, one real FFT, spectrum cut or zero-extended, inverse FFT, trim). Thread-safe. */
#ifndef ND_DSP_RESAMPLE_H
#define ND_DSP_RESAMPLE_H

#include <stddef.h>

/* Number of output samples for n input samples at rate ratio new/old: round(ratio·n). */
size_t dsp_resample_length(size_t n, double ratio);
/* Peak working memory in bytes of dsp_resample for these arguments, output included, so a
 * caller can refuse an upsampling that would not fit. */
size_t dsp_resample_bytes(size_t n, double ratio);

/* Resample x[0..n) by ratio (> 0) into y, which must hold dsp_resample_length(n, ratio)
 * doubles. x and y must not overlap; no ownership is transferred. Returns 0 or -EINVAL. */
int dsp_resample(const double *x, size_t n, double ratio, double *y, char **cause);
/* The same, always with one forward transform of the padded length and one inverse transform
 * of round(ratio·padded) points: the plain form dsp_resample's faster paths are checked
 * against. */
int dsp_resample_direct(const double *x, size_t n, double ratio, double *y, char **cause);
/* The same with ratio k, 1/k and fs_new/fs. */
int dsp_resample_up(const double *x, size_t n, unsigned k, double *y, char **cause);
int dsp_resample_down(const double *x, size_t n, unsigned k, double *y, char **cause);
int dsp_resample_rate(const double *x, size_t n, double fs, double fs_new, double *y, char **cause);

#endif
