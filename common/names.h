/* Looking a name up in a table of names indexed by an enum, the way the parameter parsers turn
 * "hann" or "fourier" into their enum value. */
#ifndef ND_NAMES_H
#define ND_NAMES_H

#include <stddef.h>
#include <string.h>

#define NAMES_COUNT(table) (sizeof(table) / sizeof((table)[0]))

/* The index of `name` among names[0..n) (entries may be NULL), or -1 when it is not there or
 * name is NULL. */
static inline int
names_find(const char *name, const char *const *names, size_t n)
{
	for (size_t i = 0; name != NULL && i < n; i++)
		if (names[i] != NULL && strcmp(name, names[i]) == 0)
			return (int)i;
	return -1;
}

#endif
