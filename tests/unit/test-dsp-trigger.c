/* Trigger trains: the L / volume-gap rule on a Niazy-shaped train, scaling, and both aligners
 * against brute-force references and known jitters. */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "worker/dsp/fmri/dsp-trigger.h"

/* 40 volumes of 21 slices: d alternates 292/293 inside a volume, 302/303 between volumes. */
static size_t
niazy_train(int64_t *t, int64_t start)
{
	size_t n = 0;
	int64_t p = start;

	for (int v = 0; v < 40; v++)
		for (int s = 0; s < 21; s++) {
			t[n++] = p;
			if (s < 20)
				p += 292 + (n % 2);
			else
				p += 302 + (v % 2);
		}
	return n;
}

Test(dsp_trigger, niazy_rule)
{
	int64_t t[840];
	struct dsp_trigger_info info;
	size_t n = niazy_train(t, 1000);

	cr_assert_eq(n, 840);
	cr_assert_eq(dsp_trigger_analyze(t, n, &info, NULL), 0);
	cr_assert_eq(info.artifact_len, 293);
	cr_assert_eq(info.volume_gaps, 1);
	cr_assert_eq(info.slices_per_volume, 21);
}

Test(dsp_trigger, uniform_train_has_no_gaps)
{
	int64_t t[100];
	struct dsp_trigger_info info;

	for (size_t i = 0; i < 100; i++)
		t[i] = 50 + (int64_t)i * 400 + (int64_t)(i % 3); /* d in {401, 401, 398} */
	cr_assert_eq(dsp_trigger_analyze(t, 100, &info, NULL), 0);
	cr_assert_eq(info.artifact_len, 401);
	cr_assert_eq(info.volume_gaps, 0);
	cr_assert_eq(info.slices_per_volume, 0);
}

Test(dsp_trigger, odd_runs_and_errors)
{
	/* Gaps after 3, 3 and 2 slices, then a run of 4 to the end: counts 3,3,2,4 → 3. */
	int64_t t[] = {0, 10, 20, 50, 60, 70, 100, 110, 140, 150, 160, 170};
	int64_t bad[] = {5, 5};
	struct dsp_trigger_info info;
	char *cause = NULL;

	cr_assert_eq(dsp_trigger_analyze(t, 12, &info, NULL), 0);
	cr_assert_eq(info.artifact_len, 10);
	cr_assert_eq(info.slices_per_volume, 3);
	cr_assert_eq(dsp_trigger_analyze(t, 1, &info, &cause), -EINVAL);
	free(cause);
	cause = NULL;
	cr_assert_eq(dsp_trigger_analyze(bad, 2, &info, &cause), -EINVAL);
	cr_assert_not_null(strstr(cause, "increase"));
	free(cause);
}

Test(dsp_trigger, scale_and_radius)
{
	int64_t t[] = {0, 7, 13, 293};

	dsp_trigger_scale(t, 4, 10.0);
	cr_assert_eq(t[1], 70);
	cr_assert_eq(t[3], 2930);
	dsp_trigger_scale(t, 4, 1.0 / 3.0);
	cr_assert_eq(t[1], 23); /* trunc(23.33) */
	cr_assert_eq(dsp_trigger_radius(3, 10), 30);
	cr_assert_eq(dsp_trigger_radius(2, 1), 2);
}

Test(dsp_trigger, window_spans_the_train_clipped_to_the_data)
{
	int64_t t[] = {500, 120, 900};
	size_t ws, we;

	dsp_trigger_window(t, 3, 100, 2000, &ws, &we);
	cr_assert_eq(ws, 20);
	cr_assert_eq(we, 1000);
	dsp_trigger_window(t, 3, 150, 1000, &ws, &we);
	cr_assert_eq(ws, 0);
	cr_assert_eq(we, 1000);
}

/* A recording: a fixed random artifact waveform of length L placed at true[i] (+ s0), over a
 * slow background. */
static double *
make_recording(size_t n, const int64_t *truth, size_t nt, size_t L, long s0, unsigned seed)
{
	double *x = calloc(n, sizeof *x), *a = malloc(L * sizeof *a);

	srand(seed);
	for (size_t k = 0; k < L; k++)
		a[k] = 100.0 * sin(0.9 * (double)k) * sin(M_PI * (double)k / (double)L) +
		       20.0 * ((double)rand() / RAND_MAX - 0.5);
	for (size_t i = 0; i < n; i++)
		x[i] = 5.0 * sin(2 * M_PI * (double)i / 5000.0);
	for (size_t i = 0; i < nt; i++)
		for (size_t k = 0; k < L; k++) {
			int64_t p = truth[i] + s0 + (int64_t)k;
			if (p >= 0 && p < (int64_t)n)
				x[p] += a[k];
		}
	free(a);
	return x;
}

