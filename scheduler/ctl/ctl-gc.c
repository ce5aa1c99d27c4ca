/* `neurodag gc`: ask the scheduler to forget finished jobs older than an age now (their records,
 * and work dirs no unfinished job owns), instead of waiting for its periodic pruning. */
#include <stdio.h>
#include <stdlib.h>

#include "common/error.h"
#include "scheduler/ctl/ctl.h"

static const struct options_def ctl_gc_options[] = {
    CTL_CONN_OPTIONS,
    {"older-than", 0, OPTIONS_VALUE, "SECONDS",
     "forget jobs that finished at least this long ago (default: the scheduler's "
     "--job-retention; 0: every finished job)",
     NULL},
    {"json", 0, OPTIONS_FLAG, NULL, "print the scheduler's report as JSON", NULL},
    {NULL},
};

int
ctl_cmd_gc(int argc, char **argv)
{
	struct options opts;
	struct ctl_conn c;
	struct proto_msg req = {.type = PROTO_GC}, reply;
	char *cause = NULL;
	double age = -1;
	json_t *j;
	int rc;

	if (options_parse(&opts, ctl_gc_options, argc, argv, 0, &cause) != 0 ||
	    (options_get(&opts, "older-than") != NULL &&
	     options_get_double(&opts, "older-than", 0, 1e10, &age, &cause) != 0)) {
		fprintf(stderr, "neurodag gc: %s\n", cause);
		free(cause);
		return CTL_EXIT_USAGE;
	}
	if (opts.help) {
		options_usage(stdout, "neurodag gc [options]",
			      "Forget finished jobs now: their records, and the work dirs no "
			      "unfinished job owns.",
			      ctl_gc_options);
		printf("\n%s\n", CTL_EXIT_CODES_HELP);
		options_fini(&opts);
		return CTL_EXIT_OK;
	}
	if ((rc = ctl_conn_from_options(&c, &opts)) != 0) {
		options_fini(&opts);
		return rc;
	}
	req.u.gc.has_older_than = age >= 0;
	req.u.gc.older_than_ms = age >= 0 ? (uint64_t)(age * 1000) : 0;
	if (proto_call_run(&c.call, &req, &reply, 30000, &cause) != 0) {
		fprintf(stderr, "neurodag gc: %s\n", cause);
		rc = CTL_EXIT_CONNECT;
	} else {
		j = json_loads(reply.u.status_reply.body, 0, NULL);
		if (options_count(&opts, "json"))
			printf("%s\n", reply.u.status_reply.body);
		else
			printf("%lld finished jobs forgotten, %lld work dirs removed\n",
			       json_integer_value(json_object_get(j, "jobs_pruned")),
			       json_integer_value(json_object_get(j, "work_dirs_removed")));
		json_decref(j);
		proto_msg_fini(&reply);
	}
	free(cause);
	ctl_conn_close(&c);
	options_fini(&opts);
	return rc;
}
