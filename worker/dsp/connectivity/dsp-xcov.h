/* Lagged cross-covariance of trials (connectivityanalysis method corr), through the FFT: a trial
 * of n samples is detrended and transformed with zero padding to nfft >= 3n/2 + 1 points, so the
 * inverse transform of X_i conj(X_j) holds r_ij[m] = Σ_t x_i[t + m] x_j[t] for the lags used,
 * without wrap-around. The covariance at lag L (L = 0 .. nlag − 1, nlag = ceil(n / 2)) follows
 * the reference: CC[L]_ij = r_ij[L] / (n − L) for i >= j and, for even n, r_ij[L + 1] / (n − L)
 * for i < j (its 'same' convolution puts the upper triangle one lag further).
 *
 * Since the inverse transform is linear, the trial average needs no per-trial inverse: the trial
 * sum of X X^H (dsp-csd.h, one "taper", nfreq = nfft/2 + 1) is inverted once at the end. */
#ifndef ND_DSP_XCOV_H
#define ND_DSP_XCOV_H

#include <stddef.h>

struct dsp_xcov {
	size_t n;       /* samples per trial */
	size_t nchan;
	size_t nlag;    /* ceil(n / 2) */
	size_t nfft;    /* transform length */
	size_t nfreq;   /* nfft / 2 + 1 */
	int polyremoval; /* -1 none, 0 demean (default), 1 linear */
};

/* Plan for trials of n >= 2 samples. Returns 0 or -EINVAL. */
int dsp_xcov_init(struct dsp_xcov *x, size_t n, size_t nchan, int polyremoval, char **cause);

/* One trial (n × nchan, row-major floats or doubles via dsp_trial): detrend, then spectra into
 * spec (nfreq × nchan complex, the layout of one taper in dsp-csd.h) and, when std is not NULL,
 * each channel's population standard deviation of the detrended samples. */
struct dsp_trial;
int dsp_xcov_spectra(const struct dsp_xcov *x, const struct dsp_trial *t, double *spec,
		     double *std, char **cause);

/* Covariances from cross spectra (upper triangles, dsp-csd.h layout, e.g. a trial's
 * dsp_csd_trial or a trial sum) scaled by `scale`: out[(L * nchan + i) * nchan + j] (doubles). */
void dsp_xcov_lags(const struct dsp_xcov *x, const double *upper, double scale, double *out);

/* Correlations in place: the trial average divided by sqrt(CC[0]_ii CC[0]_jj); a single trial
 * divided by std_i std_j. Then out as float32 (nlag × nchan × nchan). */
void dsp_xcov_norm_average(const struct dsp_xcov *x, const double *cc, float *out);
void dsp_xcov_norm_trial(const struct dsp_xcov *x, const double *cc, const double *std,
			 float *out);

/* The covariance between channels over one trial's samples (numpy's cov with rowvar False):
 * each channel centred on its mean, cov = Xc^T Xc / (n − ddof), row-major nchan × nchan doubles.
 * Returns 0, or -EINVAL when n <= ddof. */
int dsp_xcov_cov(const struct dsp_trial *t, int ddof, double *cov, char **cause);

#endif
