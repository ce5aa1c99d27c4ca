/* The hash map of u64map.h. The hash is a 64-bit finaliser (splitmix64's), so sequential keys
 * such as nng's pipe ids spread over the table. */
#include "common/u64map.h"

#include <stdlib.h>

#include "common/xmalloc.h"

static uint32_t
u64map_home(const struct u64map *m, uint64_t key)
{
	key ^= key >> 30;
	key *= 0xbf58476d1ce4e5b9ULL;
	key ^= key >> 27;
	key *= 0x94d049bb133111ebULL;
	key ^= key >> 31;
	return (uint32_t)key & (m->cap - 1);
}

void *
u64map_find(const struct u64map *m, uint64_t key)
{
	if (m->cap == 0 || key == 0)
		return NULL;
	for (uint32_t i = u64map_home(m, key);; i = (i + 1) & (m->cap - 1)) {
		if (m->slot[i].key == key)
			return m->slot[i].item;
		if (m->slot[i].key == 0)
			return NULL;
	}
}

static void
u64map_grow(struct u64map *m)
{
	struct u64map old = *m;

	m->cap = old.cap ? old.cap * 2 : 16;
	m->slot = xcalloc(m->cap, sizeof *m->slot);
	m->n = 0;
	for (uint32_t i = 0; i < old.cap; i++)
		if (old.slot[i].key != 0)
			u64map_put(m, old.slot[i].key, old.slot[i].item);
	free(old.slot);
}

void
u64map_put(struct u64map *m, uint64_t key, void *item)
{
	uint32_t i;

	if (key == 0)
		return;
	if (2 * (m->n + 1) > m->cap)
		u64map_grow(m);
	for (i = u64map_home(m, key); m->slot[i].key != 0; i = (i + 1) & (m->cap - 1))
		if (m->slot[i].key == key) {
			m->slot[i].item = item;
			return;
		}
	m->slot[i].key = key;
	m->slot[i].item = item;
	m->n++;
}

bool
u64map_remove(struct u64map *m, uint64_t key)
{
	uint32_t i, j, mask = m->cap - 1;

	if (m->cap == 0 || key == 0)
		return false;
	for (i = u64map_home(m, key); m->slot[i].key != key; i = (i + 1) & mask)
		if (m->slot[i].key == 0)
			return false;
	/* Shift back the entries of the run after i that may move into the hole. */
	for (j = (i + 1) & mask; m->slot[j].key != 0; j = (j + 1) & mask) {
		uint32_t home = u64map_home(m, m->slot[j].key);
		/* j's entry may fill the hole at i when its home is not cyclically in (i, j]. */
		if (((j - home) & mask) >= ((j - i) & mask)) {
			m->slot[i] = m->slot[j];
			i = j;
		}
	}
	m->slot[i].key = 0;
	m->slot[i].item = NULL;
	m->n--;
	return true;
}

void
u64map_free(struct u64map *m)
{
	free(m->slot);
	m->slot = NULL;
	m->n = m->cap = 0;
}
