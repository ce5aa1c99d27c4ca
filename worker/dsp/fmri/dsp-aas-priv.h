/* What the weighted AAS modes share (dsp-aas-weight.c, used by dsp-aas-auto.c; both called from
 * dsp-aas.c): motion segments, the nearest-epoch windows and their running sums, the band split
 * of an epoch, per-epoch scaling. Not part of the AAS interface. */
#ifndef ND_DSP_AAS_PRIV_H
#define ND_DSP_AAS_PRIV_H

#include <stddef.h>

#include "worker/dsp/fmri/dsp-aas.h"

/* Epochs split into segments at head movements: seg[i] is epoch i's segment (nondecreasing),
 * [start[s], start[s + 1]) its epochs; source[i] is 0 for the epochs of a moving volume, which
 * no other epoch's template uses. */
struct dsp_aas_segments {
	size_t *seg, *start, n;
	unsigned char *source;
};

void dsp_aas_segments_make(const struct dsp_aas_params *p, size_t nt,
			   struct dsp_aas_segments *sg);
void dsp_aas_segments_fini(struct dsp_aas_segments *sg);

/* The nearest-epoch window of epoch i: W + 1 epochs centred on it (itself included, so W
 * others), shifted to stay inside its segment, the whole segment when it is shorter. The
 * windows never move back as i grows. */
void dsp_aas_nearest_range(const struct dsp_aas_segments *sg, size_t i, size_t W, size_t *a,
			   size_t *b);
/* out[i] = the mean of rows X[j] (m values each) over the source epochs j != i of epoch i's
 * nearest window (the window's mean with i when it has no other source). Running sums: one
 * pass over the rows. */
void dsp_aas_nearest_mean(const double *X, size_t nt, size_t m, const struct dsp_aas_segments *sg,
			  size_t W, double *out);

/* The same means one epoch after the other, for who needs them a row at a time: init, then
 * dsp_aas_nearest_next for i = 0, 1, .. nt − 1 in order (each mean into o, m values), fini. */
struct dsp_aas_nearest {
	const double *X;
	size_t nt, m, W;
	const struct dsp_aas_segments *sg;
	double *sum;
	size_t a, b, count; /* the window [a, b) in sum, its source epochs */
};
void dsp_aas_nearest_init(struct dsp_aas_nearest *it, const double *X, size_t nt, size_t m,
			  const struct dsp_aas_segments *sg, size_t W);
void dsp_aas_nearest_next(struct dsp_aas_nearest *it, size_t i, double *o);
void dsp_aas_nearest_fini(struct dsp_aas_nearest *it);

/* The length of the double moving average whose -6 dB point is `band` Hz at rate fs. */
size_t dsp_aas_band_length(double fs, double band);
/* lo = v through a double moving average of k samples (averages over what the epoch has at its
 * edges), n samples; scratch holds n + 1. */
void dsp_aas_band_low(const double *v, size_t n, size_t k, double *lo, double *scratch);

/* Least-squares scale of template T to epoch e, 1 when T is zero. */
double dsp_aas_scale_of(const double *e, const double *T, size_t len);

/* v[0..len) averaged over blocks of d samples into out[0..ceil(len / d)). */
void dsp_aas_block_mean(const double *v, size_t len, size_t d, double *out);
/* The epochs at the recording's rate: each row of E (len) averaged over blocks of d samples
 * into ceil(len / d) values. Returns the nt × m rows (caller frees), m in *m. */
double *dsp_aas_decimate(const double *E, size_t nt, size_t len, size_t d, size_t *m);
/* The artifact band of rows X (nt × m at rate fs): X minus its double moving average at band
 * Hz, into out (may be X). */
void dsp_aas_band_high(const double *X, size_t nt, size_t m, double fs, double band, double *out);

/* FARM's choice for every epoch from the artifact-band rows H (nt × m): up to W epochs within
 * ±range·W with |r| >= threshold, most similar first, never the epoch itself (its one or two
 * neighbours when none passes). Lists in idx[i·W ..] with cnt[i] entries (caller frees). */
void dsp_aas_farm_lists(const double *H, size_t nt, size_t m, const struct dsp_aas_params *p,
			size_t **idx, size_t **cnt);
/* The same slice position in the W nearest volumes of the segment, as lists. */
void dsp_aas_slice_lists(size_t nt, const struct dsp_aas_params *p,
			 const struct dsp_aas_segments *sg, size_t **idx, size_t **cnt);
/* o = the mean of rows X[idx[c]], c < cnt (m values each). */
void dsp_aas_list_row(const double *X, size_t m, const size_t *idx, size_t cnt, double *o);
/* out[i] = the mean of rows X[idx[i·W + c]], c < cnt[i]. */
void dsp_aas_lists_mean(const double *X, size_t nt, size_t m, const size_t *idx,
			const size_t *cnt, size_t W, double *out);

/* Sub-sample shifts (dsp-aas-auto.c). d = the derivative of v[0..n) (central differences,
 * one-sided at the ends). (a, b): the least-squares fit of h ≈ a·th + b·dth over m samples (a
 * scale alone, b = 0, where the fit is degenerate or shifts by more than max samples). */
void dsp_aas_deriv(const double *v, size_t n, double *d);
void dsp_aas_shift_fit(const double *h, const double *th, const double *dth, size_t m, double max,
		       double *a, double *b);
/* v[0..n) read at x (4-point Lagrange, the edge values repeated outside); out[k] = v at k + u. */
double dsp_aas_at(const double *v, size_t n, double x);
void dsp_aas_advance(const double *v, size_t n, double u, double *out);
/* u[i] *= V / (V + var[i]), V the spread of the u less their mean variance (at least 0);
 * returns the mean factor. */
double dsp_aas_shift_shrink(double *u, const double *var, size_t nt);
/* Every epoch's scale and advance against its template (tp->scale, tp->advance in working
 * samples), with their range in tp->choice: after a mode whose choice asks for shifts
 * (choice.shifted), on the epochs E (never its templates' place). Fitted in the artifact band
 * at the recording's rate (block averages of decim working samples, as auto scores), to first
 * order, the regressor the block averages of the working-rate template's derivative. */
void dsp_aas_weight_shift(struct dsp_aas_templates *tp, const double *E,
			  const struct dsp_aas_params *p);

/* The weighted modes on E, the nt epochs of x − mean(x) (len each; the caller's). The nearest
 * mode without motion segments and without shifts builds its templates in place of E and
 * tp->data takes E (the caller then frees E only when tp->data != E). A mode with its window
 * and scaling as given (not auto; dsp-aas-weight.c): */
int dsp_aas_weighted_fixed(struct dsp_aas_templates *tp, double *E, size_t nt, size_t len,
			   const struct dsp_aas_params *p, char **cause);
/* Mode auto or scale auto: the candidate with the least estimated error (dsp-aas-auto.c). */
int dsp_aas_auto_make(struct dsp_aas_templates *tp, double *E, size_t nt, size_t len,
		      const struct dsp_aas_params *p, char **cause);

#endif
