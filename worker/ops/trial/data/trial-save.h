/* Writing trial results: each unit task writes its own part "<workdir>/s<stage>-u<index>" (.h5
 * part or .npy partial sums, plus .json describing the output container); the final task
 * assembles them into the output container. */
#ifndef ND_TRIAL_SAVE_H
#define ND_TRIAL_SAVE_H

#include <jansson.h>
#include <stdint.h>

#include "worker/ops/trial/data/trial-run.h"

/* Write unit task `index`'s part of stage `stage`. With `direct` (the pipeline's output
 * object), trials and spectra of tasks that hold every channel go straight into the output
 * container (trial-direct.h) and the part is only its description. */
int trial_save_unit(const struct trial_run *t, const char *workdir, int stage, uint32_t index,
		    const json_t *direct, char **cause);
/* Staged mode: load task `index`'s block and the layout from stage `stage`'s output (time
 * series) instead of the input; t's slice must already be set. */
int trial_save_load_stage(struct trial_run *t, const char *workdir, int stage, uint32_t index,
			  char **cause);
/* Stitch or merge the `nparts` outputs of stage `stage` into the container `output`. */
int trial_save_final(const char *workdir, int stage, uint32_t nparts, const char *output,
		     json_t **result, char **cause);

#endif
