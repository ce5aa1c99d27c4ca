/* mtmfft: the reference spectra and frequency axes, the closed forms of the spec, a plain DFT
 * reference for the fast path, accumulation, and parameter validation. */
#include <complex.h>
#include <criterion/criterion.h>
#include <string.h>

#include "test-dsp-util.h"
#include "worker/dsp/spectral/dsp-mtmfft.h"

static struct dsp_mtmfft *
test_new(const struct dsp_mtmfft_params *p, size_t maxlen)
{
	struct dsp_mtmfft *m;
	char *cause = NULL;

	cr_assert_eq(dsp_mtmfft_new(p, maxlen, &m, &cause), 0, "%s", cause);
	return m;
}

static void
test_reference(enum dsp_taper_window w, const char *spec, const char *freqs)
{
	struct io_npy_header hi, hs, hf;
	double *x = test_load("wn_input", &hi), *ref = test_load(spec, &hs);
	double *fr = test_load(freqs, &hf);
	struct dsp_mtmfft_params p;
	struct dsp_mtmfft *m;
	float out[150 * 4];
	double *got = malloc(hs.count * sizeof *got);

	dsp_mtmfft_params_init(&p, 1000);
	p.taper = w;
	p.use_foilim = true;
	p.foilim[0] = 1;
	p.foilim[1] = 150;
	m = test_new(&p, 1000);
	cr_assert_eq(dsp_mtmfft_nfreq(m), hf.count);
	for (size_t f = 0; f < hf.count; f++)
		cr_assert(dsp_mtmfft_freqs(m)[f] == fr[f], "freq %zu: %.17g vs %.17g", f,
			  dsp_mtmfft_freqs(m)[f], fr[f]);
	for (size_t t = 0; t < 10; t++) {
		struct dsp_trial tr = {x + t * 4000, DSP_TRIAL_F64, 1000, 4, 0};
		cr_assert_eq(dsp_mtmfft_trial(m, &tr, out, NULL), 0);
		for (size_t i = 0; i < 600; i++)
			got[t * 600 + i] = out[i];
	}
	test_close(got, ref, hs.count, spec);
	dsp_mtmfft_free(m);
	free(x);
	free(ref);
	free(fr);
	free(got);
}

Test(dsp_mtmfft, reference_hann_and_boxcar)
{
	test_reference(DSP_TAPER_HANN, "wn_spec_hann", "wn_freqs_hann");
	test_reference(DSP_TAPER_BOXCAR, "wn_spec_boxcar", "wn_freqs_boxcar");
}

/* Power spectrum of one single-channel float64 signal; returns malloc'd nfreq values. */
static float *
test_pow(const double *x, size_t n, double fs, enum dsp_taper_window w, double pad, bool compat,
	 size_t *nfreq, const double **freqs, struct dsp_mtmfft **mp)
{
	struct dsp_mtmfft_params p;
	struct dsp_trial tr = {x, DSP_TRIAL_F64, n, 1, 0};
	float *out;

	dsp_mtmfft_params_init(&p, fs);
	p.taper = w;
	p.ft_compat = compat;
	if (pad > 0) {
		p.pad = DSP_MTMFFT_PAD_SECONDS;
		p.pad_seconds = pad;
	}
	*mp = test_new(&p, n);
	*nfreq = dsp_mtmfft_nfreq(*mp);
	*freqs = dsp_mtmfft_freqs(*mp);
	out = malloc(*nfreq * sizeof *out);
	cr_assert_eq(dsp_mtmfft_trial(*mp, &tr, out, NULL), 0);
	return out;
}

static size_t
test_bin(const double *freqs, size_t n, double f)
{
	for (size_t i = 0; i < n; i++)
		if (freqs[i] == f)
			return i;
	cr_assert_fail("no bin at %g Hz", f);
	return 0;
}

