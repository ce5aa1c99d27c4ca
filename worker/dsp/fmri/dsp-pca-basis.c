/* The decomposition of the OBS epoch matrix: its leading left singular vectors, through the
 * eigen-decomposition of the smaller Gram matrix or a thin SVD, and how many of them the
 * parameters keep. Shared by the fit (dsp-pca.c) and its cross-validated count (dsp-pca-cv.c). */
#include <cblas.h>
#include <errno.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/xmalloc.h"
#include "worker/dsp/fmri/dsp-pca-priv.h"

/* Smallest k whose cumulative share of the descending eigenvalues ev[0..r) reaches frac, or
 * the exact count; never more than the non-zero eigenvalues. */
static size_t
dsp_pca_basis_count(const double *ev, size_t r, const struct dsp_pca_params *p, double *explained)
{
	double total = 0, cum = 0;
	size_t nz = 0, k;

	for (size_t i = 0; i < r; i++) {
		total += ev[i];
		if (ev[i] > 0)
			nz++;
	}
	*explained = 0;
	if (nz == 0 || total <= 0)
		return 0;
	if (p->exact) {
		k = (size_t)p->n_components;
	} else {
		for (k = 0; k < r; k++) {
			cum += ev[k];
			if (cum / total >= p->n_components) {
				k++;
				break;
			}
		}
	}
	if (k > nz)
		k = nz;
	if (k == 0)
		k = 1;
	cum = 0;
	for (size_t i = 0; i < k; i++)
		cum += ev[i];
	*explained = cum / total;
	return k;
}

/* Leading left singular vectors of z (rows × cols) through the smaller Gram matrix g. Only the
 * leading k eigenvectors are needed and k follows from the eigenvalues, so: one tridiagonal
 * reduction, every eigenvalue from it (dsterf), the top k eigenvectors of the tridiagonal matrix
 * (dstemr) and their back-transformation through the reduction (dormtr). */
int
dsp_pca_basis_gram(const double *z, size_t rows, size_t cols, const struct dsp_pca_params *p,
		   struct dsp_pca_basis *bs, char **cause)
{
	int tall = rows > cols, rc = 0;
	size_t d = tall ? cols : rows, k;
	double *g = xmalloc(d * d * sizeof *g), *dg = xmalloc(d * sizeof *dg);
	double *sub = xcalloc(d, sizeof *sub), *tau = xmalloc(d * sizeof *tau);
	double *ev = xcalloc(d, sizeof *ev), *w = xmalloc(d * sizeof *w), *vec = NULL, *v = NULL;
	lapack_int info, found = 0, tryrac = 1, *supp = NULL, ld = (lapack_int)d;

	cblas_dsyrk(CblasColMajor, CblasUpper, tall ? CblasTrans : CblasNoTrans, (int)d,
		    (int)(tall ? rows : cols), 1.0, z, (int)rows, 0.0, g, (int)d);
	info = LAPACKE_dsytrd(LAPACK_COL_MAJOR, 'U', ld, g, ld, dg, sub, tau);
	if (info == 0) {
		memcpy(w, dg, d * sizeof *w);
		memcpy(ev, sub, (d - 1) * sizeof *ev);
		info = LAPACKE_dsterf(ld, w, ev);
	}
	if (info != 0) {
		rc = error_set(cause, -EINVAL, "pca: eigenvalues failed (dsytrd/dsterf info %d)",
			       (int)info);
		goto out;
	}
	for (size_t i = 0; i < d; i++)
		ev[i] = w[d - 1 - i] > 0 ? w[d - 1 - i] : 0;
	bs->k = k = dsp_pca_basis_count(ev, d, p, &bs->explained);
	if (k == 0)
		goto out;
	/* The top k eigenvectors, ascending: column k - 1 - c is component c. */
	vec = xmalloc(d * k * sizeof *vec);
	supp = xmalloc(2 * k * sizeof *supp);
	info = LAPACKE_dstemr(LAPACK_COL_MAJOR, 'V', 'I', ld, dg, sub, 0, 0, ld - (lapack_int)k + 1,
			      ld, &found, w, vec, ld, (lapack_int)k, supp, &tryrac);
	if (info == 0 && found == (lapack_int)k)
		info = LAPACKE_dormtr(LAPACK_COL_MAJOR, 'L', 'U', 'N', ld, (lapack_int)k, g, ld,
				      tau, vec, ld);
	if (info != 0 || found != (lapack_int)k) {
		rc = error_set(cause, -EINVAL,
			       "pca: eigenvectors failed (dstemr/dormtr info %d, %d of %zu)",
			       (int)info, (int)found, k);
		goto out;
	}
	bs->u = xmalloc(k * rows * sizeof *bs->u);
	if (!tall) {
		/* Eigenvectors of z·zᵀ are the left singular vectors. */
		for (size_t c = 0; c < k; c++)
			memcpy(bs->u + c * rows, vec + (k - 1 - c) * d, rows * sizeof *vec);
	} else {
		/* u_c = z·v_c / s_c, with the eigenvectors of zᵀ·z taken largest first. */
		v = xmalloc(cols * k * sizeof *v);
		for (size_t c = 0; c < k; c++) {
			double inv = 1.0 / sqrt(ev[c]);
			for (size_t j = 0; j < cols; j++)
				v[c * cols + j] = vec[(k - 1 - c) * d + j] * inv;
		}
		cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, (int)rows, (int)k, (int)cols,
			    1.0, z, (int)rows, v, (int)cols, 0.0, bs->u, (int)rows);
	}
out:
	if (rc != 0)
		bs->k = 0;
	free(g), free(dg), free(sub), free(tau), free(ev), free(w), free(vec), free(v), free(supp);
	return rc;
}

int
dsp_pca_basis_gesdd(const double *z, size_t rows, size_t cols, const struct dsp_pca_params *p,
		    struct dsp_pca_basis *bs, char **cause)
{
	size_t d = rows < cols ? rows : cols;
	double *a = xmalloc(rows * cols * sizeof *a), *s = xmalloc(d * sizeof *s);
	double *u = xmalloc(rows * d * sizeof *u), *vt = xmalloc(d * cols * sizeof *vt);
	lapack_int info;

	memcpy(a, z, rows * cols * sizeof *a);
	info = LAPACKE_dgesdd(LAPACK_COL_MAJOR, 'S', (lapack_int)rows, (lapack_int)cols, a,
			      (lapack_int)rows, s, u, (lapack_int)rows, vt, (lapack_int)d);
	if (info != 0) {
		free(a), free(s), free(u), free(vt);
		return error_set(cause, -EINVAL, "pca: SVD failed (dgesdd info %d)", (int)info);
	}
	for (size_t i = 0; i < d; i++)
		s[i] *= s[i];
	bs->k = dsp_pca_basis_count(s, d, p, &bs->explained);
	bs->u = u;
	free(a), free(s), free(vt);
	return 0;
}
