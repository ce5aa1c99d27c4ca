/* Adaptive noise cancellation: firls designs against scipy, the fused LMS and NLMS against plain
 * loops, convergence on correlated noise (NLMS also where the reference's power changes), and
 * the windowed apply with its skip rule. */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "test-dsp-util.h"
#include "worker/dsp/fmri/dsp-anc.h"

static uint64_t rng_state;

static double
rng_normal(void)
{
	return test_lcg_normal(&rng_state);
}

/* Compare dsp_anc_firls with tests/data/dsp-rec/<name>.npy (nt taps). */
static void
check_firls(size_t nt, const double *bands, const double *desired, size_t nb, const char *name)
{
	double *h = calloc(nt, sizeof *h), *want = test_fixture("dsp-rec", name, nt);
	char *cause = NULL;

	cr_assert_eq(dsp_anc_firls(nt, bands, desired, nb, h, &cause), 0, "%s", cause ? cause : "");
	for (size_t i = 0; i < nt; i++)
		cr_assert_float_eq(h[i], want[i], 1e-12, "tap %zu of %zu: %.17g vs %.17g", i, nt,
				   h[i], want[i]);
	free(h);
	free(want);
}

/* Tolerance 1e-12 absolute on taps of magnitude up to 0.6. */
Test(dsp_anc, firls_matches_scipy)
{
	const double b1[] = {0, 0.2, 0.3, 1}, d1[] = {0, 0, 1, 1};
	const double b2[] = {0, 0.3, 0.5, 1}, d2[] = {1, 1, 0, 0};
	const double b3[] = {0, 0.1, 0.2, 0.5, 0.6, 1}, d3[] = {0, 0.5, 1, 1, 0.2, 0};

	check_firls(31, b1, d1, 2, "firls_hp31");
	check_firls(21, b2, d2, 2, "firls_lp21");
	check_firls(15, b3, d3, 3, "firls_slope15");
}

Test(dsp_anc, hp_design_matches_scipy)
{
	struct dsp_filter f;
	char *cause = NULL;
	double *want = test_fixture("dsp-rec", "firls_anc_2048_6", 483);

	cr_assert_eq(dsp_anc_hp_length(2048, 6), 483);
	cr_assert_eq(dsp_anc_hp_length(20480, 6), 4819);
	cr_assert_float_eq(dsp_anc_cutoff(8.0), 6.0, 1e-15);
	cr_assert_float_eq(dsp_anc_cutoff(0.1), 0.5, 1e-15);
	cr_assert_eq(dsp_anc_hp_design(&f, 2048, 6, &cause), 0);
	cr_assert_eq(f.ntaps, 483);
	for (size_t i = 0; i < f.ntaps; i++)
		cr_assert_float_eq(f.taps[i], want[i], 1e-12, "tap %zu", i);
	dsp_filter_fini(&f);
	free(want);
	cr_assert_eq(dsp_anc_hp_design(&f, 2048, 2000, &cause), -EINVAL);
	cr_assert_not_null(strstr(cause, "hp"));
	free(cause);
}

/* Plain LMS exactly as written in the spec. */
static void
plain_lms(const double *ref, const double *d, size_t n, size_t order, double mu, double *y)
{
	double *w = calloc(order + 1, sizeof *w);
	for (size_t i = 0; i < n; i++) {
		double acc = 0, e;
		if (i < order) {
			y[i] = 0;
			continue;
		}
		for (size_t j = 0; j <= order; j++)
			acc += w[j] * ref[i - order + j];
		y[i] = acc;
		e = d[i] - acc;
		for (size_t j = 0; j <= order; j++)
			w[j] += 2 * mu * e * ref[i - order + j];
	}
	free(w);
}

/* The fused vector loop agrees with the plain one to 1e-10 of the output range, for tap counts
 * below, at, and off multiples of the 8-wide vector (2, 8, 16, 33, 294). */
Test(dsp_anc, lms_matches_plain)
{
	const size_t n = 20000, orders[] = {1, 7, 15, 32, 293};
	double *ref = malloc(n * sizeof *ref), *d = malloc(n * sizeof *d);
	double *y = malloc(n * sizeof *y), *yp = malloc(n * sizeof *yp);

	rng_state = 7;
	for (size_t i = 0; i < n; i++) {
		ref[i] = rng_normal();
		d[i] = 0.5 * ref[i] + (i > 3 ? 0.25 * ref[i - 3] : 0) + 0.1 * rng_normal();
	}
	for (size_t o = 0; o < sizeof orders / sizeof orders[0]; o++) {
		double mu = 0.05 / (double)orders[o], scale = 0;
		dsp_anc_lms(ref, d, n, orders[o], mu, y);
		plain_lms(ref, d, n, orders[o], mu, yp);
		for (size_t i = 0; i < n; i++)
			scale = fabs(yp[i]) > scale ? fabs(yp[i]) : scale;
		for (size_t i = 0; i < n; i++)
			cr_assert_float_eq(y[i], yp[i], 1e-10 * scale, "order %zu, i %zu",
					   orders[o], i);
	}
	free(ref), free(d), free(y), free(yp);
}

