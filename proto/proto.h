/* The wire protocol between the CLI, the scheduler and the workers: version, message types,
 * wire status codes, size limits, and the decoded form of every message.
 *
 * Every message is a msgpack array [version, type, request_id, body-map].
 * Bump PROTO_VERSION when anything in this file changes meaning. Retired values stay listed. */
#ifndef ND_PROTO_H
#define ND_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PROTO_VERSION 2 /* 2: challenge-response HELLO (the token never travels), GC, UNAVAILABLE  \
			 */

/* Message types, in explicit ranges: 1xx connection, 2xx client/job, 3xx worker/task, 4xx admin. */
enum proto_type {
	PROTO_HELLO = 100,     /* client|worker -> scheduler: role, identity, a fresh nonce */
	PROTO_WELCOME = 101,   /* scheduler -> peer: worker id, heartbeat interval */
	PROTO_BYE = 102,       /* worker -> scheduler: drained, leaving */
	PROTO_ERROR = 103,     /* scheduler -> peer: status + message */
	PROTO_ACK = 104,       /* scheduler -> peer: done; may carry task ids to cancel */
	PROTO_CHALLENGE = 105, /* scheduler -> peer: its nonce and its proof of the token */
	PROTO_AUTH = 106,      /* peer -> scheduler: the peer's proof of the token (-> WELCOME) */

	PROTO_SUBMIT = 200,       /* client: pipeline + inputs */
	PROTO_ACCEPTED = 201,     /* scheduler: job ids */
	PROTO_STATUS = 202,       /* client: what to report */
	PROTO_STATUS_REPLY = 203, /* scheduler: the report and its content type */
	PROTO_CANCEL = 204,       /* client: job id */

	PROTO_TASK_REQUEST = 300, /* worker: finished results + free slots (long poll) */
	PROTO_TASK_ASSIGN = 301,  /* scheduler: tasks to run */
	PROTO_IDLE = 302,         /* scheduler: nothing to run now, ask again */
	PROTO_HEARTBEAT = 303,    /* worker: still alive, running these tasks */

	PROTO_GC = 400, /* client: prune finished jobs and sweep work dirs now (STATUS_REPLY) */
};

/* Wire status codes: explicit numbers, never errno values. */
enum proto_status {
	PROTO_STATUS_OK = 0,
	PROTO_STATUS_MALFORMED = 1,    /* not a valid envelope or body */
	PROTO_STATUS_VERSION = 2,      /* unsupported protocol version */
	PROTO_STATUS_UNKNOWN_TYPE = 3, /* message type not known */
	PROTO_STATUS_TOO_BIG = 4,      /* message or field over a limit */
	PROTO_STATUS_AUTH = 5,         /* missing or wrong token, or no HELLO yet */
	PROTO_STATUS_NOT_FOUND = 6,    /* no such job or worker */
	PROTO_STATUS_INVALID = 7,      /* well-formed but rejected (bad pipeline, bad argument) */
	PROTO_STATUS_UNEXPECTED = 8,   /* valid message in the wrong role or state */
	PROTO_STATUS_SHUTTING_DOWN = 9,
	PROTO_STATUS_INTERNAL = 10,
	PROTO_STATUS_UNAVAILABLE = 11, /* not now (the state dir is full): try again later */
	PROTO_STATUS_COUNT
};

/* Limits, checked before and while decoding. */
#define PROTO_MAX_MESSAGE  (16u << 20) /* whole message, bytes (nng receive limit too) */
#define PROTO_MAX_TEXT     (8u << 20)  /* a pipeline, a spec, a result, a status report */
#define PROTO_MAX_NAME     1024        /* tokens, host names, versions, paths */
#define PROTO_MAX_INPUTS   10000       /* inputs in one SUBMIT */
#define PROTO_MAX_BATCH    4096        /* tasks per ASSIGN, results per REQUEST */
#define PROTO_MAX_SLOTS    4096
#define PROTO_MAX_DEPTH    8 /* nesting of arrays and maps */
#define PROTO_MAX_MAP_KEYS 32
#define PROTO_MAX_OBJECTS                                                                          \
	(1u << 17) /* msgpack objects in one message (a full TASK_REQUEST                          \
		    * holds about 53k); msgpack-c allocates 16 bytes each */

/* A task id is the job id in the high 32 bits and the task index in the low 32. */
#define PROTO_TASK_ID(job, index) (((uint64_t)(job) << 32) | (uint32_t)(index))
#define PROTO_TASK_JOB(id)        ((uint32_t)((id) >> 32))
#define PROTO_TASK_INDEX(id)      ((uint32_t)(id))

/* Decoded bodies. Strings are NUL-terminated heap copies owned by the struct; each *_fini frees
 * them. Optional strings are NULL when absent. */

