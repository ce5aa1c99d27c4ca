/* The time-frequency methods of freqanalysis (op-trial-mtmconvol.c: mtmconvol, welch;
 * op-trial-wavelet.c: wavelet, superlet) and what they share (op-trial-tfr.c). */
#ifndef ND_OP_TRIAL_TFR_H
#define ND_OP_TRIAL_TFR_H

#include <jansson.h>
#include <stdbool.h>

#include "worker/dsp/spectral/dsp-tfr.h"
#include "worker/ops/trial/op-trial-freq-common.h"
#include "worker/ops/trial/data/trial-run.h"

/* A parsed toi: "all" (the default), an overlap fraction, or a list of times (s). */
struct op_trial_tfr_toi {
	enum dsp_tfr_toi kind;
	double frac;
	double list[65536];
	size_t n;
};

int op_trial_tfr_toi(const json_t *step, const char *path, struct op_trial_tfr_toi *toi,
		     char **cause);
/* A toi list must lie within [earliest trial start, latest trial end] (the reference's rule). */
int op_trial_tfr_toi_bounds(const struct op_trial_tfr_toi *toi, const struct trial_layout *lay,
			    const char *path, char **cause);

/* A prepared method: its kernel behind two adapters, its output's shape and time axis. */
struct op_trial_tfr {
	const void *m;
	size_t (*ntime)(const void *m, size_t nsamp);
	int (*trial)(const void *m, const struct dsp_trial *x, double offset, double *out,
		     void **work, char **cause);
	void (*work_free)(void *work);
	size_t ntap, nfreq;
	bool complex, keeptrials;
	const double *freqs;
	const char *taper;
	size_t step;       /* > 0: sliding windows every `step` samples (toi a fraction) */
	const double *toi; /* a toi list (rows at these times), or NULL */
	size_t ntoi;
	bool welch; /* one row per trial, offset 0 */
};

/* Set the task's spectral output (shape, time axis) and, when it holds data, compute it. */
int op_trial_tfr_finish(struct trial_run *t, const struct op_trial_tfr *k, const json_t *step,
			const char *path, char **cause);

int op_trial_mtmconvol_apply(struct trial_run *t, const json_t *step, const char *path, bool welch,
			     char **cause);
int op_trial_wavelet_apply(struct trial_run *t, const json_t *step, const char *path, bool superlet,
			   char **cause);

#endif
