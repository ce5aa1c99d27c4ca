/* PCA optimal basis set: both solvers agree with a plain full-SVD version and with the previous
 * implementation (full dsyevd, window-sized buffers) on overlapping, clipped, constant and
 * out-of-order epochs, a synthetic low-rank artifact is removed, the reference variant and its
 * Butterworth-numerator high-pass match scipy. */
#include <criterion/criterion.h>
#include <errno.h>
#include <lapacke.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "test-dsp-util.h"
#include "worker/dsp/core/dsp-filter.h"
#include "worker/dsp/fmri/dsp-pca.h"
#include "worker/dsp/fmri/dsp-trigger.h"

static uint64_t rng_state;

static double
rng_normal(void)
{
	return test_lcg_normal(&rng_state);
}

/* A recording: smooth random "EEG" plus a rank-3 artifact at each trigger (spacing len, with
 * occasional one-sample gaps), in volts. */
struct synth {
	size_t n, ntrig, len;
	int64_t *trig;
	double *clean, *x;
};

/* s->n samples of AR(1) "EEG" of about 20 µV into clean, and x as a copy to add artifacts to. */
static void
synth_background(struct synth *s)
{
	double prev = 0;

	s->clean = calloc(s->n, sizeof *s->clean);
	s->x = calloc(s->n, sizeof *s->x);
	for (size_t i = 0; i < s->n; i++) {
		prev = 0.9 * prev + 0.1 * rng_normal();
		s->clean[i] = 20e-6 * prev;
	}
	memcpy(s->x, s->clean, s->n * sizeof *s->x);
}

static void
synth_make(struct synth *s, size_t ntrig, size_t len, double art_scale)
{
	size_t off = (size_t)lround(0.1 * (double)len);

	rng_state = 12345;
	s->ntrig = ntrig;
	s->len = len;
	s->n = (ntrig + 4) * (len + 1) + 3 * len;
	s->trig = calloc(ntrig, sizeof *s->trig);
	synth_background(s);
	for (size_t i = 0; i < ntrig; i++) {
		double a0 = 1 + 0.1 * rng_normal(), a1 = 0.6 * rng_normal(),
		       a2 = 0.4 * rng_normal();
		s->trig[i] = (int64_t)(2 * len + i * len + i / 7);
		for (size_t t = 0; t < len; t++) {
			double ph = 2 * M_PI * (double)t / (double)len;
			double v = a0 * sin(3 * ph) + a1 * cos(7 * ph) + a2 * sin(11 * ph + 0.3);
			s->x[s->trig[i] + (int64_t)(off + t)] += art_scale * v;
		}
	}
}

static void
synth_free(struct synth *s)
{
	free(s->trig), free(s->clean), free(s->x);
}

static double
rms_diff(const double *a, const double *b, size_t n)
{
	double acc = 0;
	for (size_t i = 0; i < n; i++)
		acc += (a[i] - b[i]) * (a[i] - b[i]);
	return sqrt(acc / (double)n);
}

