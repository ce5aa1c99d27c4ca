/* PCA optimal basis set on one channel: epoch matrix, z-scoring, least-squares fit and
 * subtraction, with at most one window-sized buffer alive (the decomposition and the component
 * count are in dsp-pca-basis.c). Also the reference toolbox's Butterworth-numerator high-pass,
 * kept so its variant can be measured. */
#include "worker/dsp/fmri/dsp-pca.h"

#include <cblas.h>
#include <complex.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/xmalloc.h"
#include "worker/dsp/core/dsp-filter.h"
#include "worker/dsp/fmri/dsp-pca-priv.h"
#include "worker/dsp/fmri/dsp-trigger.h"

void
dsp_pca_params_init(struct dsp_pca_params *p)
{
	memset(p, 0, sizeof *p);
	p->n_components = 0.95;
	p->hp = 1.0;
	p->variant = DSP_PCA_OBS;
	p->solver = DSP_PCA_SOLVER_GRAM;
}

void
dsp_pca_butter_numerator(double fs, double fc, double b[6])
{
	/* scipy.signal.butter(5, fc/(fs/2), 'high'): analog prototype, lp2hp, bilinear (fs = 2). */
	const int order = 5;
	const double binom[6] = {1, -5, 10, -10, 5, -1};
	double warped = 4.0 * tan(M_PI * (fc / (fs / 2.0)) / 2.0);
	double complex prod_p = 1, prod_q = 1;

	for (int m = 0; m < order; m++) {
		double complex pa = -cexp(I * M_PI * (double)(-order + 1 + 2 * m) / (2.0 * order));
		double complex ph = warped / pa;

		prod_p *= -pa;
		prod_q *= 4.0 - ph;
	}
	/* k_hp = 1/prod(-p_analog) (= 1); bilinear gain k_hp·4^N/prod(4 - p); zeros all at z = 1.
	 */
	double k = creal(1.0 / prod_p) * creal(pow(4.0, order) / prod_q);
	for (int j = 0; j < 6; j++)
		b[j] = k * binom[j];
}

/* One causal FIR pass over e[0..m) into y, past inputs held at e[0] (scipy's lfilter_zi·x0). */
static void
dsp_pca_fir_pass(const double *b, size_t nb, const double *e, double *y, size_t m)
{
	for (size_t i = 0; i < m; i++) {
		double acc = 0;
		for (size_t j = 0; j < nb; j++)
			acc += b[j] * (i >= j ? e[i - j] : e[0]);
		y[i] = acc;
	}
}

int
dsp_pca_filtfilt_fir(const double *b, size_t nb, double *x, size_t n, char **cause)
{
	size_t edge = 3 * nb, m;
	double *e, *y;

	if (nb == 0)
		return error_set(cause, -EINVAL, "filtfilt: no coefficients (nb = 0)");
	if (n <= edge)
		return error_set(cause, -EINVAL, "filtfilt: n = %zu must exceed the padding %zu", n,
				 edge);
	m = n + 2 * edge;
	e = xmalloc(m * sizeof *e);
	y = xmalloc(m * sizeof *y);
	for (size_t k = 0; k < edge; k++) {
		e[k] = 2 * x[0] - x[edge - k];
		e[edge + n + k] = 2 * x[n - 1] - x[n - 2 - k];
	}
	memcpy(e + edge, x, n * sizeof *x);
	dsp_pca_fir_pass(b, nb, e, y, m);
	for (size_t i = 0; i < m; i++)
		e[i] = y[m - 1 - i];
	dsp_pca_fir_pass(b, nb, e, y, m);
	for (size_t i = 0; i < n; i++)
		x[i] = y[m - 1 - edge - i];
	free(e);
	free(y);
	return 0;
}

