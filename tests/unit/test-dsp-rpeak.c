/* R-peak detection: against the true beats of ECG leads from two independent models (the
 * generator's in-scanner lead at several rates and heart rates, and gen-dsp-pulse.py's lead),
 * against MNE's find_ecg_events on the latter, with a weak beat and a spike, an inverted lead,
 * the heart-period estimate, and bad input. */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/test-dsp-util.h"
#include "worker/dsp/pulse/dsp-rpeak.h"
#include "worker/synth/synth-pulse.h"

/* How many of want[] have a peak of got[] within tol samples, and how many of got[] have none
 * of want[] within tol. */
static void
match(const int64_t *want, size_t nw, const int64_t *got, size_t ng, int64_t tol, size_t *hit,
      size_t *extra)
{
	*hit = *extra = 0;
	for (size_t i = 0; i < nw; i++)
		for (size_t k = 0; k < ng; k++)
			if (llabs(got[k] - want[i]) <= tol) {
				(*hit)++;
				break;
			}
	for (size_t k = 0; k < ng; k++) {
		int near = 0;

		for (size_t i = 0; i < nw && !near; i++)
			near = llabs(got[k] - want[i]) <= tol;
		*extra += !near;
	}
}

/* The generator's ECG lead and its true R peaks; the peaks within 40 ms of either end, which
 * the detector does not report by design, are left out of *want. */
static double *
lead(double fs, double hr, uint64_t seed, double seconds, int64_t **want, size_t *nw)
{
	struct synth_pulse_params p;
	struct synth_pulse *s = NULL;
	size_t n = (size_t)(seconds * fs), nt;
	double *x = malloc(n * sizeof *x);
	const int64_t *t;

	synth_pulse_params_init(&p);
	p.heart_rate = hr;
	p.seed = seed;
	cr_assert_eq(synth_pulse_new(&p, fs, n, 1, &s, NULL), 0);
	synth_pulse_ecg(s, 0, n, x);
	t = synth_pulse_rpeaks(s, &nt);
	*want = malloc((nt + 1) * sizeof **want);
	*nw = 0;
	for (size_t i = 0; i < nt; i++)
		if ((double)t[i] > 0.04 * fs && (double)t[i] < (double)n - 0.04 * fs)
			(*want)[(*nw)++] = t[i];
	synth_pulse_free(s);
	return x;
}

Test(dsp_rpeak, generator_leads_at_several_rates_and_heart_rates)
{
	static const double rates[] = {500, 1000, 2048, 5000}, hrs[] = {45, 66, 110, 160};
	struct dsp_rpeak_params p;

	dsp_rpeak_params_init(&p);
	for (size_t a = 0; a < 4; a++)
		for (size_t b = 0; b < 4; b++) {
			struct dsp_rpeak_result r;
			size_t nw, hit, extra;
			int64_t *want, tol = (int64_t)ceil(0.002 * rates[a]);
			double *x = lead(rates[a], hrs[b], 11 + a * 4 + b, 60, &want, &nw);

			cr_assert_eq(
			    dsp_rpeak_detect(x, (size_t)(60 * rates[a]), rates[a], &p, &r, NULL),
			    0);
			match(want, nw, r.peaks, r.n, tol, &hit, &extra);
			cr_assert_eq(hit, nw, "%g Hz, %g bpm: %zu of %zu beats within 2 ms",
				     rates[a], hrs[b], hit, nw);
			cr_assert_eq(extra, 0, "%g Hz, %g bpm: %zu extra", rates[a], hrs[b], extra);
			cr_assert_float_eq(r.rr_median, 60 / hrs[b], 0.08 * 60 / hrs[b]);
			dsp_rpeak_result_fini(&r);
			free(want);
			free(x);
		}
}

Test(dsp_rpeak, independent_lead_against_truth_and_mne)
{
	struct io_npy_header h;
	double *x = test_load_in(ND_SOURCE_ROOT "/tests/data/dsp-pulse", "ecg_500", &h);
	double *tv = test_load_in(ND_SOURCE_ROOT "/tests/data/dsp-pulse", "ecg_500_true", &h);
	size_t nt = h.count, nm, n, hit, extra;
	double *mv = test_load_in(ND_SOURCE_ROOT "/tests/data/dsp-pulse", "ecg_500_mne", &h);
	int64_t *t = malloc(nt * sizeof *t), *m;
	struct dsp_rpeak_params p;
	struct dsp_rpeak_result r;

	nm = h.count;
	m = malloc(nm * sizeof *m);
	for (size_t i = 0; i < nt; i++)
		t[i] = (int64_t)tv[i];
	for (size_t i = 0; i < nm; i++)
		m[i] = (int64_t)mv[i];
	n = 90 * 500;
	dsp_rpeak_params_init(&p);
	cr_assert_eq(dsp_rpeak_detect(x, n, 500, &p, &r, NULL), 0);
	/* Every true beat within 2 samples (4 ms), nothing else. */
	match(t, nt, r.peaks, r.n, 2, &hit, &extra);
	cr_assert_eq(hit, nt, "%zu of %zu true beats", hit, nt);
	cr_assert_eq(extra, 0);
	/* Every beat MNE finds is one of ours, at the same sample or the next. */
	match(m, nm, r.peaks, r.n, 1, &hit, &extra);
	cr_assert_eq(hit, nm, "%zu of MNE's %zu beats", hit, nm);
	cr_assert_geq(r.n, nm);
	dsp_rpeak_result_fini(&r);
	free(x);
	free(tv);
	free(mv);
	free(t);
	free(m);
}

