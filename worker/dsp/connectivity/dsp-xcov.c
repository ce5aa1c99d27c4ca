/* corr: detrended, zero-padded channel spectra of a trial; lags by one inverse real FFT per
 * channel pair; the reference's normalisations by overlap and by the lag-0 variances. */
#include "worker/dsp/connectivity/dsp-xcov.h"

#include <cblas.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/xmalloc.h"
#include "worker/dsp/core/dsp-trial.h"
#include "worker/dsp/core/fft-plan.h"

int
dsp_xcov_init(struct dsp_xcov *x, size_t n, size_t nchan, int polyremoval, char **cause)
{
	if (n < 2)
		return error_set(cause, -EINVAL, "corr: trials need at least 2 samples, not %zu", n);
	if (polyremoval < -1 || polyremoval > 1)
		return error_set(cause, -EINVAL, "polyremoval must be none, 0 or 1");
	x->n = n;
	x->nchan = nchan;
	x->nlag = (n + 1) / 2;
	/* positive lags up to nlag and negative ones down to -(n - 1) must not meet */
	x->nfft = fft_good_size(n + x->nlag + 1);
	x->nfreq = x->nfft / 2 + 1;
	x->polyremoval = polyremoval;
	return 0;
}

int
dsp_xcov_spectra(const struct dsp_xcov *x, const struct dsp_trial *t, double *spec, double *std,
		 char **cause)
{
	size_t n = x->n, nc = x->nchan, nb = x->nfreq;
	double *cols, *buf;
	fftw_complex *out;

	if (t->nsamp != n || t->nchan != nc)
		return error_set(cause, -EINVAL, "corr: trial of %zu × %zu, the plan is %zu × %zu",
				 t->nsamp, t->nchan, n, nc);
	cols = xmalloc(n * nc * sizeof *cols + 1);
	dsp_trial_to_columns(t, cols);
	buf = fft_alloc_real(x->nfft * nc);
	out = fft_alloc_complex(nb * nc);
	for (size_t c = 0; c < nc; c++) {
		double *col = cols + c * n, *b = buf + c * x->nfft;
		dsp_trial_polyremoval(col, n, x->polyremoval, NULL);
		if (std != NULL) {
			double m = 0, v = 0;
			for (size_t i = 0; i < n; i++)
				m += col[i];
			m /= (double)n;
			for (size_t i = 0; i < n; i++)
				v += (col[i] - m) * (col[i] - m);
			std[c] = sqrt(v / (double)n);
		}
		memcpy(b, col, n * sizeof *b);
		memset(b + n, 0, (x->nfft - n) * sizeof *b);
	}
	fft_r2c_many(x->nfft, nc, buf, out);
	for (size_t c = 0; c < nc; c++)
		for (size_t f = 0; f < nb; f++) {
			spec[2 * (f * nc + c)] = creal(out[c * nb + f]);
			spec[2 * (f * nc + c) + 1] = cimag(out[c * nb + f]);
		}
	fft_free(out);
	fft_free(buf);
	free(cols);
	return 0;
}

void
dsp_xcov_lags(const struct dsp_xcov *x, const double *upper, double scale, double *out)
{
	size_t nc = x->nchan, nb = x->nfreq, nl = x->nlag, n = x->n;
	fftw_complex *in = fft_alloc_complex(nb);
	double *r = fft_alloc_real(x->nfft);
	/* c2r is unnormalised: r = nfft · the inverse transform */
	double s = scale / (double)x->nfft;
	int shift = n % 2 == 0;

	for (size_t j = 0; j < nc; j++)
		for (size_t i = 0; i <= j; i++) {
			for (size_t f = 0; f < nb; f++) {
				const double *v = upper + 2 * (f * nc * nc + j * nc + i);
				in[f] = v[0] + I * v[1];
			}
			/* r[m] = r_ij[m]; r_ji[m] = r_ij[-m] = r[nfft - m] */
			fft_c2r(x->nfft, in, r);
			for (size_t lag = 0; lag < nl; lag++) {
				double norm = s / (double)(n - lag);
				/* i <= j: CC[L]_ij (upper, shifted) and CC[L]_ji (lower) */
				size_t up = lag + (i < j ? (size_t)shift : 0);
				size_t lo = lag == 0 ? 0 : x->nfft - lag;
				out[(lag * nc + i) * nc + j] = r[up] * norm;
				out[(lag * nc + j) * nc + i] = r[lo] * norm;
			}
		}
	fft_free(r);
	fft_free(in);
}

void
dsp_xcov_norm_average(const struct dsp_xcov *x, const double *cc, float *out)
{
	size_t nc = x->nchan;

	for (size_t lag = 0; lag < x->nlag; lag++)
		for (size_t i = 0; i < nc; i++)
			for (size_t j = 0; j < nc; j++) {
				double d = sqrt(cc[i * nc + i] * cc[j * nc + j]);
				size_t e = (lag * nc + i) * nc + j;
				out[e] = (float)(cc[e] / d);
			}
}

void
dsp_xcov_norm_trial(const struct dsp_xcov *x, const double *cc, const double *std, float *out)
{
	size_t nc = x->nchan;

	for (size_t lag = 0; lag < x->nlag; lag++)
		for (size_t i = 0; i < nc; i++)
			for (size_t j = 0; j < nc; j++) {
				size_t e = (lag * nc + i) * nc + j;
				out[e] = (float)(cc[e] / (std[i] * std[j]));
			}
}

int
dsp_xcov_cov(const struct dsp_trial *t, int ddof, double *cov, char **cause)
{
	size_t n = t->nsamp, nc = t->nchan;
	double *cols;

	if ((double)n <= (double)ddof)
		return error_set(cause, -EINVAL,
				 "covariance of %zu samples with ddof %d: no degrees of freedom", n,
				 ddof);
	cols = xmalloc(n * nc * sizeof *cols + 1);
	dsp_trial_to_columns(t, cols);
	for (size_t c = 0; c < nc; c++)
		dsp_trial_polyremoval(cols + c * n, n, 0, NULL);
	/* cols is the column-major n × nc matrix Xc: Xc^T Xc in its upper triangle */
	cblas_dsyrk(CblasColMajor, CblasUpper, CblasTrans, (int)nc, (int)n,
		    1.0 / ((double)n - (double)ddof), cols, (int)n, 0.0, cov, (int)nc);
	for (size_t j = 0; j < nc; j++)
		for (size_t i = 0; i < j; i++)
			cov[j + i * nc] = cov[i + j * nc];
	free(cols);
	return 0;
}
