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
 * candidate is built at the working rate. */
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
	 * R over the template's epochs; then band-pass scratch. */
	double *t, *th, *ra, *lo, *scratch;
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

/* The rows, their artifact band, and R from a plain correction: the nearest W epochs,
 * scaled; g from those templates. */
static void
dsp_aas_auto_init(struct dsp_aas_auto *a, const double *E, size_t nt, size_t len,
		  const struct dsp_aas_params *p)
{
	size_t d = p->decim ? p->decim : 1, k;
	double hi_e = 0, lo_e = 0;
	struct dsp_aas_nearest it;

	memset(a, 0, sizeof *a);
	a->nt = nt;
	a->fs0 = p->fs / (double)d;
	a->X = dsp_aas_decimate(E, nt, len, d, &a->m);
	a->H = xmalloc(nt * a->m * sizeof *a->H);
	dsp_aas_band_high(a->X, nt, a->m, a->fs0, p->band, a->H);
	dsp_aas_segments_make(p, nt, &a->sg);
	a->R = xmalloc(nt * a->m * sizeof *a->R);
	a->t = xmalloc(a->m * sizeof *a->t);
	a->th = xmalloc(a->m * sizeof *a->th);
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
	free(a->lo), free(a->scratch);
	dsp_aas_segments_fini(&a->sg);
}

/* The estimated error of candidate c unscaled (err[0]) and scaled (err[1]), one epoch after the
 * other: no candidate's templates are held whole. */
static void
dsp_aas_auto_score(struct dsp_aas_auto *a, const struct dsp_aas_params *p,
		   const struct dsp_aas_cand *c, double err[2])
{
	struct dsp_aas_auto_avg v;
	size_t m = a->m, k = dsp_aas_band_length(a->fs0, p->band);

	dsp_aas_auto_avg_init(&v, a, p, c);
	err[0] = err[1] = 0;
	for (size_t i = 0; i < a->nt; i++) {
		const double *x = a->X + i * m, *t = a->t, *h = a->H + i * m;
		const double *th = a->th, *ra = a->ra;
		double s, m0 = 0, m1 = 0, leak = 0;

		dsp_aas_auto_avg_next(&v, a, i);
		dsp_aas_band_low(a->t, m, k, a->lo, a->scratch);
		for (size_t j = 0; j < m; j++)
			a->th[j] = a->t[j] - a->lo[j];
		s = dsp_aas_scale_of(x, t, m);
		for (size_t j = 0; j < m; j++) {
			m0 += (h[j] - th[j]) * (h[j] - th[j]);
			m1 += (h[j] - s * th[j]) * (h[j] - s * th[j]);
			leak += ra[j] * ra[j];
		}
		err[0] += a->g * m0 + leak;
		err[1] += a->g * m1 + s * s * leak;
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

int
dsp_aas_auto_make(struct dsp_aas_templates *tp, double *E, size_t nt, size_t len,
		  const struct dsp_aas_params *p, char **cause)
{
	struct dsp_aas_cand cand[DSP_AAS_AUTO_MAX], best = {0}, second = {0};
	struct dsp_aas_params q = *p;
	struct dsp_aas_auto a;
	size_t nc;
	int rc;

	if (!(p->fs > 0 && p->band > 0 && p->band < p->fs / (double)(p->decim ? p->decim : 1) / 2))
		return error_set(cause, -EINVAL,
				 "AAS auto: the EEG band edge %g Hz must lie below half the "
				 "recording's rate",
				 p->band);
	if (nt < 3)
		return error_set(cause, -EINVAL, "AAS auto: %zu epochs are too few", nt);
	nc = dsp_aas_auto_candidates(p, nt, cand);
	dsp_aas_auto_init(&a, E, nt, len, p);
	best.err = second.err = INFINITY;
	for (size_t i = 0; i < nc; i++) {
		double err[2];

		dsp_aas_auto_score(&a, p, &cand[i], err);
		for (int s = 0; s < 2; s++) {
			struct dsp_aas_cand c = cand[i];

			if ((p->scale == DSP_AAS_SCALE_OFF && s) || (p->scale == DSP_AAS_SCALE_ON && !s))
				continue;
			c.scaled = s;
			c.err = err[s];
			if (c.err < best.err)
				second = best, best = c;
			else if (c.err < second.err)
				second = c;
		}
	}
	dsp_aas_auto_fini(&a);
	q.mode = best.mode;
	q.window = best.window;
	q.scale = best.scaled ? DSP_AAS_SCALE_ON : DSP_AAS_SCALE_OFF;
	if ((rc = dsp_aas_weighted_fixed(tp, E, nt, len, &q, cause)) != 0)
		return rc;
	tp->choice.error_db =
	    isfinite(second.err) && second.err > 0 ? 10 * log10(best.err / second.err) : NAN;
	return 0;
}
