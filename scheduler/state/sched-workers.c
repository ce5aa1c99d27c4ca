/* The worker registry: registration from HELLO, lookup, removal when a worker is lost (pipe
 * closed, BYE, or heartbeats missed past the TTL; sched_jobs_worker_lost requeues its tasks), and
 * the tasks each one runs and since when (for the time limits of sched-timeout.c), and the
 * pipe -> role table for auth. */
#include "scheduler/state/sched-workers.h"

#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/timeutil.h"
#include "common/xmalloc.h"
#include "scheduler/state/sched-pass.h"

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
	s->workers = w;
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
	struct sched_worker **pp;

	if (idindex_find(&s->workers_by_id, w->id) != w)
		return false;
	for (pp = &s->workers; *pp != w; pp = &(*pp)->next)
		;
	*pp = w->next;
	idindex_remove(&s->workers_by_id, w->id);
	s->nworkers--;
	if (w->held != NULL) {
		struct proto_msg idle = {.type = PROTO_IDLE, .request_id = w->held_request_id};
		sched_pass_reply(s, w->held, &idle);
		w->held = NULL;
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
	for (struct sched_worker *w = s->workers; w != NULL; w = w->next)
		if (now - w->last_seen > s->cfg.worker_ttl_s)
			return w;
	return NULL;
}

void
sched_workers_refresh(struct sched *s, double now)
{
	for (struct sched_worker *w = s->workers; w != NULL; w = w->next)
		w->last_seen = now;
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
}
