/* Cross spectra: Hermitian rank-k updates (BLAS zherk) over a trial's tapers or a block of trials,
 * the two-sum accumulation of blocks, and the expansion of upper triangles to full matrices. */
#include "worker/dsp/connectivity/dsp-csd.h"

#include <cblas.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/xmalloc.h"

/* Values (complex) a block of trials' spectra may hold: a few MB, so the rank-k updates are
 * long enough for BLAS to run near its peak and the block stays in the last-level cache. */
#define DSP_CSD_BLOCK_VALUES (1u << 18)
#define DSP_CSD_BLOCK_COLUMNS 32

/* One trial: its few tapers make a rank-k update too small for BLAS to pay off, so the upper
 * triangles are plain sums over tapers. */
void
dsp_csd_trial(const double *x, size_t ntap, size_t nfreq, size_t nchan, double *s)
{
	double w = 1.0 / (double)ntap;

	for (size_t f = 0; f < nfreq; f++) {
		double *o = s + 2 * f * nchan * nchan;
		for (size_t j = 0; j < nchan; j++) {
			double *restrict col = o + 2 * j * nchan;
			memset(col, 0, 2 * (j + 1) * sizeof *col);
			for (size_t k = 0; k < ntap; k++) {
				const double *restrict v = x + 2 * (k * nfreq + f) * nchan;
				double br = v[2 * j] * w, bi = -v[2 * j + 1] * w;
				for (size_t i = 0; i <= j; i++) {
					double ar = v[2 * i], ai = v[2 * i + 1];
					col[2 * i] += ar * br - ai * bi;
					col[2 * i + 1] += ar * bi + ai * br;
				}
			}
		}
	}
}

void
dsp_csd_expand(const double *upper, size_t nfreq, size_t nchan, double scale, double *full)
{
	for (size_t f = 0; f < nfreq; f++) {
		const double *u = upper + 2 * f * nchan * nchan;
		double *o = full + 2 * f * nchan * nchan;
		for (size_t i = 0; i < nchan; i++)
			for (size_t j = 0; j < nchan; j++) {
				size_t src = i <= j ? i + j * nchan : j + i * nchan;
				double im = u[2 * src + 1] * scale;
				o[2 * (i * nchan + j)] = u[2 * src] * scale;
				o[2 * (i * nchan + j) + 1] = i <= j ? im : -im;
			}
		/* the diagonal of a cross spectrum is real */
		for (size_t i = 0; i < nchan; i++)
			o[2 * (i * nchan + i) + 1] = 0;
	}
}

void
dsp_csd_select(const double *full, size_t nfreq, size_t nchan, const size_t *rows, size_t nrows,
	       const size_t *cols, size_t ncols, double *out)
{
	for (size_t f = 0; f < nfreq; f++)
		for (size_t r = 0; r < nrows; r++)
			for (size_t c = 0; c < ncols; c++) {
				const double *v = full + 2 * ((f * nchan + rows[r]) * nchan + cols[c]);
				double *o = out + 2 * ((f * nrows + r) * ncols + c);
				o[0] = v[0];
				o[1] = v[1];
			}
}

void
dsp_csd_acc_init(struct dsp_csd_acc *a, size_t nfreq, size_t nchan, size_t ntap)
{
	size_t per = ntap * nfreq * nchan;

	memset(a, 0, sizeof *a);
	a->nfreq = nfreq;
	a->nchan = nchan;
	a->ntap = ntap;
	a->len = dsp_csd_packed_len(nfreq, nchan);
	a->sum = xcalloc(a->len + 1, sizeof *a->sum);
	a->comp = xcalloc(a->len + 1, sizeof *a->comp);
	a->block_max = per > 0 && per < DSP_CSD_BLOCK_VALUES ? DSP_CSD_BLOCK_VALUES / per : 1;
	/* at least DSP_CSD_BLOCK_COLUMNS spectra per update, so the two-sum of each block's
	 * result stays small against the update itself */
	if (a->block_max * ntap < DSP_CSD_BLOCK_COLUMNS)
		a->block_max = (DSP_CSD_BLOCK_COLUMNS + ntap - 1) / ntap;
	a->block = xmalloc(2 * a->block_max * per * sizeof *a->block + 1);
	a->regroup = xmalloc(2 * a->block_max * per * sizeof *a->regroup + 1);
	a->scratch = xmalloc(2 * nchan * nchan * sizeof *a->scratch + 1); /* one frequency */
}

double *
dsp_csd_acc_slot(struct dsp_csd_acc *a)
{
	return a->block + 2 * a->block_n * a->ntap * a->nfreq * a->nchan;
}

