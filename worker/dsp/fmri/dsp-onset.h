/* Where an artifact epoch should start: inside the quiet part of the slice cycle before each
 * trigger, as far from the artifact on either side as the quiet part allows. */
#ifndef ND_DSP_ONSET_H
#define ND_DSP_ONSET_H

#include <stddef.h>
#include <stdint.h>

struct dsp_onset {
	long offset;  /* samples from each trigger to the epoch start (<= 0) */
	size_t quiet; /* samples of the quiet run it sits in (0: none, the quietest point) */
	size_t cycle; /* the slice cycle, samples (median trigger interval) */
};

/* From x[0..n) and its triggers t[0..nt) (sorted, at least 4): the mean power over the slices of
 * the de-meaned cycle [t − C/2, t + C/2) (C the median interval), smoothed over 1 ms at rate fs;
 * quiet where it is within 6 dB of its least; the epoch starts in the middle of the longest
 * quiet run in [t − C/2, t], or at its quietest point when nothing there is quiet. Returns 0 or
 * -EINVAL. */
int dsp_onset_quiet(const double *x, size_t n, const int64_t *t, size_t nt, double fs,
		    struct dsp_onset *o, char **cause);

#endif
