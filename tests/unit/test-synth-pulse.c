/* The cardiac model (beats, ECG lead, pulse artifact), the trigger marks (missing runs, volume
 * starts) and the recording writer that combines them with the gradient generator. */
#include <criterion/criterion.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/test-tmpdir.h"
#include "worker/io/io-edf.h"
#include "worker/synth/synth-scan.h"

static struct synth_pulse *
model(double hr, uint64_t seed, double fs, size_t n, size_t nch)
{
	struct synth_pulse_params p;
	struct synth_pulse *s = NULL;

	synth_pulse_params_init(&p);
	p.heart_rate = hr;
	p.seed = seed;
	cr_assert_eq(synth_pulse_new(&p, fs, n, nch, &s, NULL), 0);
	return s;
}

Test(synth_pulse, beats_follow_the_heart_rate_with_variability)
{
	static const double hrs[] = {50, 66, 100};

	for (size_t h = 0; h < 3; h++) {
		struct synth_pulse *s = model(hrs[h], 3 + h, 1000, 300000, 2);
		size_t n;
		const int64_t *t = synth_pulse_rpeaks(s, &n);
		double mean = 0, var = 0;

		for (size_t i = 1; i < n; i++)
			mean += (double)(t[i] - t[i - 1]) / 1000 / (double)(n - 1);
		for (size_t i = 1; i < n; i++)
			var += pow((double)(t[i] - t[i - 1]) / 1000 - mean, 2) / (double)(n - 2);
		cr_assert_float_eq(mean, 60 / hrs[h], 0.03 * 60 / hrs[h]);
		/* hrv 0.04 plus the breathing's 0.03 amplitude: 3 to 8 % of the period. */
		cr_assert(sqrt(var) > 0.03 * mean && sqrt(var) < 0.08 * mean, "RR sd %g of %g",
			  sqrt(var), mean);
		for (size_t i = 1; i < n; i++)
			cr_assert_gt(t[i], t[i - 1]);
		synth_pulse_free(s);
	}
}

/* The artifact follows each beat (zero before the first beat's delay), varies from beat to beat,
 * differs between channels, and reads the same in pieces. */
Test(synth_pulse, artifact_locked_and_variable)
{
	const double fs = 500;
	const size_t n = 60000;
	struct synth_pulse *s = model(66, 9, fs, n, 3);
	double *a = calloc(n, sizeof *a), *b = calloc(n, sizeof *b), piece[700] = {0};
	double peak[2] = {0}, lo = 1e9, hi = 0;
	size_t nb;
	const int64_t *t = synth_pulse_rpeaks(s, &nb);

	synth_pulse_add_artifact(s, 0, 0, n, a);
	synth_pulse_add_artifact(s, 1, 0, n, b);
	synth_pulse_add_artifact(s, 0, 1234, 700, piece);
	cr_assert_eq(memcmp(piece, a + 1234, sizeof piece), 0);
	for (size_t k = 1; k + 1 < nb; k++) {
		double m = 0;

		for (int64_t i = t[k]; i < t[k + 1]; i++)
			m = fmax(m, fabs(a[i]));
		lo = fmin(lo, m);
		hi = fmax(hi, m);
	}
	for (size_t i = 0; i < n; i++) {
		peak[0] = fmax(peak[0], fabs(a[i]));
		peak[1] = fmax(peak[1], fabs(b[i] - a[i]));
	}
	cr_assert(peak[0] > 20e-6 && peak[0] < 250e-6, "peak %g V", peak[0]);
	cr_assert_gt(peak[1], 5e-6, "channels 0 and 1 are the same");
	cr_assert_gt(hi / lo, 1.2, "beat peaks vary by %g", hi / lo);
	memset(piece, 0, sizeof piece);
	synth_pulse_add_artifact(s, 3, 0, 700, piece); /* past n_channels: nothing */
	cr_assert_eq(piece[100], 0.0);
	synth_pulse_free(s);
	free(a);
	free(b);
}

Test(synth_pulse, ecg_peaks_at_the_beats)
{
	const double fs = 1000;
	const size_t n = 30000;
	struct synth_pulse *s = model(72, 4, fs, n, 1);
	double *x = malloc(n * sizeof *x), piece[500];
	size_t nb;
	const int64_t *t = synth_pulse_rpeaks(s, &nb);

	synth_pulse_ecg(s, 0, n, x);
	synth_pulse_ecg(s, 777, 500, piece);
	cr_assert_eq(memcmp(piece, x + 777, sizeof piece), 0);
	for (size_t k = 1; k + 1 < nb; k++) {
		/* The R wave is the largest excursion within ±0.2 s of each R peak. */
		size_t arg = (size_t)t[k];

		for (int64_t i = t[k] - 200; i < t[k] + 200; i++)
			arg = fabs(x[i] - x[t[k] - 200]) > fabs(x[arg] - x[t[k] - 200]) ? (size_t)i
											: arg;
		cr_assert_leq(llabs((int64_t)arg - t[k]), 1, "beat %zu at %lld, max at %zu", k,
			      (long long)t[k], arg);
	}
	synth_pulse_free(s);
	free(x);
}

