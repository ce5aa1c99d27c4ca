/* AAS choosing its weighting per channel from the data: every candidate (nearest-epoch windows
 * of W/2 to 16·W epochs, corresponding slice; scaled or not) is scored by an estimate of
 * the error it leaves in the EEG band, and the least wins.
 *
 * The estimate, for templates that never contain their own epoch:
 *   error ≈ g · Σ_i |hi(E_i) − a_i·hi(T_i)|² + Σ_i a_i²·|mean over i's template epochs of R|²
 * The first term is the artifact the template misses, measured in the artifact band (above the
 * EEG band, where there is no EEG to confuse it) and carried into the EEG band by g, the
 * in-band / artifact-band energy of the artifact itself. The second is the EEG the template
 * carries: R is the in-band residual after a plain correction, which is EEG, so averaging R the
 * way the candidate averages epochs gives the EEG in its templates. A template built from the
 * epoch itself would hide its own EEG from both terms; these never are. All of it runs on the
 * epochs at the recording's rate (block averages of the working rate), then the chosen
 * candidate is built at the working rate.
 *
 * Sub-sample shifts (`shift`): each epoch fitted against its template to first order, as
 * a·T + b·T', T' the template's derivative: T(t − δ) ≈ T − δ·T', so δ = −b/a, fitted at the
 * recording's rate as the candidates are scored (block averages of the working rate, T' the
 * block averages of the working-rate derivative, so the first-order model holds there however
 * the artifact aliases); the template shifted by δ (4-point Lagrange interpolation at the
 * working rate) and scaled is what is subtracted. Triggers are marked to
 * whole samples of the recording and aligned to whole samples of the working rate on noisy
 * data; what is left leaves a residual of the artifact's derivative times the shift, which at
 * a recording rate of 1 kHz is as large as the EEG at the slice harmonics. Taylor's first-order
 * term is the temporal-derivative regressor that absorbs small latency shifts in fMRI models
 * (Friston et al. 1998, NeuroImage 7:30-40); timing between scanner and amplifier clocks is
 * what limits AAS without synchronisation (Mandelkow et al. 2006, NeuroImage 32:1120-1126). a
 * and b are fitted in the artifact band (above `band` Hz), where the EEG and the ECG's QRS
 * complexes do not pull the fit. The shifted variant of a candidate is scored as a third one,
 * its fitted residual raised by Mallows' Cp for the one parameter more; it refines the
 * candidate chosen without it and never chooses one; the shifts are shrunk by their
 * reliability, and scaled as the chosen candidate is (below).
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/xmalloc.h"
#include "worker/dsp/fmri/dsp-aas-priv.h"

#define DSP_AAS_AUTO_MAX 16 /* candidates */

struct dsp_aas_auto {
	size_t nt, m;
	double fs0;        /* rate of the rows */
	double *X, *H, *R; /* epochs, their artifact band, the in-band residual (nt × m) */
	double g;          /* in-band / artifact-band energy of the artifact */
	/* One epoch of a candidate (m each): its template, the template's artifact band, the mean
	 * R over the template's epochs; then band-pass scratch and the derivative of th (zero
	 * unless shifts are scored). */
	double *t, *th, *ra, *lo, *scratch, *dth;
	struct dsp_aas_segments sg;
};

struct dsp_aas_cand {
	enum dsp_aas_mode mode;
	size_t window;
	int scaled;
	double err;
};

/* A candidate's averaging, one epoch after the other: of the rows X into a->t and of R into
 * a->ra. */
struct dsp_aas_auto_avg {
	const struct dsp_aas_cand *c;
	struct dsp_aas_nearest x, r; /* nearest windows */
	size_t *idx, *cnt, W;        /* lists */
};