Test(dsp_mtmfft, closed_forms)
{
	struct io_npy_header h;
	double *x = test_load("harm_input", &h), *x2;
	const double *fr;
	struct dsp_mtmfft *m;
	size_t nf, b;
	float *s;

	/* 4 cos(2 pi 50 t), fs 500, N 1000. */
	s = test_pow(x, 1000, 500, DSP_TAPER_BOXCAR, 0, false, &nf, &fr, &m);
	b = test_bin(fr, nf, 50);
	cr_assert_float_eq(s[b], 8, 1e-4);
	free(s);
	dsp_mtmfft_free(m);
	s = test_pow(x, 1000, 500, DSP_TAPER_HANN, 0, false, &nf, &fr, &m);
	b = test_bin(fr, nf, 50);
	cr_assert_float_eq(s[b], 16.0 * 999 / 3000, 1e-4);
	cr_assert_float_eq(s[b - 1] + s[b] + s[b + 1], 8, 1e-4);
	free(s);
	dsp_mtmfft_free(m);
	/* Padding to 2N keeps the peak; ft_compat halves it. */
	s = test_pow(x, 1000, 500, DSP_TAPER_BOXCAR, 4.0, false, &nf, &fr, &m);
	cr_assert_eq(dsp_mtmfft_padlen(m), 2000);
	cr_assert_float_eq(s[test_bin(fr, nf, 50)], 8, 1e-4);
	free(s);
	dsp_mtmfft_free(m);
	s = test_pow(x, 1000, 500, DSP_TAPER_BOXCAR, 4.0, true, &nf, &fr, &m);
	cr_assert_float_eq(s[test_bin(fr, nf, 50)], 4, 1e-4);
	free(s);
	dsp_mtmfft_free(m);
	free(x);
	/* 5 cos(40) + 3 cos(100), fs 1000. */
	x2 = test_load("harm2_input", &h);
	s = test_pow(x2, 1000, 1000, DSP_TAPER_BOXCAR, 0, false, &nf, &fr, &m);
	cr_assert_float_eq(s[test_bin(fr, nf, 40)], 12.5, 1e-4);
	cr_assert_float_eq(s[test_bin(fr, nf, 100)], 4.5, 1e-4);
	free(s);
	dsp_mtmfft_free(m);
	free(x2);
}

/* White noise sigma 1: mean power 2/N per bin, for hann and for multitapering. */
Test(dsp_mtmfft, white_noise_level)
{
	const size_t n = 500, nc = 2, ntr = 200;
	double *x = malloc(n * nc * ntr * sizeof *x);
	uint64_t s = 12345;

	for (size_t i = 0; i < n * nc * ntr; i++)
		x[i] = test_randn(&s);
	for (int mt = 0; mt < 2; mt++) {
		struct dsp_mtmfft_params p;
		struct dsp_mtmfft_accum a;
		struct dsp_mtmfft *m;
		float *out;
		double mean = 0;
		size_t cnt = 0;

		dsp_mtmfft_params_init(&p, 1000);
		p.use_foilim = true;
		p.foilim[0] = 20;
		p.foilim[1] = 480;
		p.tapsmofrq = mt ? 6 : 0;
		m = test_new(&p, n);
		dsp_mtmfft_accum_init(&a, m, 1, nc);
		for (size_t t = 0; t < ntr; t++) {
			struct dsp_trial tr = {x + t * n * nc, DSP_TRIAL_F64, n, nc, 0};
			cr_assert_eq(dsp_mtmfft_accum_add(&a, m, &tr, NULL), 0);
		}
		out = malloc(a.len * sizeof *out);
		cr_assert_eq(dsp_mtmfft_accum_finalize(&a, out, NULL), 0);
		for (size_t i = 0; i < a.len; i++, cnt++)
			mean += out[i];
		mean /= (double)cnt;
		cr_assert(fabs(mean - 2.0 / n) < 0.03 * 2.0 / n, "mt %d: mean %g vs %g", mt, mean,
			  2.0 / n);
		free(out);
		dsp_mtmfft_accum_fini(&a);
		dsp_mtmfft_free(m);
	}
	free(x);
}

/* Plain reference: detrend, taper, direct DFT at the selected bins, scale, convert. */
static void
test_plain(const struct dsp_mtmfft_params *p, const double *x, size_t n, size_t nc, size_t mm,
	   const double *tap, size_t k, double tscale, const double *freqs, size_t nf, double *out)
{
	double *col = malloc(n * sizeof *col);
	double l = p->ft_compat ? (double)mm : sqrt((double)n * (double)mm);

	for (size_t c = 0; c < nc; c++) {
		for (size_t i = 0; i < n; i++)
			col[i] = x[i * nc + c];
		if (p->polyremoval >= 0) {
			double sx = 0, sy = 0, sxx = 0, sxy = 0;
			for (size_t i = 0; i < n; i++) {
				sx += (double)i;
				sy += col[i];
				sxx += (double)i * (double)i;
				sxy += (double)i * col[i];
			}
			double b =
			    p->polyremoval == 1 ? (n * sxy - sx * sy) / (n * sxx - sx * sx) : 0;
			double a = (sy - b * sx) / (double)n;
			for (size_t i = 0; i < n; i++)
				col[i] -= a + b * (double)i;
		}
		for (size_t j = 0; j < k; j++)
			for (size_t f = 0; f < nf; f++) {
				double complex acc = 0;
				double kk = round(freqs[f] * (double)mm / p->fs);
				for (size_t i = 0; i < n; i++)
					acc += col[i] * tap[j * n + i] * tscale *
					       cexp(-2 * I * M_PI * kk * (double)i / (double)mm);
				acc *= sqrt(2.0) / l;
				double *o = out + ((j * nf + f) * nc + c) * 2;
				o[0] = creal(acc);
				o[1] = cimag(acc);
			}
	}
	free(col);
}

