/* The pipe table of proto-pipes.h. Each pipe is on at most one list at a time (unauthenticated,
 * closing or stuck) and, while unauthenticated, also on its address's list; an address's entry
 * lives while it has unauthenticated pipes. */
#include "proto/proto-pipes.h"

#include <stddef.h>
#include <stdlib.h>

#include "common/xmalloc.h"

enum proto_pipe_where { PIPE_AUTHED, PIPE_UNAUTH, PIPE_CLOSING, PIPE_STUCK };

struct proto_pipe {
	uint32_t id;
	uint8_t where; /* enum proto_pipe_where */
	uint64_t addr;
	double added, closed_at;
	struct dlink link;      /* on unauth, closing or stuck */
	struct dlink addr_link; /* on its address's list while unauth */
};

#define PIPE_LINK offsetof(struct proto_pipe, link)
#define PIPE_ADDR_LINK offsetof(struct proto_pipe, addr_link)

struct proto_pipe_addr {
	struct dlist pipes; /* its unauthenticated pipes, oldest first */
};

/* The map's key for an address key (0, no address, is a key of its own; the others are odd). */
static uint64_t
proto_pipes_addr_key(uint64_t addr)
{
	return addr != 0 ? addr : 2;
}

static struct dlist *
proto_pipes_list_of(struct proto_pipes *t, const struct proto_pipe *p)
{
	switch (p->where) {
	case PIPE_UNAUTH:
		return &t->unauth;
	case PIPE_CLOSING:
		return &t->closing;
	case PIPE_STUCK:
		return &t->stuck;
	default:
		return NULL;
	}
}

static void
proto_pipes_addr_push(struct proto_pipes *t, struct proto_pipe *p)
{
	uint64_t key = proto_pipes_addr_key(p->addr);
	struct proto_pipe_addr *a = u64map_find(&t->by_addr, key);

	if (a == NULL) {
		a = xcalloc(1, sizeof *a);
		u64map_put(&t->by_addr, key, a);
	}
	dlist_push(&a->pipes, p, PIPE_ADDR_LINK);
}

static void
proto_pipes_addr_unlink(struct proto_pipes *t, struct proto_pipe *p)
{
	uint64_t key = proto_pipes_addr_key(p->addr);
	struct proto_pipe_addr *a = u64map_find(&t->by_addr, key);

	if (a == NULL)
		return;
	dlist_unlink(&a->pipes, p, PIPE_ADDR_LINK);
	if (a->pipes.n == 0) {
		u64map_remove(&t->by_addr, key);
		free(a);
	}
}

/* Take p off whichever lists it is on; it counts as authenticated (on none) after. */
static void
proto_pipes_detach(struct proto_pipes *t, struct proto_pipe *p)
{
	struct dlist *l = proto_pipes_list_of(t, p);

	if (p->where == PIPE_UNAUTH)
		proto_pipes_addr_unlink(t, p);
	if (l != NULL)
		dlist_unlink(l, p, PIPE_LINK);
	p->where = PIPE_AUTHED;
}

void
proto_pipes_init(struct proto_pipes *t)
{
	*t = (struct proto_pipes){0};
}

void
proto_pipes_fini(struct proto_pipes *t)
{
	for (uint32_t i = 0; i < t->by_id.cap; i++)
		free(t->by_id.slot[i].item);
	for (uint32_t i = 0; i < t->by_addr.cap; i++)
		free(t->by_addr.slot[i].item);
	u64map_free(&t->by_id);
	u64map_free(&t->by_addr);
	*t = (struct proto_pipes){0};
}

void
proto_pipes_add(struct proto_pipes *t, uint32_t id, uint64_t addr, double now)
{
	struct proto_pipe *p;

	if (id == 0 || u64map_find(&t->by_id, id) != NULL)
		return;
	p = xcalloc(1, sizeof *p);
	p->id = id;
	p->addr = addr;
	p->added = now;
	p->where = PIPE_UNAUTH;
	u64map_put(&t->by_id, id, p);
	dlist_push(&t->unauth, p, PIPE_LINK);
	proto_pipes_addr_push(t, p);
	t->open++;
}

void
proto_pipes_remove(struct proto_pipes *t, uint32_t id)
{
	struct proto_pipe *p = u64map_find(&t->by_id, id);

	if (p == NULL)
		return;
	proto_pipes_detach(t, p);
	u64map_remove(&t->by_id, id);
	free(p);
	t->open--;
}

void
proto_pipes_authenticated(struct proto_pipes *t, uint32_t id)
{
	struct proto_pipe *p = u64map_find(&t->by_id, id);

	if (p != NULL && p->where == PIPE_UNAUTH)
		proto_pipes_detach(t, p);
}

uint32_t
proto_pipes_victim(const struct proto_pipes *t, uint64_t addr, uint32_t max_total,
		   uint32_t max_per_addr)
{
	const struct proto_pipe_addr *a = u64map_find(&t->by_addr, proto_pipes_addr_key(addr));
	const struct proto_pipe *oldest = t->unauth.head, *oldest_here;

	if (a != NULL && a->pipes.n >= max_per_addr) {
		oldest_here = a->pipes.head;
		return oldest_here->id;
	}
	return t->unauth.n >= max_total && oldest != NULL ? oldest->id : 0;
}

void
proto_pipes_closed(struct proto_pipes *t, uint32_t id, double now)
{
	struct proto_pipe *p = u64map_find(&t->by_id, id);

	if (p == NULL || p->where == PIPE_CLOSING || p->where == PIPE_STUCK)
		return;
	proto_pipes_detach(t, p);
	p->where = PIPE_CLOSING;
	p->closed_at = now;
	dlist_push(&t->closing, p, PIPE_LINK);
}

uint32_t
proto_pipes_oldest_before(const struct proto_pipes *t, double before)
{
	const struct proto_pipe *p = t->unauth.head;

	return p != NULL && p->added < before ? p->id : 0;
}

void
proto_pipes_counts(struct proto_pipes *t, double stuck_after, struct proto_pipes_counts *c)
{
	struct proto_pipe *p;

	/* The closing list is in the order of closing: its old head moves to the stuck list. */
	while ((p = t->closing.head) != NULL && p->closed_at < stuck_after) {
		dlist_unlink(&t->closing, p, PIPE_LINK);
		p->where = PIPE_STUCK;
		dlist_push(&t->stuck, p, PIPE_LINK);
	}
	c->open = t->open;
	c->unauthenticated = t->unauth.n;
	c->closing = t->closing.n + t->stuck.n;
	c->stuck = t->stuck.n;
}