static void
dsp_aas_auto_avg_init(struct dsp_aas_auto_avg *v, struct dsp_aas_auto *a,
		      const struct dsp_aas_params *p, const struct dsp_aas_cand *c)
{
	memset(v, 0, sizeof *v);
	v->c = c;
	v->W = p->window;
	if (c->mode == DSP_AAS_NEAREST) {
		dsp_aas_nearest_init(&v->x, a->X, a->nt, a->m, &a->sg, c->window);
		dsp_aas_nearest_init(&v->r, a->R, a->nt, a->m, &a->sg, c->window);
	} else if (c->mode == DSP_AAS_FARM) {
		struct dsp_aas_params q = *p;

		dsp_aas_farm_lists(a->H, a->nt, a->m, &q, &v->idx, &v->cnt);
	} else {
		dsp_aas_slice_lists(a->nt, p, &a->sg, &v->idx, &v->cnt);
	}
}

static void
dsp_aas_auto_avg_next(struct dsp_aas_auto_avg *v, struct dsp_aas_auto *a, size_t i)
{
	if (v->c->mode == DSP_AAS_NEAREST) {
		dsp_aas_nearest_next(&v->x, i, a->t);
		dsp_aas_nearest_next(&v->r, i, a->ra);
		return;
	}
	dsp_aas_list_row(a->X, a->m, v->idx + i * v->W, v->cnt[i], a->t);
	dsp_aas_list_row(a->R, a->m, v->idx + i * v->W, v->cnt[i], a->ra);
}

static void
dsp_aas_auto_avg_fini(struct dsp_aas_auto_avg *v)
{
	if (v->c->mode == DSP_AAS_NEAREST) {
		dsp_aas_nearest_fini(&v->x);
		dsp_aas_nearest_fini(&v->r);
	}
	free(v->idx), free(v->cnt);
}

/* The rows X (nt × m at the recording's rate, taken over), their artifact band, and R from a
 * plain correction: the nearest W epochs, scaled; g from those templates. */
static void
dsp_aas_auto_init(struct dsp_aas_auto *a, double *X, size_t nt, size_t m,
		  const struct dsp_aas_params *p)
{
	size_t d = p->decim ? p->decim : 1, k;
	double hi_e = 0, lo_e = 0;
	struct dsp_aas_nearest it;

	memset(a, 0, sizeof *a);
	a->nt = nt;
	a->fs0 = p->fs / (double)d;
	a->X = X;
	a->m = m;
	a->H = xmalloc(nt * a->m * sizeof *a->H);
	dsp_aas_band_high(a->X, nt, a->m, a->fs0, p->band, a->H);
	dsp_aas_segments_make(p, nt, &a->sg);
	a->R = xmalloc(nt * a->m * sizeof *a->R);
	a->t = xmalloc(a->m * sizeof *a->t);
	a->th = xmalloc(a->m * sizeof *a->th);
	a->dth = xcalloc(a->m ? a->m : 1, sizeof *a->dth);
	a->ra = xmalloc(a->m * sizeof *a->ra);
	a->lo = xmalloc(a->m * sizeof *a->lo);
	a->scratch = xmalloc((a->m + 1) * sizeof *a->scratch);
	k = dsp_aas_band_length(a->fs0, p->band);
	dsp_aas_nearest_init(&it, a->X, nt, a->m, &a->sg, p->window);
	for (size_t i = 0; i < nt; i++) {
		const double *x = a->X + i * a->m, *t = a->t;
		double s, *r = a->R + i * a->m, *lo = a->lo;

		dsp_aas_nearest_next(&it, i, a->t);
		s = dsp_aas_scale_of(x, t, a->m);
		for (size_t j = 0; j < a->m; j++)
			r[j] = x[j] - s * t[j];
		dsp_aas_band_low(r, a->m, k, lo, a->scratch);
		memcpy(r, lo, a->m * sizeof *r);
		dsp_aas_band_low(t, a->m, k, lo, a->scratch);
		for (size_t j = 0; j < a->m; j++) {
			lo_e += lo[j] * lo[j];
			hi_e += (t[j] - lo[j]) * (t[j] - lo[j]);
		}
	}
	dsp_aas_nearest_fini(&it);
	a->g = hi_e > 0 ? lo_e / hi_e : 0;
}

