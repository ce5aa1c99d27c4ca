/* Preprocessing: Butterworth design, sosfilt and sosfiltfilt against scipy, the reference
 * filtered outputs, FIR against direct convolution, band levels, minimum phase, hilbert,
 * zscore, rectify, detrend and validation. */
#include <complex.h>
#include <criterion/criterion.h>
#include <string.h>

#include "test-dsp-util.h"
#include "worker/dsp/core/dsp-butter.h"
#include "worker/dsp/core/dsp-firws.h"
#include "worker/dsp/spectral/dsp-preproc.h"

Test(dsp_preproc, butter_sos_matches_scipy)
{
	static const struct {
		const char *name;
		int order;
		enum dsp_filter_type type;
		double freq[2];
	} cases[] = {
	    {"fx_butter_lp4", 4, DSP_FILTER_LP, {40, 0}},
	    {"fx_butter_lp5", 5, DSP_FILTER_LP, {30, 0}},
	    {"fx_butter_hp3", 3, DSP_FILTER_HP, {10, 0}},
	    {"fx_butter_bp4", 4, DSP_FILTER_BP, {8, 30}},
	    {"fx_butter_bs3", 3, DSP_FILTER_BS, {45, 55}},
	    {"fx_butter_bp1", 1, DSP_FILTER_BP, {5, 60}},
	    {"fx_butter_lp1", 1, DSP_FILTER_LP, {20, 0}},
	    {"fx_butter_hp6", 6, DSP_FILTER_HP, {70, 0}},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct io_npy_header h;
		double *ref = test_load(cases[i].name, &h), *sos;
		size_t nsec;
		char *cause = NULL;
		cr_assert_eq(dsp_butter_design(cases[i].order, cases[i].type, cases[i].freq, 200,
					       &sos, &nsec, &cause),
			     0, "%s", cause);
		cr_assert_eq(nsec * 6, h.count, "%s sections", cases[i].name);
		for (size_t j = 0; j < h.count; j++)
			cr_assert(fabs(sos[j] - ref[j]) <= 1e-9 * (1 + fabs(ref[j])),
				  "%s[%zu]: %.12g vs %.12g", cases[i].name, j, sos[j], ref[j]);
		free(sos);
		free(ref);
	}
}

Test(dsp_preproc, sosfilt_and_sosfiltfilt_match_scipy)
{
	struct io_npy_header h;
	double *x = test_load("fx_sig240", &h), *r1 = test_load("fx_sosfilt_bp5", &h);
	double *r2 = test_load("fx_sosfiltfilt_bp5", &h), y[240], *sos, f[2] = {10, 40};
	size_t nsec;

	cr_assert_eq(dsp_butter_design(5, DSP_FILTER_BP, f, 200, &sos, &nsec, NULL), 0);
	memcpy(y, x, sizeof y);
	dsp_butter_sosfilt(sos, nsec, y, 240, NULL);
	test_close(y, r1, 240, "sosfilt");
	memcpy(y, x, sizeof y);
	cr_assert_eq(dsp_butter_sosfiltfilt(sos, nsec, y, 240, NULL), 0);
	test_close(y, r2, 240, "sosfiltfilt");
	cr_assert_eq(dsp_butter_padlen(sos, nsec), 33);
	char *cause = NULL;
	cr_assert_eq(dsp_butter_sosfiltfilt(sos, nsec, y, 33, &cause), -EINVAL);
	cr_assert_not_null(strstr(cause, "padlen"));
	free(cause);
	free(sos);
	free(x);
	free(r1);
	free(r2);
}

static void
test_pp_reference(enum dsp_preproc_class cls, double freq, size_t order, enum dsp_filter_type type,
		  const char *refname)
{
	struct io_npy_header h;
	double *x = test_load("pp_input", &h), *ref = test_load(refname, &h);
	struct dsp_preproc_params p;
	struct dsp_preproc *pp;
	float *out = malloc(4000 * 4 * sizeof *out);
	char *cause = NULL;

	dsp_preproc_params_init(&p, 200);
	p.filter_class = cls;
	p.filter_type = type;
	p.freq[0] = freq;
	p.order = order;
	cr_assert_eq(dsp_preproc_new(&p, 1000, &pp, &cause), 0, "%s", cause);
	for (size_t t = 0; t < 4; t++) {
		struct dsp_trial tr = {x + t * 4000, DSP_TRIAL_F64, 1000, 4, 0};
		cr_assert_eq(dsp_preproc_trial(pp, &tr, out + t * 4000, &cause), 0, "%s", cause);
	}
	test_close_f(out, ref, 16000, refname);
	dsp_preproc_free(pp);
	free(out);
	free(x);
	free(ref);
}

