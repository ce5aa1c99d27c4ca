/* The weighted AAS modes: nearest-epoch templates against a plain average, motion segments,
 * per-epoch scaling, FARM's and the corresponding slice's choices (FARM's also against a plain
 * Pearson loop), gap interpolation, and the automatic choice of the window on artifacts that
 * stay or change. */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "test-rng.h"
#include "worker/dsp/fmri/dsp-aas-priv.h"
#include "worker/dsp/fmri/dsp-aas.h"

struct rec {
	size_t n, nt, L, spv;
	long s0;
	int64_t *t;
	double *clean, *x, *gain;
};

/* nt epochs 300 samples apart (L 290); EEG of unit scale; an artifact of amplitude ~1000 with a
 * random gain per epoch of sd `gsd`, its shape turning by `turn` radians per epoch. */
static void
rec_make(struct rec *r, size_t nt, double gsd, double turn, uint64_t seed)
{
	uint64_t g = seed * 2654435761ULL + 1;

	r->nt = nt, r->L = 290, r->s0 = 0, r->spv = 10;
	r->n = 600 + nt * 300 + 600;
	r->t = malloc(nt * sizeof *r->t);
	r->clean = malloc(r->n * sizeof *r->clean);
	r->x = malloc(r->n * sizeof *r->x);
	r->gain = malloc(nt * sizeof *r->gain);
	for (size_t i = 0; i < r->n; i++) {
		r->clean[i] = sin(2 * M_PI * (double)i / 412.0) + 0.5 * test_randn(&g);
		r->x[i] = r->clean[i];
	}
	for (size_t i = 0; i < nt; i++) {
		double ang = turn * (double)i;

		r->gain[i] = 1 + gsd * test_randn(&g);
		r->t[i] = 600 + (int64_t)i * 300;
		for (size_t k = 0; k < r->L; k++) {
			double ph = 2 * M_PI * (double)k / (double)r->L;

			r->x[r->t[i] + (int64_t)k] +=
			    1000 * r->gain[i] * (cos(ang) * sin(37 * ph) + sin(ang) * sin(53 * ph));
		}
	}
}

static void
rec_free(struct rec *r)
{
	free(r->t), free(r->clean), free(r->x), free(r->gain);
}

/* RMS of x - clean over the epochs. */
static double
rec_error(const struct rec *r, const double *x)
{
	double acc = 0;

	for (size_t i = 0; i < r->nt; i++)
		for (size_t k = 0; k < r->L; k++) {
			size_t q = (size_t)r->t[i] + k;

			acc += (x[q] - r->clean[q]) * (x[q] - r->clean[q]);
		}
	return sqrt(acc / (double)(r->nt * r->L));
}

static double *
correct(const struct rec *r, const struct dsp_aas_params *p, struct dsp_aas_templates *tp)
{
	double *y = malloc(r->n * sizeof *y);
	char *cause = NULL;

	memcpy(y, r->x, r->n * sizeof *y);
	cr_assert_eq(dsp_aas_templates_make(tp, y, r->n, r->t, r->nt, r->L, r->s0, p, &cause), 0,
		     "%s", cause);
	cr_assert_eq(dsp_aas_subtract(y, r->n, r->t, r->nt, r->s0, tp, NULL, NULL), 0);
	return y;
}

static void
params(struct dsp_aas_params *p, enum dsp_aas_mode mode, enum dsp_aas_scale scale, size_t W)
{
	dsp_aas_params_init(p);
	p->mode = mode;
	p->scale = scale;
	p->window = W;
	p->fs = 1000;
	p->band = 70;
	p->decim = 1;
	p->slices_per_volume = 10;
}