Test(synth_marks, runs_of_three_and_singles)
{
	struct synth_marks_params p = {2.0, 0, 5};
	unsigned char keep[840];
	size_t dropped = 0, run = 0, runs[4] = {0};

	cr_assert_eq(synth_marks_choose(&p, 840, 21, keep, NULL), 0);
	for (size_t i = 0; i <= 840; i++) {
		if (i < 840 && !keep[i]) {
			dropped++;
			run++;
			continue;
		}
		if (run > 0) {
			cr_assert_leq(run, 3, "a run of %zu", run);
			runs[run]++;
			/* Two kept marks after each run (or the end). */
			cr_assert(i + 1 >= 840 || (keep[i] && keep[i + 1]));
		}
		run = 0;
	}
	cr_assert_eq(dropped, 17); /* round(0.02 · 840) */
	cr_assert_geq(runs[3], 4);
	cr_assert_geq(runs[1], 4);
	p.drop_percent = 0;
	p.volumes_only = 1;
	cr_assert_eq(synth_marks_choose(&p, 840, 21, keep, NULL), 0);
	for (size_t i = 0; i < 840; i++)
		cr_assert_eq(keep[i], i % 21 == 0);
	p.drop_percent = 50;
	cr_assert_eq(synth_marks_choose(&p, 840, 21, keep, NULL), -EINVAL);
}

static json_t *
truth_of(const char *path)
{
	json_t *j = json_load_file(path, 0, NULL);

	cr_assert_not_null(j, "%s", path);
	return j;
}

/* The writer: a pulse recording with 2 % of the marks missing, and an ECG-only recording with
 * volume marks: channels, annotations and truth.json agree. */
Test(synth_scan, pulse_recording_and_ecg_only)
{
	char dir[64], rec[96], clean[96], truth[96], *cause = NULL;
	struct synth_scan_params p;
	struct io_edf_file *f = NULL;
	json_t *j;

	test_tmpdir_make(dir, sizeof dir, "synth-scan");
	snprintf(rec, sizeof rec, "%s/recording.edf", dir);
	snprintf(clean, sizeof clean, "%s/clean.edf", dir);
	snprintf(truth, sizeof truth, "%s/truth.json", dir);
	synth_scan_params_init(&p);
	p.fmri.n_eeg = 3;
	p.fmri.duration = 20;
	p.pulse = 1;
	p.marks.drop_percent = 2;
	cr_assert_eq(synth_scan_write(&p, rec, clean, truth, &cause), 0, "%s", cause);
	j = truth_of(truth);
	cr_assert_eq(io_edf_open(rec, &f, &cause), 0, "%s", cause);
	cr_assert_eq(io_edf_header(f)->n_channels, 5);
	cr_assert_eq(io_edf_header(f)->n_annotations,
		     json_array_size(json_object_get(j, "marked")));
	cr_assert_eq(json_array_size(json_object_get(j, "marked")) +
			 json_array_size(json_object_get(j, "missing")),
		     json_array_size(json_object_get(j, "triggers")));
	cr_assert_gt(json_array_size(json_object_get(j, "missing")), 0);
	cr_assert_gt(json_array_size(json_object_get(j, "rpeaks")), 15);
	io_edf_close(f);
	json_decref(j);

	synth_scan_params_init(&p);
	p.fmri.rate = 1000;
	p.fmri.duration = 30;
	p.ecg_only = 1;
	p.pulse = 1;
	p.marks.volumes_only = 1;
	cr_assert_eq(synth_scan_write(&p, rec, clean, truth, &cause), 0, "%s", cause);
	j = truth_of(truth);
	cr_assert_eq(io_edf_open(rec, &f, &cause), 0, "%s", cause);
	cr_assert_eq(io_edf_header(f)->n_channels, 1);
	cr_assert_str_eq(io_edf_header(f)->channels[0].label, "ECG");
	cr_assert_eq(io_edf_header(f)->n_annotations,
		     (size_t)json_integer_value(json_object_get(j, "volumes")));
	io_edf_close(f);
	json_decref(j);
	test_tmpdir_remove(dir);
}