enum proto_role { PROTO_ROLE_CLIENT = 1, PROTO_ROLE_WORKER = 2 };

/* Authentication never sends the token: HELLO carries the peer's nonce, CHALLENGE the
 * scheduler's nonce and its proof, AUTH the peer's proof. A proof is the hex HMAC-SHA256, keyed
 * by the token, of a label naming the prover ("neurodag-scheduler" | "neurodag-peer"), the role
 * and both nonces (common/token.h), so neither can be replayed as the other. */
#define PROTO_NONCE_HEX 64 /* 32 random bytes, as hex */
#define PROTO_PROOF_HEX 64

struct proto_hello {
	enum proto_role role;
	char *nonce; /* PROTO_NONCE_HEX hex digits */
	char *version;
	char *host;      /* workers */
	uint64_t pid;    /* workers */
	uint64_t slots;  /* workers */
	uint64_t mem;    /* workers: bytes, 0 unknown */
	char *slurm_job; /* workers started by Slurm: "jobid_index" or NULL */
};

struct proto_challenge {
	char *nonce;
	char *proof;
};

struct proto_auth {
	char *proof;
};

struct proto_welcome {
	uint64_t worker_id; /* 0 for clients */
	uint64_t heartbeat_ms;
};

struct proto_bye {
	uint64_t worker_id;
};

struct proto_error {
	uint64_t status; /* enum proto_status */
	char *message;
};

struct proto_ack {
	uint32_t ncancel; /* heartbeat replies: running tasks to stop */
	uint64_t *cancel;
};

struct proto_submit {
	char *pipeline; /* JSON text */
	uint32_t ninputs;
	char **inputs;  /* replace input.path, one job each; may be 0 */
	char *output;   /* replaces output.path, or NULL */
	bool overwrite; /* an existing output may be replaced (--overwrite) */
};

struct proto_accepted {
	uint32_t njobs;
	uint64_t *jobs;
};

struct proto_status_req {
	char *what; /* "status" | "jobs" | "job" | "workers" | "metrics" */
	uint64_t job_id;
	/* "job" only: if the job has not finished, answer when it does or after this many
	 * milliseconds, whichever comes first (0: at once). */
	uint64_t wait_ms;
};
#define PROTO_MAX_STATUS_WAIT_MS 60000

/* A report and what it is: "application/json" for the status, job and worker reports,
 * "text/plain; version=0.0.4" (Prometheus text) for the metrics. */
struct proto_status_reply {
	char *content_type;
	char *body;
};

struct proto_cancel {
	uint64_t job_id;
};

struct proto_gc {
	bool has_older_than;
	uint64_t older_than_ms; /* prune jobs finished this long ago (else the configured age) */
};

struct proto_task_result {
	uint64_t task;
	uint64_t attempt;
	bool ok;
	char *result; /* small inline result (JSON text) or NULL */
	char *error;  /* when !ok */
	uint64_t elapsed_us;
	bool permanent; /* a failure that retrying cannot fix (bad input, parameter or output) */
};

struct proto_task_request {
	uint64_t worker_id;
	uint64_t free_slots;
	uint32_t nresults;
	struct proto_task_result *results;
};

struct proto_task {
	uint64_t task;
	uint64_t attempt;
	char *spec; /* what to run (JSON text) */
	char *deps; /* results of the tasks it depends on (JSON text) or NULL */
};

struct proto_task_assign {
	uint32_t ntasks;
	struct proto_task *tasks;
};

struct proto_idle {
	uint64_t retry_ms;
};

struct proto_heartbeat {
	uint64_t worker_id;
	uint32_t nrunning;
	uint64_t *running;
	/* The worker process's resident memory and CPU time so far (optional on the wire: a
	 * heartbeat without them decodes with has_usage false). */
	bool has_usage;
	uint64_t rss_bytes;
	uint64_t cpu_us;
};

/* A message: its type, the request it answers or asks, and its body. */
struct proto_msg {
	uint32_t type;
	uint64_t request_id;
	union {
		struct proto_hello hello;
		struct proto_welcome welcome;
		struct proto_challenge challenge;
		struct proto_auth auth;
		struct proto_bye bye;
		struct proto_error error;
		struct proto_ack ack;
		struct proto_submit submit;
		struct proto_accepted accepted;
		struct proto_status_req status;
		struct proto_status_reply status_reply;
		struct proto_cancel cancel;
		struct proto_gc gc;
		struct proto_task_request task_request;
		struct proto_task_assign task_assign;
		struct proto_idle idle;
		struct proto_heartbeat heartbeat;
	} u;
};

const char *proto_type_name(uint32_t type);
const char *proto_status_name(uint32_t status);
/* Map a -errno from the codec or a handler to the wire status sent back. */
enum proto_status proto_status_from_errno(int rc);
const char *proto_role_name(enum proto_role role);

#endif