/* Plain: the mean of the W + 1 epochs centred on i (shifted to fit), without i. */
Test(dsp_aas_weight, nearest_matches_a_plain_average)
{
	struct rec r;
	struct dsp_aas_params p;
	struct dsp_aas_templates tp = {0};
	double mean = 0, *y;
	const size_t W = 8;

	rec_make(&r, 60, 0.02, 0.01, 3);
	params(&p, DSP_AAS_NEAREST, DSP_AAS_SCALE_OFF, W);
	y = correct(&r, &p, &tp);
	for (size_t i = 0; i < r.n; i++)
		mean += r.x[i];
	mean /= (double)r.n;
	for (size_t i = 0; i < r.nt; i++) {
		size_t lo = i > W / 2 ? i - W / 2 : 0, hi;

		if (lo + W + 1 > r.nt)
			lo = r.nt - W - 1;
		hi = lo + W + 1;
		for (size_t k = 0; k < r.L; k++) {
			double want = 0;

			for (size_t j = lo; j < hi; j++)
				if (j != i)
					want += r.x[r.t[j] + (int64_t)k] - mean;
			want /= (double)W;
			cr_assert_float_eq(dsp_aas_template(&tp, i)[k], want, 1e-9 * 1000,
					   "epoch %zu sample %zu", i, k);
		}
	}
	cr_assert_eq(tp.choice.segments, 1);
	dsp_aas_templates_fini(&tp);
	free(y);
	rec_free(&r);
}

Test(dsp_aas_weight, movements_split_the_epochs_into_segments)
{
	struct dsp_aas_params p;
	struct dsp_aas_segments sg;
	double motion[40] = {0};
	size_t a, b;

	params(&p, DSP_AAS_NEAREST, DSP_AAS_SCALE_OFF, 30);
	motion[12] = 1.2; /* between volumes 11 and 12: epochs 110..129 in transit */
	motion[13] = 0.1; /* below the 0.5 mm threshold */
	motion[39] = 2.0; /* 5 epochs before the end: too few for a segment of their own */
	p.motion = motion;
	p.nmotion = 40;
	dsp_aas_segments_make(&p, 395, &sg);
	cr_assert_eq(sg.n, 2);
	cr_assert_eq(sg.start[1], 120);
	for (size_t i = 0; i < 395; i++)
		cr_assert_eq(sg.source[i], !((i >= 110 && i < 130) || i >= 380), "epoch %zu", i);
	/* An epoch just before the movement takes its whole window from before it. */
	dsp_aas_nearest_range(&sg, 115, 30, &a, &b);
	cr_assert(a == 89 && b == 120, "[%zu, %zu)", a, b);
	dsp_aas_nearest_range(&sg, 125, 30, &a, &b);
	cr_assert(a == 120 && b == 151, "[%zu, %zu)", a, b);
	dsp_aas_segments_fini(&sg);
	/* A file without its dummy scans: its rows are the last volumes. */
	p.nmotion = 30;
	p.motion = motion + 10; /* row 2 is volume 12 */
	dsp_aas_segments_make(&p, 395, &sg);
	cr_assert_eq(sg.n, 2);
	cr_assert_eq(sg.start[1], 120);
	dsp_aas_segments_fini(&sg);
}

Test(dsp_aas_weight, scaling_follows_each_epochs_gain)
{
	struct rec r;
	struct dsp_aas_params p;
	struct dsp_aas_templates off = {0}, on = {0};
	double *a, *b, eoff, eon;

	rec_make(&r, 200, 0.05, 0, 5);
	params(&p, DSP_AAS_NEAREST, DSP_AAS_SCALE_OFF, 30);
	a = correct(&r, &p, &off);
	p.scale = DSP_AAS_SCALE_ON;
	b = correct(&r, &p, &on);
	eoff = rec_error(&r, a);
	eon = rec_error(&r, b);
	cr_assert_lt(20 * log10(eon / eoff), -15, "scaled %g, unscaled %g", eon, eoff);
	cr_assert(on.choice.scaled && !off.choice.scaled);
	/* Each scale is the epoch's gain over its template's (the mean of 30 gains of sd 0.05). */
	for (size_t i = 0; i < r.nt; i++)
		cr_assert_float_eq(on.scale[i] / r.gain[i], 1.0, 0.04, "epoch %zu: %g vs %g", i,
				   on.scale[i], r.gain[i]);
	dsp_aas_templates_fini(&off);
	dsp_aas_templates_fini(&on);
	free(a), free(b);
	/* The reference's blocks mode takes the scaling too. */
	params(&p, DSP_AAS_BLOCKS, DSP_AAS_SCALE_OFF, 30);
	p.threshold = 0.9;
	a = correct(&r, &p, &off);
	p.scale = DSP_AAS_SCALE_ON;
	b = correct(&r, &p, &on);
	cr_assert_lt(20 * log10(rec_error(&r, b) / rec_error(&r, a)), -10, "blocks: %g vs %g",
		     rec_error(&r, b), rec_error(&r, a));
	cr_assert(on.choice.scaled && on.scale != NULL && off.scale == NULL);
	dsp_aas_templates_fini(&off);
	dsp_aas_templates_fini(&on);
	free(a), free(b);
	rec_free(&r);
}

