/* The time-frequency kernels against their plain references (ref-tfr.c: explicit windows and
 * DFT sums, direct convolution with kernels written from the closed forms, the superlet's
 * product of powers) on random trials of several rates, lengths and seeds; the reference's
 * nearest-bin rule; and closed forms (hann peak power, superlet modulus at a harmonic). */
#include <complex.h>
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ref-tfr.h"
#include "test-rng.h"
#include "worker/dsp/core/dsp-taper.h"
#include "worker/dsp/spectral/dsp-cwt.h"
#include "worker/dsp/spectral/dsp-mtmconvol.h"

static double *
randn_trial(size_t n, size_t nc, uint64_t seed)
{
	double *x = malloc(n * nc * sizeof *x);

	for (size_t i = 0; i < n * nc; i++)
		x[i] = test_randn(&seed) + 0.3 * (double)(i / nc) / (double)n; /* with a trend */
	return x;
}

static double
max_abs(const double *v, size_t n)
{
	double m = 0;

	for (size_t i = 0; i < n; i++)
		m = fmax(m, fabs(v[i]));
	return m;
}

Test(dsp_tfr, best_match_ties_go_up_and_repeats_are_dropped)
{
	double grid[11], sel[] = {2.5, 2.4, 2.6, 10.7, -1, 2.5};
	size_t idx[6], want[] = {3, 2, 10, 0};

	for (size_t i = 0; i < 11; i++)
		grid[i] = (double)i;
	cr_assert_eq(dsp_tfr_best_match(grid, 11, sel, 6, true, idx), 4);
	for (size_t i = 0; i < 4; i++)
		cr_assert_eq(idx[i], want[i], "index %zu: %zu", i, idx[i]);
	cr_assert_eq(dsp_tfr_best_match(grid, 11, sel, 6, false, idx), 6);
	cr_assert_eq(idx[5], 3);
}

/* The scaled tapers the reference uses for windows of p samples (sym: symmetric dpss). */
static double *
ref_tapers(const struct dsp_mtmconvol_params *p, size_t n, bool sym, size_t *k)
{
	double *w;

	if (p->tapsmofrq > 0) {
		double nw = p->tapsmofrq * p->mean_len / p->fs, *full;
		size_t m = sym ? n : n + 1;
		*k = (size_t)fmax(1, trunc(2 * nw - 1));
		full = malloc(*k * m * sizeof *full);
		w = malloc(*k * n * sizeof *w);
		cr_assert_eq(dsp_taper_dpss(m, nw, *k, full, NULL, NULL), 0);
		for (size_t j = 0; j < *k; j++)
			for (size_t i = 0; i < n; i++)
				w[j * n + i] = full[j * m + i] * sqrt((double)n) * sqrt(2.0) / (double)n;
		free(full);
		return w;
	}
	double sum = 0;
	*k = 1;
	w = malloc(n * sizeof *w);
	cr_assert_eq(dsp_taper_window_fill(p->taper, n, p->kaiser_beta, w, NULL), 0);
	for (size_t i = 0; i < n; i++)
		sum += w[i];
	for (size_t i = 0; i < n; i++)
		w[i] *= (p->taper == DSP_TAPER_BOXCAR ? 1 : sqrt(4.0 / 3.0)) * sqrt((double)n / sum) *
			sqrt(2.0) / (double)n;
	return w;
}

/* Nearest bin of the n-point grid to f, ties to the higher bin (written plainly). */
static size_t
ref_bin(double f, size_t n, double fs)
{
	size_t best = 0;

	for (size_t b = 1; b <= n / 2; b++)
		if (fabs((double)b * fs / (double)n - f) <= fabs((double)best * fs / (double)n - f))
			best = b;
	return best;
}

static double
convert(enum dsp_mtmfft_output o, double complex z, int part)
{
	switch (o) {
	case DSP_MTMFFT_POW:
		return creal(z * conj(z));
	case DSP_MTMFFT_ABS:
		return cabs(z);
	case DSP_MTMFFT_FOURIER:
		return part ? cimag(z) : creal(z);
	case DSP_MTMFFT_REAL:
		return creal(z);
	case DSP_MTMFFT_IMAG:
		return cimag(z);
	case DSP_MTMFFT_ANGLE:
		return carg(z);
	case DSP_MTMFFT_ABSREAL:
		return fabs(creal(z));
	case DSP_MTMFFT_ABSIMAG:
		return fabs(cimag(z));
	}
	return NAN;
}