static void
dsp_aas_auto_fini(struct dsp_aas_auto *a)
{
	free(a->X), free(a->H), free(a->R), free(a->t), free(a->th), free(a->ra);
	free(a->lo), free(a->scratch), free(a->dth);
	dsp_aas_segments_fini(&a->sg);
}

/* The estimated error of candidate c unscaled (err[0]), scaled (err[1]) and, when p->shift asks
 * for it, scaled and shifted (err[2]: scale and slope fitted in the artifact band, below), one
 * epoch after the other: no candidate's templates are held whole. */
static void
dsp_aas_auto_score(struct dsp_aas_auto *a, const struct dsp_aas_params *p,
		   const struct dsp_aas_cand *c, double err[3])
{
	struct dsp_aas_auto_avg v;
	size_t m = a->m, k = dsp_aas_band_length(a->fs0, p->band);

	dsp_aas_auto_avg_init(&v, a, p, c);
	err[0] = err[1] = err[2] = 0;
	for (size_t i = 0; i < a->nt; i++) {
		const double *x = a->X + i * m, *t = a->t, *h = a->H + i * m;
		const double *th = a->th, *ra = a->ra;
		double s, m0 = 0, m1 = 0, m2 = 0, leak = 0, u = 1, b = 0;

		dsp_aas_auto_avg_next(&v, a, i);
		dsp_aas_band_low(a->t, m, k, a->lo, a->scratch);
		for (size_t j = 0; j < m; j++)
			a->th[j] = a->t[j] - a->lo[j];
		s = dsp_aas_scale_of(x, t, m);
		if (p->shift) {
			dsp_aas_deriv(th, m, a->dth);
			dsp_aas_shift_fit(h, th, a->dth, m, 0.5, &u, &b);
		}
		for (size_t j = 0; j < m; j++) {
			double r2 = h[j] - u * th[j] - b * a->dth[j];

			m0 += (h[j] - th[j]) * (h[j] - th[j]);
			m1 += (h[j] - s * th[j]) * (h[j] - s * th[j]);
			m2 += r2 * r2;
			leak += ra[j] * ra[j];
		}
		err[0] += a->g * m0 + leak;
		err[1] += a->g * m1 + s * s * leak;
		/* The slope is one parameter more than the scale: it lowers the residual by about
		 * the noise of one sample whether or not the epoch is shifted, and carries that
		 * much noise into the correction. Mallows' Cp (Technometrics 15:661-675, 1973) adds
		 * 2σ² per parameter, σ² the residual per degree of freedom of the largest fit. */
		err[2] += a->g * (m2 + 2 * m2 / (double)(m > 3 ? m - 2 : 1)) + u * u * leak;
	}
	dsp_aas_auto_avg_fini(&v);
}

/* Candidates: in auto mode nearest windows W/2, W, 2W, .. 16W (as far as the epochs go) and
 * corresponding slice at W; otherwise only the mode given. FARM is not one: it picks epochs
 * by their likeness in the artifact band, the band the estimate measures the miss in, so its
 * miss would look smaller than it is. */
static size_t
dsp_aas_auto_candidates(const struct dsp_aas_params *p, size_t nt, struct dsp_aas_cand *c)
{
	size_t n = 0;

	if (p->mode != DSP_AAS_AUTO) {
		c[n++] = (struct dsp_aas_cand){p->mode, p->window, 0, 0};
		return n;
	}
	for (size_t w = p->window / 2 > 2 ? p->window / 2 : 2; w <= 16 * p->window; w *= 2) {
		c[n++] = (struct dsp_aas_cand){DSP_AAS_NEAREST, w, 0, 0};
		if (w + 1 >= nt)
			break;
	}
	if (p->slices_per_volume > 1 && nt / p->slices_per_volume > 2)
		c[n++] = (struct dsp_aas_cand){DSP_AAS_SLICE, p->window, 0, 0};
	return n;
}