Test(dsp_aas_weight, farm_and_slice_lists)
{
	struct rec r;
	struct dsp_aas_params p;
	struct dsp_aas_segments sg;
	size_t *idx, *cnt, m;
	double *E, *H;

	rec_make(&r, 120, 0.02, 0.02, 9);
	params(&p, DSP_AAS_FARM, DSP_AAS_SCALE_OFF, 10);
	E = malloc(r.nt * r.L * sizeof *E);
	for (size_t i = 0; i < r.nt; i++)
		memcpy(E + i * r.L, r.x + r.t[i], r.L * sizeof *E);
	H = dsp_aas_decimate(E, r.nt, r.L, 1, &m);
	dsp_aas_band_high(H, r.nt, m, p.fs, p.band, H);
	dsp_aas_farm_lists(H, r.nt, m, &p, &idx, &cnt);
	for (size_t i = 0; i < r.nt; i++) {
		cr_assert(cnt[i] >= 1 && cnt[i] <= 10);
		for (size_t c = 0; c < cnt[i]; c++) {
			size_t j = idx[i * 10 + c];

			cr_assert_neq(j, i, "epoch %zu in its own template", i);
			cr_assert_leq(j > i ? j - i : i - j, 30, "outside ±3 windows");
		}
	}
	/* The shape turns by 0.02 rad per epoch: the most similar epochs are the nearest. */
	cr_assert_leq(idx[60 * 10] > 60 ? idx[60 * 10] - 60 : 60 - idx[60 * 10], 1);
	free(idx), free(cnt);
	dsp_aas_segments_make(&p, r.nt, &sg);
	dsp_aas_slice_lists(r.nt, &p, &sg, &idx, &cnt);
	for (size_t i = 0; i < r.nt; i++) {
		cr_assert_eq(cnt[i], 10);
		for (size_t c = 0; c < cnt[i]; c++)
			cr_assert(idx[i * 10 + c] % 10 == i % 10 && idx[i * 10 + c] != i);
	}
	free(idx), free(cnt), free(E), free(H);
	dsp_aas_segments_fini(&sg);
	rec_free(&r);
}

/* Plain FARM: for every epoch, Pearson's r with each other epoch within ±range·W, two passes
 * (means, then centred sums), |r| at or above the threshold, sorted by |r| then by index. */
static void
farm_plain(const double *H, size_t nt, size_t m, size_t W, size_t range, double thr, size_t i,
	   double *r_all, size_t *list, size_t *n)
{
	size_t R = range * W;

	*n = 0;
	for (size_t j = i > R ? i - R : 0; j < nt && j <= i + R; j++) {
		double mi = 0, mj = 0, xy = 0, xx = 0, yy = 0;
		size_t c;

		for (size_t t = 0; t < m; t++)
			mi += H[i * m + t] / (double)m, mj += H[j * m + t] / (double)m;
		for (size_t t = 0; t < m; t++) {
			double a = H[i * m + t] - mi, b = H[j * m + t] - mj;

			xy += a * b, xx += a * a, yy += b * b;
		}
		r_all[j] = fabs(xy / sqrt(xx * yy));
		if (j == i || r_all[j] < thr)
			continue;
		/* insertion: higher |r| first, the lower index first on a tie */
		c = (*n)++;
		while (c > 0 && r_all[list[c - 1]] < r_all[j])
			list[c] = list[c - 1], c--;
		list[c] = j;
	}
}

