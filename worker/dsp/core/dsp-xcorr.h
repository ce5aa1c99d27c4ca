/* The cross-correlation search primitive used by the aligners and AAS. Thread-safe. */
#ifndef ND_DSP_XCORR_H
#define ND_DSP_XCORR_H

#include <stddef.h>

/* c[k + w] = Σ_{n < nr} s[n + k]·r[n] for k in [−w, w], with s taken as zero outside
 * [0, ns). c must hold 2w + 1 doubles. No ownership is transferred. */
void dsp_xcorr_values(const double *s, size_t ns, const double *r, size_t nr, size_t w, double *c);
/* argmax over k in [−w, w] of the sums above (the first, i.e. smallest k, on ties):
 * s[n + shift] ≈ r[n]. */
long dsp_xcorr_shift(const double *s, size_t ns, const double *r, size_t nr, size_t w);

#endif
