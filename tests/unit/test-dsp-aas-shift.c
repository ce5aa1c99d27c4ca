/* Sub-sample shifts in AAS: the first-order fit of an epoch against its template (scale and
 * shift recovered, degenerate fits fall back to a scale), the automatic choice fitting the
 * shifts where the epochs are shifted (a 1 kHz recording at the working rate of 10 kHz) and
 * leaving no worse an error where they are not, the shrinkage, and the fit at the recording's
 * rate against its plain computation. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "test-rng.h"
#include "worker/dsp/fmri/dsp-aas-priv.h"
#include "worker/dsp/fmri/dsp-aas.h"

#define FS  10000.0 /* working rate */
#define L   660
#define GAP 700

/* A band-limited artifact epoch (60 and 180 Hz under a Hann window) at tau samples. */
static double
shape(double tau)
{
	double u = tau / FS;

	if (tau < 0 || tau > L - 1)
		return 0;
	return 0.5 * (1 - cos(2 * M_PI * tau / (L - 1))) *
	       (sin(2 * M_PI * 60 * u) + 0.5 * sin(2 * M_PI * 180 * u + 1));
}

Test(dsp_aas_shift, fit_recovers_scale_and_shift)
{
	double th[L], dth[L], h[L], a, b;

	for (int k = 0; k < L; k++)
		th[k] = shape(k), h[k] = 1.2 * shape(k - 0.3);
	dsp_aas_deriv(th, L, dth);
	dsp_aas_shift_fit(h, th, dth, L, 1.0, &a, &b);
	cr_assert_float_eq(a, 1.2, 0.005, "scale %g", a);
	cr_assert_float_eq(-b / a, 0.3, 0.01, "shift %g", -b / a);
	/* Flat template: scale 1, no slope. Shifted by 3 samples: more than the 1 allowed. */
	memset(th, 0, sizeof th);
	dsp_aas_deriv(th, L, dth);
	dsp_aas_shift_fit(h, th, dth, L, 1.0, &a, &b);
	cr_assert(a == 1 && b == 0, "flat: %g %g", a, b);
	for (int k = 0; k < L; k++)
		th[k] = shape(k), h[k] = shape(k - 3);
	dsp_aas_deriv(th, L, dth);
	dsp_aas_shift_fit(h, th, dth, L, 1.0, &a, &b);
	cr_assert_eq(b, 0, "3 samples: slope %g", b);
}

struct rec {
	size_t n, nt;
	int64_t *t;
	double *clean, *x;
};

/* nt epochs GAP apart, each the shape shifted by up to ±maxshift samples (uniform) with a gain
 * of sd 1 %, amplitude 1000, over unit EEG (a 10 Hz rhythm and white noise). */
static void
rec_make(struct rec *r, size_t nt, double maxshift, uint64_t seed)
{
	uint64_t g = seed;

	r->nt = nt;
	r->n = 2000 + nt * GAP;
	r->t = malloc(nt * sizeof *r->t);
	r->clean = malloc(r->n * sizeof *r->clean);
	r->x = malloc(r->n * sizeof *r->x);
	for (size_t i = 0; i < r->n; i++)
		r->x[i] = r->clean[i] = 3 * sin(2 * M_PI * 10 * (double)i / FS) + test_randn(&g);
	for (size_t i = 0; i < nt; i++) {
		double d = maxshift * (2 * fmod(fabs(test_randn(&g)) * 7919.0, 1.0) - 1);
		double gain = 1000 * (1 + 0.01 * test_randn(&g));

		r->t[i] = 1000 + (int64_t)(i * GAP);
		for (int k = -2; k < L + 2; k++)
			r->x[r->t[i] + k] += gain * shape(k - d);
	}
}

/* RMS error (against the clean data) after AAS in mode `mode` (scale auto) with or without
 * shifts; its choice. */
static double
rec_correct_mode(const struct rec *r, enum dsp_aas_mode mode, int shift,
		 struct dsp_aas_choice *choice)
{
	struct dsp_aas_params p;
	struct dsp_aas_templates tp;
	double *y = malloc(r->n * sizeof *y), acc = 0;
	char *cause = NULL;

