/* FIR filters: tap counts and taps against scipy/MNE fixtures, FFT overlap-add against a direct
 * time-domain convolution, gains at the design points, parameter checks. */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "test-dsp-util.h"
#include "worker/dsp/core/dsp-filter.h"
#include "worker/dsp/core/fft-plan.h"

/* Reference: reflect-limited padding and a direct centred convolution. */
static void
ref_filter(const double *h, size_t m, const double *x, size_t n, double *y)
{
	size_t e = (m < n ? m : n) - 1, h0 = (m - 1) / 2;
	double *xp;

	cr_assert(n >= 2 && m >= 1);
	xp = malloc((n + 2 * e) * sizeof *xp);

	for (size_t p = 0; p < e; p++)
		xp[p] = 2 * x[0] - x[e - p];
	for (size_t i = 0; i < n; i++)
		xp[e + i] = x[i];
	for (size_t q = 0; q < e; q++)
		xp[e + n + q] = 2 * x[n - 1] - x[n - 2 - q];
	for (size_t i = 0; i < n; i++) {
		double acc = 0;
		for (size_t j = 0; j < m; j++) {
			long p = (long)(i + e + h0) - (long)j;
			if (p >= 0 && p < (long)(n + 2 * e))
				acc += h[j] * xp[p];
		}
		y[i] = acc;
	}
	free(xp);
}

static double
max_abs_diff(const double *a, const double *b, size_t n)
{
	double d = 0;
	for (size_t i = 0; i < n; i++)
		d = fmax(d, fabs(a[i] - b[i]));
	return d;
}

Test(dsp_filter, tap_counts_from_spec)
{
	struct dsp_filter f;

	cr_assert_eq(dsp_filter_design(&f, DSP_FILTER_HIGHPASS, 2048, 1, 0, NULL), 0);
	cr_assert_eq(f.ntaps, 6759);
	dsp_filter_fini(&f);
	cr_assert_eq(dsp_filter_design(&f, DSP_FILTER_HIGHPASS, 20480, 1, 0, NULL), 0);
	cr_assert_eq(f.ntaps, 67585);
	dsp_filter_fini(&f);
	cr_assert_eq(dsp_filter_design(&f, DSP_FILTER_LOWPASS, 2048, 0, 70, NULL), 0);
	cr_assert_eq(f.ntaps, 387);
	dsp_filter_fini(&f);
}

/* Compare designed taps with tests/data/dsp-filter/<name>.npy (m values). */
static void
check_taps(const struct dsp_filter *f, const char *name, size_t m)
{
	double *want = test_fixture("dsp-filter", name, m);

	cr_assert_eq(f->ntaps, m);
	/* Same formula in another language: agreement to rounding. */
	cr_assert_lt(max_abs_diff(f->taps, want, m), 1e-14, "taps differ from scipy/MNE");
	free(want);
}

Test(dsp_filter, taps_match_scipy_mne_fixtures)
{
	struct dsp_filter f;
	double notch = 50;

	cr_assert_eq(dsp_filter_design(&f, DSP_FILTER_LOWPASS, 2048, 0, 70, NULL), 0);
	check_taps(&f, "lp70_2048", 387);
	dsp_filter_fini(&f);
	cr_assert_eq(dsp_filter_design(&f, DSP_FILTER_HIGHPASS, 256, 1, 0, NULL), 0);
	check_taps(&f, "hp1_256", 845);
	dsp_filter_fini(&f);
	cr_assert_eq(dsp_filter_design(&f, DSP_FILTER_BANDPASS, 512, 8, 30, NULL), 0);
	check_taps(&f, "bp8_30_512", 845);
	dsp_filter_fini(&f);
	cr_assert_eq(dsp_filter_design_notch(&f, 250, &notch, 1, 0, NULL), 0);
	check_taps(&f, "notch50_250", 1651);
	dsp_filter_fini(&f);
}

Test(dsp_filter, output_matches_mne_fixture)
{
	double y[1000];
	double *sig = test_fixture("dsp-filter", "signal", 1000);
	double *lp = test_fixture("dsp-filter", "signal_lp70_2048", 1000);
	double *hp = test_fixture("dsp-filter", "signal_hp1_256", 1000);

	memcpy(y, sig, sizeof y);
	cr_assert_eq(dsp_filter_lowpass(y, 1000, 2048, 70, NULL), 0);
	cr_assert_lt(max_abs_diff(y, lp, 1000), 1e-10);
	memcpy(y, sig, sizeof y);
	cr_assert_eq(dsp_filter_highpass(y, 1000, 256, 1, NULL), 0);
	cr_assert_lt(max_abs_diff(y, hp, 1000), 1e-10);
	free(sig);
	free(lp);
	free(hp);
}