Test(dsp_mtmfft, fast_matches_plain_dft)
{
	const size_t n = 300, nc = 3;
	double *x = malloc(n * nc * sizeof *x), *ref, foi[] = {3, 10.2, 55, 55.1, 250};
	uint64_t s = 99;
	struct dsp_mtmfft_params p;
	struct dsp_mtmfft *m;
	const struct dsp_taper_set *set;
	size_t ntap, nf;
	float *out;

	for (size_t i = 0; i < n * nc; i++)
		x[i] = test_randn(&s) + 0.01 * (double)(i / nc);
	/* Multitaper fourier, keeptapers, linear detrend, nextpow2 padding, foi. */
	dsp_mtmfft_params_init(&p, 500);
	p.tapsmofrq = 5;
	p.keeptapers = true;
	p.output = DSP_MTMFFT_FOURIER;
	p.polyremoval = 1;
	p.pad = DSP_MTMFFT_PAD_NEXTPOW2;
	p.foi = foi;
	p.nfoi = 5;
	m = test_new(&p, n);
	cr_assert_eq(dsp_mtmfft_padlen(m), 512);
	nf = dsp_mtmfft_nfreq(m);
	cr_assert_eq(nf, 4); /* 55 and 55.1 share a bin */
	cr_assert_eq(dsp_mtmfft_ntapers(m, n, &ntap, NULL), 0);
	cr_assert_eq(ntap, 5); /* NW = 3, K = 5 */
	cr_assert_eq(dsp_taper_cache_get(DSP_TAPER_DPSS, n, 3.0, 5, &set, NULL), 0);
	out = malloc(ntap * nf * nc * 2 * sizeof *out);
	ref = malloc(ntap * nf * nc * 2 * sizeof *ref);
	struct dsp_trial tr = {x, DSP_TRIAL_F64, n, nc, 0};
	cr_assert_eq(dsp_mtmfft_trial(m, &tr, out, NULL), 0);
	test_plain(&p, x, n, nc, 512, set->w, 5, sqrt(512.0), dsp_mtmfft_freqs(m), nf, ref);
	test_close_f(out, ref, ntap * nf * nc * 2, "fourier");
	dsp_mtmfft_free(m);

	/* Other outputs of the same data with a hamming taper, averaged (single taper). */
	static const enum dsp_mtmfft_output outs[] = {
	    DSP_MTMFFT_POW, DSP_MTMFFT_ABS, DSP_MTMFFT_REAL, DSP_MTMFFT_IMAG, DSP_MTMFFT_ANGLE};
	double *w = malloc(n * sizeof *w), sw = 0;
	dsp_taper_window_fill(DSP_TAPER_HAMMING, n, 0, w, NULL);
	for (size_t i = 0; i < n; i++)
		sw += w[i];
	for (size_t o = 0; o < 5; o++) {
		dsp_mtmfft_params_init(&p, 500);
		p.taper = DSP_TAPER_HAMMING;
		p.output = outs[o];
		m = test_new(&p, n);
		nf = dsp_mtmfft_nfreq(m);
		cr_assert_eq(nf, n / 2 + 1);
		double *z = malloc(nf * nc * 2 * sizeof *z), *want = malloc(nf * nc * sizeof *want);
		test_plain(&p, x, n, nc, n, w, 1, sqrt(4.0 / 3.0) * sqrt((double)n / sw),
			   dsp_mtmfft_freqs(m), nf, z);
		for (size_t i = 0; i < nf * nc; i++) {
			double re = z[2 * i], im = z[2 * i + 1];
			want[i] = o == 0   ? re * re + im * im
				  : o == 1 ? hypot(re, im)
				  : o == 2 ? re
				  : o == 3 ? im
					   : atan2(im, re);
		}
		float *got = malloc(nf * nc * sizeof *got);
		cr_assert_eq(dsp_mtmfft_trial(m, &tr, got, NULL), 0);
		if (o == 4) { /* angles of near-zero bins (DC after demean) are noise */
			for (size_t i = nc; i < nf * nc; i++)
				cr_assert_float_eq(got[i], want[i], 1e-4);
		} else {
			test_close_f(got, want, nf * nc, "output");
		}
		free(z);
		free(want);
		free(got);
		dsp_mtmfft_free(m);
	}
	free(w);
	free(out);
	free(ref);
	free(x);
}

