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
#include "worker/dsp/fmri/dsp-trigger-fill.h"
#include "worker/dsp/fmri/dsp-trigger-gen.h"
#include "worker/dsp/fmri/dsp-volume.h"
#include "worker/dsp/pulse/dsp-pulse.h"
#include "worker/dsp/pulse/dsp-rpeak.h"

#define OP_REC_NOTCH_MAX 64
#define OP_REC_PICK_MAX 512

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
	/* upsample, downsample: resample in blocks of this many seconds of output, each from its
	 * stretch of the input and OP_REC_BLOCK_MARGIN_S either side (dsp-resample-block.h; with
	 * 8 s the standard pipeline's output stays within 0.02 uV of the whole-channel one,
	 * tests/integration/check-rec-blocks.py); 0: the whole channel in one transform (the definition the blocks are checked against). */
	double block_s;
	/* upsample: a channel whose working-rate array would exceed 4·window_mb MB runs its
	 * working-rate steps in windows of at least window_mb MB (op-rec-window.h: with their
	 * margins and the epochs the templates draw on), when they are steps that can; 0: always
	 * the whole channel. */
	double window_mb;
};
#define OP_REC_WINDOW_MB 16.0
#define OP_REC_BLOCK_MARGIN_S 8.0

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
	struct dsp_aas_params aas; /* fs, decim, slices per volume and motion set per channel */
	bool realign;    /* aas: realign the triggers once on the reference channel first */
	bool keep_noise; /* accumulate the estimated noise (false when no anc follows) */
	const char *rp_file; /* SPM realignment parameters (relative to the input), or NULL */
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

/* pick_channels (the listed channels are corrected, the others passed through) and
 * drop_channels (the listed ones are passed through). Labels point into the step. */
struct op_rec_pick_params {
	const char *labels[OP_REC_PICK_MAX];
	size_t n;
	bool drop;
};

/* crop: the part of the recording the correction works on, seconds [tmin, tmax). */
struct op_rec_crop_params {
	double tmin, tmax; /* tmax 0: to the end */
};

/* paste_window: outside the processing window (the crop, else the acquisition window widened
 * by `margin`) the channel is the input again, with raised-cosine cross-fades of `fade`. */
struct op_rec_paste_params {
	double margin, fade; /* seconds */
};

/* slice_triggers: volume triggers to slice triggers. */
struct op_rec_slices_params {
	struct dsp_trigger_gen_params gen;
};

/* complete_triggers: missing slice triggers from the data, annotated `annotation`. */
struct op_rec_complete_params {
	struct dsp_trigger_fill_params fill;
	const char *annotation;
};

/* volume_artifact. */
struct op_rec_volume_params {
	struct dsp_volume_params vol;
};

/* detect_rpeaks: on `channel` (NULL: the first ECG/EKG channel). */
struct op_rec_rpeak_params {
	struct dsp_rpeak_params rpeak;
	const char *channel;
};

/* pulse_aas and pulse_obs: epochs `delay` s after each R peak. */
struct op_rec_pulse_params {
	double delay;
	size_t window;                   /* pulse_aas: beats per template */
	struct dsp_pulse_obs_params obs; /* pulse_obs */
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