static int
dsp_aas_auto_check(const struct dsp_aas_params *p, size_t nt, char **cause)
{
	if (!(p->fs > 0 && p->band > 0 && p->band < p->fs / (double)(p->decim ? p->decim : 1) / 2))
		return error_set(cause, -EINVAL,
				 "AAS auto: the EEG band edge %g Hz must lie below half the "
				 "recording's rate",
				 p->band);
	if (nt < 3)
		return error_set(cause, -EINVAL, "AAS auto: %zu epochs are too few", nt);
	return 0;
}

int
dsp_aas_auto_choose(double *X, size_t nt, size_t m, const struct dsp_aas_params *p,
		    struct dsp_aas_params *q, double *error_db, char **cause)
{
	struct dsp_aas_cand cand[DSP_AAS_AUTO_MAX], best = {0}, second = {0};
	struct dsp_aas_auto a;
	double err[DSP_AAS_AUTO_MAX][3];
	size_t nc, ibest = 0;
	int rc, base_scaled = 1;

	if ((rc = dsp_aas_auto_check(p, nt, cause)) != 0) {
		free(X);
		return rc;
	}
	nc = dsp_aas_auto_candidates(p, nt, cand);
	dsp_aas_auto_init(&a, X, nt, m, p);
	best.err = second.err = INFINITY;
	for (size_t i = 0; i < nc; i++) {
		dsp_aas_auto_score(&a, p, &cand[i], err[i]);
		for (int s = 0; s < 2; s++) {
			struct dsp_aas_cand c = cand[i];

			if ((p->scale == DSP_AAS_SCALE_OFF && s) || (p->scale == DSP_AAS_SCALE_ON && !s))
				continue;
			c.scaled = s;
			c.err = err[i][s];
			if (c.err < best.err)
				second = best, best = c, ibest = i;
			else if (c.err < second.err)
				second = c;
		}
	}
	/* The shifts refine the chosen candidate, never choose it: with one parameter more per
	 * epoch their fitted residual favours whichever window they are fitted to, and windows
	 * whose estimates lie that close apart differ more in the EEG band than the estimate
	 * can see (a head movement). */
	if (p->shift && p->scale != DSP_AAS_SCALE_OFF && err[ibest][2] < best.err) {
		second = best;
		base_scaled = best.scaled;
		best.scaled = 2;
		best.err = err[ibest][2];
	}
	dsp_aas_auto_fini(&a);
	*q = *p;
	q->mode = best.mode;
	q->window = best.window;
	q->scale = best.scaled ? DSP_AAS_SCALE_ON : DSP_AAS_SCALE_OFF;
	q->shift = best.scaled == 2;
	q->shift_band_scale = q->shift && !base_scaled;
	*error_db = isfinite(second.err) && second.err > 0 ? 10 * log10(best.err / second.err) : NAN;
	return 0;
}

int
dsp_aas_auto_make(struct dsp_aas_templates *tp, double *E, size_t nt, size_t len,
		  const struct dsp_aas_params *p, char **cause)
{
	struct dsp_aas_params q;
	double error_db, *X;
	size_t m;
	int rc;

	if ((rc = dsp_aas_auto_check(p, nt, cause)) != 0)
		return rc;
	X = dsp_aas_decimate(E, nt, len, p->decim ? p->decim : 1, &m);
	rc = dsp_aas_auto_choose(X, nt, m, p, &q, &error_db, cause);
	if (rc == 0)
		rc = dsp_aas_weighted_fixed(tp, E, nt, len, &q, cause);
	if (rc == 0)
		tp->choice.error_db = error_db;
	return rc;
}

