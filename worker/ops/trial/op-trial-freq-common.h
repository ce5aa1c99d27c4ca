/* The keywords every freqanalysis method reads (op-trial-freq-common.c). */
#ifndef ND_OP_TRIAL_FREQ_COMMON_H
#define ND_OP_TRIAL_FREQ_COMMON_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "worker/dsp/core/dsp-taper.h"
#include "worker/dsp/spectral/dsp-mtmfft.h"

struct op_trial_freq_common {
	const char *method;
	const char *output_name;
	enum dsp_mtmfft_output output;
	enum dsp_taper_window taper;
	double kaiser_beta;
	double tapsmofrq;
	size_t ntaper;
	bool keeptrials, keeptapers;
	int polyremoval;
	double foi[4096];
	size_t nfoi;
	bool use_foilim;
	double foilim[2];
};

int op_trial_freq_common(const json_t *step, const char *path, struct op_trial_freq_common *c,
			 char **cause);
/* foi / foilim within [0, fs/2]. */
int op_trial_freq_common_nyquist(const struct op_trial_freq_common *c, double fs, const char *path,
				 char **cause);

#endif
