/* The pulse artifact's optimal basis set: the test that a channel carries a beat-locked artifact
 * at all, the choice of the number of principal components by parallel analysis against epochs
 * at random positions, and the per-beat least-squares fit of the local template and the
 * components. */
#include "worker/dsp/pulse/dsp-pulse.h"

#include <cblas.h>
#include <errno.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/splitmix.h"
#include "common/xmalloc.h"

#define DSP_PULSE_OBS_MAXK 16 /* ceiling of max_components */

void
dsp_pulse_obs_params_init(struct dsp_pulse_obs_params *p)
{
	p->n_components = -1;
	p->window = 0;
	p->max_components = 8;
	p->null_draws = 8;
	p->max_beats = 400;
	p->seed = 1;
}

/* A random epoch centre (SplitMix64) with the whole epoch inside the data. */
static int64_t
dsp_pulse_obs_random_centre(uint64_t *s, size_t n, size_t half)
{
	return (int64_t)half + (int64_t)(splitmix64(s) % (uint64_t)(n - 2 * half));
}

/* Epoch of x around centre c (whole, inside the data), least-squares line removed. */
static void
dsp_pulse_obs_row(const double *x, int64_t c, size_t half, double *out)
{
	size_t len = 2 * half + 1;
	double mean = 0, slope = 0, tt = 0;

	for (size_t j = 0; j < len; j++)
		mean += x[c - (int64_t)half + (int64_t)j] / (double)len;
	for (size_t j = 0; j < len; j++) {
		double t = (double)j - (double)half;

		out[j] = x[c - (int64_t)half + (int64_t)j] - mean;
		slope += t * out[j];
		tt += t * t;
	}
	slope /= tt;
	for (size_t j = 0; j < len; j++)
		out[j] -= slope * ((double)j - (double)half);
}

/* Energy of the mean of the de-meaned epochs of x at the whole beats (rng NULL), or of as many
 * epochs at random positions. */
static double
dsp_pulse_obs_mean_energy(const double *x, size_t n, const struct dsp_pulse_beats *b, uint64_t *rng,
			  double *e, double *sum)
{
	size_t len = 2 * b->half + 1, m = 0;
	double en = 0;

	memset(sum, 0, len * sizeof *sum);
	for (size_t k = 0; k < b->n; k++) {
		if (!b->full[k])
			continue;
		if (rng != NULL) {
			struct dsp_pulse_beats one = *b;
			int64_t c = dsp_pulse_obs_random_centre(rng, n, b->half);

			one.centre = &c;
			dsp_pulse_epoch(x, n, &one, 0, 1, e);
		} else {
			dsp_pulse_epoch(x, n, b, k, 1, e);
		}
		for (size_t j = 0; j < len; j++)
			sum[j] += e[j];
		m++;
	}
	for (size_t j = 0; j < len; j++)
		en += (sum[j] / (double)m) * (sum[j] / (double)m);
	return en;
}

/* locked: mean-epoch energy at the beats over the largest of null_draws random-position means. */
static double
dsp_pulse_obs_locked(const double *x, size_t n, const struct dsp_pulse_beats *b,
		     const struct dsp_pulse_obs_params *p)
{
	size_t len = 2 * b->half + 1;
	double *e = xmalloc(len * sizeof *e), *sum = xmalloc(len * sizeof *sum), big = 0, at;
	uint64_t rng = p->seed ^ 0x10cced;

	at = dsp_pulse_obs_mean_energy(x, n, b, NULL, e, sum);
	for (size_t d = 0; d < p->null_draws; d++) {
		double en = dsp_pulse_obs_mean_energy(x, n, b, &rng, e, sum);

		big = en > big ? en : big;
	}
	free(e);
	free(sum);
	return big > 0 ? at / big : INFINITY;
}

/* Eigenvalues (descending) of rows·rowsᵀ/len (m × m), and when vec != NULL its eigenvectors
 * as columns (same order). Returns 0 or -EINVAL. */
static int
dsp_pulse_obs_eigen(const double *rows, size_t m, size_t len, double *val, double *vec,
		    char **cause)
{
	double *g = xcalloc(m * m, sizeof *g);
	lapack_int info;

	cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, (int)m, (int)len, 1.0 / (double)len,
		    rows, (int)len, 0.0, g, (int)m);
	info = LAPACKE_dsyevd(LAPACK_ROW_MAJOR, vec != NULL ? 'V' : 'N', 'U', (lapack_int)m, g,
			      (lapack_int)m, val);
	if (info != 0) {
		free(g);
		return error_set(cause, -EINVAL, "pulse OBS: eigen-decomposition failed (%d)",
				 (int)info);
	}
	for (size_t i = 0; i < m / 2; i++) {
		double t = val[i];

		val[i] = val[m - 1 - i];
		val[m - 1 - i] = t;
	}
	if (vec != NULL)
		for (size_t r = 0; r < m; r++)
			for (size_t c = 0; c < m; c++)
				vec[r * m + c] = g[r * m + (m - 1 - c)];
	free(g);
	return 0;
}