void
dsp_aas_deriv(const double *v, size_t n, double *d)
{
	if (n < 2) {
		for (size_t i = 0; i < n; i++)
			d[i] = 0;
		return;
	}
	d[0] = v[1] - v[0];
	d[n - 1] = v[n - 1] - v[n - 2];
	for (size_t i = 1; i + 1 < n; i++)
		d[i] = 0.5 * (v[i + 1] - v[i - 1]);
}

void
dsp_aas_shift_fit(const double *h, const double *th, const double *dth, size_t m, double max,
		  double *a, double *b)
{
	double tt = 0, td = 0, dd = 0, ht = 0, hd = 0, det;

	for (size_t k = 0; k < m; k++) {
		tt += th[k] * th[k], td += th[k] * dth[k], dd += dth[k] * dth[k];
		ht += h[k] * th[k], hd += h[k] * dth[k];
	}
	det = tt * dd - td * td;
	/* A template without a slope to fit (flat, or its derivative along itself): scale only. */
	if (!(tt > 0 && dd > 0 && det > 1e-9 * tt * dd)) {
		*a = tt > 0 && isfinite(ht / tt) ? ht / tt : 1.0;
		*b = 0;
		return;
	}
	*a = (ht * dd - hd * td) / det;
	*b = (hd * tt - ht * td) / det;
	/* Marks are rounded to recorded samples: more than half of one (max) is not what that
	 * leaves, the fit is fitting something else (an epoch the template does not resemble). */
	if (!(isfinite(*a) && isfinite(*b) && *a > 0 && fabs(*b / *a) <= max)) {
		*a = tt > 0 && isfinite(ht / tt) ? ht / tt : 1.0;
		*b = 0;
	}
}

double
dsp_aas_at(const double *v, size_t n, double x)
{
	long k = (long)floor(x);
	double f = x - (double)k, w[4], acc = 0;

	/* 4-point Lagrange weights at nodes -1, 0, 1, 2. */
	w[0] = -f * (f - 1) * (f - 2) / 6;
	w[1] = (f + 1) * (f - 1) * (f - 2) / 2;
	w[2] = -(f + 1) * f * (f - 2) / 2;
	w[3] = (f + 1) * f * (f - 1) / 6;
	for (long j = -1; j <= 2; j++) {
		long q = k + j;

		q = q < 0 ? 0 : (q >= (long)n ? (long)n - 1 : q);
		acc += w[j + 1] * v[q];
	}
	return acc;
}

void
dsp_aas_advance(const double *v, size_t n, double u, double *out)
{
	for (size_t k = 0; k < n; k++)
		out[k] = dsp_aas_at(v, n, (double)k + u);
}

/* The variance of the shift u = b/a fitted as h ≈ a·th + b·dth over m samples: the regression's
 * variance of b, σ²·tt/det, σ² the residual per degree of freedom, over a². */
static double
dsp_aas_shift_var(const double *h, const double *th, const double *dth, size_t m, double a,
		  double b)
{
	double tt = 0, td = 0, dd = 0, rss = 0, det, dof = (double)m - 2;

	for (size_t k = 0; k < m; k++) {
		double r = h[k] - a * th[k] - b * dth[k];

		tt += th[k] * th[k], td += th[k] * dth[k], dd += dth[k] * dth[k], rss += r * r;
	}
	det = tt * dd - td * td;
	if (!(det > 0 && dof > 0 && a != 0))
		return INFINITY;
	return rss / dof * tt / det / (a * a);
}

/* What the shift fit of one epoch reads, at the recording's rate (m samples): the epoch x, its
 * template t and the template's derivative dt per recorded sample, each the block average of d
 * working samples (dt: of the working-rate derivative, times d, so that the block averages of
 * the template advanced by u recorded samples are t + u·dt to first order, however the
 * artifact aliases at the recording's rate); then h, th, dth their artifact band. */
struct dsp_aas_shift_rows {
	size_t m, d, k;
	double *x, *t, *dt, *h, *th, *dth, *dT, *lo, *scratch;
};

