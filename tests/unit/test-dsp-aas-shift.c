/* Sub-sample shifts in AAS: the first-order fit of an epoch against its template (scale and
 * shift recovered, degenerate fits fall back to a scale), and the automatic choice fitting the
 * shifts where the epochs are shifted (a 1 kHz recording at the working rate of 10 kHz) and
 * leaving no worse an error where they are not. */
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