	dsp_aas_params_init(&p);
	p.mode = mode;
	p.scale = DSP_AAS_SCALE_AUTO;
	p.shift = shift;
	p.window = 30;
	p.fs = FS;
	p.band = 70;
	p.decim = 10;
	memcpy(y, r->x, r->n * sizeof *y);
	cr_assert_eq(dsp_aas_templates_make(&tp, y, r->n, r->t, r->nt, L + 4, -2, &p, &cause), 0,
		     "%s", cause);
	cr_assert_eq(dsp_aas_subtract(y, r->n, r->t, r->nt, -2, &tp, NULL, NULL), 0);
	*choice = tp.choice;
	dsp_aas_templates_fini(&tp);
	for (size_t i = 1000; i < r->n - 1000; i++)
		acc += (y[i] - r->clean[i]) * (y[i] - r->clean[i]);
	free(y);
	return sqrt(acc / (double)(r->n - 2000));
}

static double
rec_correct(const struct rec *r, int shift, struct dsp_aas_choice *choice)
{
	return rec_correct_mode(r, DSP_AAS_AUTO, shift, choice);
}

Test(dsp_aas_shift, auto_fits_shifts_where_the_epochs_are_shifted)
{
	struct dsp_aas_choice c0, c1;
	struct rec r;
	double e0, e1;

	/* Half a working sample: what whole-sample alignment at 10 kHz leaves. */
	rec_make(&r, 150, 0.5, 7);
	e0 = rec_correct(&r, 0, &c0);
	e1 = rec_correct(&r, 1, &c1);
	cr_assert(c1.shifted && !c0.shifted, "shifted %d %d", c1.shifted, c0.shifted);
	cr_assert_lt(20 * log10(e1 / e0), -6, "shifted %g, not %g", e1, e0);
	cr_assert(c1.shift_min > -0.06 && c1.shift_max < 0.06 && c1.shift_max - c1.shift_min > 0.06,
		  "shifts %g..%g recording samples", c1.shift_min, c1.shift_max);
	free(r.t), free(r.clean), free(r.x);
	/* Unshifted epochs: fitting shifts may win on noise, never by costing error. */
	rec_make(&r, 150, 0, 8);
	e0 = rec_correct(&r, 0, &c0);
	e1 = rec_correct(&r, 1, &c1);
	cr_assert_lt(20 * log10(e1 / e0), 0.3, "unshifted: %g against %g", e1, e0);
	free(r.t), free(r.clean), free(r.x);
}

/* Nearest mode without motion segments builds its templates in place of the epochs unless
 * shifts are fitted: the fit must read the epochs, not the templates standing in their place
 * (which would fit each template against itself: scale 1, no shift, nothing gained). */
Test(dsp_aas_shift, nearest_fits_shifts_against_the_epochs)
{
	struct dsp_aas_choice c0, c1;
	struct rec r;
	double e0, e1;

	rec_make(&r, 150, 0.5, 7);
	e0 = rec_correct_mode(&r, DSP_AAS_NEAREST, 0, &c0);
	e1 = rec_correct_mode(&r, DSP_AAS_NEAREST, 1, &c1);
	cr_assert(c1.shifted && !c0.shifted, "shifted %d %d", c1.shifted, c0.shifted);
	cr_assert_lt(20 * log10(e1 / e0), -6, "shifted %g, not %g", e1, e0);
	cr_assert(c1.shift_max - c1.shift_min > 0.06 && c1.scale_max - c1.scale_min > 0.01,
		  "shifts %g..%g, scales %g..%g", c1.shift_min, c1.shift_max, c1.scale_min,
		  c1.scale_max);
	free(r.t), free(r.clean), free(r.x);
}

/* The shrinkage of the fitted shifts: fitted = true + noise of a known variance per epoch.
 * Pure noise goes (nearly) to zero, a spread well above the noise stays, and the shrunk shifts
 * are nearer the true ones than the fitted ones in mean square whatever the ratio (the point of
 * the estimate), against the plain computation of that error. */
static void
shrink_case(double spread, double noise, uint64_t seed, double *factor, double *gain_db)
{
	enum { N = 2000 };
	double u[N], truth[N], var[N], e0 = 0, e1 = 0;
	uint64_t g = seed;

	for (size_t i = 0; i < N; i++) {
		/* Noise variances differing by epoch (a factor of 1 to 3). */
		double v = noise * noise * (1 + 2 * (double)(i % 3) / 2);

		truth[i] = spread * test_randn(&g);
		var[i] = v;
		u[i] = truth[i] + sqrt(v) * test_randn(&g);
		e0 += (u[i] - truth[i]) * (u[i] - truth[i]);
	}
	*factor = dsp_aas_shift_shrink(u, var, N);
	for (size_t i = 0; i < N; i++)
		e1 += (u[i] - truth[i]) * (u[i] - truth[i]);
	*gain_db = 10 * log10(e0 / e1);
}