/* Plain NLMS as the header states it: the step divided by eps + the window's power. */
static void
plain_nlms(const double *ref, const double *d, size_t n, size_t order, double mu, double eps,
	   double *y)
{
	double *w = calloc(order + 1, sizeof *w);
	for (size_t i = 0; i < n; i++) {
		double acc = 0, pw = 0, e;
		if (i < order) {
			y[i] = 0;
			continue;
		}
		for (size_t j = 0; j <= order; j++) {
			acc += w[j] * ref[i - order + j];
			pw += ref[i - order + j] * ref[i - order + j];
		}
		y[i] = acc;
		e = d[i] - acc;
		for (size_t j = 0; j <= order; j++)
			w[j] += mu * e * ref[i - order + j] / (eps + pw);
	}
	free(w);
}

/* The fused NLMS (its window power kept as a running sum) agrees with the plain one to 1e-9 of
 * the output range over 20000 samples, for the same tap counts as LMS. */
Test(dsp_anc, nlms_matches_plain)
{
	const size_t n = 20000, orders[] = {1, 7, 15, 32, 293};
	double *ref = malloc(n * sizeof *ref), *d = malloc(n * sizeof *d);
	double *y = malloc(n * sizeof *y), *yp = malloc(n * sizeof *yp);

	rng_state = 17;
	for (size_t i = 0; i < n; i++) {
		ref[i] = (1 + 0.9 * sin(1e-3 * (double)i)) * rng_normal();
		d[i] = 0.5 * ref[i] + (i > 3 ? 0.25 * ref[i - 3] : 0) + 0.1 * rng_normal();
	}
	for (size_t o = 0; o < sizeof orders / sizeof orders[0]; o++) {
		double scale = 0, eps = 1e-3 * (double)(orders[o] + 1);
		dsp_anc_nlms(ref, d, n, orders[o], 0.1, eps, y);
		plain_nlms(ref, d, n, orders[o], 0.1, eps, yp);
		for (size_t i = 0; i < n; i++)
			scale = fabs(yp[i]) > scale ? fabs(yp[i]) : scale;
		for (size_t i = 0; i < n; i++)
			cr_assert_float_eq(y[i], yp[i], 1e-9 * scale, "order %zu, i %zu",
					   orders[o], i);
	}
	free(ref), free(d), free(y), free(yp);
}

/* A reference whose power falls 100-fold halfway while the path to the signal changes (an
 * artifact that shrinks and changes shape): LMS with the step set for the mean power barely
 * adapts in the quiet half, NLMS with the same mean step does; over the quiet half NLMS leaves
 * at least 10 dB less of the correlated noise than LMS. */
Test(dsp_anc, nlms_follows_a_changing_reference)
{
	const size_t n = 80000, order = 16;
	const double h[2][5] = {{0.8, -0.4, 0.0, 0.3, 0.1}, {-0.2, 0.6, 0.5, 0.0, -0.3}};
	double *ref = malloc(n * sizeof *ref), *d = malloc(n * sizeof *d);
	double *y = malloc(n * sizeof *y), *yn = malloc(n * sizeof *yn), var = 0;
	double pl = 0, pn = 0;

	rng_state = 23;
	for (size_t i = 0; i < n; i++) {
		ref[i] = (i < n / 2 ? 1.0 : 0.1) * rng_normal();
		var += ref[i] * ref[i] / (double)n;
	}
	for (size_t i = 0; i < n; i++) {
		double c = 0;
		for (size_t j = 0; j < 5; j++)
			c += i >= j ? h[i >= n / 2][j] * ref[i - j] : 0;
		d[i] = c;
	}
	/* The same step where the power is its mean: mu_factor 0.05 either way. */
	dsp_anc_lms(ref, d, n, order, 0.05 / ((double)order * var), y);
	dsp_anc_nlms(ref, d, n, order, 2 * 0.05, 1e-3 * (double)(order + 1) * var, yn);
	/* The second half after its first 2000 samples: NLMS has had time to settle again. */
	for (size_t i = n / 2 + 2000; i < n; i++) {
		pl += pow(d[i] - y[i], 2);
		pn += pow(d[i] - yn[i], 2);
	}
	cr_assert_lt(10 * log10(pn / pl), -10.0, "NLMS against LMS %.1f dB", 10 * log10(pn / pl));
	free(ref), free(d), free(y), free(yn);
}

