/* Worker/task-family bodies: TASK_REQUEST (results + free slots), TASK_ASSIGN, IDLE and
 * HEARTBEAT. */
#include "proto/proto-task.h"

#include <errno.h>
#include <stdlib.h>

#include "common/error.h"
#include "common/xmalloc.h"
#include "proto/proto-msgpack.h"

static int
proto_task_decode_results(struct proto_map *m, struct proto_task_request *r, char **cause)
{
	const msgpack_object_array *a = NULL;

	if (proto_map_array(m, "results", false, PROTO_MAX_BATCH, &a) != 0 || a == NULL)
		return m->rc;
	r->results = a->size > 0 ? xcalloc(a->size, sizeof *r->results) : NULL;
	for (uint32_t i = 0; i < a->size; i++) {
		struct proto_task_result *t = &r->results[i];
		struct proto_map e;

		r->nresults = i + 1;
		proto_map_init(&e, &a->ptr[i], "TASK_REQUEST result", cause);
		proto_map_u64(&e, "task", true, 0, UINT64_MAX, &t->task);
		proto_map_u64(&e, "attempt", true, 1, 1000, &t->attempt);
		proto_map_bool(&e, "ok", true, &t->ok);
		proto_map_str(&e, "result", false, PROTO_MAX_TEXT, &t->result);
		proto_map_str(&e, "error", false, PROTO_MAX_TEXT, &t->error);
		proto_map_u64(&e, "elapsed_us", false, 0, UINT64_MAX, &t->elapsed_us);
		proto_map_bool(&e, "permanent", false, &t->permanent);
		if (proto_map_finish(&e) != 0)
			return m->rc = e.rc;
	}
	return 0;
}

static int
proto_task_decode_tasks(struct proto_map *m, struct proto_task_assign *as, char **cause)
{
	const msgpack_object_array *a = NULL;

	if (proto_map_array(m, "tasks", true, PROTO_MAX_BATCH, &a) != 0)
		return m->rc;
	as->tasks = a->size > 0 ? xcalloc(a->size, sizeof *as->tasks) : NULL;
	for (uint32_t i = 0; i < a->size; i++) {
		struct proto_task *t = &as->tasks[i];
		struct proto_map e;

		as->ntasks = i + 1;
		proto_map_init(&e, &a->ptr[i], "TASK_ASSIGN task", cause);
		proto_map_u64(&e, "task", true, 0, UINT64_MAX, &t->task);
		proto_map_u64(&e, "attempt", true, 1, 1000, &t->attempt);
		proto_map_str(&e, "spec", true, PROTO_MAX_TEXT, &t->spec);
		proto_map_str(&e, "deps", false, PROTO_MAX_TEXT, &t->deps);
		if (proto_map_finish(&e) != 0)
			return m->rc = e.rc;
	}
	return 0;
}

/* rss_bytes and cpu_us come together or not at all (workers before them send neither). */
static void
proto_task_decode_usage(struct proto_map *m, struct proto_heartbeat *h)
{
	const uint64_t absent = UINT64_MAX;
	uint64_t rss = absent, cpu = absent;

	proto_map_u64(m, "rss_bytes", false, 0, absent - 1, &rss);
	proto_map_u64(m, "cpu_us", false, 0, absent - 1, &cpu);
	if ((rss == absent) != (cpu == absent) && m->rc == 0)
		m->rc = error_set(m->cause, -EBADMSG, "%s: rss_bytes and cpu_us come together",
				  m->what);
	h->has_usage = rss != absent && cpu != absent;
	h->rss_bytes = h->has_usage ? rss : 0;
	h->cpu_us = h->has_usage ? cpu : 0;
}

