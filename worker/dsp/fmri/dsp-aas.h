/* Averaged artifact subtraction on one channel: correlation-selected epoch averages as artifact
 * templates, a run-once trigger realignment, and subtraction into an estimated-noise array. */
#ifndef ND_DSP_AAS_H
#define ND_DSP_AAS_H

#include <stddef.h>
#include <stdint.h>

enum dsp_aas_mode {
	DSP_AAS_BLOCKS,  /* non-overlapping blocks of W epochs, one template per block */
	DSP_AAS_SLIDING, /* a window of W epochs centred on each epoch (Allen et al. 2000) */
};

struct dsp_aas_params {
	size_t window;    /* W, epochs (30) */
	double threshold; /* Pearson threshold (0.975) */
	enum dsp_aas_mode mode;
};

/* Templates of length len; epoch i uses row index[i] of data (ntemplates × len). */
struct dsp_aas_templates {
	size_t len, nepochs, ntemplates;
	double *data;
	size_t *index;
};

/* Build the templates of channel x[0..n) for triggers t[0..nt), artifact length L and offset
 * s0 (samples): epochs x[t + s0 : +L] (zero outside the data); per block (or window) start
 * from the first 5 epochs and add each further epoch whose Pearson correlation with the running
 * average exceeds the threshold; the template is the mean of the chosen epochs of x − mean(x).
 * On success *tp owns its arrays (release with dsp_aas_templates_fini). Returns 0 or -EINVAL. */
int dsp_aas_templates_make(struct dsp_aas_templates *tp, const double *x, size_t n,
			   const int64_t *t, size_t nt, size_t L, long s0,
			   const struct dsp_aas_params *p, char **cause);
/* Release the arrays; accepts a zeroed or finished struct. */
void dsp_aas_templates_fini(struct dsp_aas_templates *tp);
/* The template (len doubles) of epoch i; owned by tp. */
const double *dsp_aas_template(const struct dsp_aas_templates *tp, size_t i);

/* Realign once (first channel, uncorrected data): seg = x[t[i] + s0 : t[i] + L + Ws],
 * t_out[i] = t[i] + shift(seg, template i, Ws), Ws = 3 original samples × scale; a trigger whose
 * segment runs past the data keeps its place. t_out may equal t. Returns 0 or -EINVAL. */
int dsp_aas_realign(const double *x, size_t n, const int64_t *t, size_t nt, long s0,
		    const struct dsp_aas_templates *tp, double scale, int64_t *t_out, char **cause);

/* x[t[i] + s0 : +L] −= template i (clipped to the data); when noise is not NULL the subtracted
 * templates are added to noise[0..n) at the same places. Returns 0 or -EINVAL. */
int dsp_aas_subtract(double *x, size_t n, const int64_t *t, size_t nt, long s0,
		     const struct dsp_aas_templates *tp, double *noise, char **cause);

#endif