static int
dsp_pca_check(const double *x, size_t n, double fs, const int64_t *trig, size_t ntrig, size_t len,
	      const struct dsp_pca_params *p, char **cause)
{
	if (x == NULL || n == 0)
		return error_set(cause, -EINVAL, "pca: empty channel (x)");
	if (!(fs > 0))
		return error_set(cause, -EINVAL, "pca: fs must be positive (got %g)", fs);
	if (trig == NULL || ntrig < 2)
		return error_set(cause, -EINVAL, "pca: at least two triggers needed (trig, %zu)",
				 ntrig);
	if (len < 2)
		return error_set(cause, -EINVAL, "pca: artifact length len must be >= 2 (got %zu)",
				 len);
	if (p->exact ? !(p->n_components >= 1 && p->n_components == floor(p->n_components))
		     : !(p->n_components > 0 && p->n_components <= 1))
		return error_set(cause, -EINVAL,
				 "pca: n_components must be a fraction in (0, 1] or an exact count "
				 ">= 1 (got %g)",
				 p->n_components);
	if (p->hp > 0 && !(p->hp < fs / 2))
		return error_set(cause, -EINVAL, "pca: hp %g Hz is not below fs/2", p->hp);
	if (p->variant != DSP_PCA_OBS && p->variant != DSP_PCA_REFERENCE)
		return error_set(cause, -EINVAL, "pca: unknown variant %d", (int)p->variant);
	if (p->solver != DSP_PCA_SOLVER_GRAM && p->solver != DSP_PCA_SOLVER_GESDD)
		return error_set(cause, -EINVAL, "pca: unknown solver %d", (int)p->solver);
	return dsp_trigger_in_range(trig, ntrig, n, "pca", cause);
}

/* High-pass the window copy as the chosen variant does. */
static int
dsp_pca_highpass(double *xf, size_t wl, double fs, const struct dsp_pca_params *p, char **cause)
{
	double b[6];

	if (!(p->hp > 0))
		return 0;
	if (p->variant == DSP_PCA_REFERENCE) {
		dsp_pca_butter_numerator(fs, p->hp, b);
		return dsp_pca_filtfilt_fir(b, 6, xf, wl, cause);
	}
	return dsp_filter_highpass(xf, wl, fs, p->hp, cause);
}

/* Extreme values and sum of each epoch of the window xf[0..wl) (zero past its end), and the
 * largest absolute value over all epochs. */
static double
dsp_pca_epoch_stats(const double *xf, size_t wl, const size_t *start, size_t ntrig, size_t len,
		    double *lo, double *hi, double *sum)
{
	double amax = 0;

	for (size_t i = 0; i < ntrig; i++) {
		size_t avail = start[i] < wl ? wl - start[i] : 0;
		const double *col = xf + start[i];
		double l = avail > 0 ? col[0] : 0, h = l, acc = 0;

		avail = avail < len ? avail : len;
		for (size_t t = 0; t < avail; t++) {
			acc += col[t];
			l = col[t] < l ? col[t] : l;
			h = col[t] > h ? col[t] : h;
		}
		if (avail < len) {
			l = l < 0 ? l : 0;
			h = h > 0 ? h : 0;
		}
		lo[i] = l, hi[i] = h, sum[i] = acc;
		amax = fabs(l) > amax ? fabs(l) : amax;
		amax = fabs(h) > amax ? fabs(h) : amax;
	}
	return amax;
}

/* The high-passed window and, in the same buffer, the z-scored epoch matrix built from it: the
 * window sits `head` samples in, enough that column c (written at c·len) never reaches an epoch
 * not yet moved (head + start[i] >= i·len for every trigger i). Keeps the epochs that vary
 * (relative to the largest amplitude in any epoch); ep->z is NULL when fewer than two do. */
static int
dsp_pca_epochs_build(const double *xw, size_t wl, double fs, const int64_t *trig, size_t ntrig,
		     size_t len, size_t ws, const struct dsp_pca_params *p,
		     struct dsp_pca_epochs *ep, char **cause)
{
	size_t off = (size_t)lround(0.1 * (double)len), head = 0, cap, m = 0;
	size_t *start = xmalloc(ntrig * sizeof *start);
	double *lo = xmalloc(ntrig * sizeof *lo), *hi = xmalloc(ntrig * sizeof *hi);
	double *sum = xmalloc(ntrig * sizeof *sum), *buf, *xf, amax;
	int rc;

