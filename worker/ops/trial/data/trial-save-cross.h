/* Saving connectivity results (trial-save-cross.c). */
#ifndef ND_TRIAL_SAVE_CROSS_H
#define ND_TRIAL_SAVE_CROSS_H

#include <jansson.h>
#include <stdint.h>

#include "worker/ops/trial/data/trial-run.h"

/* Connectivity parts (CrossSpectralData). The unit task writes its rows
 * (keeptrials) as an HDF5 part or its trial sums as .npy, beside the description at `base`; the
 * final task stitches the rows, or merges the sums and reduces them (trial-cross.h), into the
 * container. `d0` is part 0's description. */
int trial_save_cross_unit(const struct trial_run *t, const char *base, char **cause);
int trial_save_cross_final(const char *workdir, int stage, uint32_t nparts, const char *output,
			   const json_t *d0, json_t **result, char **cause);

#endif
