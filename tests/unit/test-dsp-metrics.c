/* Metrics: Welch PSD against scipy, windows and every metric on hand-computable signals, the
 * ground-truth quality measure. */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "test-dsp-util.h"
#include "worker/dsp/fmri/dsp-metrics.h"

/* Welch PSD of tests/data/dsp-rec/<name>_x.npy (n samples) against <name>_p.npy. */
static void
check_welch(const char *name, size_t n, double fs, size_t nper)
{
	size_t nb = nper / 2 + 1;
	char xname[64], pname[64];
	double *x, *want, *p = calloc(nb, sizeof *p), top = 0;

	snprintf(xname, sizeof xname, "%s_x", name);
	snprintf(pname, sizeof pname, "%s_p", name);
	x = test_fixture("dsp-rec", xname, n);
	want = test_fixture("dsp-rec", pname, nb);
	cr_assert_eq(dsp_metrics_welch(x, n, fs, nper, p, NULL), 0);
	for (size_t k = 0; k < nb; k++)
		top = want[k] > top ? want[k] : top;
	/* Tolerance: 1e-10 relative per bin, floored at 1e-13 of the largest bin. */
	for (size_t k = 0; k < nb; k++)
		cr_assert_float_eq(p[k], want[k], 1e-10 * want[k] + 1e-13 * top,
				   "nperseg %zu bin %zu: %.17g vs %.17g", nper, k, p[k], want[k]);
	free(x);
	free(want);
	free(p);
}

Test(dsp_metrics, welch_matches_scipy)
{
	double *x;

	check_welch("welch_a", 1200, 100, 300);
	check_welch("welch_b", 1000, 256, 257);
	check_welch("welch_c", 200, 100, 200);
	x = test_fixture("dsp-rec", "welch_c_x", 200);
	cr_assert_eq(dsp_metrics_welch(x, 200, 100, 201, NULL, NULL), -EINVAL);
	free(x);
}

Test(dsp_metrics, median)
{
	const double a[] = {3, 1, 2}, b[] = {4, 1, NAN, 3, 2};

	cr_assert_float_eq(dsp_metrics_median(a, 3), 2.0, 0);
	cr_assert_float_eq(dsp_metrics_median(b, 5), 2.5, 0);
	cr_assert(isnan(dsp_metrics_median(b + 2, 1)));
}

Test(dsp_metrics, windows_and_slice_freq)
{
	const int64_t trig[] = {2000, 3000, 4000};
	struct dsp_metrics_windows w;
	char *cause = NULL;

	cr_assert_eq(dsp_metrics_windows(10000, 100, trig, 3, 100, &w, NULL), 0);
	cr_assert_eq(w.pre_end, 1990);
	cr_assert_eq(w.post_start, 4110);
	cr_assert_eq(w.acq_start, 1950);
	cr_assert_eq(w.acq_end, 4150);
	cr_assert_float_eq(dsp_metrics_slice_freq(trig, 3, 100), 0.1, 1e-15);
	cr_assert_eq(dsp_metrics_windows(3500, 100, trig, 3, 100, &w, &cause), -EINVAL);
	cr_assert_not_null(strstr(cause, "trigger 2"));
	free(cause);
}

/* A 10 Hz tone at fs 1000 with amplitude 1 outside the acquisition window [1950, 4150) and 2
 * inside; the original is 3× the corrected signal. Every window holds whole periods and the tone
 * sits on a Welch bin, so: var_ref 0.5, var_acq 2, snr 0.5/1.5, rms_ratio 3, rms_residual 2,
 * Allen 8-12 Hz |4 - 1| = 300 %, Niazy at 10 Hz 10·log10(9) dB. */
