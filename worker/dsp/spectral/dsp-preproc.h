/* preprocessing of trials along time: polyremoval, Butterworth or windowed-sinc filtering,
 * zscore, and then rectify or a Hilbert transform output; float32 results. */
#ifndef ND_DSP_PREPROC_H
#define ND_DSP_PREPROC_H

#include <stdbool.h>
#include <stddef.h>

#include "worker/dsp/core/dsp-firws.h"
#include "worker/dsp/core/dsp-taper.h"
#include "worker/dsp/core/dsp-trial.h"

enum dsp_preproc_class {
	DSP_PREPROC_NOFILTER,
	DSP_PREPROC_BUT,
	DSP_PREPROC_FIRWS,
};

enum dsp_preproc_hilbert {
	DSP_PREPROC_HILBERT_NONE,
	DSP_PREPROC_HILBERT_ABS,
	DSP_PREPROC_HILBERT_COMPLEX, /* interleaved (re, im) float pairs */
	DSP_PREPROC_HILBERT_REAL,
	DSP_PREPROC_HILBERT_IMAG,
	DSP_PREPROC_HILBERT_ABSREAL,
	DSP_PREPROC_HILBERT_ABSIMAG,
	DSP_PREPROC_HILBERT_ANGLE,
};

struct dsp_preproc_params {
	double fs;
	enum dsp_preproc_class filter_class;
	enum dsp_filter_type filter_type;
	double freq[2];                     /* cutoff, or band edges for bp/bs */
	size_t order;                       /* 0: default (4 for but, firws rule) */
	enum dsp_firws_direction direction; /* default twopass */
	enum dsp_taper_window window;       /* firws: hamming (default), hann, blackman */
	int polyremoval;                    /* -1 none (default), 0, 1; before filtering */
	bool zscore;                        /* after filtering */
	bool rectify;                       /* |x|, last; excludes hilbert */
	enum dsp_preproc_hilbert hilbert;   /* last */
};

struct dsp_preproc;

void dsp_preproc_params_init(struct dsp_preproc_params *p, double fs);
int dsp_preproc_hilbert_parse(const char *name, enum dsp_preproc_hilbert *out, char **cause);

/* Validate and design the filter once for trials of at least shortest_trial samples. On success
 * *out is owned by the caller (dsp_preproc_free). Returns 0 or -EINVAL naming the parameter. */
int dsp_preproc_new(const struct dsp_preproc_params *p, size_t shortest_trial,
		    struct dsp_preproc **out, char **cause);
void dsp_preproc_free(struct dsp_preproc *pp);
bool dsp_preproc_is_complex(const struct dsp_preproc *pp);

/* One trial into out[n * nchan + c] float32 (two floats per value for hilbert complex).
 * Thread-safe. Returns 0 or -EINVAL (trial too short for the filter). */
int dsp_preproc_trial(const struct dsp_preproc *pp, const struct dsp_trial *x, float *out,
		      char **cause);

/* Analytic signal of x[0..n) as scipy.signal.hilbert: re[] (= x) and im[]. */
void dsp_preproc_hilbert(const double *x, size_t n, double *re, double *im);
/* (x - mean) / std with the population std (x unchanged if std is 0). */
void dsp_preproc_zscore(double *x, size_t n);

#endif