/* Detrended epochs of z at up to `max` evenly spaced whole beats (rng NULL), or at as many
 * random positions; returns the number of rows. */
static size_t
dsp_pulse_obs_rows(const double *z, size_t n, const struct dsp_pulse_beats *b, size_t max,
		   uint64_t *rng, double *rows)
{
	size_t len = 2 * b->half + 1, nf = 0, m;
	size_t *full = xcalloc(b->n, sizeof *full);

	for (size_t k = 0; k < b->n; k++)
		if (b->full[k])
			full[nf++] = k;
	m = nf < max ? nf : max;
	for (size_t i = 0; i < m; i++) {
		int64_t c = rng != NULL ? dsp_pulse_obs_random_centre(rng, n, b->half)
					: b->centre[full[i * nf / m]];

		dsp_pulse_obs_row(z, c, b->half, rows + i * len);
	}
	free(full);
	return m;
}

/* Component i in sample space: rowsᵀ u_i (u_i column i of vec, m × m), unit norm. */
static void
dsp_pulse_obs_direction(const double *rows, size_t m, size_t len, const double *vec, size_t i,
			double *out)
{
	double nrm = 0;

	memset(out, 0, len * sizeof *out);
	for (size_t r = 0; r < m; r++)
		cblas_daxpy((int)len, vec[r * m + i], rows + r * len, 1, out, 1);
	nrm = cblas_dnrm2((int)len, out, 1);
	cblas_dscal((int)len, nrm > 0 ? 1 / nrm : 0, out, 1);
}

/* Mean square of the m rows projected on each of the nd unit directions dir (nd × len). */
static void
dsp_pulse_obs_project(const double *rows, size_t m, size_t len, const double *dir, size_t nd,
		      double *ms)
{
	double *pr = xmalloc(m * nd * sizeof *pr);

	cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m, (int)nd, (int)len, 1.0, rows,
		    (int)len, dir, (int)len, 0.0, pr, (int)nd);
	for (size_t i = 0; i < nd; i++) {
		ms[i] = 0;
		for (size_t r = 0; r < m; r++)
			ms[i] += pr[r * nd + i] * pr[r * nd + i] / (double)m;
	}
	free(pr);
}

/* The components and their gains: with n_components >= 0 the leading ones, at gain 1.
 * Otherwise, of the leading 3·max_components principal directions of the residual epochs at the
 * beats, those along which the beats vary more (mean square at[i]) than epochs at random
 * positions of the same signal do (nul[i], null_draws sets; Horn's parallel analysis, each
 * direction tested on its own, so an alpha rhythm strong at any position does not hide the
 * locked directions behind it), at most max_components, strongest first. A beat's coefficient
 * on a direction is its locked part plus the background's; the fit keeps the shrunk share
 * gain = 1 − nul/at of it (the Wiener gain of the coefficient, as in James-Stein shrinkage), so
 * a direction barely above the null adds little background. nul also holds the artifact's own
 * variation at random offsets, so the gain errs towards less. */
static int
dsp_pulse_obs_components(const double *z, size_t n, const struct dsp_pulse_beats *b,
			 const struct dsp_pulse_obs_params *p, double *comp, double *gain,
			 size_t *k, char **cause)
{
	size_t len = 2 * b->half + 1, m, nd;
	double *rows = xmalloc(p->max_beats * len * sizeof *rows), *val, *vec, *dir, *at, *nul, *ms;
	uint64_t rng = p->seed ^ 0x0b5;
	int rc;

	m = dsp_pulse_obs_rows(z, n, b, p->max_beats, NULL, rows);
	nd = p->n_components >= 0 ? (size_t)p->n_components : 3 * p->max_components;
	nd = nd < m ? nd : m;
	val = xcalloc(m, sizeof *val);
	vec = xcalloc(m * m, sizeof *vec);
	dir = xcalloc(nd * len + 1, sizeof *dir);
	at = xcalloc(nd + 1, sizeof *at);
	nul = xcalloc(nd + 1, sizeof *nul);
	ms = xcalloc(nd + 1, sizeof *ms);
	rc = dsp_pulse_obs_eigen(rows, m, len, val, vec, cause);
	for (size_t i = 0; i < nd && rc == 0; i++)
		dsp_pulse_obs_direction(rows, m, len, vec, i, dir + i * len);
	*k = 0;
	if (rc == 0 && p->n_components >= 0) {
		memcpy(comp, dir, nd * len * sizeof *comp);
		for (size_t i = 0; i < nd; i++)
			gain[i] = 1;
		*k = nd;
	} else if (rc == 0) {
		dsp_pulse_obs_project(rows, m, len, dir, nd, at);
		for (size_t d = 0; d < p->null_draws; d++) {
			dsp_pulse_obs_rows(z, n, b, m, &rng, rows);
			dsp_pulse_obs_project(rows, m, len, dir, nd, ms);
			for (size_t i = 0; i < nd; i++)
				nul[i] += ms[i] / (double)p->null_draws;
		}
		for (size_t i = 0; i < nd && *k < p->max_components; i++)
			if (at[i] > nul[i]) {
				gain[*k] = 1 - nul[i] / at[i];
				memcpy(comp + (*k)++ * len, dir + i * len, len * sizeof *comp);
			}
	}
	free(rows);
	free(val);
	free(vec);
	free(dir);
	free(at);
	free(nul);
	free(ms);
	return rc;
}