/* dsp_mtmconvol_trial on a random trial against ref_tfr_sliding, every output entry. */
static void
check_sliding(struct dsp_mtmconvol_params *p, size_t n, size_t nc, uint64_t seed)
{
	struct dsp_mtmconvol *m;
	struct dsp_mtmconvol_work *wk = NULL;
	double *x = randn_trial(n, nc, seed), *col = malloc(n * sizeof *col), *w;
	char *cause = NULL;
	size_t k, nt, nf, ntap, cw = dsp_tfr_width(p->output), step, pp, *bins;

	p->min_len = n;
	cr_assert_eq(dsp_mtmconvol_new(p, &m, &cause), 0, "%s", cause);
	pp = dsp_mtmconvol_nperseg(m);
	step = dsp_mtmconvol_step(m);
	nf = dsp_mtmconvol_nfreq(m);
	ntap = dsp_mtmconvol_ntap(m);
	nt = dsp_mtmconvol_ntime(m, n);
	w = ref_tapers(p, pp, false, &k);
	bins = malloc(nf * sizeof *bins);
	for (size_t f = 0; f < nf; f++)
		bins[f] = ref_bin(dsp_mtmconvol_freqs(m)[f], pp, p->fs);
	size_t ntw = (n + step - 1) / step, len = nt * ntap * nf * nc * cw;
	double complex *ref = malloc(ntw * k * nf * sizeof *ref);
	double *got = malloc(len * sizeof *got), *want = calloc(len, sizeof *want);
	struct dsp_trial tr = {x, DSP_TRIAL_F64, n, nc, 0};
	cr_assert_eq(dsp_mtmconvol_trial(m, &tr, -37, got, &wk, &cause), 0, "%s", cause);
	for (size_t c = 0; c < nc; c++) {
		for (size_t i = 0; i < n; i++)
			col[i] = x[i * nc + c];
		ref_tfr_sliding(col, n, pp, step, p->polyremoval, w, k, bins, nf, ref);
		for (size_t t = 0; t < ntw; t++)
			for (size_t j = 0; j < k; j++)
				for (size_t f = 0; f < nf; f++)
					for (size_t q = 0; q < cw; q++) {
						size_t row = p->welch ? 0 : t, tap = p->keeptapers ? j : 0;
						double wt = (p->keeptapers ? 1 : 1.0 / (double)k) /
							    (p->welch ? (double)ntw : 1);
						want[(((row * ntap + tap) * nf + f) * nc + c) * cw + q] +=
						    wt * convert(p->output, ref[(t * k + j) * nf + f], (int)q);
					}
	}
	double tol = 1e-10 * max_abs(want, len);
	for (size_t i = 0; i < len; i++)
		cr_assert(fabs(got[i] - want[i]) <= tol, "entry %zu: %.15g vs reference %.15g", i,
			  got[i], want[i]);
	dsp_mtmconvol_work_free(wk);
	dsp_mtmconvol_free(m);
	free(bins);
	free(ref);
	free(got);
	free(want);
	free(w);
	free(col);
	free(x);
}

Test(dsp_tfr, mtmconvol_windows_equal_the_plain_reference)
{
	struct dsp_mtmconvol_params p;
	double foi[] = {3, 10, 10.5, 40, 61};

	/* odd window, hann, demeaned windows, pow */
	dsp_mtmconvol_params_init(&p, 500);
	p.t_ftimwin = 0.25;
	p.toi_kind = DSP_TFR_TOI_FRACTION;
	p.toi_frac = 0.8;
	p.mean_len = 800;
	check_sliding(&p, 800, 2, 1);
	/* dpss from a mean length, linear detrend, keeptapers, fourier, foi */
	dsp_mtmconvol_params_init(&p, 1000);
	p.t_ftimwin = 0.2;
	p.toi_kind = DSP_TFR_TOI_FRACTION;
	p.toi_frac = 0.5;
	p.tapsmofrq = 8;
	p.mean_len = 950.5;
	p.polyremoval = 1;
	p.keeptapers = true;
	p.output = DSP_MTMFFT_FOURIER;
	p.foi = foi;
	p.nfoi = 5;
	check_sliding(&p, 1000, 3, 2);
	/* every sample, boxcar, no detrending, abs, foilim */
	dsp_mtmconvol_params_init(&p, 256);
	p.t_ftimwin = 0.25;
	p.taper = DSP_TAPER_BOXCAR;
	p.polyremoval = -1;
	p.output = DSP_MTMFFT_ABS;
	p.use_foilim = true;
	p.foilim[0] = 8;
	p.foilim[1] = 50;
	p.mean_len = 300;
	check_sliding(&p, 300, 1, 3);
	/* welch: hamming, mean over windows; dpss multitaper welch */
	dsp_mtmconvol_params_init(&p, 200);
	p.t_ftimwin = 0.32;
	p.toi_kind = DSP_TFR_TOI_FRACTION;
	p.toi_frac = 0.25;
	p.taper = DSP_TAPER_HAMMING;
	p.welch = true;
	p.mean_len = 333;
	check_sliding(&p, 333, 2, 4);
	p.taper = DSP_TAPER_HANN;
	p.tapsmofrq = 3;
	check_sliding(&p, 333, 2, 5);
}

