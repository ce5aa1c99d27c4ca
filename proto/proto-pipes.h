/* The REP server's table of its pipes (proto-nng.c): found by id through a hash map, the
 * unauthenticated ones kept oldest first in one list and in one list per remote address, and
 * those we closed in the order we closed them. Choosing the pipe to close for a new one, adding,
 * authenticating and removing a pipe are O(1); finding the pipes past the hello deadline and
 * counting the stuck ones cost O(1) per pipe found. Not locked: the server holds its lock. */
#ifndef ND_PROTO_PIPES_H
#define ND_PROTO_PIPES_H

#include <stdint.h>

#include "common/dlist.h"
#include "common/u64map.h"

struct proto_pipes {
	struct u64map by_id;   /* pipe id -> struct proto_pipe */
	struct u64map by_addr; /* address key -> struct proto_pipe_addr (unauthenticated pipes) */
	struct dlist unauth;         /* struct proto_pipe: open, not authenticated, oldest first */
	struct dlist closing, stuck; /* closed by us, not freed by nng: young, old */
	uint32_t open;
};

void proto_pipes_init(struct proto_pipes *t);
void proto_pipes_fini(struct proto_pipes *t);
/* A new pipe from address key addr (0 for none), unauthenticated, added at now. */
void proto_pipes_add(struct proto_pipes *t, uint32_t id, uint64_t addr, double now);
/* nng freed the pipe (a no-op for an id not in the table). */
void proto_pipes_remove(struct proto_pipes *t, uint32_t id);
void proto_pipes_authenticated(struct proto_pipes *t, uint32_t id);
/* The unauthenticated pipe to close to make room for one more from addr, or 0: the oldest from
 * addr when it has max_per_addr, else the oldest of all when there are max_total. */
uint32_t proto_pipes_victim(const struct proto_pipes *t, uint64_t addr, uint32_t max_total,
			    uint32_t max_per_addr);
/* We close pipe id now: off the unauthenticated lists, onto the closing one. */
void proto_pipes_closed(struct proto_pipes *t, uint32_t id, double now);
/* The oldest open unauthenticated pipe added before `before`, or 0. */
uint32_t proto_pipes_oldest_before(const struct proto_pipes *t, double before);
struct proto_pipes_counts {
	uint32_t open, unauthenticated, closing, stuck; /* as in proto_server_pipe_counts */
};
/* The counts; pipes closed before stuck_after become stuck. */
void proto_pipes_counts(struct proto_pipes *t, double stuck_after, struct proto_pipes_counts *c);

#endif