Test(dsp_aas_shift, shrink_keeps_real_shifts_and_drops_noise)
{
	double f, g;

	shrink_case(0, 0.1, 3, &f, &g);
	cr_assert_lt(f, 0.15, "noise only: factor %g", f);
	cr_assert_gt(g, 8, "noise only: %g dB nearer", g);
	shrink_case(1, 0.05, 4, &f, &g);
	cr_assert_gt(f, 0.99, "real shifts: factor %g", f);
	cr_assert_gt(g, -0.05, "real shifts: %g dB", g);
	shrink_case(0.1, 0.1, 5, &f, &g);
	cr_assert(f > 0.3 && f < 0.7, "as large as the noise: factor %g", f);
	cr_assert_gt(g, 2, "as large as the noise: %g dB nearer", g);
	/* No usable variance: nothing is shifted. */
	{
		double u[2] = {0.3, -0.2}, var[2] = {INFINITY, INFINITY};

		cr_assert_eq(dsp_aas_shift_shrink(u, var, 2), 0);
		cr_assert(u[0] == 0 && u[1] == 0, "%g %g", u[0], u[1]);
	}
}

/* The shift fit at the recording's rate against a plain computation of what it is defined as:
 * per epoch, the block averages of D working samples of the epoch, its template and the
 * template's central-difference derivative (times D); their artifact band (minus a double
 * centred moving average of k samples, over what the row has at its edges); h ≈ a·th + b·dth
 * by the normal equations; u = b/a recorded samples (none past half a sample); the shrinkage;
 * with rescale, the whole row's least-squares scale against t + u·dt. */
#define D  10
#define M  (L / D)
#define NT 40

static void
plain_box(const double *v, size_t k, double *out)
{
	size_t h = k / 2;

	for (size_t i = 0; i < M; i++) {
		size_t a = i > h ? i - h : 0, b = i + (k - h) < M ? i + (k - h) : M;
		double acc = 0;

		for (size_t j = a; j < b; j++)
			acc += v[j];
		out[i] = acc / (double)(b - a);
	}
}

static void
plain_high(const double *v, size_t k, double *out)
{
	double once[M], twice[M];

	plain_box(v, k, once);
	plain_box(once, k, twice);
	for (size_t i = 0; i < M; i++)
		out[i] = v[i] - twice[i];
}

static void
plain_rows(const double *e, const double *T, double *x, double *t, double *dt)
{
	for (size_t j = 0; j < M; j++) {
		x[j] = t[j] = dt[j] = 0;
		for (size_t q = j * D; q < j * D + D; q++) {
			double d = q == 0 ? T[1] - T[0]
				   : q == L - 1 ? T[L - 1] - T[L - 2] : 0.5 * (T[q + 1] - T[q - 1]);

			x[j] += e[q] / D, t[j] += T[q] / D, dt[j] += d;
		}
	}
}

/* The plain fit of one epoch: scale, u (recorded samples), its variance; 0 when no shift. */
static int
plain_fit(const double *e, const double *T, size_t k, double out[3], double prod[5])
{
	double x[M], t[M], dt[M], h[M], th[M], dth[M], tt = 0, td = 0, dd = 0, ht = 0, hd = 0;
	double det, a, b, rss = 0;

	plain_rows(e, T, x, t, dt);
	plain_high(x, k, h), plain_high(t, k, th), plain_high(dt, k, dth);
	for (size_t j = 0; j < M; j++) {
		tt += th[j] * th[j], td += th[j] * dth[j], dd += dth[j] * dth[j];
		ht += h[j] * th[j], hd += h[j] * dth[j];
	}
	prod[0] = prod[1] = prod[2] = prod[3] = prod[4] = 0;
	for (size_t j = 0; j < M; j++)
		prod[0] += x[j] * t[j], prod[1] += x[j] * dt[j], prod[2] += t[j] * t[j],
		    prod[3] += t[j] * dt[j], prod[4] += dt[j] * dt[j];
	det = tt * dd - td * td;
	a = (ht * dd - hd * td) / det;
	b = (hd * tt - ht * td) / det;
	if (!(a > 0 && fabs(b / a) <= 0.5)) {
		out[0] = ht / tt, out[1] = 0, out[2] = INFINITY;
		return 0;
	}
	for (size_t j = 0; j < M; j++)
		rss += (h[j] - a * th[j] - b * dth[j]) * (h[j] - a * th[j] - b * dth[j]);
	out[0] = a, out[1] = b / a, out[2] = rss / (M - 2) * tt / det / (a * a);
	return 1;
}