/* One beat at a fraction of its amplitude (below the first threshold) and a QRS-sized spike
 * half way between two beats: the weak beat is found again, the spike is dropped. */
Test(dsp_rpeak, weak_beat_found_and_spike_dropped)
{
	const double fs = 1000;
	struct dsp_rpeak_params p;
	struct dsp_rpeak_result r;
	size_t nw, hit, extra, n = 60000;
	int64_t *want, sp;
	double *x = lead(fs, 66, 5, 60, &want, &nw);

	for (int64_t i = want[30] - 80; i < want[30] + 80; i++)
		x[i] *= 0.2;
	sp = (want[40] + want[41]) / 2;
	for (int64_t i = sp - 20; i < sp + 20; i++)
		x[i] += 1.5e-3 * exp(-0.5 * pow((double)(i - sp) / 4.0, 2));
	dsp_rpeak_params_init(&p);
	cr_assert_eq(dsp_rpeak_detect(x, n, fs, &p, &r, NULL), 0);
	match(want, nw, r.peaks, r.n, 2, &hit, &extra);
	cr_assert_eq(hit, nw);
	cr_assert_eq(extra, 0);
	cr_assert_geq(r.added, 1);
	cr_assert_geq(r.removed, 1);
	dsp_rpeak_result_fini(&r);
	free(want);
	free(x);
}

Test(dsp_rpeak, inverted_lead_same_beats)
{
	const double fs = 2048;
	struct dsp_rpeak_params p;
	struct dsp_rpeak_result a, b;
	size_t nw, n = 40 * 2048;
	int64_t *want;
	double *x = lead(fs, 72, 3, 40, &want, &nw);

	dsp_rpeak_params_init(&p);
	cr_assert_eq(dsp_rpeak_detect(x, n, fs, &p, &a, NULL), 0);
	for (size_t i = 0; i < n; i++)
		x[i] = -x[i];
	cr_assert_eq(dsp_rpeak_detect(x, n, fs, &p, &b, NULL), 0);
	cr_assert_eq(a.polarity, -b.polarity);
	cr_assert_eq(a.n, b.n);
	cr_assert_eq(memcmp(a.peaks, b.peaks, a.n * sizeof *a.peaks), 0);
	dsp_rpeak_result_fini(&a);
	dsp_rpeak_result_fini(&b);
	free(want);
	free(x);
}

/* A pulse train every 0.8 s with a smaller bump 0.3 s after each pulse: the period is 0.8 s,
 * not the bump's lag; a train every 0.4 s is not mistaken for 0.8 s. */
Test(dsp_rpeak, heart_period)
{
	const double fs = 1000;
	size_t n = 30000;
	double *f = calloc(n, sizeof *f);

	for (size_t i = 0; i < n; i++) {
		double ph = fmod((double)i / fs, 0.8);

		f[i] = exp(-0.5 * pow((ph - 0.1) / 0.01, 2)) +
		       0.3 * exp(-0.5 * pow((ph - 0.4) / 0.02, 2));
	}
	cr_assert_float_eq(dsp_rpeak_period(f, n, fs), 0.8, 0.02);
	for (size_t i = 0; i < n; i++)
		f[i] = exp(-0.5 * pow((fmod((double)i / fs, 0.4) - 0.1) / 0.01, 2));
	cr_assert_float_eq(dsp_rpeak_period(f, n, fs), 0.4, 0.01);
	free(f);
}

Test(dsp_rpeak, bad_input)
{
	struct dsp_rpeak_params p;
	struct dsp_rpeak_result r;
	double x[1000] = {0};
	char *cause = NULL;

	dsp_rpeak_params_init(&p);
	cr_assert_eq(dsp_rpeak_detect(x, 1000, 1000, &p, &r, &cause), -EINVAL);
	cr_assert_not_null(strstr(cause, "2 s"), "%s", cause);
	free(cause);
	cause = NULL;
	p.hi = 300;
	cr_assert_eq(dsp_rpeak_detect(x, 1000, 500, &p, &r, &cause), -EINVAL);
	cr_assert_not_null(strstr(cause, "band"), "%s", cause);
	free(cause);
	/* A flat lead is not an error: no beats. */
	{
		double *z = calloc(10000, sizeof *z);

		dsp_rpeak_params_init(&p);
		cr_assert_eq(dsp_rpeak_detect(z, 10000, 1000, &p, &r, NULL), 0);
		cr_assert_eq(r.n, 0);
		dsp_rpeak_result_fini(&r);
		free(z);
	}
}
