/* Averaged artifact subtraction on one channel: correlation-selected epoch averages as artifact
 * templates, a run-once trigger realignment, and subtraction into an estimated-noise array. */
#ifndef ND_DSP_AAS_H
#define ND_DSP_AAS_H

#include <stddef.h>
#include <stdint.h>

enum dsp_aas_mode {
	DSP_AAS_BLOCKS,  /* non-overlapping blocks of W epochs, one template per block */
	DSP_AAS_SLIDING, /* a window of W epochs centred on each epoch (Allen et al. 2000) */
	/* Weighted modes (dsp-aas-weight.c): one template per epoch, never containing the epoch
	 * itself, optionally scaled to it. */
	DSP_AAS_NEAREST, /* the W nearest epochs inside its motion segment (Moosmann et al. 2009
			    with a realignment file, else one segment: a centred window) */
	DSP_AAS_FARM,    /* up to W epochs within ±range·W whose artifact-band correlation
			    |r| >= farm_threshold, most similar first (van der Meer et al. 2010) */
	DSP_AAS_SLICE,   /* the same slice of the W nearest volumes (FACET's corresponding-slice
			    weighting) */
	DSP_AAS_AUTO,    /* per channel, the nearest-epoch window (W/2 .. 16·W) and scaling with
			    the least estimated in-band error (dsp-aas-auto.c) */
};

/* Per-epoch template scaling: off, on, or on where it lowers the estimated error (auto). */
enum dsp_aas_scale { DSP_AAS_SCALE_OFF = 0, DSP_AAS_SCALE_ON = 1, DSP_AAS_SCALE_AUTO = 2 };

struct dsp_aas_params {
	size_t window;    /* W, epochs (30) */
	double threshold; /* Pearson threshold of blocks and sliding (0.975) */
	enum dsp_aas_mode mode;
	/* Weighted modes. */
	enum dsp_aas_scale scale; /* least-squares scale of each template to its epoch */
	int shift;                /* with scale: and its sub-sample shift, to first order
				     (dsp-aas-auto.c); auto weighs it with scale auto */
	int shift_band_scale;     /* with shift: keep the artifact band's scale for the shifted
				     templates instead of the whole epoch's (auto: where the
				     choice without shifts was unscaled) */
	int interpolate_gaps;     /* subtract a line across the gaps between epochs' templates */
	double farm_threshold;    /* 0.9 */
	size_t farm_range;        /* 3: candidates within ±3·W epochs */
	size_t slices_per_volume; /* slice mode and motion segments (0: unknown) */
	/* Head motion per volume (mm, framewise: |Δtranslation| + 50 mm·|Δrotation|), NULL for
	 * none; a volume moving more than motion_threshold starts a new segment. */
	const double *motion;
	size_t nmotion;
	double motion_threshold;
	/* The working rate, the EEG band edge (Hz) separating the EEG band from the artifact band
	 * (correlations in farm, the error estimate of auto), and working rate / recording rate. */
	double fs, band;
	size_t decim;
	/* The channel mean the epochs are taken from (x − mean): computed from x[0..n) unless
	 * mean_given (a caller building the templates of a stretch of the channel at a time). */
	int mean_given;
	double mean;
};

/* What a weighted mode chose for the channel. */
struct dsp_aas_choice {
	enum dsp_aas_mode mode; /* the mode used (auto: the nearest-epoch mode it chose) */
	size_t window;          /* epochs per template (the chosen one in auto) */
	int scaled;             /* per-epoch scaling applied */
	double scale_min, scale_max;
	int shifted;            /* sub-sample shifts fitted; their range, recording samples */
	double shift_min, shift_max;
	int shift_rescale;      /* the shifted templates scaled to their epochs over the whole band
				   (the choice without shifts was scaled), else left unscaled */
	double shift_weight;    /* the mean factor the fitted shifts were shrunk by (0..1) */
	size_t segments;        /* motion segments */
	double error_db;        /* auto: estimated in-band error of the choice against the next
				   best candidate, dB (<= 0); NAN otherwise */
};

/* Templates of length len; epoch i uses row index[i] of data (ntemplates × len), multiplied
 * by scale[i] when scale is not NULL, and read advance[i] samples ahead (shifted by
 * −advance[i], interpolated) when advance is not NULL. */
struct dsp_aas_templates {
	size_t len, nepochs, ntemplates;
	double *data;
	size_t *index;
	double *scale, *advance;
	int interpolate_gaps;
	struct dsp_aas_choice choice;
};

/* Defaults for the weighted modes' fields (the caller sets window, mode, fs, decim). */
void dsp_aas_params_init(struct dsp_aas_params *p);

/* Build the templates of channel x[0..n) for triggers t[0..nt), artifact length L and offset
 * s0 (samples): epochs x[t + s0 : +L] (zero outside the data); per block (or window) start
 * from the first 5 epochs and add each further epoch whose Pearson correlation with the running
 * average exceeds the threshold; the template is the mean of the chosen epochs of x − mean(x).
 * On success *tp owns its arrays (release with dsp_aas_templates_fini). Returns 0 or -EINVAL. */
int dsp_aas_templates_make(struct dsp_aas_templates *tp, const double *x, size_t n,
			   const int64_t *t, size_t nt, size_t L, long s0,
			   const struct dsp_aas_params *p, char **cause);
/* What mode auto (or scale auto) chooses from the epochs decimated to the recording's rate:
 * X, nt rows of m samples (block averages of decim working-rate samples of x − mean(x), as
 * the templates are built from; taken over, freed here). Into *q: p with the chosen mode,
 * window, scale and shift, so that building the templates with *q gives what auto gives; into
 * *error_db the choice's estimated error against the next best (NAN when none). 0 or -EINVAL. */
int dsp_aas_auto_choose(double *X, size_t nt, size_t m, const struct dsp_aas_params *p,
			struct dsp_aas_params *q, double *error_db, char **cause);
/* Release the arrays; accepts a zeroed or finished struct. */
void dsp_aas_templates_fini(struct dsp_aas_templates *tp);
/* The template (len doubles) of epoch i; owned by tp. */
const double *dsp_aas_template(const struct dsp_aas_templates *tp, size_t i);

/* Realign once (first channel, uncorrected data): seg = x[t[i] + s0 : t[i] + L + Ws],
 * t_out[i] = t[i] + shift(seg, template i, Ws), Ws = 3 original samples × scale; a trigger whose
 * segment runs past the data keeps its place. t_out may equal t. Returns 0 or -EINVAL. */
int dsp_aas_realign(const double *x, size_t n, const int64_t *t, size_t nt, long s0,
		    const struct dsp_aas_templates *tp, double scale, int64_t *t_out, char **cause);

/* x[t[i] + s0 : +L] −= template i (clipped to the data, and to the start of epoch i + 1 where
 * that lies inside it: each sample is corrected by one template); when noise is not NULL the
 * subtracted templates are added to noise[0..n) at the same places (x NULL: only that, in the
 * same order, so the noise can be added later with the same values). With interpolate_gaps,
 * the samples between the end of one epoch and the start of the next get a line from the one
 * template's last value to the other's first. Returns 0 or -EINVAL. */
int dsp_aas_subtract(double *x, size_t n, const int64_t *t, size_t nt, long s0,
		     const struct dsp_aas_templates *tp, double *noise, char **cause);

#endif
