/* Turning the scheduler's option values into a checked sched_config. */
#include "scheduler/sched-config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/paths.h"
#include "common/xmalloc.h"

int
sched_config_from_options(const struct options *opts, struct sched_config *cfg, char **state_dir,
			  char **cause)
{
	long attempts;
	const char *dir = options_get(opts, "state-dir"), *listen = options_get(opts, "listen");

	memset(cfg, 0, sizeof *cfg);
	if (strncmp(listen, "tcp://", 6) != 0 && strncmp(listen, "ipc://", 6) != 0 &&
	    strncmp(listen, "tls+tcp://", 10) != 0)
		return error_set(cause, -EINVAL,
				 "--listen %s: expected tcp://HOST:PORT, tls+tcp://HOST:PORT or "
				 "ipc:///PATH",
				 listen);
	cfg->listen_url = listen;
	proto_tls_from_options(opts, &cfg->tls);
	if (proto_tls_check(listen, &cfg->tls, true, cause) != 0)
		return -EINVAL;
	cfg->http_addr = options_get(opts, "http");
	if (options_get_double(opts, "worker-wait-timeout", 0, 1e9, &cfg->worker_wait_timeout_s,
			       cause) != 0 ||
	    options_get_double(opts, "heartbeat-interval", 0.05, 3600, &cfg->heartbeat_interval_s,
			       cause) != 0 ||
	    options_get_double(opts, "worker-ttl", 0.1, 86400, &cfg->worker_ttl_s, cause) != 0 ||
	    options_get_long(opts, "max-attempts", 1, 100, &attempts, cause) != 0)
		return -EINVAL;
	if (cfg->worker_ttl_s <= cfg->heartbeat_interval_s)
		return error_set(
		    cause, -EINVAL,
		    "--worker-ttl (%g s) must be longer than --heartbeat-interval (%g s)",
		    cfg->worker_ttl_s, cfg->heartbeat_interval_s);
	cfg->max_attempts = (uint32_t)attempts;
	/* An idle worker's parked poll is its only sign of life: answer it within a heartbeat. */
	cfg->poll_hold_s = cfg->heartbeat_interval_s < 1.0 ? cfg->heartbeat_interval_s : 1.0;
	*state_dir = dir != NULL ? paths_absolute(dir) : paths_default_state_dir();
	cfg->state_dir = *state_dir;
	return 0;
}