static void
dsp_aas_shift_rows_init(struct dsp_aas_shift_rows *r, size_t len, const struct dsp_aas_params *p)
{
	r->d = p->decim ? p->decim : 1;
	r->m = (len + r->d - 1) / r->d;
	r->k = dsp_aas_band_length(p->fs / (double)r->d, p->band);
	r->x = xmalloc(7 * r->m * sizeof *r->x);
	r->t = r->x + r->m, r->dt = r->t + r->m;
	r->h = r->dt + r->m, r->th = r->h + r->m, r->dth = r->th + r->m, r->lo = r->dth + r->m;
	r->scratch = xmalloc((r->m + 1) * sizeof *r->scratch);
	r->dT = xmalloc(len * sizeof *r->dT);
}

static void
dsp_aas_shift_rows_fini(struct dsp_aas_shift_rows *r)
{
	free(r->x), free(r->scratch), free(r->dT);
}

/* v minus its double moving average, into out (m samples). */
static void
dsp_aas_shift_high(struct dsp_aas_shift_rows *r, const double *v, double *out)
{
	dsp_aas_band_low(v, r->m, r->k, r->lo, r->scratch);
	for (size_t j = 0; j < r->m; j++)
		out[j] = v[j] - r->lo[j];
}

static void
dsp_aas_shift_rows_fill(struct dsp_aas_shift_rows *r, const double *e, const double *T,
			size_t len)
{
	dsp_aas_block_mean(e, len, r->d, r->x);
	dsp_aas_block_mean(T, len, r->d, r->t);
	dsp_aas_deriv(T, len, r->dT);
	dsp_aas_block_mean(r->dT, len, r->d, r->dt);
	for (size_t j = 0; j < r->m; j++)
		r->dt[j] *= (double)r->d;
	dsp_aas_shift_high(r, r->x, r->h);
	dsp_aas_shift_high(r, r->t, r->th);
	dsp_aas_shift_high(r, r->dt, r->dth);
}

/* The epoch's scale and advance u (recorded samples; its template read at t + u: shifted by
 * −u) fitted in the artifact band at the recording's rate, to first order (after the aligners
 * the shift left is a fraction of a working sample plus the aligners' error), up to half a
 * recorded sample; *var the variance of u. With rescale the scale is instead the whole
 * epoch's least squares against the template so advanced (dsp_aas_shift_rescale below). */
static void
dsp_aas_shift_epoch(struct dsp_aas_shift_rows *r, const double *e, const double *T, size_t len,
		    double *a_out, double *u_out, double *var)
{
	double a, b;

	dsp_aas_shift_rows_fill(r, e, T, len);
	dsp_aas_shift_fit(r->h, r->th, r->dth, r->m, 0.5, &a, &b);
	*a_out = a;
	*u_out = b != 0 ? b / a : 0;
	*var = b != 0 ? dsp_aas_shift_var(r->h, r->th, r->dth, r->m, a, b) : INFINITY;
}

/* The fitted shifts shrunk by their reliability: the shifts' true spread V is the spread of
 * the fitted ones less their mean variance (the method of moments), and each shift is
 * multiplied by V / (V + var_i), the linear estimate of least mean square error (Wiener's;
 * the empirical-Bayes form of James & Stein's estimator, Efron & Morris 1973, JASA
 * 68:117-130). Where the shifts are mostly the fit's noise (timing already within the working
 * rate's grid, or a change of the artifact's shape taken for one), they go to zero and the
 * correction is the scaled one; where the timing scatters more than the fit's noise, they
 * stay. Returns the mean factor. */
double
dsp_aas_shift_shrink(double *u, const double *var, size_t nt)
{
	double su = 0, sv = 0, V, wsum = 0;
	size_t n = 0;

	for (size_t i = 0; i < nt; i++)
		if (isfinite(var[i]))
			su += u[i] * u[i], sv += var[i], n++;
	V = n ? (su - sv) / (double)n : 0;
	for (size_t i = 0; i < nt; i++) {
		double w = V > 0 && isfinite(var[i]) ? V / (V + var[i]) : 0;

		u[i] *= w;
		wsum += w;
	}
	return nt ? wsum / (double)nt : 0;
}