/* Plain version, no high-pass: epoch matrix, z-score, full SVD, count, fit by explicit loops. */
static size_t
plain_pca(double *x, size_t n, const int64_t *trig, size_t ntrig, size_t len, double frac,
	  int variant)
{
	size_t ws = (size_t)trig[0] - len, we = (size_t)trig[ntrig - 1] + len, wl, off, k = 0;
	double *pm, *z, *s, *u, *vt, *fitw, total = 0, cum = 0;

	if (we > n)
		we = n;
	wl = we - ws;
	off = (size_t)lround(0.1 * (double)len);
	pm = calloc(len * ntrig, sizeof *pm);
	z = calloc(len * ntrig, sizeof *z);
	s = calloc(len, sizeof *s);
	u = calloc(len * len, sizeof *u);
	vt = calloc(ntrig * ntrig, sizeof *vt);
	fitw = calloc(wl, sizeof *fitw);
	for (size_t i = 0; i < ntrig; i++)
		for (size_t t = 0; t < len; t++) {
			size_t p = (size_t)trig[i] + off + t;
			pm[i * len + t] = p < we ? x[p] : 0;
		}
	for (size_t i = 0; i < ntrig; i++) {
		double mean = 0, var = 0;
		for (size_t t = 0; t < len; t++)
			mean += pm[i * len + t] / (double)len;
		for (size_t t = 0; t < len; t++)
			var += pow(pm[i * len + t] - mean, 2) / (double)len;
		for (size_t t = 0; t < len; t++)
			z[i * len + t] = (pm[i * len + t] - mean) / sqrt(var);
	}
	cr_assert_eq(LAPACKE_dgesdd(LAPACK_COL_MAJOR, 'A', (int)len, (int)ntrig, z, (int)len, s, u,
				    (int)len, vt, (int)ntrig),
		     0);
	for (size_t i = 0; i < len && i < ntrig; i++)
		total += s[i] * s[i];
	while (cum / total < frac)
		cum += s[k] * s[k], k++;
	for (size_t i = 0; i < ntrig; i++) {
		const double *col = pm + i * len;
		double mean = 0;
		for (size_t t = 0; t < len; t++)
			mean += col[t] / (double)len;
		for (size_t t = 0; t < len; t++) {
			double f = 0;
			for (size_t c = 0; c < k; c++) {
				double cc = 0;
				for (size_t q = 0; q < len; q++)
					cc += u[c * len + q] * col[q];
				f += u[c * len + t] * cc;
			}
			size_t p = (size_t)trig[i] + off + t - ws;
			if (p < wl)
				fitw[p] = variant == DSP_PCA_OBS ? f : col[t] - mean - f;
		}
	}
	for (size_t t = 0; t < wl; t++)
		x[ws + t] -= fitw[t];
	free(pm), free(z), free(s), free(u), free(vt), free(fitw);
	return k;
}

static void
check_against_plain(size_t ntrig, size_t len, enum dsp_pca_solver solver,
		    enum dsp_pca_variant variant)
{
	struct synth s;
	struct dsp_pca_params p;
	struct dsp_pca_result res;
	double *xp, *noise, scale = 1e-3, maxdiff = 0;
	char *cause = NULL;
	size_t kp;

	synth_make(&s, ntrig, len, scale);
	xp = malloc(s.n * sizeof *xp);
	noise = calloc(s.n, sizeof *noise);
	memcpy(xp, s.x, s.n * sizeof *xp);
	kp = plain_pca(xp, s.n, s.trig, ntrig, len, 0.95, variant);
	dsp_pca_params_init(&p);
	p.hp = 0;
	p.solver = solver;
	p.variant = variant;
	double *xc = malloc(s.n * sizeof *xc);
	memcpy(xc, s.x, s.n * sizeof *xc);
	cr_assert_eq(dsp_pca_apply(xc, s.n, 1000, s.trig, ntrig, len, &p, noise, &res, &cause), 0,
		     "%s", cause ? cause : "");
	cr_assert_eq(res.k, kp, "k %zu vs plain %zu", res.k, kp);
	cr_assert_eq(res.epochs, ntrig);
	for (size_t i = 0; i < s.n; i++) {
		double d = fabs(xc[i] - xp[i]);
		maxdiff = d > maxdiff ? d : maxdiff;
		/* What was subtracted went into the noise estimate. */
		cr_assert_float_eq(noise[i], s.x[i] - xc[i], 1e-18);
	}
	/* Tolerance: 1e-9 of the artifact amplitude. */
	cr_assert_lt(maxdiff, 1e-9 * scale, "max |fast - plain| = %g", maxdiff);
	free(xp), free(xc), free(noise);
	synth_free(&s);
}

Test(dsp_pca, gram_tall_matches_plain)
{
	check_against_plain(120, 200, DSP_PCA_SOLVER_GRAM, DSP_PCA_OBS);
}

Test(dsp_pca, gram_wide_matches_plain)
{
	check_against_plain(150, 100, DSP_PCA_SOLVER_GRAM, DSP_PCA_OBS);
}

