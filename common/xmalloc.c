/* Allocation wrappers: every failure is fatal, so callers never check for NULL. Blocks of 2 MiB
 * and more (channels, epoch matrices) start on a 2 MiB boundary, so that transparent huge pages
 * can back all of them: the kernel then faults them in 2 MiB at a time instead of 4 KiB, which
 * took a tenth of a correction's CPU time when every channel-sized buffer is fresh. */
#include "common/xmalloc.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"

#define XMALLOC_HUGE ((size_t)2 << 20)

void *
xmalloc_aligned(size_t size, size_t align)
{
	void *p = NULL;

	if (size >= XMALLOC_HUGE && align < XMALLOC_HUGE)
		align = XMALLOC_HUGE;
	if (posix_memalign(&p, align, size ? size : 1) != 0)
		fatal("out of memory allocating %zu bytes aligned to %zu", size, align);
	return p;
}

void *
xmalloc(size_t size)
{
	void *p;

	if (size >= XMALLOC_HUGE)
		return xmalloc_aligned(size, XMALLOC_HUGE);
	p = malloc(size ? size : 1);
	if (p == NULL)
		fatal("out of memory allocating %zu bytes", size);
	return p;
}

void *
xcalloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);
	if (p == NULL)
		fatal("out of memory allocating %zu x %zu bytes", nmemb, size);
	return p;
}

void *
xrealloc(void *ptr, size_t size)
{
	void *p = realloc(ptr, size ? size : 1);
	if (p == NULL)
		fatal("out of memory reallocating %zu bytes", size);
	return p;
}

void *
xreallocarray(void *ptr, size_t nmemb, size_t size)
{
	if (size != 0 && nmemb > SIZE_MAX / size)
		fatal("allocation overflow: %zu x %zu", nmemb, size);
	return xrealloc(ptr, nmemb * size);
}

char *
xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *
xstrndup(const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *p = xmalloc(len + 1);
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

char *
xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *p;

	va_start(ap, fmt);
	if (vasprintf(&p, fmt, ap) < 0)
		fatal("out of memory formatting a string");
	va_end(ap);
	return p;
}
