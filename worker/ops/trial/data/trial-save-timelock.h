/* Saving time-locked averages (trial-save-timelock.c). */
#ifndef ND_TRIAL_SAVE_TIMELOCK_H
#define ND_TRIAL_SAVE_TIMELOCK_H

#include <jansson.h>
#include <stdint.h>

#include "worker/ops/trial/data/trial-run.h"

/* TimeLockData parts (the trials as an HDF5 part, their statistics as .npy) and the container
 * (`data` stitched, `avg`, `var`, `cov` from the merged statistics). `d0` is part 0's
 * description. */
int trial_save_timelock_unit(const struct trial_run *t, const char *base, char **cause);
int trial_save_timelock_final(const char *workdir, int stage, uint32_t nparts, const char *output,
			      const json_t *d0, json_t **result, char **cause);

#endif