	for (size_t i = 0; i < ntrig; i++) {
		start[i] = (size_t)trig[i] - ws + off;
		if (i * len > start[i] && i * len - start[i] > head)
			head = i * len - start[i];
	}
	cap = head + wl > ntrig * len ? head + wl : ntrig * len;
	buf = xmalloc(cap * sizeof *buf);
	xf = buf + head;
	memcpy(xf, xw, wl * sizeof *xf);
	if ((rc = dsp_pca_highpass(xf, wl, fs, p, cause)) != 0) {
		free(start), free(lo), free(hi), free(sum), free(buf);
		return error_wrap(cause, rc, "pca: high-pass: ");
	}
	amax = dsp_pca_epoch_stats(xf, wl, start, ntrig, len, lo, hi, sum);
	for (size_t i = 0; i < ntrig; i++) {
		/* Column m: the epoch, zero past the window, z-scored (population sd). */
		double *col = buf + m * len, mean = sum[i] / (double)len, var = 0, sd;
		size_t avail = start[i] < wl ? wl - start[i] : 0;

		if (!(hi[i] - lo[i] > 1e-12 * amax))
			continue;
		avail = avail < len ? avail : len;
		memmove(col, xf + start[i], avail * sizeof *col);
		memset(col + avail, 0, (len - avail) * sizeof *col);
		for (size_t t = 0; t < len; t++)
			var += (col[t] - mean) * (col[t] - mean);
		sd = sqrt(var / (double)len);
		for (size_t t = 0; t < len; t++)
			col[t] = (col[t] - mean) / sd;
		start[m] = start[i], hi[m] = sd;
		m++;
	}
	free(sum), free(lo);
	ep->m = m;
	if (m < 2) {
		free(start), free(hi), free(buf);
		return 0;
	}
	ep->z = xrealloc(buf, m * len * sizeof *buf);
	ep->start = start, ep->sd = hi;
	return 0;
}

static void
dsp_pca_epochs_fini(struct dsp_pca_epochs *ep)
{
	free(ep->z), free(ep->start), free(ep->sd);
	memset(ep, 0, sizeof *ep);
}

/* The window samples [own[2c], own[2c+1]) each epoch's fit is placed on: where epochs overlap, a
 * later epoch's fit overwrites an earlier one's, and nothing goes past the window end. */
static void
dsp_pca_epochs_owned(const struct dsp_pca_epochs *ep, size_t len, size_t wl, size_t *own)
{
	const size_t *s = ep->start;
	unsigned char *taken;
	size_t c;

	for (c = 1; c < ep->m && s[c] >= s[c - 1]; c++)
		;
	if (c == ep->m) {
		/* Sorted: epoch c keeps [s[c], min(s[c] + len, s[c + 1], wl)). */
		for (c = 0; c < ep->m; c++) {
			size_t e = s[c] + len < wl ? s[c] + len : wl;

			if (c + 1 < ep->m && s[c + 1] < e)
				e = s[c + 1];
			own[2 * c] = s[c];
			own[2 * c + 1] = e > s[c] ? e : s[c];
		}
		return;
	}
	/* Any order: claim the window from the last epoch back. Each later epoch covers a prefix
	 * or a suffix of an earlier one (all have the same length and clip), so what is left of an
	 * epoch is one run. */
	taken = xcalloc(wl, 1);
	for (c = ep->m; c-- > 0;) {
		size_t beg = s[c] < wl ? s[c] : wl, end = s[c] + len < wl ? s[c] + len : wl;
		size_t a = beg, b;

		while (a < end && taken[a])
			a++;
		for (b = a; b < end && !taken[b]; b++)
			;
		own[2 * c] = a, own[2 * c + 1] = b;
		memset(taken + beg, 1, end - beg);
	}
	free(taken);
}

/* Fit the basis to each high-passed epoch p_c = sd_c·z_c + mean_c, U·(Uᵀ·p_c), a block of
 * columns at a time, and subtract it (or, for the reference variant, p_c - mean_c - fit) from
 * the window xw where the epoch owns it, adding it to noisew. The basis lies in the span of the
 * centred columns of z, so Uᵀ·1 = 0 and Uᵀ·p_c = sd_c·Uᵀ·z_c. */