/* Reference align_slices: literal slices and brute-force correlation. */
static void
ref_align_slices(const double *x, size_t n, int64_t *t, size_t nt, size_t ref, size_t L, long s0,
		 long w)
{
	int64_t r0 = t[ref] + s0;
	for (size_t i = 0; i < nt; i++) {
		double best = -INFINITY;
		long bk = 0;
		if (i == ref)
			continue;
		for (long k = -w; k <= w; k++) {
			double acc = 0;
			for (size_t m = 0; m < L; m++) {
				long q = (long)m + k; /* index into seg of length L + w */
				int64_t ps = t[i] + s0 + q, pr = r0 + (int64_t)m;
				double sv = q >= 0 && q < (long)(L + (size_t)w) && ps >= 0 &&
						    ps < (int64_t)n
						? x[ps]
						: 0;
				double rv = pr >= 0 && pr < (int64_t)n ? x[pr] : 0;
				acc += sv * rv;
			}
			if (acc > best) {
				best = acc;
				bk = k;
			}
		}
		t[i] += bk;
	}
}

Test(dsp_trigger, align_slices_recovers_jitter)
{
	int64_t truth[840], t[840], tr[840];
	size_t nt = niazy_train(truth, 500), n = (size_t)truth[nt - 1] + 1000, L = 293;
	long s0 = -10;
	struct dsp_trigger_info info;
	double *x;

	srand(3);
	for (size_t i = 0; i < nt; i++) {
		long j = i == 0 ? 0 : (long)(rand() % 7) - 3; /* [-3, 3] */
		t[i] = truth[i] - j;
		tr[i] = t[i];
	}
	x = make_recording(n, truth, nt, L, s0, 9);
	cr_assert_eq(dsp_trigger_align_slices(x, n, t, nt, 0, L, s0, 1.0, &info, NULL), 0);
	ref_align_slices(x, n, tr, nt, 0, L, s0, 3);
	for (size_t i = 0; i < nt; i++) {
		cr_assert_eq(t[i], tr[i], "trigger %zu: %lld vs reference %lld", i, (long long)t[i],
			     (long long)tr[i]);
		cr_assert_eq(t[i], truth[i], "trigger %zu not recovered", i);
	}
	cr_assert_eq(info.artifact_len, 293);
	cr_assert_eq(info.slices_per_volume, 21);
	free(x);
}

Test(dsp_trigger, align_subsample_recovers_jitter_at_10x)
{
	size_t nt = 60, L = 2930, r = 20;
	int64_t truth[60], t[60];
	long shifts[60];
	size_t n;
	double off = -0.005, fs = 20480.0, *x;
	long s0 = (long)(off * fs);

	for (size_t i = 0; i < nt; i++)
		truth[i] = 3000 + (int64_t)i * 2960;
	n = (size_t)truth[nt - 1] + 4000;
	srand(5);
	for (size_t i = 0; i < nt; i++)
		t[i] = truth[i] - (i == 0 ? 0 : (long)(rand() % (2 * (int)r + 1)) - (long)r);
	x = make_recording(n, truth, nt, L, s0, 4);
	cr_assert_eq(dsp_trigger_align_subsample(x, n, t, nt, 0, L, off, fs, 10.0, shifts, NULL),
		     0);
	for (size_t i = 0; i < nt; i++)
		cr_assert_eq(t[i], truth[i], "trigger %zu: %lld, want %lld (shift %ld)", i,
			     (long long)t[i], (long long)truth[i], shifts[i]);
	free(x);
}

Test(dsp_trigger, aligners_reject_bad_arguments)
{
	double x[10] = {0};
	int64_t t[2] = {1, 5};
	char *cause = NULL;

	cr_assert_eq(dsp_trigger_align_slices(x, 10, t, 2, 2, 3, 0, 1, NULL, &cause), -EINVAL);
	cr_assert_not_null(strstr(cause, "reference"));
	free(cause);
	cause = NULL;
	cr_assert_eq(dsp_trigger_align_subsample(x, 10, t, 2, 0, 0, 0, 1, 1, NULL, &cause),
		     -EINVAL);
	free(cause);
}
