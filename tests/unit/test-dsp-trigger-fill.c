/* Trigger trains from the data: slice triggers generated from volume triggers (autocorrelation
 * against a plain reference, slice count and spacing on generated recordings of several rates,
 * slice counts, TRs and pauses) and missing slice triggers completed (runs of three and singles,
 * across volume boundaries, at the ends, none invented in pauses or without gaps). */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "worker/dsp/fmri/dsp-trigger-fill.h"
#include "worker/dsp/fmri/dsp-trigger-gen.h"
#include "worker/synth/synth-fmri.h"
#include "worker/synth/synth-marks.h"

struct scan {
	struct synth_fmri_params p;
	double *x;
	size_t n, nt;
	int64_t *t;
};

/* Channel 0 of a generated recording (EEG + gradient artifact) and its slice triggers; the
 * readout at epi_hz (0: the generator's, under 0.4 fs). */
static void
scan_make_epi(struct scan *s, double fs, unsigned slices, double tr, double gap, uint64_t seed,
	      double seconds, double epi_hz)
{
	struct synth_fmri *g = NULL;
	const size_t *t;

	synth_fmri_params_init(&s->p);
	s->p.rate = fs;
	s->p.slices = slices;
	s->p.volume_gap = gap;
	s->p.slice_interval = (tr - gap) / slices;
	s->p.duration = seconds;
	s->p.n_eeg = 1;
	s->p.seed = seed;
	/* The readout train must stay under Nyquist at the lowest rates. */
	s->p.epi_hz = s->p.epi_hz < 0.4 * fs ? s->p.epi_hz : 0.4 * fs;
	if (epi_hz > 0)
		s->p.epi_hz = epi_hz;
	cr_assert_eq(synth_fmri_new(&s->p, &g, NULL), 0);
	s->n = synth_fmri_n_samples(g);
	s->x = malloc(s->n * sizeof *s->x);
	cr_assert_eq(synth_fmri_read(g, SYNTH_FMRI_RECORDING, 0, 0, s->n, s->x, NULL), 0);
	t = synth_fmri_triggers(g, &s->nt);
	s->t = malloc(s->nt * sizeof *s->t);
	for (size_t i = 0; i < s->nt; i++)
		s->t[i] = (int64_t)t[i];
	synth_fmri_free(g);
}

static void
scan_make(struct scan *s, double fs, unsigned slices, double tr, double gap, uint64_t seed,
	  double seconds)
{
	scan_make_epi(s, fs, slices, tr, gap, seed, seconds, 0);
}

static void
scan_free(struct scan *s)
{
	free(s->x);
	free(s->t);
}

Test(dsp_trigger_gen, autocorrelation_matches_plain_reference)
{
	const size_t n = 3000;
	double *a = malloc(n * sizeof *a), r[400];

	for (size_t i = 0; i < n; i++)
		a[i] = sin(0.05 * (double)i) + 0.3 * cos(0.31 * (double)i) + 1e-3 * (double)(i % 7);
	dsp_trigger_gen_autocorr(a, n, 10, 409, r);
	for (size_t l = 10; l <= 409; l++) {
		double sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0, m = (double)(n - l), ref;

		for (size_t i = 0; i + l < n; i++) {
			sx += a[i];
			sy += a[i + l];
			sxx += a[i] * a[i];
			syy += a[i + l] * a[i + l];
			sxy += a[i] * a[i + l];
		}
		ref = (sxy - sx * sy / m) / sqrt((sxx - sx * sx / m) * (syy - sy * sy / m));
		cr_assert_float_eq(r[l - 10], ref, 1e-9, "lag %zu: %g vs %g", l, r[l - 10], ref);
	}
	free(a);
}

/* Volume triggers (the first slice of each volume) of recordings at several rates, slice counts,
 * TRs and pauses: the slice count is found exactly and the spacing well enough that the last
 * slice is off by under a sample; the slice triggers themselves are not taken for volumes. */
Test(dsp_trigger_gen, slices_and_spacing_from_volumes)
{
	static const struct {
		double fs;
		unsigned slices;
		double tr, gap;
	} cases[] = {{1000, 20, 2, 0.005}, {1000, 30, 2, 0.005}, {1000, 35, 2.1, 0},
		     {500, 16, 2, 0.005},  {2048, 21, 3, 0.005}, {5000, 40, 2, 0.005},
		     {1000, 20, 2.5, 0.5}, {2048, 25, 3, 1.0}};

	for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
		struct dsp_trigger_gen_params gp;
		struct dsp_trigger_gen_result r;
		struct scan s;
		int64_t v[200];
		size_t nv = 0;
		double truth;

		scan_make(&s, cases[c].fs, cases[c].slices, cases[c].tr, cases[c].gap, 30 + c, 60);
		for (size_t i = 0; i < s.nt; i += cases[c].slices)
			v[nv++] = s.t[i];
		dsp_trigger_gen_params_init(&gp);
		cr_assert_eq(dsp_trigger_gen_estimate(s.x, s.n, s.p.rate, v, nv, &gp, &r, NULL), 0);
		truth = s.p.slice_interval * s.p.rate;
		cr_assert_eq(r.volumes, 1, "case %zu", c);
		cr_assert_eq(r.slices, cases[c].slices, "case %zu: %zu slices", c, r.slices);
		cr_assert_lt(fabs(r.spacing - truth) * (double)cases[c].slices, 1.0,
			     "case %zu: spacing %.4f, true %.4f", c, r.spacing, truth);
		cr_assert_eq(dsp_trigger_gen_estimate(s.x, s.n, s.p.rate, s.t, s.nt, &gp, &r, NULL),
			     0);
		cr_assert_eq(r.volumes, 0, "case %zu: slice triggers taken for volumes", c);
		scan_free(&s);
	}
}

