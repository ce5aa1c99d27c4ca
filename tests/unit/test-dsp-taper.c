/* Tapers: windows and DPSS against scipy fixtures, unit norm and sign conventions, the
 * tapsmofrq rule and clamping, and the thread-safe cache. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <string.h>

#include "test-dsp-util.h"
#include "worker/dsp/core/dsp-taper.h"

Test(dsp_taper, windows_match_scipy)
{
	static const struct {
		const char *name;
		enum dsp_taper_window w;
		size_t n;
		double beta;
	} cases[] = {
	    {"fx_win_kaiser51_b6p5", DSP_TAPER_KAISER, 51, 6.5},
	    {"fx_win_hann16", DSP_TAPER_HANN, 16, 0},
	    {"fx_win_hamming17", DSP_TAPER_HAMMING, 17, 0},
	    {"fx_win_blackman20", DSP_TAPER_BLACKMAN, 20, 0},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct io_npy_header h;
		double *ref = test_load(cases[i].name, &h), out[64];
		cr_assert_eq(h.count, cases[i].n);
		cr_assert_eq(
		    dsp_taper_window_fill(cases[i].w, cases[i].n, cases[i].beta, out, NULL), 0);
		for (size_t j = 0; j < h.count; j++)
			cr_assert_float_eq(out[j], ref[j], 1e-12, "%s[%zu]", cases[i].name, j);
		free(ref);
	}
}

Test(dsp_taper, dpss_matches_scipy)
{
	static const struct {
		const char *name;
		size_t n, k;
		double nw;
	} cases[] = {
	    {"fx_dpss_n64_k5", 64, 5, 3.0},
	    {"fx_dpss_n33_k4", 33, 4, 2.5},
	    {"fx_dpss_n1000_k7", 1000, 7, 4.0},
	    {"fx_dpss_n10_k2", 10, 2, 1.5},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct io_npy_header h;
		double *ref = test_load(cases[i].name, &h);
		double *out = malloc(cases[i].n * cases[i].k * sizeof *out), eig[8];
		char *cause = NULL;
		cr_assert_eq(h.count, cases[i].n * cases[i].k);
		cr_assert_eq(dsp_taper_dpss(cases[i].n, cases[i].nw, cases[i].k, out, eig, &cause),
			     0, "%s", cause);
		test_close(out, ref, h.count, cases[i].name);
		for (size_t j = 0; j < cases[i].k; j++) {
			double norm = 0;
			for (size_t t = 0; t < cases[i].n; t++)
				norm += out[j * cases[i].n + t] * out[j * cases[i].n + t];
			cr_assert_float_eq(norm, 1, 1e-12);
			if (j > 0)
				cr_assert(eig[j] <= eig[j - 1]);
		}
		free(out);
		free(ref);
	}
}

Test(dsp_taper, tapsmofrq_rule_and_clamping)
{
	double nw;
	size_t k;
	int clamped;
	char *cause = NULL;

	cr_assert_eq(dsp_taper_tapsmofrq(4, 1000, 1000, 0, &nw, &k, &clamped, NULL), 0);
	cr_assert_float_eq(nw, 4, 1e-12);
	cr_assert_eq(k, 7);
	cr_assert_eq(clamped, 0);
	cr_assert_eq(dsp_taper_tapsmofrq(0.1, 1000, 1000, 0, &nw, &k, &clamped, NULL), 0);
	cr_assert_eq(clamped, 1);
	cr_assert_float_eq(nw, 1, 1e-12);
	cr_assert_eq(k, 1);
	cr_assert_eq(dsp_taper_tapsmofrq(900, 1000, 1000, 0, &nw, &k, &clamped, NULL), 0);
	cr_assert_eq(clamped, 1);
	cr_assert_float_eq(nw, (500 - 0.001) * 1000 / 1000, 1e-9);
	cr_assert_eq(dsp_taper_tapsmofrq(4, 1000, 1000, 3, &nw, &k, NULL, NULL), 0);
	cr_assert_eq(k, 3);
	cr_assert_eq(dsp_taper_tapsmofrq(-1, 1000, 1000, 0, &nw, &k, NULL, &cause), -EINVAL);
	cr_assert_not_null(strstr(cause, "tapsmofrq"));
	free(cause);
	cause = NULL;
	cr_assert_eq(dsp_taper_tapsmofrq(4, 1000, 10, 11, &nw, &k, NULL, &cause), -EINVAL);
	cr_assert_not_null(strstr(cause, "nTaper"));
	free(cause);
}

Test(dsp_taper, window_names)
{
	enum dsp_taper_window w;
	char *cause = NULL;

	cr_assert_eq(dsp_taper_window_parse("none", &w, NULL), 0);
	cr_assert_eq(w, DSP_TAPER_BOXCAR);
	cr_assert_eq(dsp_taper_window_parse("hanning", &w, NULL), 0);
	cr_assert_eq(w, DSP_TAPER_HANN);
	cr_assert_eq(dsp_taper_window_parse("kaiser", &w, NULL), 0);
	cr_assert_eq(w, DSP_TAPER_KAISER);
	cr_assert_eq(dsp_taper_window_parse("tukey", &w, &cause), -EINVAL);
	cr_assert_not_null(strstr(cause, "taper"));
	free(cause);
}

static const struct dsp_taper_set *test_sets[8];

static void *
test_taper_thread(void *arg)
{
	size_t i = (size_t)(uintptr_t)arg;
	cr_assert_eq(dsp_taper_cache_get(DSP_TAPER_DPSS, 500, 3.0, 5, &test_sets[i], NULL), 0);
	return NULL;
}

Test(dsp_taper, cache_is_shared_and_thread_safe)
{
	pthread_t th[8];
	const struct dsp_taper_set *a, *b;

	for (size_t i = 0; i < 8; i++)
		pthread_create(&th[i], NULL, test_taper_thread, (void *)(uintptr_t)i);
	for (size_t i = 0; i < 8; i++)
		pthread_join(th[i], NULL);
	for (size_t i = 1; i < 8; i++)
		cr_assert_eq(test_sets[i], test_sets[0]);
	cr_assert_eq(dsp_taper_cache_get(DSP_TAPER_HANN, 100, 0, 1, &a, NULL), 0);
	cr_assert_eq(dsp_taper_cache_get(DSP_TAPER_HANN, 100, 0, 1, &b, NULL), 0);
	cr_assert_eq(a, b);
	cr_assert_float_eq(a->sum[0], 49.5, 1e-9);
	cr_assert_eq(dsp_taper_cache_get(DSP_TAPER_HANN, 100, 0, 2, &a, NULL), -EINVAL);
	dsp_taper_cache_clear();
}