static void
check_against_direct(const struct dsp_filter *f, size_t n, unsigned seed)
{
	double *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y), *r = malloc(n * sizeof *r);
	double scale = 0;

	srand(seed);
	for (size_t i = 0; i < n; i++) {
		x[i] = (double)rand() / RAND_MAX - 0.5 + 3.0 * sin(0.001 * (double)i) +
		       1e-3 * (double)i;
		scale = fmax(scale, fabs(x[i]));
	}
	ref_filter(f->taps, f->ntaps, x, n, r);
	memcpy(y, x, n * sizeof *y);
	cr_assert_eq(dsp_filter_apply(f, y, n, NULL), 0);
	/* FFT round-off: relative 1e-11 of the signal scale. */
	cr_assert_lt(max_abs_diff(y, r, n), 1e-11 * scale, "n=%zu taps=%zu diff=%g", n, f->ntaps,
		     max_abs_diff(y, r, n));
	free(x);
	free(y);
	free(r);
}

Test(dsp_filter, overlap_add_matches_direct_convolution)
{
	struct dsp_filter f;
	size_t sizes[] = {2, 3, 100, 386, 387, 388, 1000, 5000, 40000};

	cr_assert_eq(dsp_filter_design(&f, DSP_FILTER_LOWPASS, 2048, 0, 70, NULL), 0);
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
		check_against_direct(&f, sizes[i], (unsigned)i + 1);
	dsp_filter_fini(&f);
	cr_assert_eq(dsp_filter_design(&f, DSP_FILTER_BANDPASS, 512, 8, 30, NULL), 0);
	check_against_direct(&f, 20000, 11);
	check_against_direct(&f, 300, 12);
	dsp_filter_fini(&f);
	fft_plan_cache_clear();
}

/* Gain of a sinusoid at frequency fr through the filter, measured in the middle of the record. */
static double
gain_at(int (*fn)(double *, size_t, double, double, char **), double fs, double fc, double fr)
{
	size_t n = (size_t)(fs * 40);
	double *x = malloc(n * sizeof *x), num = 0, den = 0;

	for (size_t i = 0; i < n; i++)
		x[i] = sin(2 * M_PI * fr * (double)i / fs);
	cr_assert_eq(fn(x, n, fs, fc, NULL), 0);
	for (size_t i = n / 4; i < 3 * n / 4; i++) {
		double s = sin(2 * M_PI * fr * (double)i / fs);
		num += x[i] * s;
		den += s * s;
	}
	free(x);
	return num / den;
}

Test(dsp_filter, minus_6db_at_design_points)
{
	/* HP 1 Hz: lo_trans = 1 → -6 dB at 0.5 Hz; LP 70 Hz: hi_trans = 17.5 → at 78.75 Hz. */
	cr_assert_float_eq(gain_at(dsp_filter_highpass, 2048, 1, 0.5), 0.5, 0.01);
	cr_assert_float_eq(gain_at(dsp_filter_highpass, 2048, 1, 10), 1.0, 0.005);
	cr_assert_float_eq(gain_at(dsp_filter_lowpass, 2048, 70, 78.75), 0.5, 0.01);
	cr_assert_float_eq(gain_at(dsp_filter_lowpass, 2048, 70, 20), 1.0, 0.005);
	cr_assert_lt(fabs(gain_at(dsp_filter_lowpass, 2048, 70, 120)), 0.005);
	fft_plan_cache_clear();
}

Test(dsp_filter, notch_removes_line)
{
	size_t n = 250 * 60;
	double *x = malloc(n * sizeof *x), f50 = 50, p50 = 0, p20 = 0;

	for (size_t i = 0; i < n; i++)
		x[i] = sin(2 * M_PI * 50 * (double)i / 250) + sin(2 * M_PI * 20 * (double)i / 250);
	cr_assert_eq(dsp_filter_notch(x, n, 250, &f50, 1, 0, NULL), 0);
	for (size_t i = n / 4; i < 3 * n / 4; i++) {
		p50 += x[i] * sin(2 * M_PI * 50 * (double)i / 250);
		p20 += x[i] * sin(2 * M_PI * 20 * (double)i / 250);
	}
	p50 /= (double)n / 4;
	p20 /= (double)n / 4;
	cr_assert_lt(fabs(p50), 0.01);
	cr_assert_float_eq(p20, 1.0, 0.01);
	free(x);
}

Test(dsp_filter, rejects_bad_parameters)
{
	double x[16] = {0}, f = 1200;
	char *cause = NULL;

	cr_assert_eq(dsp_filter_highpass(x, 16, 2048, 0, &cause), -EINVAL);
	cr_assert_not_null(strstr(cause, "low cut-off"));
	free(cause);
	cause = NULL;
	cr_assert_eq(dsp_filter_lowpass(x, 16, 2048, 1024, &cause), -EINVAL);
	cr_assert_not_null(strstr(cause, "high cut-off"));
	free(cause);
	cause = NULL;
	cr_assert_eq(dsp_filter_bandpass(x, 16, 2048, 30, 8, &cause), -EINVAL);
	free(cause);
	cause = NULL;
	cr_assert_eq(dsp_filter_highpass(x, 16, -1, 1, &cause), -EINVAL);
	cr_assert_not_null(strstr(cause, "sampling rate"));
	free(cause);
	cause = NULL;
	cr_assert_eq(dsp_filter_notch(x, 16, 2048, &f, 1, 0, &cause), -EINVAL);
	free(cause);
}