/* A toi list: one symmetric-tapered window of 2 * halfwin + 1 samples per time, no detrending. */
Test(dsp_tfr, mtmconvol_toi_list_equals_the_plain_reference)
{
	struct dsp_mtmconvol_params p;
	double toi[] = {-0.1, 0.3, 0.62, 1.0}, foi[] = {10, 20, 35, 70};
	size_t n = 700, nc = 2, k, nf;
	double fs = 400, off = -120, *x = randn_trial(n, nc, 9), *got, *w;
	struct dsp_mtmconvol *m;
	struct dsp_mtmconvol_work *wk = NULL;
	char *cause = NULL;

	dsp_mtmconvol_params_init(&p, fs);
	p.t_ftimwin = 0.2;
	p.toi_kind = DSP_TFR_TOI_LIST;
	p.toi = toi;
	p.ntoi = 4;
	p.tapsmofrq = 6;
	p.mean_len = n;
	p.min_len = n;
	p.polyremoval = 1; /* ignored by the list path, as in the reference */
	p.foi = foi;
	p.nfoi = 4;
	cr_assert_eq(dsp_mtmconvol_new(&p, &m, &cause), 0, "%s", cause);
	nf = dsp_mtmconvol_nfreq(m);
	got = malloc(4 * nf * nc * sizeof *got);
	struct dsp_trial tr = {x, DSP_TRIAL_F64, n, nc, 0};
	cr_assert_eq(dsp_mtmconvol_trial(m, &tr, off, got, &wk, &cause), 0, "%s", cause);
	w = ref_tapers(&p, 81, true, &k);
	for (size_t j = 0; j < 4; j++) {
		double c0 = trunc(fs * (toi[j] - off / fs));
		size_t a = (size_t)(c0 - 40);
		for (size_t c = 0; c < nc; c++) {
			double seg[81];
			for (size_t i = 0; i < 81; i++)
				seg[i] = x[(a + i) * nc + c];
			for (size_t f = 0; f < nf; f++) {
				size_t b = ref_bin(dsp_mtmconvol_freqs(m)[f], 81, fs);
				double want = 0;
				for (size_t q = 0; q < k; q++) {
					double complex z = ref_tfr_dft(seg, w + q * 81, 81, b);
					want += creal(z * conj(z)) / (double)k;
				}
				double g = got[(j * nf + f) * nc + c];
				cr_assert(fabs(g - want) <= 1e-10 * want, "time %zu freq %zu: %g vs %g",
					  j, f, g, want);
			}
		}
	}
	dsp_mtmconvol_work_free(wk);
	dsp_mtmconvol_free(m);
	free(w);
	free(got);
	free(x);
}

/* A cosine at a bin frequency: an interior hann window's peak is A^2 (P - 1) / (3 P), up to the
 * image at -f0 that the symmetric (not periodic) window lets leak into the bin (~1e-5). */