Test(dsp_pca, gesdd_matches_plain)
{
	check_against_plain(120, 200, DSP_PCA_SOLVER_GESDD, DSP_PCA_OBS);
	check_against_plain(150, 100, DSP_PCA_SOLVER_GESDD, DSP_PCA_OBS);
}

Test(dsp_pca, reference_variant_matches_plain)
{
	check_against_plain(120, 200, DSP_PCA_SOLVER_GRAM, DSP_PCA_REFERENCE);
}

/* OBS removes a rank-3 artifact 50x larger than the EEG by at least 30 dB, with the default
 * high-pass, and leaves the samples outside the window untouched. */
Test(dsp_pca, removes_low_rank_artifact)
{
	struct synth s;
	struct dsp_pca_params p;
	struct dsp_pca_result res;
	char *cause = NULL;
	double before, after;
	size_t ws;

	synth_make(&s, 200, 300, 1e-3);
	ws = (size_t)s.trig[0] - s.len;
	double *x0 = malloc(s.n * sizeof *x0);
	memcpy(x0, s.x, s.n * sizeof *x0);
	dsp_pca_params_init(&p);
	cr_assert_eq(dsp_pca_apply(s.x, s.n, 1000, s.trig, s.ntrig, s.len, &p, NULL, &res, &cause),
		     0, "%s", cause ? cause : "");
	before = rms_diff(x0, s.clean, s.n);
	after = rms_diff(s.x, s.clean, s.n);
	cr_assert_geq(res.k, 3, "k %zu", res.k);
	cr_assert_gt(20 * log10(before / after), 30.0, "reduction %.1f dB (k %zu)",
		     20 * log10(before / after), res.k);
	for (size_t i = 0; i < ws; i++)
		cr_assert_eq(s.x[i], x0[i]);
	free(x0), synth_free(&s);
}

Test(dsp_pca, exact_count_and_bad_parameters)
{
	struct synth s;
	struct dsp_pca_params p;
	struct dsp_pca_result res;
	char *cause = NULL;

	synth_make(&s, 60, 100, 1e-3);
	dsp_pca_params_init(&p);
	p.hp = 0;
	p.exact = 1;
	p.n_components = 2;
	cr_assert_eq(dsp_pca_apply(s.x, s.n, 1000, s.trig, s.ntrig, s.len, &p, NULL, &res, &cause),
		     0);
	cr_assert_eq(res.k, 2);
	p.n_components = 2.5;
	cr_assert_eq(dsp_pca_apply(s.x, s.n, 1000, s.trig, s.ntrig, s.len, &p, NULL, &res, &cause),
		     -EINVAL);
	cr_assert_not_null(strstr(cause, "n_components"));
	free(cause);
	cause = NULL;
	p.exact = 0;
	p.n_components = 1.0; /* every component: the fit is the whole epoch */
	cr_assert_eq(dsp_pca_apply(s.x, s.n, 1000, s.trig, s.ntrig, s.len, &p, NULL, &res, &cause),
		     0, "%s", cause);
	cr_assert_geq(res.k, 2);
	cr_assert_float_eq(res.explained, 1.0, 1e-12);
	p.n_components = 0.9;
	s.trig[3] = (int64_t)s.n;
	cr_assert_eq(dsp_pca_apply(s.x, s.n, 1000, s.trig, s.ntrig, s.len, &p, NULL, &res, &cause),
		     -EINVAL);
	cr_assert_not_null(strstr(cause, "trigger 3"));
	free(cause), synth_free(&s);
}

/* scipy.signal.butter(5, 1/(fs/2), 'high')[0] at fs = 20480 and 2048 (scipy 1.10). */
Test(dsp_pca, butter_numerator_matches_scipy)
{
	const double want[2] = {0.99950371657639414, 0.99504823211378102};
	const double fs[2] = {20480, 2048};
	double b[6];

	for (int c = 0; c < 2; c++) {
		dsp_pca_butter_numerator(fs[c], 1.0, b);
		cr_assert_float_eq(b[0], want[c], 1e-12, "fs %g: b0 %.10g", fs[c], b[0]);
		cr_assert_float_eq(b[2], 10 * want[c], 1e-11);
		cr_assert_float_eq(b[5], -want[c], 1e-12);
	}
}

