/* AAS: templates against a dense averaging-matrix reference, artifact reduction on a synthetic
 * recording with a known periodic artifact, realignment, noise accumulation (also without the
 * data). */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "worker/dsp/fmri/dsp-aas.h"

struct rec {
	size_t n, nt, L;
	long s0;
	int64_t *t;
	double *clean, *x;
};

/* Triggers every 300 samples; a zero-mean artifact of amplitude ~1000 (slowly changing shape
 * and gain) over "EEG" of unit scale. */
static void
rec_make(struct rec *r, size_t nt, unsigned seed)
{
	r->nt = nt;
	r->L = 293;
	r->s0 = -10;
	r->n = 600 + nt * 300 + 600;
	r->t = malloc(nt * sizeof *r->t);
	r->clean = malloc(r->n * sizeof *r->clean);
	r->x = malloc(r->n * sizeof *r->x);
	srand(seed);
	for (size_t i = 0; i < r->n; i++) {
		double tt = (double)i;
		r->clean[i] = sin(2 * M_PI * tt / 412.0) + 0.5 * sin(2 * M_PI * tt / 97.3 + 1) +
			      0.3 * ((double)rand() / RAND_MAX - 0.5);
		r->x[i] = r->clean[i];
	}
	for (size_t i = 0; i < nt; i++) {
		double g = 1.0 + 0.05 * sin(2 * M_PI * (double)i / 400.0);
		r->t[i] = 600 + (int64_t)i * 300;
		for (size_t k = 0; k < r->L; k++) {
			double ph = 2 * M_PI * (double)k / (double)r->L;
			double a =
			    1000.0 * g * (sin(7 * ph) + 0.3 * sin(23 * ph + 0.001 * (double)i));
			r->x[r->t[i] + r->s0 + (int64_t)k] += a;
		}
	}
}

static void
rec_free(struct rec *r)
{
	free(r->t);
	free(r->clean);
	free(r->x);
}

static double
pearson(const double *a, const double *b, size_t n)
{
	double ma = 0, mb = 0, ab = 0, aa = 0, bb = 0;
	for (size_t k = 0; k < n; k++) {
		ma += a[k];
		mb += b[k];
	}
	ma /= n;
	mb /= n;
	for (size_t k = 0; k < n; k++) {
		ab += (a[k] - ma) * (b[k] - mb);
		aa += (a[k] - ma) * (a[k] - ma);
		bb += (b[k] - mb) * (b[k] - mb);
	}
	return ab / sqrt(aa * bb);
}

/* Reference: the dense n×n averaging matrix of the spec (block mode), Tpl = A·E0. */
static double *
ref_templates(const struct rec *r, size_t W, double thr)
{
	size_t nt = r->nt, L = r->L;
	double *E = calloc(nt * L, sizeof *E), *E0 = calloc(nt * L, sizeof *E0);
	double *A = calloc(nt * nt, sizeof *A), *tpl = calloc(nt * L, sizeof *tpl), mean = 0;

	for (size_t i = 0; i < r->n; i++)
		mean += r->x[i];
	mean /= r->n;
	for (size_t i = 0; i < nt; i++)
		for (size_t k = 0; k < L; k++) {
			int64_t p = r->t[i] + r->s0 + (int64_t)k;
			E[i * L + k] = r->x[p];
			E0[i * L + k] = r->x[p] - mean;
		}
	for (size_t b = 0; b < nt; b += W) {
		size_t chosen[1000], nc = 0, end = b + W < nt ? b + W : nt;
		double *S = calloc(L, sizeof *S), *avg = malloc(L * sizeof *avg);
		for (size_t j = b; j < b + 5 && j < nt; j++) {
			chosen[nc++] = j;
			for (size_t k = 0; k < L; k++)
				S[k] += E[j * L + k];
		}
		for (size_t c = b; c < end; c++) {
			int in = 0;
			for (size_t q = 0; q < nc; q++)
				in |= chosen[q] == c;
			if (in)
				continue;
			for (size_t k = 0; k < L; k++)
				avg[k] = S[k] / nc;
			if (pearson(avg, E + c * L, L) > thr) {
				chosen[nc++] = c;
				for (size_t k = 0; k < L; k++)
					S[k] += E[c * L + k];
			}
		}
		for (size_t i = b; i < end; i++)
			for (size_t q = 0; q < nc; q++)
				A[i * nt + chosen[q]] = 1.0 / nc;
		free(S);
		free(avg);
	}
	for (size_t i = 0; i < nt; i++)
		for (size_t j = 0; j < nt; j++)
			if (A[i * nt + j] != 0)
				for (size_t k = 0; k < L; k++)
					tpl[i * L + k] += A[i * nt + j] * E0[j * L + k];
	free(E);
	free(E0);
	free(A);
	return tpl;
}

