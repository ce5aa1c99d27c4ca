/* An index of items by a 32-bit id: a sorted array of (id, item) searched in log n, for ids
 * that mostly arrive in increasing order (appended; the others go in by a shift) and leave in
 * any order (one at a time by a shift, or many in one pass). The items are owned elsewhere. */
#ifndef ND_IDINDEX_H
#define ND_IDINDEX_H

#include <stdbool.h>
#include <stdint.h>

struct idindex_entry {
	uint32_t id;
	void *item;
};

struct idindex {
	struct idindex_entry *e;
	uint32_t n, cap;
};

/* The item of id, or NULL. */
void *idindex_find(const struct idindex *x, uint32_t id);
/* Add id (not yet in x); replaces the item when it is. */
void idindex_add(struct idindex *x, uint32_t id, void *item);
/* Take id out; false when it was not in x. */
bool idindex_remove(struct idindex *x, uint32_t id);
/* Take out, in one pass, every entry whose item `gone` says goes. */
void idindex_remove_if(struct idindex *x, bool (*gone)(const void *item));
void idindex_free(struct idindex *x);

#endif
