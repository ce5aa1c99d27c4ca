/* resampledata: polyphase resampling against scipy.signal.resample_poly and a plain
 * zero-stuff / convolve / decimate reference; downsampling with and without anti-aliasing. */
#include <criterion/criterion.h>
#include <string.h>

#include "test-dsp-util.h"
#include "worker/dsp/spectral/dsp-resampledata.h"

static struct dsp_resampledata *
test_rs(enum dsp_resampledata_method method, double fs, double newfs, double lp)
{
	struct dsp_resampledata_params p = {fs, method, newfs, lp, 0};
	struct dsp_resampledata *rs;
	char *cause = NULL;

	cr_assert_eq(dsp_resampledata_new(&p, 240, &rs, &cause), 0, "%s", cause);
	return rs;
}

Test(dsp_resampledata, resample_poly_matches_scipy_and_plain)
{
	static const size_t ratios[][2] = {{3, 2}, {1, 4}, {5, 3}, {2, 1}, {4, 6}};
	struct io_npy_header h;
	double *x = test_load("fx_sig240", &h);

	for (size_t r = 0; r < 5; r++) {
		char name[64];
		size_t up = ratios[r][0], down = ratios[r][1], u, d;
		snprintf(name, sizeof name, "fx_resample_%zu_%zu", up, down);
		double *ref = test_load(name, &h);
		struct dsp_resampledata *rs =
		    test_rs(DSP_RESAMPLEDATA_RESAMPLE, 600, 600.0 * (double)up / (double)down, 0);
		size_t no = dsp_resampledata_outlen(rs, 240);
		float *out = malloc(no * sizeof *out);
		struct dsp_trial tr = {x, DSP_TRIAL_F64, 240, 1, 0};

		cr_assert_eq(no, h.count, "%s length", name);
		cr_assert_eq(dsp_resampledata_trial(rs, &tr, out, NULL), 0);
		test_close_f(out, ref, no, name);

		/* Plain reference: zero-stuff, full convolution with the filter, decimate. */
		double *hf;
		size_t len, pre;
		dsp_resampledata_ratio(rs, &u, &d);
		dsp_resampledata_poly_filter(u, d, &hf, &len, &pre, 240);
		size_t nu = 240 * u, nfull = nu + len - 1;
		double *full = calloc(nfull, sizeof *full);
		for (size_t i = 0; i < 240; i++)
			for (size_t j = 0; j < len; j++)
				full[i * u + j] += x[i] * hf[j];
		for (size_t o = 0; o < no; o++) {
			size_t t = (o + pre) * d;
			cr_assert_float_eq(out[o], t < nfull ? full[t] : 0, 1e-5);
		}
		free(full);
		free(hf);
		free(out);
		free(ref);
		dsp_resampledata_free(rs);
	}
	free(x);
}

Test(dsp_resampledata, downsample)
{
	const size_t n = 1000;
	double *x = malloc(n * 2 * sizeof *x);
	float out[250 * 2];
	struct dsp_resampledata *rs = test_rs(DSP_RESAMPLEDATA_DOWNSAMPLE, 1000, 250, 0);
	struct dsp_trial tr = {x, DSP_TRIAL_F64, n, 2, 0};

	for (size_t i = 0; i < n; i++) {
		x[2 * i] = (double)i;
		/* 10 Hz passes, 300 Hz must be removed by the anti-alias filter. */
		x[2 * i + 1] =
		    sin(2 * M_PI * 10 * (double)i / 1000) + sin(2 * M_PI * 300 * (double)i / 1000);
	}
	cr_assert_eq(dsp_resampledata_outlen(rs, n), 250);
	cr_assert_eq(dsp_resampledata_outlen(rs, 1001), 251);
	cr_assert_eq(dsp_resampledata_trial(rs, &tr, out, NULL), 0);
	for (size_t i = 0; i < 250; i++)
		cr_assert_float_eq(out[2 * i], (float)(4 * i), 1e-3);
	dsp_resampledata_free(rs);
	rs = test_rs(DSP_RESAMPLEDATA_DOWNSAMPLE, 1000, 250, 100);
	cr_assert_eq(dsp_resampledata_trial(rs, &tr, out, NULL), 0);
	for (size_t i = 50; i < 200; i++)
		cr_assert_float_eq(out[2 * i + 1], sin(2 * M_PI * 10 * (double)(4 * i) / 1000),
				   5e-3, "sample %zu", i);
	dsp_resampledata_free(rs);
	free(x);
}

Test(dsp_resampledata, validation)
{
	struct dsp_resampledata_params p = {1000, DSP_RESAMPLEDATA_DOWNSAMPLE, 300, 0, 0};
	struct dsp_resampledata *rs;
	char *cause = NULL;

	cr_assert_eq(dsp_resampledata_new(&p, 100, &rs, &cause), -EINVAL);
	cr_assert_not_null(strstr(cause, "resamplefs"));
	free(cause);
	cause = NULL;
	p.resamplefs = 250;
	p.lpfreq = 600;
	cr_assert_eq(dsp_resampledata_new(&p, 100, &rs, &cause), -EINVAL);
	cr_assert_not_null(strstr(cause, "lpfreq"), "%s", cause);
	free(cause);
	p.method = DSP_RESAMPLEDATA_RESAMPLE;
	p.resamplefs = 300;
	cr_assert_eq(dsp_resampledata_new(&p, 100, &rs, NULL), 0);
	size_t up, down;
	dsp_resampledata_ratio(rs, &up, &down);
	cr_assert_eq(up, 3);
	cr_assert_eq(down, 10);
	dsp_resampledata_free(rs);
}