/* filtfilt(b, [1], x) with odd padding, against scipy: 1e-9 of the signal range. */
Test(dsp_pca, filtfilt_matches_scipy)
{
	const size_t n = 400;
	double *x = test_fixture("dsp-rec", "filtfilt_x", n);
	double *want = test_fixture("dsp-rec", "filtfilt_y", n);
	double b[6], y[400], scale = 0;

	dsp_pca_butter_numerator(2048, 1.0, b);
	memcpy(y, x, sizeof y);
	cr_assert_eq(dsp_pca_filtfilt_fir(b, 6, y, n, NULL), 0);
	for (size_t i = 0; i < n; i++)
		scale = fabs(want[i]) > scale ? fabs(want[i]) : scale;
	for (size_t i = 0; i < n; i++)
		cr_assert_float_eq(y[i], want[i], 1e-9 * scale, "i %zu: %g vs %g", i, y[i],
				   want[i]);
	cr_assert_eq(dsp_pca_filtfilt_fir(b, 6, y, 18, NULL), -EINVAL);
	free(x), free(want);
}

/* The previous implementation, the reference for the partial eigen-decomposition and the
 * single-buffer layout: window copy, full epoch matrix, full dsyevd of the Gram matrix, fit
 * matrix placed on a window-sized buffer in trigger order. Returns k. */
