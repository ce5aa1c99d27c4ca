/* The typed parameters of the recording ops: each op's parse function (in its op-rec-*.c file)
 * is the one place its step is read, with its defaults; the scheduler uses the same structs
 * for validation and the graph's shape, the worker to run the step. */
#ifndef ND_OP_REC_PARAMS_H
#define ND_OP_REC_PARAMS_H

#include <stdbool.h>
#include <stddef.h>

#include "worker/dsp/fmri/dsp-aas.h"
#include "worker/dsp/fmri/dsp-anc.h"
#include "worker/dsp/fmri/dsp-pca.h"

#define OP_REC_NOTCH_MAX 64

/* highpass (lo), lowpass (hi), bandpass (lo, hi): the pass-band edges in Hz, 0 where absent. */
struct op_rec_band_params {
	double lo, hi;
};

struct op_rec_notch_params {
	double freqs[OP_REC_NOTCH_MAX];
	size_t n;
	double width; /* Hz; 0: the filter design's default */
};

/* upsample, downsample (factor) and resample (rate). */
struct op_rec_rate_params {
	long long factor;
	double rate;
};

struct op_rec_detect_params {
	const char *regex; /* POSIX extended regex over annotation texts (checked by parse) */
	double offset;     /* artifact start relative to the trigger, s */
};

/* align_slices, align_subsample. */
struct op_rec_align_params {
	size_t ref_index;        /* the reference trigger */
	const char *ref_channel; /* the channel to align on, or NULL: the first EEG channel */
};

/* aas and aas_realign. */
struct op_rec_aas_params {
	struct dsp_aas_params aas;
	bool realign;    /* aas: realign the triggers once on the reference channel first */
	bool keep_noise; /* accumulate the estimated noise (false when no anc follows) */
};

struct op_rec_pca_params {
	struct dsp_pca_params pca;
	bool keep_noise;
};

struct op_rec_anc_params {
	struct dsp_anc_params anc;
	bool hp_given; /* anc.hp from the step; else from the slice rate */
};

struct op_rec_metrics_params {
	const char *ground_truth;  /* the artifact-free recording, or NULL */
	double truth_hp, truth_lp; /* pass band the ground truth is filtered to (0: none) */
	/* The artifact-free reference data, seconds [start, end); both 0: outside the scan. */
	double ref_start, ref_end;
};

struct op_rec_export_params {
	const char *path; /* or NULL: output.path */
};

struct op_rec_report_params {
	const char *path;    /* the page, or NULL: beside output.path */
	const char *r_peaks; /* a JSON file of R peaks ({"fs", "samples"}; relative to the
			      * input's folder) when no step left them in the report input */
};

#endif