struct dsp_pulse_obs_fit {
	const double *x;
	size_t n;
	const struct dsp_pulse_beats *b;
	const double *comp; /* k × len */
	const double *gain; /* k */
	size_t k;
	double *art; /* the fitted artifact on the segments, n values */
	double *e, *basis, *q;
};

/* Least-squares coefficients of the p basis columns (len values each, samples where in[j]) for
 * e, the columns scaled to unit norm first (volts and sample indices differ by 10^9) and a
 * ridge of 1e-10 keeping a column that is all but zero from blowing up. 0, or -1. */
static int
dsp_pulse_obs_solve(const double *basis, size_t p, size_t len, const double *e,
		    const unsigned char *in, double *coef)
{
	double a[(DSP_PULSE_OBS_MAXK + 3) * (DSP_PULSE_OBS_MAXK + 3)] = {0};
	double sc[DSP_PULSE_OBS_MAXK + 3] = {0};

	memset(coef, 0, p * sizeof *coef);
	for (size_t r = 0; r < p; r++) {
		for (size_t j = 0; j < len; j++)
			sc[r] += in[j] ? basis[r * len + j] * basis[r * len + j] : 0;
		sc[r] = sc[r] > 0 ? 1 / sqrt(sc[r]) : 0;
	}
	for (size_t j = 0; j < len; j++) {
		if (!in[j])
			continue;
		for (size_t r = 0; r < p; r++) {
			coef[r] += sc[r] * basis[r * len + j] * e[j];
			for (size_t c = r; c < p; c++)
				a[r * p + c] +=
				    sc[r] * sc[c] * basis[r * len + j] * basis[c * len + j];
		}
	}
	for (size_t r = 0; r < p; r++)
		a[r * p + r] += 1e-10;
	if (LAPACKE_dposv(LAPACK_ROW_MAJOR, 'U', (lapack_int)p, 1, a, (lapack_int)p, coef, 1) != 0)
		return -1;
	for (size_t r = 0; r < p; r++)
		coef[r] *= sc[r];
	return 0;
}

/* The components made orthogonal to the span of the first three basis columns (1, t, the
 * template; Gram-Schmidt): the line carries the epoch's offset and drift, the template the
 * artifact's amplitude, the components only its changes of shape. A component inside that span
 * becomes zero (its coefficient then stays 0). qq: scratch of 3·len values. */
static void
dsp_pulse_obs_orthogonal(double *basis, size_t k, size_t len, double *qq)
{
	size_t nq = 0;

	for (size_t c = 0; c < 3; c++) {
		double nrm;

		memcpy(qq + nq * len, basis + c * len, len * sizeof *qq);
		for (size_t r = 0; r < nq; r++)
			cblas_daxpy((int)len,
				    -cblas_ddot((int)len, qq + r * len, 1, qq + nq * len, 1),
				    qq + r * len, 1, qq + nq * len, 1);
		nrm = cblas_dnrm2((int)len, qq + nq * len, 1);
		if (nrm > 0) {
			cblas_dscal((int)len, 1 / nrm, qq + nq * len, 1);
			nq++;
		}
	}
	for (size_t c = 3; c < 3 + k; c++) {
		double *v = basis + c * len, before = cblas_dnrm2((int)len, v, 1);

		for (size_t r = 0; r < nq; r++)
			cblas_daxpy((int)len, -cblas_ddot((int)len, qq + r * len, 1, v, 1),
				    qq + r * len, 1, v, 1);
		if (cblas_dnrm2((int)len, v, 1) < 1e-6 * before)
			memset(v, 0, len * sizeof *v);
	}
}

/* Beat k: fit [1, t, template, components] to its epoch, add the template and component part
 * into the artifact with the beat's cross-fade weights. */