/* Rows that turn slowly (r with the next ≈ cos 0.04), each with its own offset, some inverted,
 * and noise of a level that changes along the scan: some epochs have more than W candidates,
 * some fewer, some none (their neighbours then). */
static double *
farm_rows(size_t nt, size_t m, uint64_t seed)
{
	double *H = malloc(nt * m * sizeof *H);
	uint64_t g = seed * 2654435761ULL + 7;

	for (size_t i = 0; i < nt; i++) {
		double ang = 0.04 * (double)i, sign = i % 17 == 5 ? -1 : 1, offset = 10 * test_randn(&g);
		double noise = i % 50 < 10 ? 0.02 : i % 50 < 20 ? 0.3 : i % 50 < 22 ? 3.0 : 0.1;

		for (size_t t = 0; t < m; t++) {
			double ph = 2 * M_PI * (double)t / (double)m;

			H[i * m + t] = offset + sign * (cos(ang) * sin(7 * ph) + sin(ang) * sin(11 * ph)) +
				       noise * test_randn(&g);
		}
	}
	return H;
}

/* FARM's lists against the plain loop above: the same count and, place by place, an epoch of
 * the same |r| (1e-9; lists that differ only in the order of equal correlations agree). Epochs
 * with an r within 1e-9 of the threshold are left out, as rounding may put them either side. */
Test(dsp_aas_weight, farm_lists_match_a_plain_pearson_loop)
{
	const size_t nt = 400, m = 120, W = 10;
	const struct {
		size_t range;
		double thr;
	} cases[] = {{3, 0.9}, {1, 0.8}, {5, 0.97}};
	double *H = farm_rows(nt, m, 21), *r_all = malloc(nt * sizeof *r_all);
	size_t *list = malloc(nt * sizeof *list);

	for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
		struct dsp_aas_params p;
		size_t *idx, *cnt, n, full = 0, partial = 0, none = 0, skipped = 0;

		params(&p, DSP_AAS_FARM, DSP_AAS_SCALE_OFF, W);
		p.farm_range = cases[k].range, p.farm_threshold = cases[k].thr;
		dsp_aas_farm_lists(H, nt, m, &p, &idx, &cnt);
		for (size_t i = 0; i < nt; i++) {
			int near = 0;

			farm_plain(H, nt, m, W, p.farm_range, p.farm_threshold, i, r_all, list, &n);
			for (size_t j = i > W * p.farm_range ? i - W * p.farm_range : 0;
			     j < nt && j <= i + W * p.farm_range; j++)
				near |= j != i && fabs(r_all[j] - p.farm_threshold) < 1e-9;
			if (near) {
				skipped++;
				continue;
			}
			if (n == 0) {
				none++;
				cr_assert_eq(cnt[i], i == 0 || i == nt - 1 ? 1 : 2, "epoch %zu", i);
				for (size_t c = 0; c < cnt[i]; c++)
					cr_assert_eq(idx[i * W + c] + 1 == i || idx[i * W + c] == i + 1, 1,
						     "epoch %zu: no candidate, not a neighbour", i);
				continue;
			}
			n > W ? full++ : partial++;
			cr_assert_eq(cnt[i], n < W ? n : W, "case %zu epoch %zu: %zu vs %zu", k, i,
				     cnt[i], n);
			for (size_t c = 0; c < cnt[i]; c++)
				cr_assert_float_eq(r_all[idx[i * W + c]], r_all[list[c]], 1e-9,
						   "case %zu epoch %zu place %zu: epoch %zu (|r| %.12f) "
						   "vs %zu (|r| %.12f)",
						   k, i, c, idx[i * W + c], r_all[idx[i * W + c]], list[c],
						   r_all[list[c]]);
		}
		/* The rows must exercise every branch, or the comparison proves little. */
		cr_assert(full > 0 && partial > 0 && none > 0 && skipped < nt / 20,
			  "case %zu: %zu full, %zu partial, %zu none, %zu skipped", k, full, partial,
			  none, skipped);
		free(idx), free(cnt);
	}
	free(H), free(r_all), free(list);
}