Test(dsp_mtmfft, accumulators_merge)
{
	const size_t n = 128, nc = 2;
	double *x = malloc(6 * n * nc * sizeof *x);
	uint64_t s = 5;
	struct dsp_mtmfft_params p;
	struct dsp_mtmfft *m;
	struct dsp_mtmfft_accum a, b;
	float each[65 * 2], mean[65 * 2] = {0}, got[65 * 2];

	for (size_t i = 0; i < 6 * n * nc; i++)
		x[i] = test_randn(&s);
	dsp_mtmfft_params_init(&p, 100);
	m = test_new(&p, n);
	dsp_mtmfft_accum_init(&a, m, 1, nc);
	dsp_mtmfft_accum_init(&b, m, 1, nc);
	for (size_t t = 0; t < 6; t++) {
		struct dsp_trial tr = {x + t * n * nc, DSP_TRIAL_F64, n, nc, 0};
		cr_assert_eq(dsp_mtmfft_trial(m, &tr, each, NULL), 0);
		for (size_t i = 0; i < 130; i++)
			mean[i] += each[i] / 6;
		cr_assert_eq(dsp_mtmfft_accum_add(t < 2 ? &a : &b, m, &tr, NULL), 0);
	}
	cr_assert_eq(dsp_mtmfft_accum_merge(&a, &b, NULL), 0);
	cr_assert_eq(a.count, 6);
	cr_assert_eq(dsp_mtmfft_accum_finalize(&a, got, NULL), 0);
	for (size_t i = 0; i < 130; i++)
		cr_assert_float_eq(got[i], mean[i], 1e-6 * fabs(mean[i]) + 1e-9);
	dsp_mtmfft_accum_fini(&a);
	dsp_mtmfft_accum_fini(&b);
	dsp_mtmfft_free(m);
	free(x);
}

static void
test_reject(const struct dsp_mtmfft_params *p, size_t maxlen, const char *name)
{
	struct dsp_mtmfft *m;
	char *cause = NULL;

	cr_assert_eq(dsp_mtmfft_new(p, maxlen, &m, &cause), -EINVAL, "expected %s rejected", name);
	cr_assert_null(m);
	cr_assert_not_null(strstr(cause, name), "cause '%s' lacks '%s'", cause, name);
	free(cause);
}

Test(dsp_mtmfft, validation_names_the_parameter)
{
	struct dsp_mtmfft_params p;
	double foi[] = {10}, bad_foi[] = {600};

	dsp_mtmfft_params_init(&p, 1000);
	p.use_foilim = true;
	p.foilim[0] = 1;
	p.foilim[1] = 501;
	test_reject(&p, 1000, "foilim");
	p.foilim[0] = 10;
	p.foilim[1] = 5;
	test_reject(&p, 1000, "foilim");
	p.foilim[0] = 10.2;
	p.foilim[1] = 10.8;
	test_reject(&p, 1000, "foilim"); /* no bin inside */
	p.foilim[1] = 100;
	p.foi = foi;
	p.nfoi = 1;
	test_reject(&p, 1000, "foilim");
	dsp_mtmfft_params_init(&p, 1000);
	p.foi = bad_foi;
	p.nfoi = 1;
	test_reject(&p, 1000, "foi");
	dsp_mtmfft_params_init(&p, 1000);
	p.taper = DSP_TAPER_BOXCAR;
	p.tapsmofrq = 4;
	test_reject(&p, 1000, "tapsmofrq");
	dsp_mtmfft_params_init(&p, 1000);
	p.output = DSP_MTMFFT_FOURIER;
	p.tapsmofrq = 4;
	test_reject(&p, 1000, "keeptapers");
	dsp_mtmfft_params_init(&p, 1000);
	p.pad = DSP_MTMFFT_PAD_SECONDS;
	p.pad_seconds = 0.5;
	test_reject(&p, 1000, "pad");
	dsp_mtmfft_params_init(&p, 1000);
	p.polyremoval = 2;
	test_reject(&p, 1000, "polyremoval");
	dsp_mtmfft_params_init(&p, 1000);
	p.ntaper = 3;
	test_reject(&p, 1000, "nTaper");
	dsp_mtmfft_params_init(&p, 0);
	test_reject(&p, 1000, "samplerate");

	enum dsp_mtmfft_output o;
	cr_assert_eq(dsp_mtmfft_output_parse("complex", &o, NULL), 0);
	cr_assert_eq(o, DSP_MTMFFT_FOURIER);
	cr_assert_eq(dsp_mtmfft_output_parse("angle", &o, NULL), 0);
	cr_assert_eq(o, DSP_MTMFFT_ANGLE);
}