int
proto_task_decode(uint32_t type, const msgpack_object *body, struct proto_msg *msg, char **cause)
{
	struct proto_map m;

	proto_map_init(&m, body, proto_type_name(type), cause);
	switch (type) {
	case PROTO_TASK_REQUEST:
		proto_map_u64(&m, "worker_id", true, 1, UINT64_MAX, &msg->u.task_request.worker_id);
		proto_map_u64(&m, "free_slots", true, 0, PROTO_MAX_BATCH,
			      &msg->u.task_request.free_slots);
		proto_task_decode_results(&m, &msg->u.task_request, cause);
		break;
	case PROTO_TASK_ASSIGN:
		proto_task_decode_tasks(&m, &msg->u.task_assign, cause);
		break;
	case PROTO_IDLE:
		proto_map_u64(&m, "retry_ms", true, 0, 3600000, &msg->u.idle.retry_ms);
		break;
	case PROTO_HEARTBEAT:
		proto_map_u64(&m, "worker_id", true, 1, UINT64_MAX, &msg->u.heartbeat.worker_id);
		proto_map_u64_array(&m, "running", true, PROTO_MAX_BATCH, &msg->u.heartbeat.running,
				    &msg->u.heartbeat.nrunning);
		proto_task_decode_usage(&m, &msg->u.heartbeat);
		break;
	default:
		return error_set(cause, -ENOMSG, "not a task message: %u", type);
	}
	return proto_map_finish(&m);
}

void
proto_task_encode(const struct proto_msg *msg, msgpack_packer *pk)
{
	switch (msg->type) {
	case PROTO_TASK_REQUEST: {
		const struct proto_task_request *r = &msg->u.task_request;
		msgpack_pack_map(pk, 3);
		proto_pack_ku64(pk, "worker_id", r->worker_id);
		proto_pack_ku64(pk, "free_slots", r->free_slots);
		proto_pack_str(pk, "results");
		msgpack_pack_array(pk, r->nresults);
		for (uint32_t i = 0; i < r->nresults; i++) {
			const struct proto_task_result *t = &r->results[i];
			msgpack_pack_map(pk, 4 + (t->result != NULL) + (t->error != NULL) +
						 t->permanent);
			proto_pack_ku64(pk, "task", t->task);
			proto_pack_ku64(pk, "attempt", t->attempt);
			proto_pack_kbool(pk, "ok", t->ok);
			proto_pack_ku64(pk, "elapsed_us", t->elapsed_us);
			if (t->result != NULL)
				proto_pack_kstr(pk, "result", t->result);
			if (t->error != NULL)
				proto_pack_kstr(pk, "error", t->error);
			if (t->permanent)
				proto_pack_kbool(pk, "permanent", true);
		}
		break;
	}
	case PROTO_TASK_ASSIGN: {
		const struct proto_task_assign *as = &msg->u.task_assign;
		msgpack_pack_map(pk, 1);
		proto_pack_str(pk, "tasks");
		msgpack_pack_array(pk, as->ntasks);
		for (uint32_t i = 0; i < as->ntasks; i++) {
			const struct proto_task *t = &as->tasks[i];
			msgpack_pack_map(pk, 3 + (t->deps != NULL));
			proto_pack_ku64(pk, "task", t->task);
			proto_pack_ku64(pk, "attempt", t->attempt);
			proto_pack_kstr(pk, "spec", t->spec != NULL ? t->spec : "");
			if (t->deps != NULL)
				proto_pack_kstr(pk, "deps", t->deps);
		}
		break;
	}
	case PROTO_IDLE:
		msgpack_pack_map(pk, 1);
		proto_pack_ku64(pk, "retry_ms", msg->u.idle.retry_ms);
		break;
	case PROTO_HEARTBEAT: {
		const struct proto_heartbeat *h = &msg->u.heartbeat;
		msgpack_pack_map(pk, h->has_usage ? 4 : 2);
		proto_pack_ku64(pk, "worker_id", h->worker_id);
		proto_pack_ku64_array(pk, "running", h->running, h->nrunning);
		if (h->has_usage) {
			proto_pack_ku64(pk, "rss_bytes", h->rss_bytes);
			proto_pack_ku64(pk, "cpu_us", h->cpu_us);
		}
		break;
	}
	}
}

void
proto_task_fini(struct proto_msg *msg)
{
	switch (msg->type) {
	case PROTO_TASK_REQUEST:
		for (uint32_t i = 0; i < msg->u.task_request.nresults; i++) {
			free(msg->u.task_request.results[i].result);
			free(msg->u.task_request.results[i].error);
		}
		free(msg->u.task_request.results);
		break;
	case PROTO_TASK_ASSIGN:
		for (uint32_t i = 0; i < msg->u.task_assign.ntasks; i++) {
			free(msg->u.task_assign.tasks[i].spec);
			free(msg->u.task_assign.tasks[i].deps);
		}
		free(msg->u.task_assign.tasks);
		break;
	case PROTO_HEARTBEAT:
		free(msg->u.heartbeat.running);
		break;
	}
}