Test(dsp_preproc, reference_outputs)
{
	test_pp_reference(DSP_PREPROC_BUT, 40, 4, DSP_FILTER_LP, "pp_but_lp40_o4_twopass");
	test_pp_reference(DSP_PREPROC_FIRWS, 30, 200, DSP_FILTER_HP, "pp_firws_hp30_o200_twopass");
}

/* Magnitude response of a kernel at frequency f (cycles per sample). */
static double
test_gain(const double *k, size_t len, double f)
{
	double complex acc = 0;

	for (size_t i = 0; i < len; i++)
		acc += k[i] * cexp(-2 * I * M_PI * f * (double)i);
	return cabs(acc);
}

Test(dsp_preproc, firws_fast_matches_direct_and_bands)
{
	const size_t n = 400, order = 100, len = order + 1;
	double *x = malloc(2 * n * sizeof *x), *y = malloc(2 * n * sizeof *y), *k;
	double lo_hi[2] = {20, 60};
	uint64_t s = 3;
	static const enum dsp_filter_type types[] = {DSP_FILTER_LP, DSP_FILTER_HP, DSP_FILTER_BP,
						     DSP_FILTER_BS};

	for (size_t i = 0; i < 2 * n; i++)
		x[i] = test_randn(&s);
	for (size_t t = 0; t < 4; t++) {
		double f1[2] = {40, 0};
		const double *f = types[t] >= DSP_FILTER_BP ? lo_hi : f1;
		cr_assert_eq(
		    dsp_firws_design(types[t], f, 200, order, DSP_TAPER_BLACKMAN, &k, NULL), 0);
		/* Pass-band and stop-band levels (fs 200 Hz; blackman: > 70 dB stop-band). */
		double pass = types[t] == DSP_FILTER_LP   ? 5
			      : types[t] == DSP_FILTER_HP ? 90
			      : types[t] == DSP_FILTER_BP ? 40
							  : 5;
		double stop = types[t] == DSP_FILTER_LP   ? 80
			      : types[t] == DSP_FILTER_HP ? 5
			      : types[t] == DSP_FILTER_BP ? 90
							  : 40;
		cr_assert(fabs(test_gain(k, len, pass / 200) - 1) < 1e-3, "type %zu pass", t);
		cr_assert(test_gain(k, len, stop / 200) < 1e-3, "type %zu stop %g", t,
			  test_gain(k, len, stop / 200));
		/* One pass by FFT equals the centred direct convolution. */
		memcpy(y, x, 2 * n * sizeof *y);
		dsp_firws_apply(k, len, DSP_FIRWS_ONEPASS, y, n, 2);
		for (size_t c = 0; c < 2; c++)
			for (size_t i = 0; i < n; i++) {
				double acc = 0;
				for (size_t j = 0; j < len; j++) {
					long src = (long)i + (long)order / 2 - (long)j;
					if (src >= 0 && src < (long)n)
						acc += k[j] * x[c * n + (size_t)src];
				}
				cr_assert_float_eq(y[c * n + i], acc, 1e-10);
			}
		free(k);
	}
	free(x);
	free(y);
}

Test(dsp_preproc, minphase_keeps_magnitude_and_is_causal)
{
	const size_t order = 60, len = order + 1;
	double *k, *mp = malloc(len * sizeof *mp), f = 30, e_head = 0, e_all = 0;

	cr_assert_eq(dsp_firws_design(DSP_FILTER_LP, &f, 200, order, DSP_TAPER_HAMMING, &k, NULL),
		     0);
	dsp_firws_minphase(k, len, mp);
	for (double q = 0; q <= 0.5; q += 0.01) {
		double g = test_gain(k, len, q);
		cr_assert(fabs(test_gain(mp, len, q) - g) < 1e-3 * g + 5e-4, "gain at %g: %g vs %g",
			  q, test_gain(mp, len, q), g);
	}
	for (size_t i = 0; i < len; i++) {
		e_all += mp[i] * mp[i];
		if (i < len / 4)
			e_head += mp[i] * mp[i];
	}
	cr_assert(e_head > 0.9 * e_all); /* energy at the start: minimum phase */
	free(k);
	free(mp);
}

Test(dsp_preproc, hilbert_matches_scipy)
{
	struct io_npy_header h;
	double *x = test_load("fx_sig240", &h), re[240], im[240], both[480];
	size_t lens[2] = {240, 239};
	const char *names[2] = {"fx_hilbert240", "fx_hilbert239"};

	for (int t = 0; t < 2; t++) {
		double *ref = test_load(names[t], &h);
		dsp_preproc_hilbert(x, lens[t], re, im);
		for (size_t i = 0; i < lens[t]; i++) {
			both[2 * i] = re[i];
			both[2 * i + 1] = im[i];
		}
		test_close(both, ref, 2 * lens[t], names[t]);
		free(ref);
	}
	free(x);
}

