/* The worker registry: registration from HELLO, lookup, removal when a worker is lost (pipe
 * closed, BYE, or heartbeats missed past the TTL; sched_jobs_worker_lost requeues its tasks), and
 * the tasks each one runs and since when (for the time limits of sched-timeout.c), the lists
 * that keep the TTL and the parked polls in O(1) per message (workers by last message; parked
 * task requests, oldest first), and the pipe -> role table for auth. */
#include "scheduler/state/sched-workers.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/timeutil.h"
#include "common/xmalloc.h"
#include "scheduler/state/sched-pass.h"

#define SCHED_SEEN offsetof(struct sched_worker, seen_link)
#define SCHED_PARK offsetof(struct sched_worker, park_link)

struct sched_worker *
sched_workers_add(struct sched *s, const struct proto_hello *h, uint32_t pipe)
{
	struct sched_worker *w = xcalloc(1, sizeof *w);

	w->id = s->next_worker_id++;
	w->pipe = pipe;
	w->host = xstrdup(h->host != NULL ? h->host : "?");
	w->version = xstrdup(h->version != NULL ? h->version : "?");
	w->slurm_job = h->slurm_job != NULL ? xstrdup(h->slurm_job) : NULL;
	w->pid = (uint32_t)h->pid;
	w->slots = (uint32_t)h->slots;
	w->mem = h->mem;
	w->registered = w->last_seen = time_mono_s();
	w->next = s->workers;
	if (s->workers != NULL)
		s->workers->prev = w;
	s->workers = w;
	dlist_push(&s->seen, w, SCHED_SEEN);
	s->slots += w->draining ? 0 : w->slots;
	idindex_add(&s->workers_by_id, w->id, w);
	s->nworkers++;
	log_info("worker %u registered: %s pid %u, %u slots%s%s (%u connected)", w->id, w->host,
		 w->pid, w->slots, w->slurm_job != NULL ? ", slurm job " : "",
		 w->slurm_job != NULL ? w->slurm_job : "", s->nworkers);
	return w;
}

struct sched_worker *
sched_workers_find(struct sched *s, uint32_t id)
{
	return idindex_find(&s->workers_by_id, id);
}

bool
sched_workers_remove(struct sched *s, struct sched_worker *w, const char *why)
{
	struct proto_server_ctx *held;

	if (idindex_find(&s->workers_by_id, w->id) != w)
		return false;
	if (w->prev != NULL)
		w->prev->next = w->next;
	else
		s->workers = w->next;
	if (w->next != NULL)
		w->next->prev = w->prev;
	w->prev = w->next = NULL;
	dlist_unlink(&s->seen, w, SCHED_SEEN);
	s->slots -= w->draining ? 0 : w->slots;
	idindex_remove(&s->workers_by_id, w->id);
	s->nworkers--;
	if ((held = sched_workers_unpark(s, w)) != NULL) {
		struct proto_msg idle = {.type = PROTO_IDLE, .request_id = w->held_request_id};
		sched_pass_reply(s, held, &idle);
	}
	if (w->assigned > 0) {
		s->stats.workers_lost++;
		log_warn("worker %u (%s pid %u) lost: %s; %u of its tasks go back to the queue",
			 w->id, w->host, w->pid, why, w->assigned);
	} else {
		log_info("worker %u (%s pid %u) left: %s (%u connected)", w->id, w->host, w->pid,
			 why, s->nworkers);
	}
	return true;
}

void
sched_workers_free(struct sched_worker *w)
{
	free(w->host);
	free(w->version);
	free(w->slurm_job);
	free(w->run);
	free(w);
}

struct sched_worker *
sched_workers_expired(struct sched *s, double now)
{
	struct sched_worker *w = s->seen.head;

	return w != NULL && now - w->last_seen > s->cfg.worker_ttl_s ? w : NULL;
}

void
sched_workers_refresh(struct sched *s, double now)
{
	for (struct sched_worker *w = s->seen.head; w != NULL; w = w->seen_link.next)
		w->last_seen = now; /* the order stays */
}

void
sched_workers_seen(struct sched *s, struct sched_worker *w, double now)
{
	w->last_seen = now;
	if (s->seen.tail != w) {
		dlist_unlink(&s->seen, w, SCHED_SEEN);
		dlist_push(&s->seen, w, SCHED_SEEN);
	}
}

void
sched_workers_park(struct sched *s, struct sched_worker *w, struct proto_server_ctx *ctx,
		   uint64_t request_id, uint32_t free_slots, double now)
{
	sched_workers_unpark(s, w);
	w->held = ctx;
	w->held_request_id = request_id;
	w->held_free = free_slots;
	w->held_since = now;
	w->park_list = &s->parked_new;
	dlist_push(&s->parked_new, w, SCHED_PARK);
}

struct proto_server_ctx *
sched_workers_unpark(struct sched *s, struct sched_worker *w)
{
	struct proto_server_ctx *ctx = w->held;

	(void)s;
	if (w->park_list != NULL)
		dlist_unlink(w->park_list, w, SCHED_PARK);
	w->park_list = NULL;
	w->held = NULL;
	return ctx;
}

void
sched_workers_park_idle(struct sched *s, struct sched_worker *w)
{
	if (w->park_list != &s->parked_new)
		return;
	dlist_unlink(&s->parked_new, w, SCHED_PARK);
	w->park_list = &s->parked_idle;
	dlist_push(&s->parked_idle, w, SCHED_PARK);
}

void
sched_workers_run_started(struct sched_worker *w, uint64_t task, double now)
{
	if (w->nrun == w->run_cap) {
		w->run_cap = w->run_cap ? w->run_cap * 2 : 8;
		w->run = xreallocarray(w->run, w->run_cap, sizeof *w->run);
	}
	w->run[w->nrun].task = task;
	w->run[w->nrun].since = now;
	w->nrun++;
}

void
sched_workers_run_finished(struct sched_worker *w, uint64_t task)
{
	for (uint32_t i = 0; i < w->nrun; i++)
		if (w->run[i].task == task) {
			w->run[i] = w->run[--w->nrun];
			return;
		}
}

struct sched_pipe *
sched_pipes_find(struct sched *s, uint32_t pipe)
{
	return idindex_find(&s->pipes_by_id, pipe);
}

void
sched_pipes_set(struct sched *s, uint32_t pipe, enum proto_role role, uint32_t worker_id)
{
	struct sched_pipe *p = sched_pipes_find(s, pipe), **pp;

	if (role == 0) {
		if (p == NULL)
			return;
		for (pp = &s->pipes; *pp != p; pp = &(*pp)->next)
			;
		*pp = p->next;
		idindex_remove(&s->pipes_by_id, pipe);
		free(p);
		return;
	}
	if (p == NULL) {
		p = xcalloc(1, sizeof *p);
		p->pipe = pipe;
		p->next = s->pipes;
		s->pipes = p;
		idindex_add(&s->pipes_by_id, pipe, p);
	}
	p->role = role;
	p->worker_id = worker_id;
}

void
sched_workers_free_all(struct sched *s)
{
	while (s->workers != NULL) {
		struct sched_worker *w = s->workers;
		s->workers = w->next;
		sched_workers_free(w);
	}
	while (s->pipes != NULL) {
		struct sched_pipe *p = s->pipes;
		s->pipes = p->next;
		free(p);
	}
	idindex_free(&s->workers_by_id);
	idindex_free(&s->pipes_by_id);
	s->nworkers = 0;
	s->seen = s->parked_new = s->parked_idle = (struct dlist){0};
	s->slots = 0;
}
