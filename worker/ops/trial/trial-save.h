/* Writing trial results: each unit task writes its own part "<workdir>/s<stage>-u<index>" (.h5
 * part or .npy partial sums, plus .json describing the output container); the final task
 * assembles them into the output container. */
#ifndef ND_TRIAL_SAVE_H
#define ND_TRIAL_SAVE_H

#include <jansson.h>
#include <stdint.h>

#include "worker/ops/trial/trial-run.h"

/* Write unit task `index`'s part of stage `stage`. */
int trial_save_unit(const struct trial_run *t, const char *workdir, int stage, uint32_t index,
		    char **cause);
/* Staged mode: load task `index`'s block and the layout from stage `stage`'s output (time
 * series) instead of the input; t's slice must already be set. */
int trial_save_load_stage(struct trial_run *t, const char *workdir, int stage, uint32_t index,
			  char **cause);
/* Stitch or merge the `nparts` outputs of stage `stage` into the container `output`. */
int trial_save_final(const char *workdir, int stage, uint32_t nparts, const char *output,
		     json_t **result, char **cause);

/* The parts' files: "<workdir>/s<stage>-u<index>" (caller frees), and their .json description
 * written atomically or read back (*out: a new reference). */
char *trial_save_base(const char *workdir, int stage, uint32_t index);
int trial_save_json(const json_t *d, const char *base, char **cause);
int trial_save_load_json(const char *base, json_t **out, char **cause);

/* trial-save-cross.c: connectivity parts (CrossSpectralData). The unit task writes its rows
 * (keeptrials) as an HDF5 part or its trial sums as .npy, beside the description at `base`; the
 * final task stitches the rows, or merges the sums and reduces them (trial-cross.h), into the
 * container. `d0` is part 0's description. */
int trial_save_cross_unit(const struct trial_run *t, const char *base, char **cause);
int trial_save_cross_final(const char *workdir, int stage, uint32_t nparts, const char *output,
			   const json_t *d0, json_t **result, char **cause);

#endif