Test(dsp_trigger_gen, generated_train)
{
	int64_t v[] = {100, 1100, 2100}, *t;
	size_t n;
	char *cause = NULL;

	cr_assert_eq(dsp_trigger_gen_slices(v, 3, 4, 240.4, 2500, &t, &n, NULL), 0);
	/* The last volume's 3rd and 4th slices (2100 + 481, + 721) are past the data. */
	cr_assert_eq(n, 10);
	cr_assert_eq(t[0], 100);
	cr_assert_eq(t[1], 340);
	cr_assert_eq(t[3], 821);
	cr_assert_eq(t[4], 1100);
	free(t);
	cr_assert_eq(dsp_trigger_gen_slices(v, 3, 6, 240.4, 5000, &t, &n, &cause), -EINVAL);
	cr_assert_not_null(strstr(cause, "do not fit"), "%s", cause);
	free(cause);
	cause = NULL;
	{
		struct dsp_trigger_gen_params gp;
		struct dsp_trigger_gen_result res;
		double x[3000] = {0};

		dsp_trigger_gen_params_init(&gp);
		cr_assert_eq(dsp_trigger_gen_estimate(x, 3000, 1000, v, 1, &gp, &res, &cause),
			     -EINVAL);
		cr_assert_not_null(strstr(cause, "2 volume triggers"), "%s", cause);
		free(cause);
	}
}

/* How many of the slice triggers t[0..nt) have a completed trigger within tol samples, and how
 * many completed triggers are more than tol samples from every true one. */
static void
compare(const struct scan *s, const struct dsp_trigger_fill_result *r, int64_t tol, size_t *found,
	size_t *wrong)
{
	*found = *wrong = 0;
	for (size_t i = 0, j = 0; i < s->nt; i++) {
		while (j + 1 < r->n && r->t[j] < s->t[i] - tol)
			j++;
		*found += llabs(r->t[j] - s->t[i]) <= tol;
	}
	for (size_t j = 0, i = 0; j < r->n; j++) {
		while (i + 1 < s->nt && s->t[i] < r->t[j] - tol)
			i++;
		*wrong += llabs(r->t[j] - s->t[i]) > tol;
	}
}

/* 2 % of the slice triggers missing (runs of three and singles, seeded) on recordings at
 * 250 Hz to 5 kHz: every one is found again within a sample, none is invented. */
Test(dsp_trigger_fill, completes_missing_runs)
{
	static const struct {
		double fs;
		unsigned slices;
		double tr, gap, pct;
	} cases[] = {{2048, 21, 3.08, 0.005, 2}, {1000, 30, 2, 0.005, 2}, {5000, 25, 2.5, 0.005, 2},
		     {1000, 20, 2.5, 0.5, 2},    {500, 16, 2, 0.005, 2},  {250, 16, 2, 0.005, 2},
		     {2048, 21, 3.08, 0.005, 5}};

	for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
		struct synth_marks_params mp = {cases[c].pct, 0, 40 + c};
		struct dsp_trigger_fill_params fp;
		struct dsp_trigger_fill_result r;
		struct scan s;
		unsigned char *keep;
		int64_t *k;
		size_t nk = 0, found, wrong;

		scan_make(&s, cases[c].fs, cases[c].slices, cases[c].tr, cases[c].gap, 40 + c, 120);
		keep = malloc(s.nt);
		k = malloc(s.nt * sizeof *k);
		cr_assert_eq(synth_marks_choose(&mp, s.nt, cases[c].slices, keep, NULL), 0);
		for (size_t i = 0; i < s.nt; i++)
			if (keep[i])
				k[nk++] = s.t[i];
		dsp_trigger_fill_params_init(&fp);
		cr_assert_eq(dsp_trigger_fill(s.x, s.n, k, nk, 0, &fp, &r, NULL), 0);
		compare(&s, &r, 1, &found, &wrong);
		cr_assert_eq(found, s.nt, "case %zu: %zu of %zu", c, found, s.nt);
		cr_assert_eq(wrong, 0, "case %zu: %zu invented", c, wrong);
		cr_assert_eq(r.n_added, s.nt - nk);
		dsp_trigger_fill_result_fini(&r);
		scan_free(&s);
		free(keep);
		free(k);
	}
}

