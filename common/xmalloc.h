/* Allocation that cannot fail: out of memory is a broken invariant and aborts. */
#ifndef ND_XMALLOC_H
#define ND_XMALLOC_H

#include <stddef.h>

void *xmalloc(size_t size);
/* Aligned to `align` (a power of two, at least sizeof(void *)), or to 2 MiB from 2 MiB up as
 * xmalloc does; freed with free(). */
void *xmalloc_aligned(size_t size, size_t align);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *ptr, size_t size);
void *xreallocarray(void *ptr, size_t nmemb, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