Test(dsp_aas_weight, gaps_get_a_line_between_templates)
{
	struct dsp_aas_templates tp = {0};
	double x[100] = {0}, tpl[2][10];
	int64_t t[2] = {10, 40};
	size_t index[2] = {0, 1};

	for (int k = 0; k < 10; k++)
		tpl[0][k] = 1, tpl[1][k] = 4;
	tp.len = 10, tp.nepochs = 2, tp.ntemplates = 2, tp.data = &tpl[0][0], tp.index = index;
	tp.interpolate_gaps = 1;
	cr_assert_eq(dsp_aas_subtract(x, 100, t, 2, 0, &tp, NULL, NULL), 0);
	/* Gap [20, 40): from 1 (at 19) to 4 (at 40) in 21 steps. */
	for (int q = 20; q < 40; q++)
		cr_assert_float_eq(x[q], -(1 + 3.0 * (q - 19) / 21.0), 1e-12, "sample %d", q);
	cr_assert_float_eq(x[19], -1, 0);
	cr_assert_float_eq(x[40], -4, 0);
	cr_assert_float_eq(x[50], 0, 0);
}

/* Epochs 11 long, 10 or 11 apart (L is the longest spacing): a sample two epochs cover is
 * corrected once, by the later epoch's template, and the noise holds what was taken. */
Test(dsp_aas_weight, overlapping_epochs_are_subtracted_once)
{
	struct dsp_aas_templates tp = {0};
	double x[80], noise[80] = {0}, tpl[2][11];
	int64_t t[4] = {10, 20, 31, 41};
	size_t index[4] = {0, 1, 0, 1};

	for (int q = 0; q < 80; q++)
		x[q] = q >= 10 && q < 52 ? 1 : 0;
	for (int k = 0; k < 11; k++)
		tpl[0][k] = 1, tpl[1][k] = 1 + (k == 0);
	tp.len = 11, tp.nepochs = 4, tp.ntemplates = 2, tp.data = &tpl[0][0], tp.index = index;
	cr_assert_eq(dsp_aas_subtract(x, 80, t, 4, 0, &tp, noise, NULL), 0);
	for (int q = 0; q < 80; q++) {
		double taken = q == 20 || q == 41 ? 2 : (q >= 10 && q < 52 ? 1 : 0);

		cr_assert_float_eq(noise[q], taken, 0, "noise at %d", q);
		cr_assert_float_eq(x[q], (q >= 10 && q < 52 ? 1 : 0) - taken, 0, "sample %d", q);
	}
}

/* A steady artifact: more epochs per template carry less EEG, so auto picks a long window and
 * beats the default one. A shape that turns quickly: long windows miss it, auto stays short. */
Test(dsp_aas_weight, auto_window_follows_the_artifact)
{
	struct rec r;
	struct dsp_aas_params p;
	struct dsp_aas_templates a = {0}, b = {0};
	double *ya, *yb;

	rec_make(&r, 400, 0.02, 0, 11);
	params(&p, DSP_AAS_AUTO, DSP_AAS_SCALE_AUTO, 30);
	ya = correct(&r, &p, &a);
	params(&p, DSP_AAS_NEAREST, DSP_AAS_SCALE_ON, 30);
	yb = correct(&r, &p, &b);
	cr_assert_gt(a.choice.window, 30, "steady: window %zu", a.choice.window);
	cr_assert(a.choice.scaled, "gains vary: scaled");
	cr_assert_lt(rec_error(&r, ya), rec_error(&r, yb), "auto %g, nearest 30 %g",
		     rec_error(&r, ya), rec_error(&r, yb));
	cr_assert_leq(a.choice.error_db, 0);
	dsp_aas_templates_fini(&a), dsp_aas_templates_fini(&b);
	free(ya), free(yb);
	rec_free(&r);

	rec_make(&r, 400, 0, 0.05, 12);
	params(&p, DSP_AAS_AUTO, DSP_AAS_SCALE_AUTO, 30);
	ya = correct(&r, &p, &a);
	cr_assert_leq(a.choice.window, 30, "turning: window %zu", a.choice.window);
	dsp_aas_templates_fini(&a);
	free(ya);
	rec_free(&r);
}

