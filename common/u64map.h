/* A hash map from nonzero 64-bit keys to items owned elsewhere: open addressing with linear
 * probing, at most half full, deletion by backward shift (no tombstones), so that finding,
 * adding and removing each cost O(1) on average however the keys arrive and leave. */
#ifndef ND_U64MAP_H
#define ND_U64MAP_H

#include <stdbool.h>
#include <stdint.h>

struct u64map_slot {
	uint64_t key; /* 0: empty */
	void *item;
};

struct u64map {
	struct u64map_slot *slot;
	uint32_t n, cap; /* cap: 0 or a power of two */
};

/* The item of key (nonzero), or NULL. */
void *u64map_find(const struct u64map *m, uint64_t key);
/* Add key (nonzero) with item, or replace its item. */
void u64map_put(struct u64map *m, uint64_t key, void *item);
/* Take key out; false when it was not in m. */
bool u64map_remove(struct u64map *m, uint64_t key);
void u64map_free(struct u64map *m);

#endif
