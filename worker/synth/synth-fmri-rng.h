/* The EEG-fMRI generator's seeded random streams (synth-fmri-rng.c). Not part of the
 * generator's interface. */
#ifndef ND_SYNTH_FMRI_RNG_H
#define ND_SYNTH_FMRI_RNG_H

#include <stdint.h>

struct synth_fmri_rng {
	uint64_t s[4];
	double spare;
	int has_spare;
};

/* Seeded streams: one per purpose and channel, so a new feature never shifts an old stream. */
void synth_fmri_rng_seed(struct synth_fmri_rng *r, uint64_t seed, uint64_t stream);
double synth_fmri_rng_uniform(struct synth_fmri_rng *r); /* in (0, 1) */
double synth_fmri_rng_range(struct synth_fmri_rng *r, double lo, double hi);
double synth_fmri_rng_gauss(struct synth_fmri_rng *r);

#endif