static size_t
prev_pca(double *x, size_t n, double fs, const int64_t *trig, size_t ntrig, size_t len,
	 const struct dsp_pca_params *p, double *noise, size_t *epochs, double *explained)
{
	size_t ws, we, wl, off = (size_t)lround(0.1 * (double)len), m = 0, d, k = 0, nz = 0;
	size_t *valid = calloc(ntrig, sizeof *valid);
	double *xf, *pm = calloc(len * ntrig, sizeof *pm), *z, *g, *w, *u, *fitw;
	double amax = 0, total = 0, cum = 0, b[6];

	dsp_trigger_window(trig, ntrig, len, n, &ws, &we);
	wl = we - ws;
	xf = malloc(wl * sizeof *xf);
	memcpy(xf, x + ws, wl * sizeof *xf);
	if (p->hp > 0 && p->variant == DSP_PCA_REFERENCE) {
		dsp_pca_butter_numerator(fs, p->hp, b);
		cr_assert_eq(dsp_pca_filtfilt_fir(b, 6, xf, wl, NULL), 0);
	} else if (p->hp > 0) {
		cr_assert_eq(dsp_filter_highpass(xf, wl, fs, p->hp, NULL), 0);
	}
	for (size_t i = 0; i < ntrig; i++)
		for (size_t t = 0, s = (size_t)trig[i] - ws + off; t < len && s + t < wl; t++)
			pm[i * len + t] = xf[s + t];
	for (size_t i = 0; i < len * ntrig; i++)
		amax = fmax(amax, fabs(pm[i]));
	for (size_t i = 0; i < ntrig; i++) {
		double lo = pm[i * len], hi = lo;
		for (size_t t = 0; t < len; t++)
			lo = fmin(lo, pm[i * len + t]), hi = fmax(hi, pm[i * len + t]);
		if (hi - lo > 1e-12 * amax)
			valid[m++] = i;
	}
	*epochs = 0;
	*explained = 0;
	if (m < 2) {
		free(valid), free(xf), free(pm);
		return 0;
	}
	z = malloc(len * m * sizeof *z);
	for (size_t c = 0; c < m; c++) {
		const double *col = pm + valid[c] * len;
		double mean = 0, var = 0;
		for (size_t t = 0; t < len; t++)
			mean += col[t] / (double)len;
		for (size_t t = 0; t < len; t++)
			var += (col[t] - mean) * (col[t] - mean) / (double)len;
		for (size_t t = 0; t < len; t++)
			z[c * len + t] = (col[t] - mean) / sqrt(var);
	}
	d = len < m ? len : m;
	g = calloc(d * d, sizeof *g);
	w = calloc(d, sizeof *w);
	for (size_t i = 0; i < d; i++)
		for (size_t j = 0; j < d; j++)
			for (size_t q = 0; q < (len < m ? m : len); q++)
				g[j * d + i] += len > m ? z[i * len + q] * z[j * len + q]
							: z[q * len + i] * z[q * len + j];
	cr_assert_eq(LAPACKE_dsyevd(LAPACK_COL_MAJOR, 'V', 'U', (int)d, g, (int)d, w), 0);
	for (size_t i = 0; i < d; i++) {
		w[i] = fmax(w[i], 0);
		total += w[i];
		nz += w[i] > 0;
	}
	/* Smallest k reaching the fraction, or the exact count; at most the non-zero ones. */
	while (k < d &&
	       !(p->exact ? k == (size_t)p->n_components : k > 0 && cum / total >= p->n_components))
		cum += w[d - 1 - k], k++;
	k = k > nz ? nz : k;
	/* u_c: eigenvector of z·zᵀ, or z·v_c / s_c. */
	u = calloc(len * k, sizeof *u);
	for (size_t c = 0; c < k; c++)
		for (size_t t = 0; t < len; t++)
			for (size_t j = 0; j < (len > m ? m : 1); j++)
				u[c * len + t] += len > m
						      ? z[j * len + t] * g[(d - 1 - c) * d + j] /
							    sqrt(w[d - 1 - c])
						      : g[(d - 1 - c) * d + t];
	fitw = calloc(wl, sizeof *fitw);
	for (size_t c = 0; k > 0 && c < m; c++) {
		const double *col = pm + valid[c] * len;
		double *f = calloc(len, sizeof *f), mean = 0;
		for (size_t t = 0; t < len; t++)
			mean += col[t] / (double)len;
		for (size_t j = 0; j < k; j++) {
			double cc = 0;
			for (size_t t = 0; t < len; t++)
				cc += u[j * len + t] * col[t];
			for (size_t t = 0; t < len; t++)
				f[t] += cc * u[j * len + t];
		}
		for (size_t t = 0, s = (size_t)trig[valid[c]] - ws + off; t < len && s + t < wl;
		     t++)
			fitw[s + t] = p->variant == DSP_PCA_OBS ? f[t] : col[t] - mean - f[t];
		free(f);
	}
	for (size_t t = 0; t < wl; t++) {
		x[ws + t] -= fitw[t];
		noise[ws + t] += fitw[t];
	}
	*epochs = k > 0 ? m : 0;
	cum = 0;
	for (size_t c = 0; c < k; c++)
		cum += w[d - 1 - c];
	*explained = k > 0 ? cum / total : 0;
	free(valid), free(xf), free(pm), free(z), free(g), free(w), free(u), free(fitw);
	return k;
}

/* Epochs that overlap (spacing len - 6 .. len + 2) with a rank-3 artifact of decreasing
 * strength, two triggers on the same sample, a last trigger on the final sample (its epoch lies
 * past the window: a constant, dropped column) and the window clipped at the data end. */
static void
synth_overlap(struct synth *s, size_t ntrig, size_t len)
{
	size_t off = (size_t)lround(0.1 * (double)len);

	rng_state = 777;
	s->ntrig = ntrig;
	s->len = len;
	s->trig = calloc(ntrig, sizeof *s->trig);
	s->trig[0] = (int64_t)len + 5;
	for (size_t i = 1; i < ntrig - 1; i++)
		s->trig[i] = s->trig[i - 1] + (int64_t)(len - 6 + (i * 7) % 9);
	s->trig[6] = s->trig[5];
	s->n = (size_t)s->trig[ntrig - 2] + len / 2;
	s->trig[ntrig - 1] = (int64_t)s->n - 1;
	synth_background(s);
	for (size_t i = 0; i < ntrig; i++) {
		double a0 = 1 + 0.1 * rng_normal(), a1 = 0.5 * rng_normal(),
		       a2 = 0.2 * rng_normal();
		for (size_t t = 0, q = (size_t)s->trig[i] + off; t < len && q + t < s->n; t++) {
			double ph = 2 * M_PI * (double)t / (double)len;
			s->x[q + t] +=
			    1e-3 * (a0 * sin(9 * ph) + a1 * cos(31 * ph) + a2 * sin(57 * ph + 0.3));
		}
	}
}