Test(dsp_aas_weight, bad_parameters_are_named)
{
	struct rec r;
	struct dsp_aas_params p;
	struct dsp_aas_templates tp = {0};
	char *cause = NULL;

	rec_make(&r, 40, 0, 0, 1);
	params(&p, DSP_AAS_SLICE, DSP_AAS_SCALE_OFF, 5);
	p.slices_per_volume = 0;
	cr_assert_eq(dsp_aas_templates_make(&tp, r.x, r.n, r.t, r.nt, r.L, r.s0, &p, &cause),
		     -EINVAL);
	cr_assert_not_null(strstr(cause, "slices per volume"), "%s", cause);
	free(cause);
	cause = NULL;
	params(&p, DSP_AAS_AUTO, DSP_AAS_SCALE_AUTO, 5);
	p.band = 600; /* above fs / 2 */
	cr_assert_eq(dsp_aas_templates_make(&tp, r.x, r.n, r.t, r.nt, r.L, r.s0, &p, &cause),
		     -EINVAL);
	cr_assert_not_null(strstr(cause, "band"), "%s", cause);
	free(cause);
	rec_free(&r);
}

/* What a windowed caller does: the choice from the decimated epochs of x − mean (auto_choose),
 * then the templates of the chosen mode with the mean given, are what auto builds in one go. */
Test(dsp_aas_weight, auto_choice_then_build_is_auto)
{
	struct rec r;
	struct dsp_aas_params p, q;
	struct dsp_aas_templates a = {0}, b = {0};
	size_t d = 2, m = (290 + d - 1) / d;
	double mean = 0, err_db, *X, *ya, *yb;

	rec_make(&r, 300, 0.02, 0.002, 21);
	params(&p, DSP_AAS_AUTO, DSP_AAS_SCALE_AUTO, 30);
	p.fs = 2000, p.decim = d;
	ya = correct(&r, &p, &a);
	for (size_t i = 0; i < r.n; i++)
		mean += r.x[i];
	mean /= (double)r.n;
	X = malloc(r.nt * m * sizeof *X);
	for (size_t i = 0; i < r.nt; i++)
		for (size_t j = 0; j < m; j++) {
			size_t u = j * d, v = u + d < r.L ? u + d : r.L;
			double acc = 0;

			for (size_t k = u; k < v; k++)
				acc += r.x[r.t[i] + r.s0 + (int64_t)k] - mean;
			X[i * m + j] = acc / (double)(v - u);
		}
	cr_assert_eq(dsp_aas_auto_choose(X, r.nt, m, &p, &q, &err_db, NULL), 0);
	cr_assert_eq(q.window, a.choice.window);
	cr_assert_eq(q.scale == DSP_AAS_SCALE_ON, a.choice.scaled);
	cr_assert_float_eq(err_db, a.choice.error_db, 0);
	q.mean_given = 1, q.mean = mean;
	yb = correct(&r, &q, &b);
	for (size_t i = 0; i < r.n; i++)
		cr_assert_float_eq(ya[i], yb[i], 0, "sample %zu", i);
	q.mean = mean + 1e-3; /* the given mean is the one used */
	dsp_aas_templates_fini(&b);
	free(yb);
	yb = correct(&r, &q, &b);
	cr_assert_gt(fabs(yb[r.t[100] + 10] - ya[r.t[100] + 10]), 1e-5);
	dsp_aas_templates_fini(&a), dsp_aas_templates_fini(&b);
	free(ya), free(yb);
	rec_free(&r);
}