/* NT epochs of the shape shifted by known amounts (up to ±0.15 recorded samples, about what
 * the aligners leave on a 1 kHz ECG; the fit is first order) and scaled,
 * over white noise, all with the same template (the unshifted shape). */
static void
fit_case(double *E, double *T, double *shift, double *gain, uint64_t seed)
{
	uint64_t g = seed;

	for (size_t k = 0; k < L; k++)
		T[k] = 1000 * shape((double)k);
	for (size_t i = 0; i < NT; i++) {
		shift[i] = 0.15 * (2 * fmod(fabs(test_randn(&g)) * 7919.0, 1.0) - 1);
		gain[i] = 1 + 0.05 * test_randn(&g);
		for (size_t k = 0; k < L; k++)
			E[i * L + k] = gain[i] * 1000 * shape((double)k - D * shift[i]) +
				       0.5 * test_randn(&g);
	}
}

static void
fit_run(double *E, double *T, int rescale, struct dsp_aas_templates *tp)
{
	struct dsp_aas_params p;

	dsp_aas_params_init(&p);
	p.fs = FS, p.band = 70, p.decim = D;
	memset(tp, 0, sizeof *tp);
	tp->len = L, tp->nepochs = NT, tp->ntemplates = 1;
	tp->data = T;
	tp->index = calloc(NT, sizeof *tp->index);
	tp->choice.shift_rescale = rescale;
	dsp_aas_weight_shift(tp, E, &p);
}

Test(dsp_aas_shift, recording_rate_fit_matches_the_plain_computation)
{
	static double E[NT * L], T[L];
	double shift[NT], gain[NT], fit[NT][3], prod[NT][5], u[NT], var[NT], w;
	size_t k = dsp_aas_band_length(FS / D, 70);

	fit_case(E, T, shift, gain, 11);
	for (size_t i = 0; i < NT; i++) {
		cr_assert(plain_fit(E + i * L, T, k, fit[i], prod[i]), "epoch %zu not fitted", i);
		u[i] = fit[i][1], var[i] = fit[i][2];
	}
	w = dsp_aas_shift_shrink(u, var, NT);
	for (int rescale = 0; rescale < 2; rescale++) {
		struct dsp_aas_templates tp;

		fit_run(E, T, rescale, &tp);
		cr_assert(tp.choice.shifted && tp.choice.scaled);
		cr_assert_float_eq(tp.choice.shift_weight, w, 1e-12);
		for (size_t i = 0; i < NT; i++) {
			const double *s = prod[i];
			double a = rescale ? (s[0] + u[i] * s[1]) /
						 (s[2] + 2 * u[i] * s[3] + u[i] * u[i] * s[4])
					   : fit[i][0];

			cr_assert_float_eq(tp.advance[i], D * u[i], 1e-9, "epoch %zu: %g against %g",
					   i, tp.advance[i], D * u[i]);
			cr_assert_float_eq(tp.scale[i], a, 1e-9, "epoch %zu scale", i);
			/* And it is the shift that was put in (the template read at k + u: the
			 * epoch is the shape delayed by shift), to 0.02 recorded samples. */
			cr_assert_float_eq(-u[i], shift[i], 0.02, "epoch %zu: %g, put in %g", i,
					   -u[i], shift[i]);
			cr_assert_float_eq(tp.scale[i], gain[i], 0.01, "epoch %zu gain %g, put in %g",
					   i, tp.scale[i], gain[i]);
		}
		for (size_t i = 0; i < NT; i++)
			cr_assert(-tp.advance[i] / D >= tp.choice.shift_min &&
				  -tp.advance[i] / D <= tp.choice.shift_max);
		tp.data = NULL; /* the caller's */
		dsp_aas_templates_fini(&tp);
	}
}