/* d = s + h∗ref: after adaptation the error d - y tracks s, and the mismatch (d - y - s) is at
 * least 20 dB below the correlated noise over the last half. */
Test(dsp_anc, lms_converges_on_correlated_noise)
{
	const size_t n = 60000, order = 16;
	const double h[] = {0.8, -0.4, 0.0, 0.3, 0.1};
	double *ref = malloc(n * sizeof *ref), *s = malloc(n * sizeof *s);
	double *d = malloc(n * sizeof *d), *y = malloc(n * sizeof *y), pn = 0, pm = 0, var = 0;

	rng_state = 99;
	for (size_t i = 0; i < n; i++) {
		ref[i] = rng_normal();
		s[i] = 0.2 * sin(0.01 * (double)i);
		var += ref[i] * ref[i] / (double)n;
	}
	for (size_t i = 0; i < n; i++) {
		double c = 0;
		/* The reference leads: the noise is h applied to the last taps of the window. */
		for (size_t j = 0; j < 5; j++)
			c += i >= j ? h[j] * ref[i - j] : 0;
		d[i] = s[i] + c;
	}
	dsp_anc_lms(ref, d, n, order, 0.05 / ((double)order * var), y);
	for (size_t i = n / 2; i < n; i++) {
		pn += pow(d[i] - s[i], 2);
		pm += pow(d[i] - y[i] - s[i], 2);
	}
	cr_assert_lt(10 * log10(pm / pn), -20.0, "mismatch %.1f dB", 10 * log10(pm / pn));
	free(ref), free(s), free(d), free(y);
}

/* A residual artifact proportional to the (filtered) noise estimate is reduced; the subtracted
 * signal is added to the noise; a tiny max_gain skips the channel and leaves it untouched. */
Test(dsp_anc, apply_reduces_residual_and_skips)
{
	const size_t len = 200, ntrig = 100, n = (ntrig + 6) * len;
	const double fs = 1000;
	int64_t trig[100];
	double *x = malloc(n * sizeof *x), *x0 = malloc(n * sizeof *x0);
	double *clean = malloc(n * sizeof *clean), *ref = calloc(n, sizeof *ref);
	double *noise = calloc(n, sizeof *noise), before = 0, after = 0, prev = 0;
	struct dsp_anc_params p;
	struct dsp_anc_result res;
	char *cause = NULL;

	rng_state = 5;
	for (size_t i = 0; i < ntrig; i++)
		trig[i] = (int64_t)((i + 3) * len);
	for (size_t i = 0; i < n; i++) {
		prev = 0.95 * prev + 0.05 * rng_normal();
		clean[i] = 10e-6 * prev;
	}
	for (size_t i = 0; i < ntrig; i++)
		for (size_t t = 0; t < len; t++) {
			double ph = 2 * M_PI * (double)t / (double)len;
			ref[(size_t)trig[i] + t] =
			    1e-3 * (sin(9 * ph) + 0.5 * sin(23 * ph) + 0.01 * rng_normal());
		}
	for (size_t i = 0; i < n; i++)
		x[i] = clean[i] + 0.02 * ref[i];
	memcpy(x0, x, n * sizeof *x);
	dsp_anc_params_init(&p);
	p.hp = dsp_anc_cutoff(fs / (double)len);
	cr_assert_eq(dsp_anc_apply(x, n, fs, ref, trig, ntrig, len, &p, noise, &res, &cause), 0,
		     "%s", cause ? cause : "");
	cr_assert_eq(res.skipped, 0);
	cr_assert_gt(res.alpha, 0.0);
	for (size_t i = (size_t)trig[ntrig / 2]; i < (size_t)trig[ntrig - 1]; i++) {
		before += pow(x0[i] - clean[i], 2);
		after += pow(x[i] - clean[i], 2);
		cr_assert_float_eq(noise[i], x0[i] - x[i], 1e-18);
	}
	cr_assert_lt(10 * log10(after / before), -10.0, "reduction %.1f dB",
		     10 * log10(after / before));

	memcpy(x, x0, n * sizeof *x);
	p.max_gain = 1e-9;
	cr_assert_eq(dsp_anc_apply(x, n, fs, ref, trig, ntrig, len, &p, NULL, &res, &cause), 0);
	cr_assert_eq(res.skipped, 1);
	cr_assert_gt(res.gain, 1e-9);
	cr_assert_eq(memcmp(x, x0, n * sizeof *x), 0);

	trig[5] = -1;
	cr_assert_eq(dsp_anc_apply(x, n, fs, ref, trig, ntrig, len, &p, NULL, &res, &cause),
		     -EINVAL);
	cr_assert_not_null(strstr(cause, "trigger 5"));
	free(cause);
	free(x), free(x0), free(clean), free(ref), free(noise);
}
