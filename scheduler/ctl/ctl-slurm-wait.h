/* `neurodag slurm-workers`: following the workers started as a Slurm job array until they
 * register (ctl-slurm-wait.c). */
#ifndef ND_CTL_SLURM_WAIT_H
#define ND_CTL_SLURM_WAIT_H

#include <stdint.h>

#include "scheduler/ctl/ctl.h"

/* Follow Slurm job `job_id` until `nworkers` of its array tasks have registered with the
 * scheduler, printing progress to stderr. Fails early when the Slurm job ends first, and after
 * timeout_s (0: never) with what Slurm says about the rest. Returns a CTL_EXIT_* code. */
int ctl_slurm_wait(struct ctl_conn *c, const char *job_id, uint32_t nworkers, double timeout_s,
		   const char *log_dir, const char *job_name);

#endif
