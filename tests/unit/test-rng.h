/* Deterministic random numbers for the tests and benchmarks, so runs see the same signals:
 * standard normal values from xorshift or from a 64-bit LCG, each through Box-Muller. No test
 * framework needed. */
#ifndef ND_TEST_RNG_H
#define ND_TEST_RNG_H

#include <math.h>
#include <stdint.h>

/* Deterministic standard normal numbers (xorshift + Box-Muller). */
static inline double
test_randn(uint64_t *s)
{
	double u1, u2;

	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	u1 = ((double)(*s >> 11) + 0.5) / 9007199254740992.0;
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	u2 = ((double)(*s >> 11) + 0.5) / 9007199254740992.0;
	return sqrt(-2 * log(u1)) * cos(2 * M_PI * u2);
}

/* Deterministic standard normal numbers from a 64-bit LCG (Knuth's MMIX constants) and
 * Box-Muller, the generator the recording-kernel tests were tuned with. */
static inline double
test_lcg_uniform(uint64_t *s)
{
	*s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
	return (double)(*s >> 11) / 9007199254740992.0;
}

static inline double
test_lcg_normal(uint64_t *s)
{
	double u = test_lcg_uniform(s) + 1e-300, v = test_lcg_uniform(s);

	return sqrt(-2 * log(u)) * cos(2 * M_PI * v);
}

#endif
