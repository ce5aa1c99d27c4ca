/* The EDF epochs input: trials cut from a recording around its annotations (trial-input-edf.c,
 * used by trial-input.c). */
#ifndef ND_TRIAL_INPUT_EDF_H
#define ND_TRIAL_INPUT_EDF_H

#include <jansson.h>

#include "worker/ops/trial/data/trial-layout.h"

struct trial_input_edf;
int trial_input_edf_open(const json_t *input, struct trial_layout *lay,
			 struct trial_input_edf **out, char **cause);
int trial_input_edf_read(struct trial_input_edf *e, const struct trial_layout *lay, size_t trial0,
			 size_t ntr, size_t chan0, size_t nch, double *buf, char **cause);
void trial_input_edf_close(struct trial_input_edf *e);

#endif
