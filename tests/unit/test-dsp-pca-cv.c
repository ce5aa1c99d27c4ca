/* OBS with the component count chosen by cross-validation: a rank-3 artifact gives 3 (or a
 * spare one), noise alone none, and the artifact-band-only subtraction leaves the EEG band as
 * it was. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "test-rng.h"
#include "worker/dsp/core/dsp-filter.h"
#include "worker/dsp/fmri/dsp-pca.h"

struct rec {
	size_t n, nt, len;
	int64_t *t;
	double *x, *clean;
};

/* 1 kHz, epochs of 200 samples back to back; white noise of 1 µV as residual EEG, and an
 * artifact of `rank` random-amplitude shapes at 150-400 Hz (amplitude scale a, volts) on
 * samples 30-170 of each epoch, so OBS's epochs (from 0.1 of the length on) hold one each. */
static void
rec_make(struct rec *r, size_t rank, double a, uint64_t seed)
{
	uint64_t g = seed;

	r->nt = 300, r->len = 200;
	r->n = (r->nt + 4) * r->len;
	r->t = malloc(r->nt * sizeof *r->t);
	r->x = malloc(r->n * sizeof *r->x);
	r->clean = malloc(r->n * sizeof *r->clean);
	for (size_t i = 0; i < r->n; i++)
		r->clean[i] = r->x[i] = 1e-6 * test_lcg_normal(&g);
	for (size_t i = 0; i < r->nt; i++) {
		r->t[i] = (int64_t)((i + 2) * r->len);
		for (size_t j = 0; j < rank; j++) {
			double c = a * test_lcg_normal(&g);

			for (size_t k = 30; k < 170; k++)
				r->x[r->t[i] + (int64_t)k] +=
				    c * sin(2 * M_PI * (150.0 + 100.0 * (double)j) * (double)k / 1000.0 +
					    (double)j);
		}
	}
}

static void
rec_free(struct rec *r)
{
	free(r->t), free(r->x), free(r->clean);
}

static struct dsp_pca_result
run(struct rec *r, int band_only)
{
	struct dsp_pca_params p;
	struct dsp_pca_result res;
	char *cause = NULL;

	dsp_pca_params_init(&p);
	p.choose = 1;
	p.band_only = band_only;
	p.hp = 100;
	cr_assert_eq(dsp_pca_apply(r->x, r->n, 1000, r->t, r->nt, r->len, &p, NULL, &res, &cause),
		     0, "%s", cause ? cause : "");
	return res;
}

Test(dsp_pca_cv, counts_the_artifacts_rank)
{
	struct rec r;
	struct dsp_pca_result res;

	rec_make(&r, 3, 20e-6, 1);
	res = run(&r, 0);
	cr_assert(res.k >= 3 && res.k <= 4, "k %zu", res.k);
	cr_assert_lt(res.cv_gain_db, -10, "held-out gain %g dB", res.cv_gain_db);
	cr_assert_gt(res.removed_uv, 5);
	rec_free(&r);
}

Test(dsp_pca_cv, noise_alone_gets_none)
{
	struct rec r;
	struct dsp_pca_result res;
	double *x0;

	rec_make(&r, 0, 0, 2);
	x0 = malloc(r.n * sizeof *x0);
	memcpy(x0, r.x, r.n * sizeof *x0);
	res = run(&r, 0);
	cr_assert_eq(res.k, 0, "k %zu on noise", res.k);
	cr_assert_eq(memcmp(x0, r.x, r.n * sizeof *x0), 0, "zero components change nothing");
	free(x0);
	rec_free(&r);
}

/* What the band-only fit changed, low-passed at 50 Hz: nothing in the EEG band. */
Test(dsp_pca_cv, band_only_leaves_the_eeg_band)
{
	struct rec r;
	struct dsp_pca_result res;
	double *x0, *d, lo = 0, all = 0;

	rec_make(&r, 2, 20e-6, 3);
	x0 = malloc(r.n * sizeof *x0);
	d = malloc(r.n * sizeof *d);
	memcpy(x0, r.x, r.n * sizeof *x0);
	res = run(&r, 1);
	cr_assert_geq(res.k, 2);
	for (size_t i = 0; i < r.n; i++)
		d[i] = x0[i] - r.x[i], all += d[i] * d[i];
	cr_assert_eq(dsp_filter_lowpass(d, r.n, 1000, 50, NULL), 0);
	for (size_t i = 0; i < r.n; i++)
		lo += d[i] * d[i];
	cr_assert_gt(all, 0);
	cr_assert_lt(10 * log10(lo / all), -40, "EEG-band share of the change %g dB",
		     10 * log10(lo / all));
	free(x0), free(d);
	rec_free(&r);
}
