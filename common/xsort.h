/* Sorting that accepts an empty array given as NULL: C leaves qsort(NULL, 0, ...) undefined, and
 * the arrays of a channel without triggers, peaks or candidates are exactly that. */
#ifndef ND_XSORT_H
#define ND_XSORT_H

#include <stdlib.h>

static inline void
xqsort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
	if (n > 1)
		qsort(base, n, size, cmp);
}

#endif