/* The whole epoch's least-squares scale against its template advanced by u recorded samples,
 * t + u·dt at the recording's rate, from the products of the rows (filled): xt, x·dt, tt, t·dt,
 * dt·dt. Where the choice without shifts was scaled, the shifted templates are scaled as it
 * scaled them: the artifact band's scale, fitted with the shift, follows the artifact's fast
 * part; where a head movement changes the artifact's shape the two bands' amplitudes change
 * apart, and the EEG band is the output. */
static void
dsp_aas_shift_products(const struct dsp_aas_shift_rows *r, double s[5])
{
	s[0] = s[1] = s[2] = s[3] = s[4] = 0;
	for (size_t j = 0; j < r->m; j++) {
		s[0] += r->x[j] * r->t[j], s[1] += r->x[j] * r->dt[j];
		s[2] += r->t[j] * r->t[j], s[3] += r->t[j] * r->dt[j], s[4] += r->dt[j] * r->dt[j];
	}
}

static double
dsp_aas_shift_rescale(const double s[5], double u)
{
	double et = s[0] + u * s[1], tt = s[2] + 2 * u * s[3] + u * u * s[4];

	return tt > 0 && isfinite(et / tt) ? et / tt : 1.0;
}

/* The range of the scales and of the shifts (recorded samples) into tp->choice. */
static void
dsp_aas_shift_ranges(struct dsp_aas_templates *tp, size_t d)
{
	tp->choice.scale_min = tp->choice.shift_min = INFINITY;
	tp->choice.scale_max = tp->choice.shift_max = -INFINITY;
	for (size_t i = 0; i < tp->nepochs; i++) {
		double a = tp->scale[i], shift = -tp->advance[i] / (double)d;

		tp->choice.scale_min = fmin(tp->choice.scale_min, a);
		tp->choice.scale_max = fmax(tp->choice.scale_max, a);
		tp->choice.shift_min = fmin(tp->choice.shift_min, shift);
		tp->choice.shift_max = fmax(tp->choice.shift_max, shift);
	}
}

void
dsp_aas_weight_shift(struct dsp_aas_templates *tp, const double *E, const struct dsp_aas_params *p)
{
	size_t L = tp->len, nt = tp->nepochs;
	struct dsp_aas_shift_rows r;
	double *var = xmalloc((nt ? nt : 1) * sizeof *var);
	double *prod = xmalloc((nt ? nt : 1) * 5 * sizeof *prod);

	dsp_aas_shift_rows_init(&r, L, p);
	free(tp->scale);
	tp->scale = xmalloc((nt ? nt : 1) * sizeof *tp->scale);
	tp->advance = xmalloc((nt ? nt : 1) * sizeof *tp->advance);
	for (size_t i = 0; i < nt; i++) {
		dsp_aas_shift_epoch(&r, E + i * L, tp->data + tp->index[i] * L, L, &tp->scale[i],
				    &tp->advance[i], &var[i]);
		dsp_aas_shift_products(&r, prod + 5 * i);
	}
	tp->choice.shift_weight = dsp_aas_shift_shrink(tp->advance, var, nt);
	for (size_t i = 0; i < nt; i++) {
		if (tp->choice.shift_rescale)
			tp->scale[i] = dsp_aas_shift_rescale(prod + 5 * i, tp->advance[i]);
		tp->advance[i] *= (double)r.d; /* working samples */
	}
	dsp_aas_shift_ranges(tp, r.d);
	tp->choice.scaled = 1;
	tp->choice.shifted = 1;
	dsp_aas_shift_rows_fini(&r);
	free(var), free(prod);
}
