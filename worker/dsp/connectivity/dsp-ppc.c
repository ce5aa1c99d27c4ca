/* PPC by the sum of unit phasors: per trial, each nonzero cross spectrum's phasor joins the sum
 * and is counted; at the end |Σ u|^2 − n (n phasors) is twice the sum of the pairwise cosines. */
#include "worker/dsp/connectivity/dsp-ppc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"
#include "worker/dsp/core/dsp-clones.h"

void
dsp_ppc_acc_init(struct dsp_ppc_acc *a, size_t nfreq, size_t nchan)
{
	a->nfreq = nfreq;
	a->nchan = nchan;
	a->len = 3 * nfreq * nchan * nchan;
	a->sum = xcalloc(a->len + 1, sizeof *a->sum);
	a->count = 0;
}

/* One column of upper-triangle entries: squared norms, their inverse square roots (0 for a zero
 * spectrum), then the phasors into the sums: passes simple enough for vector instructions (see
 * meson.build for the flags; per-CPU builds). */
DSP_CLONES static void
dsp_ppc_acc_column(const double *restrict s, double *restrict u, double *restrict n,
		   double *restrict r, size_t len)
{
	for (size_t i = 0; i < len; i++)
		r[i] = s[2 * i] * s[2 * i] + s[2 * i + 1] * s[2 * i + 1];
	for (size_t i = 0; i < len; i++) {
		double q = sqrt(r[i]);
		n[i] += q > 0 ? 1.0 : 0.0;
		r[i] = q > 0 ? 1.0 / q : 0.0;
	}
	for (size_t i = 0; i < 2 * len; i++)
		u[i] += s[i] * r[i / 2];
}

void
dsp_ppc_acc_add(struct dsp_ppc_acc *a, const double *s)
{
	size_t nc = a->nchan, nz = 2 * a->nfreq * nc * nc;
	double *r = xmalloc(nc * sizeof *r);

	for (size_t f = 0; f < a->nfreq; f++)
		for (size_t j = 0; j < nc; j++) {
			size_t e = f * nc * nc + j * nc;
			dsp_ppc_acc_column(s + 2 * e, a->sum + 2 * e, a->sum + nz + e, r, j + 1);
		}
	free(r);
	a->count++;
}

void
dsp_ppc_acc_add_sums(struct dsp_ppc_acc *a, const double *sum, uint64_t count)
{
	for (size_t i = 0; i < a->len; i++)
		a->sum[i] += sum[i];
	a->count += count;
}

size_t
dsp_ppc_packed_len(size_t nfreq, size_t nchan)
{
	return 3 * nfreq * nchan * (nchan + 1) / 2;
}

/* Visit the upper-triangle entries e in packed order. */
#define DSP_PPC_FOR_UPPER(a, e)                                                                    \
	for (size_t f_ = 0; f_ < (a)->nfreq; f_++)                                                 \
		for (size_t j_ = 0; j_ < (a)->nchan; j_++)                                          \
			for (size_t i_ = 0, e = f_ * (a)->nchan * (a)->nchan + j_ * (a)->nchan;     \
			     i_ <= j_; i_++, e++)

void
dsp_ppc_acc_pack(const struct dsp_ppc_acc *a, double *out)
{
	size_t nz = 2 * a->nfreq * a->nchan * a->nchan, k = 0, m = dsp_ppc_packed_len(a->nfreq,
										      a->nchan) /
									   3;

	DSP_PPC_FOR_UPPER(a, e)
	{
		out[2 * k] = a->sum[2 * e];
		out[2 * k + 1] = a->sum[2 * e + 1];
		out[2 * m + k] = a->sum[nz + e];
		k++;
	}
}

void
dsp_ppc_acc_add_packed(struct dsp_ppc_acc *a, const double *packed, uint64_t count)
{
	size_t nz = 2 * a->nfreq * a->nchan * a->nchan, k = 0, m = dsp_ppc_packed_len(a->nfreq,
										      a->nchan) /
									   3;

	DSP_PPC_FOR_UPPER(a, e)
	{
		a->sum[2 * e] += packed[2 * k];
		a->sum[2 * e + 1] += packed[2 * k + 1];
		a->sum[nz + e] += packed[2 * m + k];
		k++;
	}
	a->count += count;
}

void
dsp_ppc_acc_finalize(const struct dsp_ppc_acc *a, float *out)
{
	size_t nc = a->nchan, nz = 2 * a->nfreq * nc * nc;
	double k = (double)a->count;

	for (size_t f = 0; f < a->nfreq; f++)
		for (size_t i = 0; i < nc; i++)
			for (size_t j = 0; j < nc; j++) {
				size_t e = f * nc * nc + (i <= j ? j * nc + i : i * nc + j);
				double re = a->sum[2 * e], im = a->sum[2 * e + 1], n = a->sum[nz + e];
				out[(f * nc + i) * nc + j] =
				    (float)((re * re + im * im - n) / (k * (k - 1)));
			}
}

void
dsp_ppc_acc_fini(struct dsp_ppc_acc *a)
{
	if (a == NULL)
		return;
	free(a->sum);
	memset(a, 0, sizeof *a);
}
