/* Windowed-sinc FIR filters: kernel design (lp, hp, bp, bs; hamming, hann or blackman window,
 * unit DC gain), minimum-phase conversion by the real cepstrum, and FFT application. */
#ifndef ND_DSP_FIRWS_H
#define ND_DSP_FIRWS_H

#include <stddef.h>

#include "worker/dsp/core/dsp-taper.h"
#include "worker/dsp/core/dsp-trial.h"

enum dsp_firws_direction {
	DSP_FIRWS_TWOPASS,          /* centred, applied forward then backward */
	DSP_FIRWS_ONEPASS,          /* centred ("same" convolution), zero phase */
	DSP_FIRWS_ONEPASS_MINPHASE, /* causal with the minimum-phase kernel */
};

/* Default order: min(shortest trial, 1000) rounded down to even (at least 2). */
size_t dsp_firws_default_order(size_t shortest_trial);

/* Kernel of length order + 1 (order even, >= 2) into *kernel (malloc'd, owned by the caller).
 * lp/hp use freq[0]; bp/bs use freq[0] < freq[1]. window: hamming, hann or blackman.
 * Returns 0 or -EINVAL naming freq, order or window. */
int dsp_firws_design(enum dsp_filter_type type, const double *freq, double fs, size_t order,
		     enum dsp_taper_window window, double **kernel, char **cause);

/* Minimum-phase kernel with the same magnitude response (real cepstrum folding), same length. */
void dsp_firws_minphase(const double *k, size_t len, double *out);

/* Filter nchan columns cols[c * n + i] in place with kernel k[0..len) by FFT convolution:
 * centred for onepass/twopass (output i = full[i + (len-1)/2]), causal for minphase (the kernel
 * given must already be minimum phase). Thread-safe. */
void dsp_firws_apply(const double *k, size_t len, enum dsp_firws_direction dir, double *cols,
		     size_t n, size_t nchan);

#endif