Test(dsp_tfr, mtmconvol_hann_peak_power)
{
	struct dsp_mtmconvol_params p;
	size_t n = 1000, pp = 200;
	double fs = 1000, f0 = 50, a = 1.7, *x = malloc(n * sizeof *x), *out, want;
	struct dsp_mtmconvol *m;
	struct dsp_mtmconvol_work *wk = NULL;
	double foi[] = {50};

	for (size_t i = 0; i < n; i++)
		x[i] = a * cos(2 * M_PI * f0 * (double)i / fs);
	dsp_mtmconvol_params_init(&p, fs);
	p.t_ftimwin = (double)pp / fs;
	p.toi_kind = DSP_TFR_TOI_FRACTION;
	p.toi_frac = 0.5;
	p.foi = foi;
	p.nfoi = 1;
	p.mean_len = n;
	p.min_len = n;
	p.polyremoval = -1;
	cr_assert_eq(dsp_mtmconvol_new(&p, &m, NULL), 0);
	out = malloc(dsp_mtmconvol_ntime(m, n) * sizeof *out);
	struct dsp_trial tr = {x, DSP_TRIAL_F64, n, 1, 0};
	cr_assert_eq(dsp_mtmconvol_trial(m, &tr, 0, out, &wk, NULL), 0);
	want = a * a * (double)(pp - 1) / (3.0 * (double)pp);
	for (size_t t = 2; t < 8; t++) /* windows inside the trial */
		cr_assert(fabs(out[t] - want) <= 1e-4 * want, "window %zu: %.12g vs %.12g", t,
			  out[t], want);
	dsp_mtmconvol_work_free(wk);
	dsp_mtmconvol_free(m);
	free(out);
	free(x);
}

/* The scale of frequency f for ref_tfr_kernel's families, from the closed forms. */
static double
ref_scale(int family, int m, double f)
{
	switch (family) {
	case 0:
		return (1 / f) * (6 + sqrt(38)) / (4 * M_PI);
	case 1:
		return (1 / f) * (2 * m + 1) / (4 * M_PI);
	case 2:
		return (1 / f) * sqrt(m + 0.5) / (2 * M_PI);
	}
	return 1 / (2 * M_PI * f);
}

static const enum dsp_cwt_family families[] = {DSP_CWT_MORLET, DSP_CWT_PAUL, DSP_CWT_DOG,
					       DSP_CWT_SUPERLET};

Test(dsp_tfr, wavelet_kernels_equal_their_closed_forms)
{
	double foi[] = {4, 17.5, 60};
	int orders[] = {0, 6, 3, 0};
	double *taps = malloc(2 * 20000 * sizeof *taps);
	double complex *ref = malloc(20000 * sizeof *ref);

	for (int fam = 0; fam < 4; fam++) {
		struct dsp_cwt_params p;
		struct dsp_cwt *m;
		dsp_cwt_params_init(&p, 300);
		p.family = families[fam];
		p.order = orders[fam];
		p.foi = foi;
		p.nfoi = 3;
		p.order_min = 1;
		p.order_max = 3;
		cr_assert_eq(dsp_cwt_new(&p, &m, NULL), 0);
		for (size_t f = 0; f < 3; f++) {
			int cyc = fam == 3 ? 5 : 0;
			size_t n, nr = ref_tfr_kernel(fam, orders[fam], cyc,
						      ref_scale(fam, orders[fam], foi[f]), 300, ref);
			dsp_cwt_kernel(m, f, cyc, taps, &n);
			cr_assert_eq(n, nr, "family %d foi %g: %zu taps, want %zu", fam, foi[f], n, nr);
			double big = 0;
			for (size_t i = 0; i < n; i++)
				big = fmax(big, cabs(ref[i]));
			for (size_t i = 0; i < n; i++)
				cr_assert(cabs(taps[2 * i] + I * taps[2 * i + 1] - ref[i]) <= 1e-12 * big,
					  "family %d foi %g tap %zu", fam, foi[f], i);
			cr_assert(fabs(dsp_cwt_freqs(m)[f] - foi[f]) <= 1e-9 * foi[f]);
		}
		dsp_cwt_free(m);
	}
	free(taps);
	free(ref);
}

/* The FFT transform against direct convolution: wavelets as complex coefficients on a trimmed
 * toi list and on every sample, the superlet as the product of principal powers. */
