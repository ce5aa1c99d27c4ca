/* The freqanalysis op: multitaper spectra of each trial (op-trial-freq.c). */
#ifndef ND_OP_TRIAL_FREQ_H
#define ND_OP_TRIAL_FREQ_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "worker/ops/spec/op-def.h"
#include "worker/ops/trial/data/trial-run.h"
#include "worker/ops/trial/op-trial-param.h"

extern const struct op_trial op_trial_freqanalysis;

/* Apply one freqanalysis step to t (spectra computed only when t->loaded). `path` is
 * "steps[i]". */
int op_trial_freq_apply(struct trial_run *t, const json_t *step, const char *path, char **cause);
/* The mtmfft a freqanalysis step makes on a layout, with every check of op_trial_freq_apply that
 * needs no data: *m (caller frees with dsp_mtmfft_free), the taper rows of each trial, and
 * whether it keeps the trials. */
struct dsp_mtmfft;
int op_trial_freq_prepare(const json_t *step, const char *path, const struct trial_layout *lay,
			  struct dsp_mtmfft **m, size_t *ntap, bool *keeptrials, char **cause);

#endif
