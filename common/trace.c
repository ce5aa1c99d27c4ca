/* Dispatch tracing (trace.h): a fixed in-memory table of events filled lock-free by any thread,
 * written in one append to $NEURODAG_TRACE at exit. Events past the table's size are counted and
 * dropped. */
#include "common/trace.h"

#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/timeutil.h"

#define TRACE_MAX_EVENTS (1u << 17)

struct trace_event {
	uint64_t key, t_ns;
	uint32_t point;
};

bool trace_enabled;
static char trace_path[4096], trace_role[32];
static struct trace_event *trace_events;
static atomic_uint trace_n;
static uint64_t trace_bound_key;

static const char *const trace_names[TRACE_NPOINTS] = {
    "submit_recv", "submit_handle", "job_ready",	  "task_dispatch", "commit_begin",
    "commit_end",  "task_send",	    "accepted_send", "worker_recv",   "worker_start",
    "worker_end",  "worker_send",   "result_recv",   "result_handle", "job_done",
    "status_send", "cli_start",	    "cli_authed",	  "cli_submit",	   "cli_accepted",
    "cli_done",	   "cli_exit"};

const char *
trace_point_name(enum trace_point p)
{
	return p < TRACE_NPOINTS ? trace_names[p] : "?";
}

static void
trace_atexit(void)
{
	trace_flush();
}

void
trace_init(const char *role)
{
	const char *path = getenv("NEURODAG_TRACE");

	if (path == NULL || *path == '\0' || strlen(path) >= sizeof trace_path || trace_enabled)
		return;
	trace_events = calloc(TRACE_MAX_EVENTS, sizeof *trace_events);
	if (trace_events == NULL)
		return;
	strcpy(trace_path, path);
	snprintf(trace_role, sizeof trace_role, "%s", role);
	trace_enabled = true;
	atexit(trace_atexit);
}

void
trace_at(enum trace_point p, uint64_t key, uint64_t t_ns)
{
	unsigned i;

	if (!trace_enabled)
		return;
	i = atomic_fetch_add_explicit(&trace_n, 1, memory_order_relaxed);
	if (i < TRACE_MAX_EVENTS)
		trace_events[i] = (struct trace_event){key, t_ns, (uint32_t)p};
}

void
trace_now(enum trace_point p, uint64_t key)
{
	trace_at(p, key, time_mono_ns());
}

void
trace_bind(uint64_t key)
{
	trace_bound_key = key;
}

/* Write the events recorded so far ("role pid point key t_ns" lines, then a count of those
 * dropped) in one append, and start over. */
void
trace_flush(void)
{
	unsigned n;
	size_t cap, len = 0;
	char *buf;
	int fd;

	if (!trace_enabled)
		return;
	n = atomic_exchange(&trace_n, 0);
	cap = (size_t)(n < TRACE_MAX_EVENTS ? n : TRACE_MAX_EVENTS) * 96 + 128;
	if ((buf = malloc(cap)) == NULL)
		return;
	for (unsigned i = 0; i < n && i < TRACE_MAX_EVENTS; i++) {
		const struct trace_event *e = &trace_events[i];
		uint64_t key = e->key == 0 ? trace_bound_key : e->key;
		len += (size_t)snprintf(buf + len, cap - len, "%s %d %s %llu %llu\n", trace_role,
					(int)getpid(), trace_point_name(e->point),
					(unsigned long long)key, (unsigned long long)e->t_ns);
	}
	if (n > TRACE_MAX_EVENTS)
		len += (size_t)snprintf(buf + len, cap - len, "%s %d dropped %u 0\n", trace_role,
					(int)getpid(), n - TRACE_MAX_EVENTS);
	fd = open(trace_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd >= 0) {
		if (write(fd, buf, len) != (ssize_t)len)
			fprintf(stderr, "trace: short write to %s\n", trace_path);
		close(fd);
	}
	free(buf);
}