/* sum += x with its rounding error into comp (Knuth's two-sum). */
static inline void
dsp_csd_two_sum(double *sum, double *comp, double x)
{
	double s = *sum + x, bp = s - *sum;

	*comp += (*sum - (s - bp)) + (x - bp);
	*sum = s;
}

/* The block's spectra regrouped by frequency: for each f the ncol columns of nchan values next
 * to each other, so each rank-k update reads one contiguous matrix. */
static void
dsp_csd_acc_regroup(const struct dsp_csd_acc *a, size_t ncol, double *out)
{
	size_t nf = a->nfreq, nc = a->nchan;

	for (size_t col = 0; col < ncol; col++)
		for (size_t f = 0; f < nf; f++)
			memcpy(out + 2 * (f * ncol + col) * nc, a->block + 2 * (col * nf + f) * nc,
			       2 * nc * sizeof *out);
}

void
dsp_csd_acc_flush(struct dsp_csd_acc *a)
{
	size_t ncol = a->block_n * a->ntap, nc = a->nchan, k = 0;

	if (a->block_n == 0)
		return;
	dsp_csd_acc_regroup(a, ncol, a->regroup);
	for (size_t f = 0; f < a->nfreq; f++) {
		const double *u = a->scratch;
		cblas_zherk(CblasColMajor, CblasUpper, CblasNoTrans, (int)nc, (int)ncol,
			    1.0 / (double)a->ntap, a->regroup + 2 * f * ncol * nc, (int)nc, 0.0,
			    a->scratch, (int)nc);
		/* the upper triangle, column by column, into the packed sums */
		for (size_t j = 0; j < nc; j++)
			for (size_t i = 0; i < 2 * (j + 1); i++, k++)
				dsp_csd_two_sum(&a->sum[k], &a->comp[k], u[2 * j * nc + i]);
	}
	a->count += a->block_n;
	a->block_n = 0;
}

void
dsp_csd_acc_commit(struct dsp_csd_acc *a)
{
	if (++a->block_n == a->block_max)
		dsp_csd_acc_flush(a);
}

size_t
dsp_csd_packed_len(size_t nfreq, size_t nchan)
{
	return nfreq * nchan * (nchan + 1);
}

void
dsp_csd_acc_pack(const struct dsp_csd_acc *a, double *out)
{
	for (size_t k = 0; k < a->len; k++)
		out[k] = a->sum[k] + a->comp[k];
}

void
dsp_csd_acc_add_packed(struct dsp_csd_acc *a, const double *packed, uint64_t count)
{
	for (size_t k = 0; k < a->len; k++)
		dsp_csd_two_sum(&a->sum[k], &a->comp[k], packed[k]);
	a->count += count;
}

int
dsp_csd_acc_merge(struct dsp_csd_acc *a, const struct dsp_csd_acc *b, char **cause)
{
	if (a->nfreq != b->nfreq || a->nchan != b->nchan)
		return error_set(cause, -EINVAL, "cannot merge cross spectra of different shapes");
	if (a->block_n != 0 || b->block_n != 0)
		return error_set(cause, -EINVAL, "cross-spectral sums must be flushed to merge");
	for (size_t k = 0; k < a->len; k++) {
		dsp_csd_two_sum(&a->sum[k], &a->comp[k], b->sum[k]);
		a->comp[k] += b->comp[k];
	}
	a->count += b->count;
	return 0;
}

void
dsp_csd_acc_total(const struct dsp_csd_acc *a, double scale, double *upper)
{
	size_t nc = a->nchan, k = 0;

	for (size_t f = 0; f < a->nfreq; f++)
		for (size_t j = 0; j < nc; j++) {
			double *o = upper + 2 * (f * nc * nc + j * nc);
			for (size_t i = 0; i < 2 * (j + 1); i++, k++)
				o[i] = (a->sum[k] + a->comp[k]) * scale;
		}
}

void
dsp_csd_acc_mean(const struct dsp_csd_acc *a, double *full)
{
	size_t n = 2 * a->nfreq * a->nchan * a->nchan;
	double *u = xmalloc(n * sizeof *u + 1);

	dsp_csd_acc_total(a, 1.0, u);
	dsp_csd_expand(u, a->nfreq, a->nchan, a->count > 0 ? 1.0 / (double)a->count : 0, full);
	free(u);
}

void
dsp_csd_acc_fini(struct dsp_csd_acc *a)
{
	if (a == NULL)
		return;
	free(a->sum);
	free(a->comp);
	free(a->block);
	free(a->regroup);
	free(a->scratch);
	memset(a, 0, sizeof *a);
}
