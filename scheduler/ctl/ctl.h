/* The neurodag CLI: a table of sub-commands, the connection they share (HELLO as a client with
 * the token), and its exit codes. */
#ifndef ND_CTL_H
#define ND_CTL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "common/options.h"
#include "proto/proto-nng.h"
#include "proto/proto-tls.h"

enum ctl_exit {
	CTL_EXIT_OK = 0,        /* success; for run/wait: every job done */
	CTL_EXIT_FAILED = 1,    /* a job failed */
	CTL_EXIT_USAGE = 2,     /* bad command line or bad pipeline */
	CTL_EXIT_CONNECT = 3,   /* scheduler unreachable or unavailable, or token refused */
	CTL_EXIT_CANCELLED = 4, /* a job was cancelled */
	CTL_EXIT_TIMEOUT = 5,   /* --timeout expired while waiting */
};

#define CTL_EXIT_CODES_HELP                                                                        \
	"exit codes: 0 success (every job done), 1 a job failed, 2 usage or pipeline error,\n"     \
	"            3 scheduler unreachable (or unavailable: its state dir is full) or token\n"  \
	"            refused, 4 a job was cancelled, 5 timeout"

/* How results are printed: lines for a person, one JSON document (--json), or one JSON object
 * a line, per job (--json-lines). */
enum ctl_output {
	CTL_OUT_TEXT,
	CTL_OUT_JSON,
	CTL_OUT_JSON_LINES,
};

#define CTL_JSON_OPTIONS                                                                           \
	{"json", 0, OPTIONS_FLAG, NULL, "print the result as one JSON document", NULL},            \
	{                                                                                          \
		"json-lines", 0, OPTIONS_FLAG, NULL, "print one JSON object a line, per job", NULL \
	}

struct ctl_conn {
	struct proto_client client;
	struct proto_call call;
	bool open;
	/* What a re-dial needs, and for how long to keep trying (0: never re-dial). */
	char *url, *token;
	struct proto_tls tls;
	bool has_tls;
	double reconnect_s;
	/* The scheduler refused STATUS's wait_ms (an older one): poll instead. */
	bool no_status_wait;
};

/* Followers (wait, submit --wait) re-dial a scheduler that went away this long by default. */
#define CTL_RECONNECT_DEFAULT "120"

/* Connect to url and say HELLO with the token; errors map to CTL_EXIT_CONNECT. */
int ctl_conn_open(struct ctl_conn *c, const char *url, const char *token, char **cause);
/* The same over tls+tcp:// with the given settings (NULL for other schemes). */
int ctl_conn_open_tls(struct ctl_conn *c, const char *url, const struct proto_tls *tls,
		      const char *token, char **cause);
void ctl_conn_close(struct ctl_conn *c);
/* For a command that returns from main next: forget the connection without closing nng's socket
 * (the kernel closes it when the process exits; nng's close takes a helper thread and a wait). */
void ctl_conn_leave(struct ctl_conn *c);
/* STATUS request: what = status|jobs|job|workers; the JSON reply (caller decrefs). */
int ctl_conn_status(struct ctl_conn *c, const char *what, uint32_t job, json_t **out, char **cause);
/* A job's report once it has finished, or after wait_ms at most (the scheduler holds the
 * request); *held says whether the scheduler could hold it (an older one answers at once). */
int ctl_conn_job_wait(struct ctl_conn *c, uint32_t job, uint32_t wait_ms, json_t **out,
		      bool *held, char **cause);
/* SUBMIT: the pipeline file's text with paths made absolute; job ids (caller frees). */
int ctl_conn_submit(struct ctl_conn *c, const char *pipeline_path, char **inputs, int ninputs,
		    const char *output, bool overwrite, uint64_t **jobs, uint32_t *njobs,
		    char **cause);

/* input.path or output.path (`key`) of a pipeline's text, made absolute relative to the
 * pipeline file's directory; NULL when absent or already absolute. Caller frees. */
char *ctl_pipeline_path(const char *text, const char *pipeline_path, const char *key);
/* Read a whole file into a string (caller frees). */
int ctl_read_file(const char *path, char **text, char **cause);
/* Wait for jobs, with a progress display; returns a CTL_EXIT_* code. */
int ctl_wait_jobs(struct ctl_conn *c, const uint64_t *jobs, uint32_t njobs, double timeout_s,
		  enum ctl_output out, bool quiet);
/* A finished job for a person (ctl-summary.c): its quality figures or its output's shape, the
 * report and the absolute output paths. */
void ctl_summary_print(FILE *out, json_t *job);
/* --json or --json-lines of a command's options. */
enum ctl_output ctl_output_mode(const struct options *opts);

typedef int (*ctl_cmd_fn)(int argc, char **argv);
int ctl_cmd_run(int argc, char **argv);
int ctl_cmd_submit(int argc, char **argv);
int ctl_cmd_wait(int argc, char **argv);
int ctl_cmd_status(int argc, char **argv);
int ctl_cmd_jobs(int argc, char **argv);
int ctl_cmd_workers(int argc, char **argv);
int ctl_cmd_cancel(int argc, char **argv);
int ctl_cmd_gc(int argc, char **argv);
int ctl_cmd_worker(int argc, char **argv);
int ctl_cmd_scheduler(int argc, char **argv);
int ctl_cmd_slurm_workers(int argc, char **argv);
int ctl_cmd_synth(int argc, char **argv);
/* The client-only `neurodag`: run this command (argv[0]) in neurodag-engine; returns only on
 * failure. */
int ctl_exec_engine(int argc, char **argv);

/* Options every client command takes. */
#define CTL_CONN_OPTIONS                                                                           \
	{"scheduler",                                                                              \
	 's',                                                                                      \
	 OPTIONS_VALUE,                                                                            \
	 "URL",                                                                                    \
	 "the scheduler (else $NEURODAG_SCHEDULER)",                                               \
	 "tcp://127.0.0.1:8786"},                                                                  \
	    {"token-file",                                                                         \
	     0,                                                                                    \
	     OPTIONS_VALUE,                                                                        \
	     "FILE",                                                                               \
	     "the scheduler's token file (else $NEURODAG_TOKEN)",                                  \
	     NULL},                                                                                \
	    PROTO_TLS_OPTIONS

/* Open the connection described by CTL_CONN_OPTIONS; prints the error itself. */
int ctl_conn_from_options(struct ctl_conn *c, const struct options *opts);

#endif