Test(dsp_mtmfft, trial_longer_than_pad_is_rejected)
{
	struct dsp_mtmfft_params p;
	struct dsp_mtmfft *m;
	double x[20] = {0};
	float out[64];
	char *cause = NULL;
	struct dsp_trial tr = {x, DSP_TRIAL_F64, 20, 1, 0};

	dsp_mtmfft_params_init(&p, 100);
	m = test_new(&p, 10);
	cr_assert_eq(dsp_mtmfft_trial(m, &tr, out, &cause), -EINVAL);
	cr_assert_not_null(strstr(cause, "pad"));
	free(cause);
	dsp_mtmfft_free(m);
}

Test(dsp_mtmfft, foi_ties_order_and_mean_length_tapers)
{
	/* 10 Hz grid (fs 100, 10 samples): 15 is a tie (goes to 20), 44 is nearer 40; the order
	 * of foi is kept and the repeated bin (20 from 15 and 21) appears once. */
	double foi[] = {44, 15, 21, 0.1}, x[3 * 10], d[2 * 6 * 1];
	struct dsp_mtmfft_params p;
	struct dsp_mtmfft *m;
	size_t ntap;
	float f32[2 * 6];

	dsp_mtmfft_params_init(&p, 100);
	p.foi = foi;
	p.nfoi = 4;
	m = test_new(&p, 10);
	cr_assert_eq(dsp_mtmfft_nfreq(m), 3);
	cr_assert(dsp_mtmfft_freqs(m)[0] == 40 && dsp_mtmfft_freqs(m)[1] == 20 &&
		      dsp_mtmfft_freqs(m)[2] == 0,
		  "%g %g %g", dsp_mtmfft_freqs(m)[0], dsp_mtmfft_freqs(m)[1],
		  dsp_mtmfft_freqs(m)[2]);
	dsp_mtmfft_free(m);

	/* NW and K from the mean length: tapsmofrq 4 at fs 1000 with a mean of 800 samples gives
	 * NW 3.2 and K 5 for a trial of 700 samples too (its own length would give 4). */
	dsp_mtmfft_params_init(&p, 1000);
	p.tapsmofrq = 4;
	p.keeptapers = true;
	m = test_new(&p, 900);
	cr_assert_eq(dsp_mtmfft_ntapers(m, 700, &ntap, NULL), 0);
	cr_assert_eq(ntap, 4);
	dsp_mtmfft_free(m);
	p.nw_len = 800;
	m = test_new(&p, 900);
	cr_assert_eq(dsp_mtmfft_ntapers(m, 700, &ntap, NULL), 0);
	cr_assert_eq(ntap, 5);
	dsp_mtmfft_free(m);

	/* One taper: complex output without keeptapers; the double output equals the float one. */
	uint64_t s = 5;
	for (size_t i = 0; i < 10; i++)
		x[i] = test_randn(&s);
	dsp_mtmfft_params_init(&p, 100);
	p.output = DSP_MTMFFT_FOURIER;
	m = test_new(&p, 10);
	struct dsp_trial tr = {x, DSP_TRIAL_F64, 10, 1, 0};
	cr_assert_eq(dsp_mtmfft_trial(m, &tr, f32, NULL), 0);
	cr_assert_eq(dsp_mtmfft_trial_f64(m, &tr, d, NULL), 0);
	for (size_t i = 0; i < 12; i++)
		cr_assert(f32[i] == (float)d[i], "value %zu: %g vs %g", i, f32[i], d[i]);
	dsp_mtmfft_free(m);
}
