/* The sorted (id, item) index of idindex.h. */
#include "common/idindex.h"

#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"

/* The first position whose id is not below id. */
static uint32_t
idindex_pos(const struct idindex *x, uint32_t id)
{
	uint32_t lo = 0, hi = x->n;

	if (x->n > 0 && x->e[x->n - 1].id < id)
		return x->n;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (x->e[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

void *
idindex_find(const struct idindex *x, uint32_t id)
{
	uint32_t k = idindex_pos(x, id);

	return k < x->n && x->e[k].id == id ? x->e[k].item : NULL;
}

void
idindex_add(struct idindex *x, uint32_t id, void *item)
{
	uint32_t k = idindex_pos(x, id);

	if (k < x->n && x->e[k].id == id) {
		x->e[k].item = item;
		return;
	}
	if (x->n == x->cap) {
		x->cap = x->cap ? x->cap * 2 : 64;
		x->e = xreallocarray(x->e, x->cap, sizeof *x->e);
	}
	if (k < x->n)
		memmove(&x->e[k + 1], &x->e[k], (x->n - k) * sizeof *x->e);
	x->e[k].id = id;
	x->e[k].item = item;
	x->n++;
}

bool
idindex_remove(struct idindex *x, uint32_t id)
{
	uint32_t k = idindex_pos(x, id);

	if (k >= x->n || x->e[k].id != id)
		return false;
	memmove(&x->e[k], &x->e[k + 1], (x->n - k - 1) * sizeof *x->e);
	x->n--;
	return true;
}

void
idindex_remove_if(struct idindex *x, bool (*gone)(const void *item))
{
	uint32_t kept = 0;

	for (uint32_t k = 0; k < x->n; k++)
		if (!gone(x->e[k].item))
			x->e[kept++] = x->e[k];
	x->n = kept;
}

void
idindex_free(struct idindex *x)
{
	free(x->e);
	x->e = NULL;
	x->n = x->cap = 0;
}
