/* The generator's seeded random streams: xoshiro256** seeded through splitmix64 from the seed
 * and a stream number, uniform and Gaussian (Box-Muller, one spare kept) draws. */
#include "worker/synth/synth-fmri-rng.h"

#include <math.h>

#include "common/splitmix.h"

void
synth_fmri_rng_seed(struct synth_fmri_rng *r, uint64_t seed, uint64_t stream)
{
	uint64_t x = seed ^ (stream * 0xd1342543de82ef95ULL);

	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&x);
	r->has_spare = 0;
}

static uint64_t
synth_fmri_rng_next(struct synth_fmri_rng *r)
{
	uint64_t *s = r->s, result = ((s[1] * 5) << 7 | (s[1] * 5) >> 57) * 9, t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = s[3] << 45 | s[3] >> 19;
	return result;
}

double
synth_fmri_rng_uniform(struct synth_fmri_rng *r)
{
	return ((double)(synth_fmri_rng_next(r) >> 11) + 0.5) / 9007199254740992.0;
}

double
synth_fmri_rng_range(struct synth_fmri_rng *r, double lo, double hi)
{
	return lo + (hi - lo) * synth_fmri_rng_uniform(r);
}

double
synth_fmri_rng_gauss(struct synth_fmri_rng *r)
{
	double u, v, m;

	if (r->has_spare) {
		r->has_spare = 0;
		return r->spare;
	}
	u = synth_fmri_rng_uniform(r);
	v = synth_fmri_rng_uniform(r);
	m = sqrt(-2.0 * log(u));
	r->spare = m * sin(2 * M_PI * v);
	r->has_spare = 1;
	return m * cos(2 * M_PI * v);
}