static void
check_cwt(struct dsp_cwt_params *p, size_t n, size_t nc, double offset, uint64_t seed)
{
	struct dsp_cwt *m;
	struct dsp_cwt_conv_work *wk = NULL;
	double *x = randn_trial(n, nc, seed), *col = malloc(n * sizeof *col), *got;
	size_t nf = p->nfoi, nt, a = 0, b = n, *keep = malloc((p->ntoi + 1) * sizeof *keep);
	size_t cw = dsp_tfr_width(p->output);
	double complex *k = malloc(100000 * sizeof *k), *y = malloc(n * sizeof *y);
	char *cause = NULL;
	int fam = p->family == DSP_CWT_MORLET ? 0 : p->family == DSP_CWT_PAUL ? 1
		  : p->family == DSP_CWT_DOG ? 2 : 3;

	cr_assert_eq(dsp_cwt_new(p, &m, &cause), 0, "%s", cause);
	nt = dsp_cwt_ntime(m, n);
	got = malloc(nt * nf * nc * cw * sizeof *got);
	struct dsp_trial tr = {x, DSP_TRIAL_F64, n, nc, 0};
	cr_assert_eq(dsp_cwt_conv_trial(m, &tr, offset, got, &wk, &cause), 0, "%s", cause);
	if (p->toi_kind == DSP_TFR_TOI_LIST)
		cr_assert_eq(dsp_tfr_trim(p->toi, p->ntoi, p->fs, offset / p->fs, n, &a, &b, keep,
					  NULL), 0);
	double complex *want = calloc(nt * nf * nc, sizeof *want);
	for (size_t c = 0; c < nc; c++) {
		for (size_t i = 0; i < n; i++)
			col[i] = x[i * nc + c];
		ref_tfr_detrend(col, n, p->polyremoval);
		for (size_t f = 0; f < nf; f++) {
			double s = ref_scale(fam, p->order, p->foi[f]);
			double complex *acc = want;
			int omin = p->order_min, omax = fam == 3 ? p->order_max : 0;
			for (size_t t = 0; t < nt; t++)
				acc[(t * nf + f) * nc + c] = 1;
			for (int o = fam == 3 ? omin : 0; o <= omax; o++) {
				size_t nk = ref_tfr_kernel(fam, p->order, p->c_1 * o, s, p->fs, k);
				ref_tfr_conv_same(col + a, b - a, k, nk, y);
				for (size_t t = 0; t < nt; t++) {
					size_t at = p->toi_kind == DSP_TFR_TOI_LIST ? keep[t] : t;
					acc[(t * nf + f) * nc + c] *=
					    fam == 3 ? cpow(y[at], 1.0 / (omax - omin + 1)) : y[at];
				}
			}
		}
	}
	double big = 0;
	for (size_t i = 0; i < nt * nf * nc; i++)
		big = fmax(big, cabs(want[i]));
	for (size_t i = 0; i < nt * nf * nc; i++) {
		double complex g = cw == 2 ? got[2 * i] + I * got[2 * i + 1] : got[i];
		double complex w = cw == 2 ? want[i] : convert(p->output, want[i], 0);
		cr_assert(cabs(g - w) <= 1e-9 * (cw == 2 ? big : fmax(big * big, big)),
			  "entry %zu: %g%+gi vs reference %g%+gi", i, creal(g), cimag(g), creal(w),
			  cimag(w));
	}
	dsp_cwt_conv_work_free(wk);
	dsp_cwt_free(m);
	free(want);
	free(got);
	free(k);
	free(y);
	free(keep);
	free(col);
	free(x);
}

Test(dsp_tfr, wavelet_and_superlet_equal_direct_convolution)
{
	struct dsp_cwt_params p;
	double foi[] = {5, 12, 31, 70}, toi[40];

	for (size_t i = 0; i < 40; i++)
		toi[i] = -0.101 + 0.02 * (double)i;
	for (int fam = 0; fam < 4; fam++) {
		dsp_cwt_params_init(&p, 250);
		p.family = families[fam];
		p.order = fam == 1 ? 4 : 2;
		p.foi = foi;
		p.nfoi = 4;
		p.output = DSP_MTMFFT_FOURIER;
		p.order_min = 2;
		p.order_max = 4;
		p.c_1 = 2;
		check_cwt(&p, 400, 2, -50, 11 + fam); /* every sample */
		p.toi_kind = DSP_TFR_TOI_LIST;
		p.toi = toi;
		p.ntoi = 40;
		p.polyremoval = 1;
		p.output = DSP_MTMFFT_POW;
		check_cwt(&p, 400, 2, -50, 21 + fam); /* trimmed, then kept samples */
	}
}

