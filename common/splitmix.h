/* SplitMix64 (Steele, Lea & Flood 2014): one step of the 64-bit mixing generator, for seeding
 * larger generators and for cheap reproducible draws (random epoch positions). */
#ifndef ND_SPLITMIX_H
#define ND_SPLITMIX_H

#include <stdint.h>

static inline uint64_t
splitmix64(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

#endif