Test(dsp_metrics, channel_and_aggregate_on_a_tone)
{
	const size_t n = 10000, len = 100;
	const int64_t trig[] = {2000, 2500, 3000, 3500, 4000};
	const double fs = 1000;
	double *corr = malloc(n * sizeof *corr), *orig = malloc(n * sizeof *orig);
	struct dsp_metrics_channel ch[3];
	struct dsp_metrics_summary s;
	char *cause = NULL;

	for (size_t i = 0; i < n; i++) {
		double g = i >= 1950 && i < 4150 ? 2 : 1;
		corr[i] = g * sin(2 * M_PI * 10 * (double)i / fs);
		orig[i] = 3 * corr[i];
	}
	for (int c = 0; c < 3; c++)
		cr_assert_eq(
		    dsp_metrics_channel(orig, corr, n, fs, trig, 5, len, 10, 2.5, &ch[c], &cause),
		    0, "%s", cause ? cause : "");
	cr_assert_float_eq(ch[0].var_ref, 0.5, 1e-12);
	cr_assert_float_eq(ch[0].var_acq, 2.0, 1e-12);
	cr_assert_float_eq(ch[0].rms_corr, sqrt(2.0), 1e-12);
	cr_assert_float_eq(ch[0].rms_orig, 3 * sqrt(2.0), 1e-12);
	dsp_metrics_aggregate(ch, 3, &s);
	cr_assert_float_eq(s.snr, 0.5 / 1.5, 1e-12);
	cr_assert_float_eq(s.rms_ratio, 3.0, 1e-12);
	cr_assert_float_eq(s.rms_residual, 2.0, 1e-12);
	cr_assert_float_eq(s.allen[2], 300.0, 1e-8, "allen alpha %.12g", s.allen[2]);
	cr_assert_float_eq(s.niazy[0][0], 10 * log10(9.0), 1e-9);
	cr_assert_float_eq(s.niazy[1][3], 10 * log10(9.0), 1e-9);
	/* Without the original, its parts are NAN and so are the ratios built on them. */
	cr_assert_eq(dsp_metrics_channel(NULL, corr, n, fs, trig, 5, len, 10, 0, &ch[0], NULL), 0);
	cr_assert(isnan(ch[0].rms_orig));
	cr_assert(isnan(ch[0].niazy_corr[1][0]));
	free(corr), free(orig);
}

/* Same variance inside and out: the snr denominator is floored at 1e-10. */
Test(dsp_metrics, snr_floor)
{
	struct dsp_metrics_channel ch = {.var_ref = 2e-10,
					 .var_acq = 2e-10,
					 .rms_orig = 1,
					 .rms_corr = 1,
					 .std_ref = 1,
					 .std_acq = 1};
	struct dsp_metrics_summary s;

	for (int b = 0; b < DSP_METRICS_ALLEN_BANDS; b++)
		ch.allen[b] = NAN;
	for (int t = 0; t < 2; t++)
		for (int h = 0; h < DSP_METRICS_HARMONICS; h++)
			ch.niazy_orig[t][h] = ch.niazy_corr[t][h] = NAN;
	dsp_metrics_aggregate(&ch, 1, &s);
	cr_assert_float_eq(s.snr, 2.0, 1e-12);
	cr_assert(isnan(s.allen[0]));
	cr_assert(isnan(s.niazy[0][0]));
}

/* Peak-to-peak per epoch, epochs outside the data left out, channel mean then median. */
Test(dsp_metrics, median_artifact)
{
	const int64_t trig[] = {1, 10, 20, 28};
	double x[30] = {0}, p2p[8];

	x[12] = 5, x[14] = -1; /* epoch 1 at [10 + 2 - 1 ..) = [11, 15): 6 */
	x[22] = 2;             /* epoch 2 [21, 25): 2 */
	dsp_metrics_p2p(x, 30, trig, 4, 4, 1, p2p);
	cr_assert_float_eq(p2p[0], 0, 0);
	cr_assert_float_eq(p2p[1], 6, 0);
	cr_assert_float_eq(p2p[2], 2, 0);
	cr_assert(isnan(p2p[3]));
	/* Second channel: twice the first. Epoch means 0, 9, 3 (NAN dropped): median 3. */
	for (int i = 0; i < 4; i++)
		p2p[4 + i] = 2 * p2p[i];
	cr_assert_float_eq(dsp_metrics_median_artifact(p2p, 2, 4), 3.0, 1e-15);
	dsp_metrics_p2p(x, 30, trig, 4, 4, -2, p2p);
	cr_assert(isnan(p2p[0]));
}

/* rec = clean + a, corr = clean + a/10: 20 dB and RMS(a/10) in µV over [T0, T[-1] + 300); the
 * pass band (1-70 Hz) leaves a 10 Hz clean signal alone but removes its DC offset. */
Test(dsp_metrics, truth_quality)
{
	const size_t n = 20000;
	const double fs = 1000;
	const int64_t trig[] = {5000, 9000, 12000};
	double *clean = malloc(n * sizeof *clean), *rec = malloc(n * sizeof *rec);
	double *corr = malloc(n * sizeof *corr), db, uv, a2 = 0;

	for (size_t i = 0; i < n; i++) {
		double a = 1e-4 * sin(2 * M_PI * 37 * (double)i / fs + 0.3);
		clean[i] = 20e-6 * sin(2 * M_PI * 10 * (double)i / fs);
		rec[i] = clean[i] + a;
		corr[i] = clean[i] + a / 10;
		if (i >= 5000 && i < 12300)
			a2 += a * a / 100;
	}
	cr_assert_eq(dsp_metrics_truth(rec, corr, clean, n, fs, trig, 3, 0, 0, &db, &uv, NULL), 0);
	cr_assert_float_eq(db, 20.0, 1e-9);
	cr_assert_float_eq(uv, 1e6 * sqrt(a2 / 7300), 1e-9);
	for (size_t i = 0; i < n; i++) {
		rec[i] += 50e-6;
		clean[i] += 50e-6;
	}
	cr_assert_eq(dsp_metrics_truth(rec, corr, clean, n, fs, trig, 3, 1, 70, &db, &uv, NULL), 0);
	cr_assert_float_eq(db, 20.0, 0.05, "db %.4f", db);
	cr_assert_float_eq(uv, 1e6 * sqrt(a2 / 7300), 0.01 * 1e6 * sqrt(a2 / 7300), "uv %.4f", uv);
	free(clean), free(rec), free(corr);
}