Test(dsp_preproc, pipeline_zscore_rectify_hilbert_detrend)
{
	struct io_npy_header h;
	double *x = test_load("fx_sig240", &h), *dt = test_load("fx_detrend240", &h), y[240];
	struct dsp_preproc_params p;
	struct dsp_preproc *pp;
	float out[480];
	struct dsp_trial tr = {x, DSP_TRIAL_F64, 240, 1, 0};
	double mean = 0, var = 0;

	memcpy(y, x, sizeof y);
	cr_assert_eq(dsp_trial_polyremoval(y, 240, 1, NULL), 0);
	test_close(y, dt, 240, "detrend");
	dsp_preproc_params_init(&p, 200);
	p.zscore = true;
	cr_assert_eq(dsp_preproc_new(&p, 240, &pp, NULL), 0);
	cr_assert_eq(dsp_preproc_trial(pp, &tr, out, NULL), 0);
	for (size_t i = 0; i < 240; i++)
		mean += out[i];
	mean /= 240;
	for (size_t i = 0; i < 240; i++)
		var += (out[i] - mean) * (out[i] - mean);
	cr_assert_float_eq(mean, 0, 1e-6);
	cr_assert_float_eq(var / 240, 1, 1e-5);
	dsp_preproc_free(pp);
	p.zscore = false;
	p.rectify = true;
	cr_assert_eq(dsp_preproc_new(&p, 240, &pp, NULL), 0);
	cr_assert_eq(dsp_preproc_trial(pp, &tr, out, NULL), 0);
	for (size_t i = 0; i < 240; i++)
		cr_assert_float_eq(out[i], fabs(x[i]), 1e-6);
	dsp_preproc_free(pp);
	p.rectify = false;
	p.hilbert = DSP_PREPROC_HILBERT_COMPLEX;
	double *ref = test_load("fx_hilbert240", &h);
	cr_assert_eq(dsp_preproc_new(&p, 240, &pp, NULL), 0);
	cr_assert(dsp_preproc_is_complex(pp));
	cr_assert_eq(dsp_preproc_trial(pp, &tr, out, NULL), 0);
	test_close_f(out, ref, 480, "hilbert complex");
	dsp_preproc_free(pp);
	p.hilbert = DSP_PREPROC_HILBERT_ANGLE;
	cr_assert_eq(dsp_preproc_new(&p, 240, &pp, NULL), 0);
	cr_assert_eq(dsp_preproc_trial(pp, &tr, out, NULL), 0);
	for (size_t i = 0; i < 240; i++)
		cr_assert_float_eq(out[i], atan2(ref[2 * i + 1], ref[2 * i]), 1e-5);
	dsp_preproc_free(pp);
	free(ref);
	free(x);
	free(dt);
}

static void
test_pp_reject(const struct dsp_preproc_params *p, const char *name)
{
	struct dsp_preproc *pp;
	char *cause = NULL;

	cr_assert_eq(dsp_preproc_new(p, 1000, &pp, &cause), -EINVAL, "expected %s rejected", name);
	cr_assert_not_null(strstr(cause, name), "cause '%s' lacks '%s'", cause, name);
	free(cause);
}

Test(dsp_preproc, validation_names_the_parameter)
{
	struct dsp_preproc_params p;

	dsp_preproc_params_init(&p, 200);
	p.filter_class = DSP_PREPROC_BUT;
	p.freq[0] = 100;
	test_pp_reject(&p, "freq");
	p.freq[0] = 20;
	p.direction = DSP_FIRWS_ONEPASS_MINPHASE;
	test_pp_reject(&p, "direction");
	p.direction = DSP_FIRWS_TWOPASS;
	p.filter_type = DSP_FILTER_BP;
	p.freq[1] = 10;
	test_pp_reject(&p, "freq");
	dsp_preproc_params_init(&p, 200);
	p.filter_class = DSP_PREPROC_FIRWS;
	p.freq[0] = 20;
	p.order = 31;
	test_pp_reject(&p, "order");
	p.order = 0;
	p.window = DSP_TAPER_KAISER;
	test_pp_reject(&p, "window");
	dsp_preproc_params_init(&p, 200);
	p.rectify = true;
	p.hilbert = DSP_PREPROC_HILBERT_ABS;
	test_pp_reject(&p, "hilbert");
	cr_assert_eq(dsp_firws_default_order(1001), 1000);
	cr_assert_eq(dsp_firws_default_order(777), 776);
	cr_assert_eq(dsp_firws_default_order(5000), 1000);
}
