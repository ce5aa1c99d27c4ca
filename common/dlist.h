/* Intrusive doubly linked lists that count their items: an item carries one struct dlink per
 * list it can be on, at a fixed offset in it (offsetof), so that it can be on several lists at
 * once and join (at the tail) or leave any of them in O(1). The items are owned elsewhere. */
#ifndef ND_DLIST_H
#define ND_DLIST_H

#include <stddef.h>
#include <stdint.h>

struct dlink {
	void *prev, *next;
};

struct dlist {
	void *head, *tail; /* oldest and newest item */
	uint32_t n;
};

/* The link at offset off in item. */
static inline struct dlink *
dlist_link(void *item, size_t off)
{
	return (struct dlink *)((char *)item + off);
}

/* item (not on l) joins l at its tail. */
static inline void
dlist_push(struct dlist *l, void *item, size_t off)
{
	struct dlink *k = dlist_link(item, off);

	k->next = NULL;
	k->prev = l->tail;
	if (l->tail != NULL)
		dlist_link(l->tail, off)->next = item;
	else
		l->head = item;
	l->tail = item;
	l->n++;
}

/* item (on l) leaves l. */
static inline void
dlist_unlink(struct dlist *l, void *item, size_t off)
{
	struct dlink *k = dlist_link(item, off);

	if (k->prev != NULL)
		dlist_link(k->prev, off)->next = k->next;
	else
		l->head = k->next;
	if (k->next != NULL)
		dlist_link(k->next, off)->prev = k->prev;
	else
		l->tail = k->prev;
	k->prev = k->next = NULL;
	l->n--;
}

#endif
