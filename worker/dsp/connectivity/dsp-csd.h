/* Cross spectra of trials: S(f)_ij = mean over tapers of X_i(f) conj(X_j(f)), from each trial's
 * (multi-)tapered channel spectra, one trial at a time or summed over many. The sum over trials
 * is a two-sum accumulator (the rounding error of each addition is kept), so partial sums of
 * trial chunks merge into the same mean, to double precision, however the trials were chunked.
 *
 * Layouts. Channel spectra of a trial: complex doubles X[((k * nfreq + f) * nchan + c) * 2 + re/im]
 * for taper k (the layout of dsp_mtmfft_trial_f64). Cross-spectral matrices inside the kernels:
 * per frequency, a column-major nchan × nchan complex matrix of which the upper triangle (i <= j,
 * element i + j * nchan) is valid; dsp_csd_expand turns them into full row-major Hermitian
 * matrices out[((f * nchan + i) * nchan + j) * 2 + re/im]. */
#ifndef ND_DSP_CSD_H
#define ND_DSP_CSD_H

#include <stddef.h>
#include <stdint.h>

/* One trial's cross spectra into s (upper triangles, nfreq × nchan × nchan complex). */
void dsp_csd_trial(const double *x, size_t ntap, size_t nfreq, size_t nchan, double *s);

/* Expand upper triangles to full row-major Hermitian matrices, times `scale`. */
void dsp_csd_expand(const double *upper, size_t nfreq, size_t nchan, double scale, double *full);

/* The sub-matrices rows × cols (channel indices into nchan) of full row-major matrices, into
 * out[((f * nrows + r) * ncols + c) * 2 + re/im]. */
void dsp_csd_select(const double *full, size_t nfreq, size_t nchan, const size_t *rows,
		    size_t nrows, const size_t *cols, size_t ncols, double *out);

/* Trial sums. Spectra are written into slots and summed a block of trials at a time (one
 * Hermitian rank-k update per frequency, k = trials × tapers). */
struct dsp_csd_acc {
	size_t nfreq, nchan, ntap;
	size_t len;    /* doubles in sum and comp: dsp_csd_packed_len */
	double *sum;   /* packed upper triangles (below) */
	double *comp;  /* rounding errors of sum */
	uint64_t count; /* trials added */
	size_t block_max, block_n; /* private */
	double *block, *regroup, *scratch; /* private */
};

/* For trials of ntap tapers at nfreq frequencies and nchan channels. */
void dsp_csd_acc_init(struct dsp_csd_acc *a, size_t nfreq, size_t nchan, size_t ntap);
/* Where the next trial's spectra go (ntap × nfreq × nchan complex); owned by a. */
double *dsp_csd_acc_slot(struct dsp_csd_acc *a);
/* The slot is filled: the trial joins the sum (at the latest at dsp_csd_acc_flush). */
void dsp_csd_acc_commit(struct dsp_csd_acc *a);
/* Sum the trials of the open block. */
void dsp_csd_acc_flush(struct dsp_csd_acc *a);
/* a += b (same shapes; both flushed). Returns 0 or -EINVAL. */
int dsp_csd_acc_merge(struct dsp_csd_acc *a, const struct dsp_csd_acc *b, char **cause);
/* Packed upper triangles: nfreq × nchan (nchan + 1) / 2 complex values, column by column, the
 * form partial sums travel in between tasks (a quarter of two full arrays). */
size_t dsp_csd_packed_len(size_t nfreq, size_t nchan);
/* The accumulator's sums (sum + rounding error) packed into out (dsp_csd_packed_len doubles). */
void dsp_csd_acc_pack(const struct dsp_csd_acc *a, double *out);
/* Add packed sums of `count` trials (two-sum). */
void dsp_csd_acc_add_packed(struct dsp_csd_acc *a, const double *packed, uint64_t count);
/* The sums (plus their errors) times scale as upper triangles (nfreq × nchan × nchan complex). */
void dsp_csd_acc_total(const struct dsp_csd_acc *a, double scale, double *upper);
/* The mean over trials as full row-major matrices (count > 0, flushed). */
void dsp_csd_acc_mean(const struct dsp_csd_acc *a, double *full);
void dsp_csd_acc_fini(struct dsp_csd_acc *a);

#endif