static int
dsp_pulse_obs_fit_cb(void *arg, size_t k, const double *tpl, char **cause)
{
	struct dsp_pulse_obs_fit *f = arg;
	const struct dsp_pulse_beats *b = f->b;
	size_t len = 2 * b->half + 1, p = 3 + f->k;
	int64_t origin = b->centre[k] - (int64_t)b->half;
	unsigned char *mask = xmalloc(len);
	double coef[DSP_PULSE_OBS_MAXK + 3];

	(void)cause;
	dsp_pulse_epoch(f->x, f->n, b, k, 0, f->e);
	for (size_t j = 0; j < len; j++) {
		mask[j] = origin + (int64_t)j >= 0 && origin + (int64_t)j < (int64_t)f->n;
		f->basis[j] = 1;
		f->basis[len + j] = (double)j - (double)b->half;
		f->basis[2 * len + j] = tpl[j];
	}
	memcpy(f->basis + 3 * len, f->comp, f->k * len * sizeof *f->basis);
	dsp_pulse_obs_orthogonal(f->basis, f->k, len, f->q);
	if (dsp_pulse_obs_solve(f->basis, p, len, f->e, mask, coef) == 0)
		for (size_t j = 0; j < len; j++) {
			int64_t i = origin + (int64_t)j;
			double v = coef[2] * tpl[j], w = mask[j] ? dsp_pulse_weight(b, k, i) : 0;

			if (w == 0)
				continue;
			for (size_t c = 0; c < f->k; c++)
				v += f->gain[c] * coef[3 + c] * f->basis[(3 + c) * len + j];
			f->art[i] += w * v;
		}
	free(mask);
	return 0;
}

static int
dsp_pulse_obs_check(size_t n, const struct dsp_pulse_beats *b, const struct dsp_pulse_obs_params *p,
		    char **cause)
{
	if (n != b->n_samples)
		return error_set(cause, -EINVAL, "the beats were made for %zu samples, not %zu",
				 b->n_samples, n);
	if (n <= 2 * b->half + 1)
		return error_set(cause, -EINVAL, "pulse OBS: %zu samples for epochs of %zu", n,
				 2 * b->half + 1);
	if (p->max_beats < 2 || p->null_draws < 1)
		return error_set(cause, -EINVAL,
				 "pulse OBS: max_beats must be >= 2 and null_draws >= 1");
	if (p->max_components > DSP_PULSE_OBS_MAXK || p->n_components > DSP_PULSE_OBS_MAXK)
		return error_set(cause, -EINVAL, "pulse OBS: at most %d components",
				 DSP_PULSE_OBS_MAXK);
	return 0;
}

int
dsp_pulse_obs(double *x, size_t n, const struct dsp_pulse_beats *b,
	      const struct dsp_pulse_obs_params *p, struct dsp_pulse_obs_result *res, char **cause)
{
	struct dsp_pulse_obs_result r = {0};
	size_t len = 2 * b->half + 1;
	struct dsp_pulse_obs_fit f = {x, n, b, NULL, NULL, 0, NULL, NULL, NULL, NULL};
	double *z, *comp, gain[DSP_PULSE_OBS_MAXK + 1] = {0}, ss = 0;
	size_t cnt = 0;
	int rc;

	if ((rc = dsp_pulse_obs_check(n, b, p, cause)) != 0)
		return rc;
	r.locked = dsp_pulse_obs_locked(x, n, b, p);
	if (!(r.locked > 1)) {
		r.skipped = 1;
		if (res != NULL)
			*res = r;
		return 0;
	}
	z = xmalloc(n * sizeof *z);
	memcpy(z, x, n * sizeof *z);
	comp = xcalloc((DSP_PULSE_OBS_MAXK + 1) * len, sizeof *comp);
	rc = dsp_pulse_aas(z, n, b, p->window, cause);
	if (rc == 0)
		rc = dsp_pulse_obs_components(z, n, b, p, comp, gain, &r.k, cause);
	free(z);
	f.comp = comp;
	f.gain = gain;
	f.k = r.k;
	f.art = xcalloc(n, sizeof *f.art);
	f.e = xmalloc(len * sizeof *f.e);
	f.basis = xmalloc((3 + r.k) * len * sizeof *f.basis);
	f.q = xmalloc(3 * len * sizeof *f.q);
	if (rc == 0)
		rc = dsp_pulse_templates_each(x, n, b, p->window, 0, dsp_pulse_obs_fit_cb, &f,
					      cause);
	for (size_t k = 0; k < b->n && rc == 0; k++)
		for (int64_t i = b->lo[k]; i < b->hi[k]; i++) {
			ss += f.art[i] * f.art[i];
			cnt++;
		}
	for (size_t i = 0; i < n && rc == 0; i++)
		x[i] -= f.art[i];
	r.removed_rms = cnt > 0 ? sqrt(ss / (double)cnt) : 0;
	free(comp);
	free(f.art);
	free(f.e);
	free(f.basis);
	free(f.q);
	if (rc == 0 && res != NULL)
		*res = r;
	return rc;
}