Test(dsp_aas, block_templates_match_dense_reference)
{
	struct rec r;
	struct dsp_aas_params p = {.window = 30, .threshold = 0.975, .mode = DSP_AAS_BLOCKS};
	struct dsp_aas_templates tp;
	double *ref;

	rec_make(&r, 200, 1);
	/* Spoil a few epochs so that the threshold rejects them. */
	for (size_t k = 0; k < r.L; k += 2)
		r.x[r.t[33] + r.s0 + (int64_t)k] += 3000;
	cr_assert_eq(dsp_aas_templates_make(&tp, r.x, r.n, r.t, r.nt, r.L, r.s0, &p, NULL), 0);
	cr_assert_eq(tp.ntemplates, 7);
	ref = ref_templates(&r, 30, 0.975);
	for (size_t i = 0; i < r.nt; i++) {
		const double *a = dsp_aas_template(&tp, i);
		for (size_t k = 0; k < r.L; k++)
			cr_assert_float_eq(a[k], ref[i * r.L + k], 1e-9, "epoch %zu sample %zu", i,
					   k);
	}
	free(ref);
	dsp_aas_templates_fini(&tp);
	rec_free(&r);
}

/* Residual artifact after correction relative to the artifact, in dB, over the epochs. */
static double
reduction_db(const struct rec *r, const double *orig, const double *corr)
{
	double a = 0, e = 0;
	for (int64_t p = r->t[0] + r->s0; p < r->t[r->nt - 1] + r->s0 + (int64_t)r->L; p++) {
		a += (orig[p] - r->clean[p]) * (orig[p] - r->clean[p]);
		e += (corr[p] - r->clean[p]) * (corr[p] - r->clean[p]);
	}
	return 10 * log10(a / e);
}

static void
run_correction(enum dsp_aas_mode mode, double min_db)
{
	struct rec r;
	struct dsp_aas_params p = {.window = 30, .threshold = 0.975, .mode = mode};
	struct dsp_aas_templates tp;
	double *orig, *noise, *later;
	int64_t *t2;

	rec_make(&r, 400, 2);
	orig = malloc(r.n * sizeof *orig);
	memcpy(orig, r.x, r.n * sizeof *orig);
	noise = calloc(r.n, sizeof *noise);
	t2 = malloc(r.nt * sizeof *t2);
	cr_assert_eq(dsp_aas_templates_make(&tp, r.x, r.n, r.t, r.nt, r.L, r.s0, &p, NULL), 0);
	cr_assert_eq(dsp_aas_realign(r.x, r.n, r.t, r.nt, r.s0, &tp, 1.0, t2, NULL), 0);
	for (size_t i = 0; i < r.nt; i++)
		cr_assert_eq(t2[i], r.t[i], "aligned triggers must stay put (epoch %zu)", i);
	cr_assert_eq(dsp_aas_subtract(r.x, r.n, t2, r.nt, r.s0, &tp, noise, NULL), 0);
	for (size_t i = 0; i < r.n; i++)
		cr_assert_float_eq(noise[i], orig[i] - r.x[i], 1e-9);
	/* Without data: the same noise, to the bit (the recording ops add it later this way). */
	later = calloc(r.n, sizeof *later);
	cr_assert_eq(dsp_aas_subtract(NULL, r.n, t2, r.nt, r.s0, &tp, later, NULL), 0);
	cr_assert_eq(memcmp(later, noise, r.n * sizeof *noise), 0);
	free(later);
	double db = reduction_db(&r, orig, r.x);
	cr_assert_gt(db, min_db, "artifact reduced by %.1f dB only", db);
	dsp_aas_templates_fini(&tp);
	free(orig);
	free(noise);
	free(t2);
	rec_free(&r);
}

Test(dsp_aas, block_mode_reduces_artifact_by_30db)
{
	run_correction(DSP_AAS_BLOCKS, 30.0);
}

Test(dsp_aas, sliding_mode_reduces_artifact_by_30db)
{
	run_correction(DSP_AAS_SLIDING, 30.0);
}

Test(dsp_aas, realign_recovers_displaced_triggers)
{
	struct rec r;
	struct dsp_aas_params p = {.window = 30, .threshold = 0.975, .mode = DSP_AAS_BLOCKS};
	struct dsp_aas_templates tp;
	int64_t *t = malloc(120 * sizeof *t);

	rec_make(&r, 120, 3);
	memcpy(t, r.t, 120 * sizeof *t);
	t[7] += 2;
	t[50] -= 3;
	t[90] += 1;
	cr_assert_eq(dsp_aas_templates_make(&tp, r.x, r.n, t, r.nt, r.L, r.s0, &p, NULL), 0);
	cr_assert_eq(dsp_aas_realign(r.x, r.n, t, r.nt, r.s0, &tp, 1.0, t, NULL), 0);
	for (size_t i = 0; i < r.nt; i++)
		cr_assert_eq(t[i], r.t[i], "epoch %zu: %lld, want %lld", i, (long long)t[i],
			     (long long)r.t[i]);
	dsp_aas_templates_fini(&tp);
	free(t);
	rec_free(&r);
}

Test(dsp_aas, rejects_bad_arguments)
{
	double x[100] = {0};
	int64_t t[2] = {10, 50};
	struct dsp_aas_params p = {.window = 0, .threshold = 0.975};
	struct dsp_aas_templates tp;
	char *cause = NULL;

	cr_assert_eq(dsp_aas_templates_make(&tp, x, 100, t, 2, 30, 0, &p, &cause), -EINVAL);
	cr_assert_not_null(strstr(cause, "window"));
	free(cause);
	cause = NULL;
	p.window = 30;
	p.threshold = 2;
	cr_assert_eq(dsp_aas_templates_make(&tp, x, 100, t, 2, 30, 0, &p, &cause), -EINVAL);
	cr_assert_not_null(strstr(cause, "threshold"));
	free(cause);
	dsp_aas_templates_fini(&tp);
}