/* dsp_pca_apply against prev_pca: same k (> 0), epochs (want_epochs unless SIZE_MAX) and
 * explained share, corrected channel and noise within 1e-9 of max|x|. */
static void
check_against_prev(const struct synth *s, double fs, const struct dsp_pca_params *p,
		   size_t want_epochs)
{
	double *xp = malloc(s->n * sizeof *xp), *xc = malloc(s->n * sizeof *xc);
	double *np = calloc(s->n, sizeof *np), *nc = calloc(s->n, sizeof *nc), amax = 0, ep;
	struct dsp_pca_result res;
	char *cause = NULL;
	size_t kp, epochs;

	memcpy(xp, s->x, s->n * sizeof *xp);
	memcpy(xc, s->x, s->n * sizeof *xc);
	kp = prev_pca(xp, s->n, fs, s->trig, s->ntrig, s->len, p, np, &epochs, &ep);
	cr_assert_eq(dsp_pca_apply(xc, s->n, fs, s->trig, s->ntrig, s->len, p, nc, &res, &cause), 0,
		     "%s", cause ? cause : "");
	cr_assert_eq(res.k, kp, "k %zu vs previous %zu", res.k, kp);
	cr_assert_gt(kp, 0);
	cr_assert_eq(res.epochs, epochs);
	cr_assert(want_epochs == SIZE_MAX || epochs == want_epochs, "epochs %zu", epochs);
	cr_assert_float_eq(res.explained, ep, 1e-12);
	for (size_t i = 0; i < s->n; i++)
		amax = fmax(amax, fabs(s->x[i]));
	for (size_t i = 0; i < s->n; i++) {
		cr_assert_float_eq(xc[i], xp[i], 1e-9 * amax, "x[%zu] %g vs %g", i, xc[i], xp[i]);
		cr_assert_float_eq(nc[i], np[i], 1e-9 * amax, "noise[%zu]", i);
	}
	free(xp), free(xc), free(np), free(nc);
}

/* Every solver, variant, count mode and high-pass, on tall (len > epochs) and wide shapes. */
Test(dsp_pca, matches_previous_overlapping_clipped)
{
	const size_t shapes[2][2] = {{60, 150}, {140, 90}};

	for (int sh = 0; sh < 2; sh++) {
		struct synth s;

		synth_overlap(&s, shapes[sh][0], shapes[sh][1]);
		for (int mode = 0; mode < 16; mode++) {
			struct dsp_pca_params p;

			dsp_pca_params_init(&p);
			p.solver = mode & 1 ? DSP_PCA_SOLVER_GESDD : DSP_PCA_SOLVER_GRAM;
			p.variant = mode & 2 ? DSP_PCA_REFERENCE : DSP_PCA_OBS;
			p.hp = mode & 4 ? 40 : 0;
			p.exact = (mode & 8) != 0;
			p.n_components = p.exact ? 2 : 0.95;
			check_against_prev(&s, 1000, &p, s.ntrig - 1);
		}
		synth_free(&s);
	}
}

/* Constant epochs are dropped (no high-pass, so they stay constant) but not one that is constant
 * up to the window end and zero past it, and triggers out of order keep the rule that the later
 * one's fit wins where epochs overlap. */
