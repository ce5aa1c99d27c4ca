/* neurodag-worker: register with a scheduler, run tasks on --nthreads threads, drain on
 * SIGTERM (finish running tasks, take no more, say BYE). Stays in the foreground always, so
 * process trackers such as Slurm's see it. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/options.h"
#include "common/token.h"
#include "worker/worker-cli.h"
#include "worker/worker.h"

int
main(int argc, char **argv)
{
	return worker_cli_main("neurodag-worker", argc, argv);
}
