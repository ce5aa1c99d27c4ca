/* Trial inputs of a pipeline: a .spy AnalogData container, generated trials (synth) and epochs
 * cut from an EDF recording around annotations. Opening one gives the layout (every trial's
 * length and offset, channels, rate); reading gives any block of trials × channels. The
 * scheduler opens inputs at submit (with the checks) and each unit task opens them again to read
 * only its own block. */
#ifndef ND_TRIAL_INPUT_H
#define ND_TRIAL_INPUT_H

#include <jansson.h>

#include "worker/dsp/core/dsp-trial.h"
#include "worker/ops/trial/data/trial-layout.h"

/* At submit: verify the .spy checksum. Tasks skip it (the scheduler did it once). */
#define TRIAL_INPUT_VERIFY 0x1u

struct trial_input;

/* Whether `input` (the pipeline's input object) is a trial input: format spy or synth, or edf
 * with a "trials" object (plain edf inputs are recordings). */
int trial_input_claims(const json_t *input);

/* Check the input object's keys and open it. Errors name the key ("input.trials.pre: ...") or
 * the file. On success the caller closes *out. */
int trial_input_open(const json_t *input, unsigned flags, struct trial_input **out, char **cause);
const struct trial_layout *trial_input_layout(const struct trial_input *in);
/* How trial_input_read delivers samples: float32 for float32 .spy files (their stored values,
 * converted once by the kernels), float64 otherwise. */
enum dsp_trial_dtype trial_input_dtype(const struct trial_input *in);
/* Trials [trial0, trial0 + ntr) × channels [chan0, chan0 + nch) in trial_input_dtype: each
 * trial's len × nch block, row-major, back to back in buf (caller-owned). */
int trial_input_read(struct trial_input *in, size_t trial0, size_t ntr, size_t chan0, size_t nch,
		     void *buf, char **cause);
/* Accepts NULL. */
void trial_input_close(struct trial_input *in);

#endif
