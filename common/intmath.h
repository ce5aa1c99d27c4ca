/* Integer arithmetic the kernels share: the greatest common divisor of window steps and
 * resampling ratios. */
#ifndef ND_INTMATH_H
#define ND_INTMATH_H

#include <stddef.h>

/* gcd(a, b); gcd(a, 0) = a. */
static inline size_t
intmath_gcd(size_t a, size_t b)
{
	while (b != 0) {
		size_t t = a % b;

		a = b;
		b = t;
	}
	return a;
}

#endif