Test(dsp_pca, matches_previous_dropped_and_unsorted)
{
	struct synth s;
	struct dsp_pca_params p;
	size_t off;
	int64_t t;

	synth_overlap(&s, 70, 120);
	off = (size_t)lround(0.1 * (double)s.len);
	for (size_t q = 0; q < s.len; q++)
		s.x[(size_t)s.trig[30] + off + q] = 3e-4;
	for (size_t q = (size_t)s.trig[s.ntrig - 2] + off; q < s.n; q++)
		s.x[q] = 2e-4;
	dsp_pca_params_init(&p);
	p.hp = 0;
	check_against_prev(&s, 1000, &p, s.ntrig - 2);
	p.variant = DSP_PCA_REFERENCE;
	check_against_prev(&s, 1000, &p, s.ntrig - 2);
	t = s.trig[40], s.trig[40] = s.trig[41], s.trig[41] = t;
	t = s.trig[12], s.trig[12] = s.trig[50], s.trig[50] = t;
	p.variant = DSP_PCA_OBS;
	check_against_prev(&s, 1000, &p, s.ntrig - 2);
	p.hp = 30;
	p.exact = 1;
	p.n_components = 3;
	check_against_prev(&s, 1000, &p, s.ntrig - 1);
	synth_free(&s);
}

/* The Gram solver against the thin SVD on the same epochs: 1e-9 of max|x|. */
Test(dsp_pca, gram_matches_gesdd)
{
	struct synth s;
	struct dsp_pca_params p;
	struct dsp_pca_result rg, rs;
	double *xg, *xs, amax = 0;

	synth_overlap(&s, 90, 200);
	xg = malloc(s.n * sizeof *xg);
	xs = malloc(s.n * sizeof *xs);
	for (int exact = 0; exact < 2; exact++) {
		memcpy(xg, s.x, s.n * sizeof *xg);
		memcpy(xs, s.x, s.n * sizeof *xs);
		dsp_pca_params_init(&p);
		p.hp = 20;
		p.exact = exact;
		p.n_components = exact ? 3 : 0.95;
		cr_assert_eq(
		    dsp_pca_apply(xg, s.n, 1000, s.trig, s.ntrig, s.len, &p, NULL, &rg, NULL), 0);
		p.solver = DSP_PCA_SOLVER_GESDD;
		cr_assert_eq(
		    dsp_pca_apply(xs, s.n, 1000, s.trig, s.ntrig, s.len, &p, NULL, &rs, NULL), 0);
		cr_assert_eq(rg.k, rs.k);
		cr_assert_float_eq(rg.explained, rs.explained, 1e-12);
		for (size_t i = 0; i < s.n; i++)
			amax = fmax(amax, fabs(s.x[i]));
		for (size_t i = 0; i < s.n; i++)
			cr_assert_float_eq(xg[i], xs[i], 1e-9 * amax, "x[%zu]", i);
	}
	free(xg), free(xs);
	synth_free(&s);
}

/* Random shapes, options and trigger disorders (swapped, repeated, anywhere in the data). */
Test(dsp_pca, matches_previous_random)
{
	uint64_t st = 2024;

	for (int it = 0; it < 60; it++) {
		struct synth s;
		struct dsp_pca_params p;
		size_t len = 8 + (size_t)(test_lcg_uniform(&st) * 80);

		synth_overlap(&s, 8 + (size_t)(test_lcg_uniform(&st) * 50), len);
		for (size_t i = 0; i + 1 < s.ntrig; i++) {
			double u = test_lcg_uniform(&st);
			int64_t t = s.trig[i];

			if (u < 0.1)
				s.trig[i] = s.trig[i + 1], s.trig[i + 1] = t;
			else if (u < 0.15)
				s.trig[i] =
				    s.trig[(size_t)(test_lcg_uniform(&st) * (double)s.ntrig)];
			else if (u < 0.2)
				s.trig[i] = (int64_t)(test_lcg_uniform(&st) * (double)s.n);
		}
		dsp_pca_params_init(&p);
		p.hp = test_lcg_uniform(&st) < 0.5 ? 0 : 50;
		p.variant = test_lcg_uniform(&st) < 0.5 ? DSP_PCA_OBS : DSP_PCA_REFERENCE;
		p.solver = test_lcg_uniform(&st) < 0.3 ? DSP_PCA_SOLVER_GESDD : DSP_PCA_SOLVER_GRAM;
		p.exact = test_lcg_uniform(&st) < 0.3;
		p.n_components = p.exact ? 1 + (int)(test_lcg_uniform(&st) * 2) : 0.9;
		check_against_prev(&s, 1000, &p, SIZE_MAX);
		synth_free(&s);
	}
}
