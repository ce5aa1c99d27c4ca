/* What the OBS fit (dsp-pca.c) and its component-count cross-validation (dsp-pca-cv.c) share:
 * the z-scored epoch matrix, the leading components and their decomposition (dsp-pca-basis.c).
 * Not part of the PCA interface. */
#ifndef ND_DSP_PCA_PRIV_H
#define ND_DSP_PCA_PRIV_H

#include <stddef.h>

#include "worker/dsp/fmri/dsp-pca.h"

/* The decomposition of the z-scored epochs: the leading k left singular vectors (len × k). */
struct dsp_pca_basis {
	double *u;
	size_t k;
	double explained;
};

/* The z-scored epochs that vary: z is len × m (column-major), column c taken at window sample
 * start[c], with the standard deviation of its high-passed samples. */
struct dsp_pca_epochs {
	double *z, *sd;
	size_t *start, m;
};

/* Leading left singular vectors of z (rows × cols) through the smaller Gram matrix; the count
 * follows p (fraction or exact). On success bs->u (rows × bs->k) is the caller's. */
int dsp_pca_basis_gram(const double *z, size_t rows, size_t cols, const struct dsp_pca_params *p,
		       struct dsp_pca_basis *bs, char **cause);
/* The same by a thin SVD (dgesdd). */
int dsp_pca_basis_gesdd(const double *z, size_t rows, size_t cols, const struct dsp_pca_params *p,
			struct dsp_pca_basis *bs, char **cause);

/* The count of components by two-fold cross-validation over the epochs' columns (see
 * dsp_pca_params.choose); *gain_db is the held-out residual with them against none. */
int dsp_pca_cv_count(const struct dsp_pca_epochs *ep, size_t len, const struct dsp_pca_params *p,
		     size_t *k, double *gain_db, char **cause);

#endif
