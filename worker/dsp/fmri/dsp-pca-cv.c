/* How many OBS components a channel's residual holds, by two-fold cross-validation: the
 * components of one half of the epochs (alternate volumes, so both halves see every slice and
 * the whole scan) are fitted to each epoch of the other half, and a component counts while it
 * removes more of the held-out energy than twice what a direction of noise would (a random
 * direction takes 1/len of a z-scored epoch's energy of len, i.e. 1 each). EEG and noise do not
 * repeat from one half to the other, the artifact does. */
#include <cblas.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/xmalloc.h"
#include "worker/dsp/fmri/dsp-pca-priv.h"

#define DSP_PCA_CV_MAX 20 /* at most this many components */
#define DSP_PCA_CV_BLOCK 10 /* epochs per fold block without volume information */

/* The columns of fold f (blocks of b epochs alternate between the folds), copied. */
static double *
dsp_pca_cv_fold(const struct dsp_pca_epochs *ep, size_t len, size_t b, int f, size_t *mf)
{
	double *z = xmalloc(ep->m * len * sizeof *z);
	size_t n = 0;

	for (size_t c = 0; c < ep->m; c++)
		if ((int)((c / b) % 2) == f)
			memcpy(z + (n++) * len, ep->z + c * len, len * sizeof *z);
	*mf = n;
	return z;
}

int
dsp_pca_cv_count(const struct dsp_pca_epochs *ep, size_t len, const struct dsp_pca_params *p,
		 size_t *k_out, double *gain_db, char **cause)
{
	size_t b = p->slices_per_volume > 0 ? p->slices_per_volume : DSP_PCA_CV_BLOCK, kmax;
	double cv[DSP_PCA_CV_MAX + 1] = {0}, best;
	size_t mf[2], k = 0, held = 0;
	double *z[2];
	int rc = 0;

	z[0] = dsp_pca_cv_fold(ep, len, b, 0, &mf[0]);
	z[1] = dsp_pca_cv_fold(ep, len, b, 1, &mf[1]);
	kmax = mf[0] < mf[1] ? mf[0] : mf[1];
	kmax = kmax > 1 ? kmax - 1 : 0;
	kmax = kmax < DSP_PCA_CV_MAX ? kmax : DSP_PCA_CV_MAX;
	for (int f = 0; f < 2 && rc == 0 && kmax > 0; f++) {
		struct dsp_pca_params q = *p;
		struct dsp_pca_basis bs = {0};
		double *coef;

		q.exact = 1;
		q.n_components = (double)kmax;
		if ((rc = dsp_pca_basis_gram(z[f], len, mf[f], &q, &bs, cause)) != 0)
			break;
		/* Held-out energy left after j components: |z|² − Σ_{i<j} (u_iᵀ z)². */
		coef = xmalloc((bs.k ? bs.k : 1) * mf[1 - f] * sizeof *coef);
		if (bs.k > 0)
			cblas_dgemm(CblasColMajor, CblasTrans, CblasNoTrans, (int)bs.k,
				    (int)mf[1 - f], (int)len, 1.0, bs.u, (int)len, z[1 - f],
				    (int)len, 0.0, coef, (int)bs.k);
		for (size_t c = 0; c < mf[1 - f]; c++) {
			const double *zc = z[1 - f] + c * len;
			double e = cblas_ddot((int)len, zc, 1, zc, 1);

			cv[0] += e;
			for (size_t j = 1; j <= kmax; j++) {
				double q2 = j <= bs.k ? coef[c * bs.k + j - 1] : 0;

				e -= q2 * q2;
				cv[j] += e;
			}
		}
		held += mf[1 - f];
		free(coef);
		free(bs.u);
	}
	free(z[0]), free(z[1]);
	if (rc != 0)
		return rc;
	/* Penalised: each component costs twice what noise would give it (1 per epoch). */
	best = cv[0];
	for (size_t j = 1; j <= kmax; j++)
		if (cv[j] + 2.0 * (double)(j * held) < best) {
			best = cv[j] + 2.0 * (double)(j * held);
			k = j;
		}
	*k_out = k;
	*gain_db = cv[0] > 0 && cv[k] > 0 ? 10 * log10(cv[k] / cv[0]) : NAN;
	return 0;
}