/* A deterministic pseudo-random sequence in [-1, 1). */
static double
lcg(uint64_t *s)
{
	*s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
	return (double)(*s >> 11) / 4503599627370496.0 - 1.0;
}

/* White noise everywhere, and in the acquisition a sinusoid at the fourth slice harmonic whose
 * band mean is 9 times the noise's: that harmonic reads +10 dB against the reference, the
 * others 0 (within the scatter of the noise's estimates). */
Test(dsp_metrics, harmonics_against_the_reference)
{
	const double fs = 200, sf = 10;
	const size_t n = 200 * 120, len = 20;
	int64_t trig[400];
	double *x = malloc(n * sizeof *x), noise_psd, amp;
	struct dsp_metrics_channel m;
	struct dsp_metrics_summary s;
	uint64_t seed = 7;

	for (size_t i = 0; i < 400; i++)
		trig[i] = 4000 + 40 * (int64_t)i; /* 20 s to 100 s, 5 Hz of artifact epochs */
	/* Uniform noise in [-1, 1): variance 1/3, one-sided density 2/(3 fs). */
	noise_psd = 2.0 / (3 * fs);
	/* A tone of amplitude a puts a²/2 into the 5 bins (0.25 Hz apart) of the ±0.5 Hz band:
	 * their mean density is a²/2 / 1.25 Hz. */
	amp = sqrt(2 * 1.25 * 9 * noise_psd);
	for (size_t i = 0; i < n; i++) {
		x[i] = lcg(&seed);
		if (i >= 3990 && i < 20000)
			x[i] += amp * sin(2 * M_PI * 2 * sf * (double)i / fs);
	}
	cr_assert_eq(dsp_metrics_channel(NULL, x, n, fs, trig, 400, len, sf / 2, 0, &m, NULL), 0);
	dsp_metrics_aggregate(&m, 1, &s);
	/* sf/2 = 5 Hz is the "slice" rate here: harmonic 4 sits at 20 Hz. */
	for (int h = 0; h < DSP_METRICS_HARMONICS; h++)
		cr_assert_float_eq(s.harm_vs_ref[0][h], h == 3 ? 10.0 : 0.0, 0.8, "harmonic %d: %g",
				   h + 1, s.harm_vs_ref[0][h]);
	cr_assert(isnan(s.harm_vs_ref[1][0]), "no volume rate, no volume harmonics");
	free(x);
}

Test(dsp_metrics, reference_interval_and_its_epochs)
{
	const int64_t trig[] = {2000, 3000, 4000};
	struct dsp_metrics_windows w;
	double *x = calloc(10000, sizeof *x), p2p[64];
	char *cause = NULL;

	cr_assert_eq(dsp_metrics_windows(10000, 100, trig, 3, 100, &w, NULL), 0);
	/* Outside the scan: [0, 1990) and [4110, 10000): 19 + 58 whole epochs of 100. */
	cr_assert_eq(dsp_metrics_p2p_reference(x, 10000, &w, 100, p2p, 64), 64);
	cr_assert_eq(dsp_metrics_p2p_reference(x, 10000, &w, 1000, p2p, 64), 7);
	cr_assert_eq(dsp_metrics_windows_reference(&w, 10000, 100, 5, 7.5, NULL), 0);
	cr_assert_eq(w.ref_start, 500);
	cr_assert_eq(w.pre_end, 750);
	cr_assert_eq(w.post_start, 10000);
	for (size_t i = 500; i < 750; i++)
		x[i] = (i / 50) % 2 ? 1 : -1; /* a square wave of p2p 2 */
	cr_assert_eq(dsp_metrics_p2p_reference(x, 10000, &w, 50, p2p, 64), 5);
	cr_assert_float_eq(p2p[0], 0, 0);
	cr_assert_eq(dsp_metrics_p2p_reference(x, 10000, &w, 100, p2p, 64), 2);
	cr_assert_float_eq(p2p[0], 2, 0);
	cr_assert_eq(dsp_metrics_windows_reference(&w, 10000, 100, 200, 300, &cause), -EINVAL);
	cr_assert_not_null(strstr(cause, "reference interval"), "%s", cause);
	free(cause);
	free(x);
}
