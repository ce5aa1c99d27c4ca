/* Granger causality: the condition-number regularisation (eigenvalues of each Hermitian matrix,
 * LAPACK zheev), Wilson's factorisation, and the causality formula; all channels at once or
 * one 2 × 2 factorisation per channel pair. */
#include "worker/dsp/connectivity/dsp-granger.h"

#include <complex.h>
#include <errno.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/xmalloc.h"
#include "worker/dsp/connectivity/dsp-wilson.h"

#define DSP_GRANGER_EPS_MAX 1e-1
#define DSP_GRANGER_EPS_STEPS 15

void
dsp_granger_params_init(struct dsp_granger_params *p)
{
	p->rtol = 5e-6;
	p->niter = 100;
	p->cond_max = 1e4;
	p->nthreads = 1;
}

/* max over f of max|λ + eps| / min|λ + eps| from the eigenvalues lam (nfreq × nchan). */
static double
dsp_granger_cond(const double *lam, size_t nfreq, size_t nchan, double eps)
{
	double worst = 0;

	for (size_t f = 0; f < nfreq; f++) {
		double lo = INFINITY, hi = 0;
		for (size_t i = 0; i < nchan; i++) {
			double v = fabs(lam[f * nchan + i] + eps);
			lo = fmin(lo, v);
			hi = fmax(hi, v);
		}
		double c = lo > 0 ? hi / lo : INFINITY;
		if (!(c <= worst))
			worst = c;
	}
	return worst;
}

int
dsp_granger_regularize(const double *csd, size_t nfreq, size_t nchan, double cond_max,
		       double *cond, double *eps, double *factor, char **cause)
{
	size_t nn = nchan * nchan;
	double complex *a = xmalloc(nn * sizeof *a);
	double *lam = xmalloc(nfreq * nchan * sizeof *lam);
	int rc = 0;

	for (size_t f = 0; f < nfreq && rc == 0; f++) {
		memcpy(a, csd + 2 * f * nn, nn * sizeof *a);
		lapack_int info = LAPACKE_zheev(LAPACK_ROW_MAJOR, 'N', 'U', (lapack_int)nchan, a,
						(lapack_int)nchan, lam + f * nchan);
		if (info != 0)
			rc = error_set(cause, -EINVAL,
				       "granger: eigenvalues of the cross spectra at bin %zu "
				       "(LAPACK zheev %d)",
				       f, (int)info);
	}
	*eps = 0;
	*factor = 0;
	if (rc == 0) {
		*cond = dsp_granger_cond(lam, nfreq, nchan, 0);
		if (!(*cond < cond_max)) {
			*factor = -1;
			*eps = DSP_GRANGER_EPS_MAX;
			for (int i = 0; i < DSP_GRANGER_EPS_STEPS; i++) {
				double e = pow(10, -10 + (log10(DSP_GRANGER_EPS_MAX) + 10) * i /
							      (DSP_GRANGER_EPS_STEPS - 1));
				if (dsp_granger_cond(lam, nfreq, nchan, e) < cond_max) {
					*eps = *factor = e;
					break;
				}
			}
		}
	}
	free(a);
	free(lam);
	return rc;
}

/* G from the (regularised) cross spectra, H (row-major complex) and Σ (row-major real). */
static void
dsp_granger_formula(const double *csd, const double *h, const double *sigma, size_t nfreq,
		    size_t nc, double *out)
{
	for (size_t f = 0; f < nfreq; f++)
		for (size_t i = 0; i < nc; i++)
			for (size_t j = 0; j < nc; j++) {
				double sjj = fabs(csd[2 * (f * nc * nc + j * nc + j)]);
				const double *hji = h + 2 * (f * nc * nc + j * nc + i);
				double h2 = hji[0] * hji[0] + hji[1] * hji[1];
				double sii_ = fabs(sigma[i * nc + i]), sjj_ = fabs(sigma[j * nc + j]);
				double sji = fabs(sigma[j * nc + i]);
				double d = sjj - (sii_ - sji * sji / sjj_) * h2;
				out[(f * nc + i) * nc + j] = log(sjj / d);
			}
}

/* Regularise (a copy of) csd, factorise, G. */
static int
dsp_granger_run(const double *csd, size_t nfreq, size_t nc, const struct dsp_granger_params *p,
		double *out, struct dsp_granger_info *info, char **cause)
{
	size_t len = 2 * nfreq * nc * nc;
	double *reg = xmalloc(len * sizeof *reg), *h = xmalloc(len * sizeof *h);
	double *sigma = xmalloc(nc * nc * sizeof *sigma), eps;
	struct dsp_wilson_result res;
	int rc;

	memset(info, 0, sizeof *info);
	memcpy(reg, csd, len * sizeof *reg);
	rc = dsp_granger_regularize(csd, nfreq, nc, p->cond_max, &info->initial_cond, &eps,
				    &info->reg_factor, cause);
	for (size_t f = 0; rc == 0 && eps != 0 && f < nfreq; f++)
		for (size_t i = 0; i < nc; i++)
			reg[2 * (f * nc * nc + i * nc + i)] += eps;
	if (rc == 0)
		rc = dsp_wilson_factor(reg, nfreq, nc, p->niter, p->rtol, p->nthreads, h, sigma,
				       &res, cause);
	if (rc == 0) {
		info->converged = res.converged;
		info->max_rel_err = res.max_rel_err;
		info->iterations = res.iterations;
		dsp_granger_formula(reg, h, sigma, nfreq, nc, out);
	}
	free(reg);
	free(h);
	free(sigma);
	return rc;
}

int
dsp_granger_all(const double *csd, size_t nfreq, size_t nchan, const struct dsp_granger_params *p,
		double *out, struct dsp_granger_info *info, char **cause)
{
	return dsp_granger_run(csd, nfreq, nchan, p, out, info, cause);
}

int
dsp_granger_pairs(const double *csd, size_t nfreq, size_t nchan, const size_t *send,
		  size_t nsend, const size_t *recv, size_t nrecv,
		  const struct dsp_granger_params *p, double *out, char **cause)
{
	double *sub = xmalloc(2 * nfreq * 4 * sizeof *sub), *g = xmalloc(nfreq * 4 * sizeof *g);
	struct dsp_granger_info info;
	int rc = 0;

	for (size_t s = 0; s < nsend && rc == 0; s++)
		for (size_t r = 0; r < nrecv && rc == 0; r++) {
			size_t ch[2] = {send[s], recv[r]};
			if (ch[0] == ch[1] || ch[0] >= nchan || ch[1] >= nchan) {
				rc = error_set(cause, -EINVAL,
					       "channelcmb: sender %zu and receiver %zu must be "
					       "two channels of %zu",
					       ch[0], ch[1], nchan);
				break;
			}
			for (size_t f = 0; f < nfreq; f++)
				for (size_t a = 0; a < 2; a++)
					for (size_t b = 0; b < 2; b++) {
						const double *v =
						    csd + 2 * ((f * nchan + ch[a]) * nchan + ch[b]);
						sub[2 * (f * 4 + a * 2 + b)] = v[0];
						sub[2 * (f * 4 + a * 2 + b) + 1] = v[1];
					}
			rc = dsp_granger_run(sub, nfreq, 2, p, g, &info, cause);
			for (size_t f = 0; rc == 0 && f < nfreq; f++)
				out[(f * nsend + s) * nrecv + r] = g[f * 4 + 1];
		}
	free(sub);
	free(g);
	return rc;
}
