/* The scheduler's flags, shared by neurodag-scheduler and the CLI's embedded scheduler. */
#ifndef ND_SCHED_CONFIG_H
#define ND_SCHED_CONFIG_H

#include "common/options.h"
#include "scheduler/sched-state.h"

#define SCHED_DEFAULT_LISTEN "tcp://127.0.0.1:8786"
#define SCHED_DEFAULT_HTTP   "127.0.0.1:8787"

#define SCHED_CONFIG_OPTIONS                                                                        \
	{"listen",                                                                                  \
	 0,                                                                                         \
	 OPTIONS_VALUE,                                                                             \
	 "URL",                                                                                     \
	 "where workers and clients connect",                                                       \
	 SCHED_DEFAULT_LISTEN},                                                                     \
	    {"http",                                                                                \
	     0,                                                                                     \
	     OPTIONS_VALUE,                                                                         \
	     "HOST:PORT",                                                                           \
	     "status endpoint (\"\" for none)",                                                     \
	     SCHED_DEFAULT_HTTP},                                                                   \
	    {"state-dir",                                                                           \
	     0,                                                                                     \
	     OPTIONS_VALUE,                                                                         \
	     "DIR",                                                                                 \
	     "state database, token and job work dirs (default: $NEURODAG_STATE_DIR or "            \
	     "~/.local/state/neurodag)",                                                            \
	     NULL},                                                                                 \
	    {"worker-wait-timeout",                                                                 \
	     0,                                                                                     \
	     OPTIONS_VALUE,                                                                         \
	     "SECONDS",                                                                             \
	     "fail a job that has waited this long for its minimum workers",                        \
	     "360"},                                                                                \
	    {"heartbeat-interval",                                                                  \
	     0,                                                                                     \
	     OPTIONS_VALUE,                                                                         \
	     "SECONDS",                                                                             \
	     "how often busy workers send heartbeats",                                              \
	     "2"},                                                                                  \
	    {"worker-ttl",                                                                          \
	     0,                                                                                     \
	     OPTIONS_VALUE,                                                                         \
	     "SECONDS",                                                                             \
	     "a worker silent this long is lost and its tasks requeued",                            \
	     "15"},                                                                                 \
	    {"max-attempts", 0, OPTIONS_VALUE, "N", "attempts per task before its job fails", "3"}, \
	    PROTO_TLS_OPTIONS

/* Fill cfg from parsed options (token left NULL). *state_dir is allocated. */
int sched_config_from_options(const struct options *opts, struct sched_config *cfg,
			      char **state_dir, char **cause);

#endif