/* The adaptive superlet's power as the product of whole orders and a fractional next order. */
Test(dsp_tfr, adaptive_superlet_power_is_the_fractional_product)
{
	struct dsp_cwt_params p;
	size_t n = 500, nf = 9;
	double foi[9], fs = 300, *x = randn_trial(n, 1, 5), *got = malloc(n * nf * sizeof *got);
	double complex *k = malloc(100000 * sizeof *k), *y = malloc(n * sizeof *y);
	struct dsp_cwt *m;
	struct dsp_cwt_conv_work *wk = NULL;

	for (size_t f = 0; f < nf; f++)
		foi[f] = 20 + (double)f;
	dsp_cwt_params_init(&p, fs);
	p.family = DSP_CWT_SUPERLET;
	p.foi = foi;
	p.nfoi = nf;
	p.order_min = 1;
	p.order_max = 5;
	p.c_1 = 3;
	p.adaptive = true;
	p.polyremoval = -1;
	cr_assert_eq(dsp_cwt_new(&p, &m, NULL), 0);
	struct dsp_trial tr = {x, DSP_TRIAL_F64, n, 1, 0};
	cr_assert_eq(dsp_cwt_conv_trial(m, &tr, 0, got, &wk, NULL), 0);
	for (size_t f = 0; f < nf; f++) {
		double o = 1 + 4 * (foi[f] - foi[0]) / (foi[nf - 1] - foi[0]), al = o - floor(o);
		double *lp = calloc(n, sizeof *lp);
		for (int q = 1; q <= (int)floor(o) + 1; q++) {
			double e = q <= (int)floor(o) ? 1 : al;
			if (e == 0)
				continue;
			size_t nk = ref_tfr_kernel(3, 0, 3 * q, ref_scale(3, 0, foi[f]), fs, k);
			ref_tfr_conv_same(x, n, k, nk, y);
			for (size_t t = 0; t < n; t++)
				lp[t] += e * log(creal(y[t] * conj(y[t])));
		}
		for (size_t t = 0; t < n; t++) {
			double want = exp(lp[t] / (o - 1 + 1));
			cr_assert(fabs(got[t * nf + f] - want) <= 1e-9 * want, "f %zu t %zu: %g vs %g",
				  f, t, got[t * nf + f], want);
		}
		free(lp);
	}
	dsp_cwt_conv_work_free(wk);
	dsp_cwt_free(m);
	free(k);
	free(y);
	free(got);
	free(x);
}

/* A superlet's modulus at a harmonic's frequency: with the kernel sqrt(1/fs)/(4 pi) psi_c, the
 * Gaussian's integral gives A sqrt(fs) / (8 pi) for every order (the harmonic's amplitude only
 * at fs = 64 pi^2), so the geometric mean over orders is the same. */
Test(dsp_tfr, superlet_modulus_at_a_harmonic)
{
	struct dsp_cwt_params p;
	size_t n = 2000;
	double fs = 1000, a = 2.5, foi[] = {40}, *x = malloc(n * sizeof *x), *out;
	struct dsp_cwt *m;
	struct dsp_cwt_conv_work *wk = NULL;

	for (size_t i = 0; i < n; i++)
		x[i] = a * sin(2 * M_PI * 40 * (double)i / fs + 0.3);
	dsp_cwt_params_init(&p, fs);
	p.family = DSP_CWT_SUPERLET;
	p.foi = foi;
	p.nfoi = 1;
	p.order_min = 1;
	p.order_max = 3;
	p.c_1 = 3;
	p.output = DSP_MTMFFT_ABS;
	cr_assert_eq(dsp_cwt_new(&p, &m, NULL), 0);
	out = malloc(n * sizeof *out);
	struct dsp_trial tr = {x, DSP_TRIAL_F64, n, 1, 0};
	cr_assert_eq(dsp_cwt_conv_trial(m, &tr, 0, out, &wk, NULL), 0);
	for (size_t t = 800; t < 1200; t += 50)
		cr_assert(fabs(out[t] - a * sqrt(fs) / (8 * M_PI)) <= 1e-3 * a, "sample %zu: |W| %.6g",
			  t, out[t]);
	dsp_cwt_conv_work_free(wk);
	dsp_cwt_free(m);
	free(out);
	free(x);
}
