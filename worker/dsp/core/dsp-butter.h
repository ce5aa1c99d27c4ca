/* Butterworth IIR filters as second-order sections: design like scipy.signal.butter(output=
 * 'sos'), causal filtering (sosfilt) and zero-phase forward-backward filtering (sosfiltfilt). */
#ifndef ND_DSP_BUTTER_H
#define ND_DSP_BUTTER_H

#include <stddef.h>

#include "worker/dsp/core/dsp-trial.h"

/* Design an order-`order` Butterworth filter; freq[0] is the cutoff for lp/hp, freq[0..1] the
 * band edges for bp/bs, in Hz at sampling rate fs. On success *sos (nsec x 6 rows b0 b1 b2 a0 a1
 * a2, malloc'd) is owned by the caller, who frees it. Returns 0 or -EINVAL naming the parameter. */
int dsp_butter_design(int order, enum dsp_filter_type type, const double *freq, double fs,
		      double **sos, size_t *nsec, char **cause);

/* Filter x[0..n) in place through the cascade (direct form II transposed). zi (nsec x 2) holds
 * the initial state and receives the final one; NULL means zero initial state. */
void dsp_butter_sosfilt(const double *sos, size_t nsec, double *x, size_t n, double *zi);

/* Steady-state state for a unit step input (scipy.signal.sosfilt_zi) into zi (nsec x 2). */
void dsp_butter_sosfilt_zi(const double *sos, size_t nsec, double *zi);

/* The odd-extension length scipy.signal.sosfiltfilt uses by default. */
size_t dsp_butter_padlen(const double *sos, size_t nsec);

/* Zero-phase filtering in place, exactly as scipy.signal.sosfiltfilt with padtype 'odd'.
 * Returns 0, or -EINVAL if n <= padlen (the trial is too short for the filter). */
int dsp_butter_sosfiltfilt(const double *sos, size_t nsec, double *x, size_t n, char **cause);

#endif