/* The first two and the last slice missing, and a run across a volume boundary. */
Test(dsp_trigger_fill, ends_and_volume_boundaries)
{
	struct dsp_trigger_fill_params fp;
	struct dsp_trigger_fill_result r;
	struct scan s;
	int64_t *k;
	size_t nk = 0, found, wrong;

	scan_make(&s, 2048, 21, 3.08, 0.005, 9, 60);
	k = malloc(s.nt * sizeof *k);
	for (size_t i = 0; i < s.nt; i++)
		if (i >= 2 && i + 1 < s.nt && !(i >= 40 && i <= 43) && !(i >= 82 && i <= 84))
			k[nk++] = s.t[i];
	dsp_trigger_fill_params_init(&fp);
	cr_assert_eq(dsp_trigger_fill(s.x, s.n, k, nk, 0, &fp, &r, NULL), 0);
	compare(&s, &r, 1, &found, &wrong);
	cr_assert_eq(found, s.nt, "%zu of %zu", found, s.nt);
	cr_assert_eq(wrong, 0);
	dsp_trigger_fill_result_fini(&r);
	/* Without edges, the ends stay missing. */
	fp.edges = 0;
	cr_assert_eq(dsp_trigger_fill(s.x, s.n, k, nk, 0, &fp, &r, NULL), 0);
	cr_assert_eq(r.n, s.nt - 3);
	dsp_trigger_fill_result_fini(&r);
	free(k);
	scan_free(&s);
}

/* A complete train gains nothing; long pauses between volumes (no artifact) stay empty. */
Test(dsp_trigger_fill, nothing_invented)
{
	struct dsp_trigger_fill_params fp;
	struct dsp_trigger_fill_result r;
	struct scan s;
	char *cause = NULL;

	dsp_trigger_fill_params_init(&fp);
	scan_make(&s, 1000, 20, 3, 1.2, 4, 90);
	cr_assert_eq(dsp_trigger_fill(s.x, s.n, s.t, s.nt, 0, &fp, &r, NULL), 0);
	cr_assert_eq(r.n_added, 0, "%zu invented", r.n_added);
	cr_assert_eq(r.n, s.nt);
	cr_assert_eq(memcmp(r.t, s.t, s.nt * sizeof *s.t), 0);
	dsp_trigger_fill_result_fini(&r);
	cr_assert_eq(dsp_trigger_fill(s.x, s.n, s.t, 2, 0, &fp, &r, &cause), -EINVAL);
	free(cause);
	scan_free(&s);
}

/* A readout near the Nyquist frequency (as on the shared 2048 Hz recording: the artifact
 * correlates about as well a readout period or two off) and a pause of a few samples between
 * volumes: the missing triggers are where the scanner's grid puts them, to a sample, also in
 * runs across a volume boundary and for the first and last slice of a volume. */
Test(dsp_trigger_fill, on_the_grid_where_correlation_is_ambiguous)
{
	static const struct {
		double fs, epi;
		unsigned slices;
		double tr, gap;
	} cases[] = {{2048, 830, 21, 3.08, 10.0 / 2048},
		     {2048, 800, 30, 2.0, 0.01},
		     {1000, 405, 20, 2.0, 0.004},
		     {5000, 2020, 25, 2.5, 0.005}};

	for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
		struct dsp_trigger_fill_params fp;
		struct dsp_trigger_fill_result r;
		struct scan s;
		unsigned S = cases[c].slices;
		int64_t *k;
		size_t nk = 0, found, wrong;

		scan_make_epi(&s, cases[c].fs, S, cases[c].tr, cases[c].gap, 70 + c, 90,
			      cases[c].epi);
		k = malloc(s.nt * sizeof *k);
		for (size_t i = 0; i < s.nt; i++) {
			size_t v = i / S, sl = i % S;
			int drop = i < 2 || i + 1 == s.nt ||                         /* the ends */
				   (v == 3 && sl >= S - 2) || (v == 4 && sl == 0) || /* across */
				   (v == 6 && sl == 0) || (v == 8 && sl == S - 1) || /* singles */
				   (v == 10 && sl >= 5 && sl <= 7) || (v == 12 && sl == 9);

			if (!drop)
				k[nk++] = s.t[i];
		}
		dsp_trigger_fill_params_init(&fp);
		cr_assert_eq(dsp_trigger_fill(s.x, s.n, k, nk, 0, &fp, &r, NULL), 0);
		compare(&s, &r, 1, &found, &wrong);
		cr_assert_eq(r.slices, S, "case %zu: %zu slices per volume", c, r.slices);
		cr_assert_eq(found, s.nt, "case %zu: %zu of %zu within a sample", c, found, s.nt);
		cr_assert_eq(wrong, 0, "case %zu: %zu off the slices", c, wrong);
		cr_assert_eq(r.n, s.nt, "case %zu: %zu triggers", c, r.n);
		dsp_trigger_fill_result_fini(&r);
		scan_free(&s);
		free(k);
	}
}