static void
dsp_pca_subtract(const struct dsp_pca_epochs *ep, size_t len, size_t wl,
		 const struct dsp_pca_basis *bs, enum dsp_pca_variant variant, double *xw,
		 double *noisew, double *e2)
{
	const size_t k = bs->k, m = ep->m, nb = m < 64 ? m : 64;
	double *coef = xmalloc(k * nb * sizeof *coef), *fit = xmalloc(len * nb * sizeof *fit);
	size_t *own = xmalloc(2 * m * sizeof *own);

	dsp_pca_epochs_owned(ep, len, wl, own);
	for (size_t c0 = 0; c0 < m; c0 += nb) {
		size_t nc = m - c0 < nb ? m - c0 : nb;
		const double *zb = ep->z + c0 * len;

		cblas_dgemm(CblasColMajor, CblasTrans, CblasNoTrans, (int)k, (int)nc, (int)len, 1.0,
			    bs->u, (int)len, zb, (int)len, 0.0, coef, (int)k);
		for (size_t c = 0; c < nc; c++)
			cblas_dscal((int)k, ep->sd[c0 + c], coef + c * k, 1);
		cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, (int)len, (int)nc, (int)k,
			    1.0, bs->u, (int)len, coef, (int)k, 0.0, fit, (int)len);
		for (size_t c = c0; c < c0 + nc; c++) {
			size_t a = own[2 * c], cnt = own[2 * c + 1] - a, t0;
			const double *f, *z;
			double sd = ep->sd[c];

			if (cnt == 0)
				continue;
			t0 = a - ep->start[c];
			f = fit + (c - c0) * len + t0;
			z = ep->z + c * len + t0;
			for (size_t t = 0; t < cnt; t++) {
				double v = variant == DSP_PCA_REFERENCE ? sd * z[t] - f[t] : f[t];

				xw[a + t] -= v;
				if (noisew != NULL)
					noisew[a + t] += v;
				*e2 += v * v;
			}
		}
	}
	free(coef), free(fit), free(own);
}

/* Only the fit's artifact band: the fit over the window, high-passed at hp, subtracted. */
static int
dsp_pca_subtract_band(const struct dsp_pca_epochs *ep, size_t len, size_t wl, double fs,
		      const struct dsp_pca_basis *bs, const struct dsp_pca_params *p, double *xw,
		      double *noisew, double *e2, char **cause)
{
	double *f = xcalloc(wl, sizeof *f), dummy = 0;
	int rc;

	/* f = −fit where each epoch owns the window. */
	dsp_pca_subtract(ep, len, wl, bs, p->variant, f, NULL, &dummy);
	if ((rc = dsp_filter_highpass(f, wl, fs, p->hp, cause)) == 0)
		for (size_t i = 0; i < wl; i++) {
			xw[i] += f[i];
			if (noisew != NULL)
				noisew[i] -= f[i];
			*e2 += f[i] * f[i];
		}
	free(f);
	return rc;
}

int
dsp_pca_apply(double *x, size_t n, double fs, const int64_t *trig, size_t ntrig, size_t len,
	      const struct dsp_pca_params *p, double *noise, struct dsp_pca_result *res,
	      char **cause)
{
	struct dsp_pca_basis bs = {0};
	struct dsp_pca_epochs ep = {0};
	struct dsp_pca_params q = *p;
	double gain = NAN, e2 = 0;
	size_t ws, we, k = 1;
	int rc;

	if (res != NULL)
		memset(res, 0, sizeof *res);
	if (res != NULL)
		res->cv_gain_db = NAN;
	if ((rc = dsp_pca_check(x, n, fs, trig, ntrig, len, p, cause)) != 0)
		return rc;
	dsp_trigger_window(trig, ntrig, len, n, &ws, &we);
	rc = dsp_pca_epochs_build(x + ws, we - ws, fs, trig, ntrig, len, ws, p, &ep, cause);
	if (rc != 0 || ep.z == NULL)
		return rc;
	if (p->choose && (rc = dsp_pca_cv_count(&ep, len, p, &k, &gain, cause)) == 0) {
		q.exact = 1;
		q.n_components = (double)k;
	}
	if (rc == 0 && k > 0)
		rc = q.solver == DSP_PCA_SOLVER_GESDD
			 ? dsp_pca_basis_gesdd(ep.z, len, ep.m, &q, &bs, cause)
			 : dsp_pca_basis_gram(ep.z, len, ep.m, &q, &bs, cause);
	if (rc == 0 && bs.k > 0) {
		if (p->band_only)
			rc = dsp_pca_subtract_band(&ep, len, we - ws, fs, &bs, p, x + ws,
						   noise != NULL ? noise + ws : NULL, &e2, cause);
		else
			dsp_pca_subtract(&ep, len, we - ws, &bs, p->variant, x + ws,
					 noise != NULL ? noise + ws : NULL, &e2);
	}
	if (rc == 0 && res != NULL) {
		res->k = bs.k;
		res->epochs = ep.m;
		res->explained = bs.explained;
		res->cv_gain_db = gain;
		res->removed_uv = 1e6 * sqrt(e2 / (double)(we - ws));
	}
	dsp_pca_epochs_fini(&ep);
	free(bs.u);
	return rc;
}
