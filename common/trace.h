/* Dispatch tracing: monotonic timestamps at each hand-off of a task between the client, the
 * scheduler and a worker, kept in memory and appended to the file $NEURODAG_TRACE when the
 * process ends (tests/bench/bench-trace.py merges the processes' files). Off unless the
 * variable is set; then each point costs a clock read and an atomic increment. */
#ifndef ND_TRACE_H
#define ND_TRACE_H

#include <stdbool.h>
#include <stdint.h>

/* Keyed by a job id (J), a task id (T: job << 32 | index) or nothing (-). */
enum trace_point {
	TRACE_SUBMIT_RECV,   /* J  scheduler: nng handed the SUBMIT to its callback */
	TRACE_SUBMIT_HANDLE, /* J  scheduler: the loop thread took it from the inbox */
	TRACE_JOB_READY,     /* J  scheduler: the job's first tasks are queued */
	TRACE_TASK_DISPATCH, /* T  scheduler: the task is put in a worker's reply */
	TRACE_COMMIT_BEGIN,  /* -  scheduler: a loop pass's commit starts */
	TRACE_COMMIT_END,    /* -  scheduler: it is done */
	TRACE_TASK_SEND,     /* T  scheduler: the reply carrying the task is handed to nng */
	TRACE_ACCEPTED_SEND, /* J  scheduler: ACCEPTED handed to nng */
	TRACE_WORKER_RECV,   /* T  worker: the reply carrying the task is decoded */
	TRACE_WORKER_START,  /* T  worker: the task starts */
	TRACE_WORKER_END,    /* T  worker: the task ends */
	TRACE_WORKER_SEND,   /* T  worker: the request carrying its result is handed to nng */
	TRACE_RESULT_RECV,   /* T  scheduler: nng handed that request to its callback */
	TRACE_RESULT_HANDLE, /* T  scheduler: the loop thread took it */
	TRACE_JOB_DONE,      /* J  scheduler: the job is marked done */
	TRACE_STATUS_SEND,   /* J  scheduler: the answer to the waiting STATUS handed to nng */
	TRACE_CLI_START,     /* J  client: main() entered */
	TRACE_CLI_AUTHED,    /* J  client: HELLO and AUTH answered */
	TRACE_CLI_SUBMIT,    /* J  client: SUBMIT about to be sent */
	TRACE_CLI_ACCEPTED,  /* J  client: ACCEPTED received */
	TRACE_CLI_DONE,      /* J  client: the STATUS saying done received */
	TRACE_CLI_EXIT,      /* J  client: about to exit */
	TRACE_NPOINTS
};

extern bool trace_enabled;

/* Reads $NEURODAG_TRACE; the role names the process in the file ("scheduler", "worker", "cli").
 * The events are written at exit (atexit), or by trace_flush. */
void trace_init(const char *role);
/* Record point p for key at t_ns (time_mono_ns), or now. */
void trace_at(enum trace_point p, uint64_t key, uint64_t t_ns);
void trace_now(enum trace_point p, uint64_t key);
/* Events recorded with key 0 so far are written with this key (a client learns its job id
 * after its first points). */
void trace_bind(uint64_t key);
void trace_flush(void);
const char *trace_point_name(enum trace_point p);

#define TRACE(p, key)                                                                              \
	do {                                                                                       \
		if (trace_enabled)                                                                 \
			trace_now((p), (key));                                                     \
	} while (0)

#endif
