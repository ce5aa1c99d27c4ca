/* Pulse-artifact kernels: beat epochs and segments, the cross-fade weights, averaged artifact
 * subtraction against a plain reference, and the optimal basis set against the plain 21-beat
 * average on generated recordings (EEG from the gradient generator, pulse artifact from the
 * cardiac model) at several rates, heart rates and amplitudes. */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "worker/dsp/core/dsp-filter.h"
#include "worker/dsp/pulse/dsp-pulse.h"
#include "worker/synth/synth-fmri.h"
#include "worker/synth/synth-pulse.h"

/* R peaks every `rr` samples with a deterministic wobble of ±amp samples. */
static int64_t *
peaks(size_t nb, int64_t first, int64_t rr, int64_t amp)
{
	int64_t *r = malloc(nb * sizeof *r);

	r[0] = first;
	for (size_t k = 1; k < nb; k++)
		r[k] = r[k - 1] + rr + (int64_t)lround((double)amp * sin(1.7 * (double)k));
	return r;
}

Test(dsp_pulse, beats_epochs_and_segments)
{
	int64_t *r = peaks(40, 300, 900, 60);
	struct dsp_pulse_beats b;
	char *cause = NULL;

	cr_assert_eq(dsp_pulse_beats_make(r, 40, 1000, 0.21, 40000, &b, NULL), 0);
	cr_assert_eq(b.n, 40);
	cr_assert_eq(b.centre[0], 510);
	cr_assert_eq(b.half, (size_t)llround(0.75 * b.rr_median));
	cr_assert_float_eq(b.rr_median, 900, 60);
	for (size_t k = 0; k + 1 < b.n; k++) {
		cr_assert_eq(b.hi[k], b.lo[k + 1], "segments %zu and %zu do not meet", k, k + 1);
		cr_assert_lt(b.lo[k], b.centre[k]);
		cr_assert_gt(b.hi[k], b.centre[k]);
	}
	cr_assert_eq(b.lo[0], 510 > (int64_t)b.half ? 510 - (int64_t)b.half : 0);
	cr_assert_eq(b.full[0], 510 >= (int64_t)b.half);
	cr_assert_eq(b.full[5], 1);
	dsp_pulse_beats_fini(&b);
	cr_assert_eq(dsp_pulse_beats_make(r, 2, 1000, 0.21, 40000, &b, &cause), -EINVAL);
	cr_assert_not_null(strstr(cause, "3 heart beats"), "%s", cause);
	free(cause);
	r[5] = r[4];
	cause = NULL;
	cr_assert_eq(dsp_pulse_beats_make(r, 40, 1000, 0.21, 40000, &b, &cause), -EINVAL);
	free(cause);
	free(r);
}

/* The cross-fade weights of neighbours add up to 1 between the first and the last centre, with
 * regular and irregular intervals; each weight is in [0, 1]. */
Test(dsp_pulse, weights_partition_unity)
{
	static const int64_t wobble[] = {0, 60, 250};

	for (size_t w = 0; w < 3; w++) {
		int64_t *r = peaks(30, 400, 800, wobble[w]);
		struct dsp_pulse_beats b;

		cr_assert_eq(dsp_pulse_beats_make(r, 30, 1000, 0.21, 30000, &b, NULL), 0);
		for (int64_t i = b.centre[0]; i <= b.centre[b.n - 1]; i++) {
			double s = 0;

			for (size_t k = 0; k < b.n; k++) {
				double v = dsp_pulse_weight(&b, k, i);

				cr_assert(v >= 0 && v <= 1);
				s += v;
			}
			/* An interval over 1.5 median RR leaves a gap no epoch covers. */
			cr_assert(fabs(s - 1) < 1e-12 || s == 0, "sum %g at %lld", s, (long long)i);
		}
		dsp_pulse_beats_fini(&b);
		free(r);
	}
}

/* Plain reference of dsp_pulse_aas: every beat's template is the mean of the de-meaned epochs of
 * the `window` whole beats nearest in index (window moved inwards at the ends), subtracted on the
 * beat's segment, all templates from the uncorrected data. */
static void
aas_reference(double *x, size_t n, const struct dsp_pulse_beats *b, size_t window)
{
	size_t len = 2 * b->half + 1, nf = 0, *full = malloc(b->n * sizeof *full);
	double *y = malloc(n * sizeof *y), *e = malloc(len * sizeof *e);

	memcpy(y, x, n * sizeof *y);
	for (size_t k = 0; k < b->n; k++)
		if (b->full[k])
			full[nf++] = k;
	for (size_t k = 0; k < b->n; k++) {
		size_t pos = 0, w = window < nf ? window : nf, s;
		int64_t o = b->centre[k] - (int64_t)b->half;

		while (pos + 1 < nf && full[pos] < k)
			pos++;
		s = pos >= w / 2 ? pos - w / 2 : 0;
		s = s + w > nf ? nf - w : s;
		for (int64_t i = b->lo[k]; i < b->hi[k]; i++) {
			double t = 0;

			for (size_t q = s; q < s + w; q++) {
				int64_t a = b->centre[full[q]] - (int64_t)b->half;
				double mean = 0;

				for (size_t j = 0; j < len; j++)
					mean += y[a + (int64_t)j] / (double)len;
				t += (y[a + (i - o)] - mean) / (double)w;
			}
			x[i] -= t;
		}
	}
	free(full);
	free(y);
	free(e);
}

Test(dsp_pulse, aas_matches_plain_reference)
{
	const size_t n = 60000;
	int64_t *r = peaks(70, 100, 830, 70);
	double *x = malloc(n * sizeof *x), *ref = malloc(n * sizeof *ref), big = 0;
	struct dsp_pulse_beats b;

	for (size_t i = 0; i < n; i++)
		x[i] =
		    1e-5 * sin(0.013 * (double)i) + 3e-6 * cos(0.31 * (double)i * (1 + 1e-5 * i));
	cr_assert_eq(dsp_pulse_beats_make(r, 70, 1000, 0.21, n, &b, NULL), 0);
	memcpy(ref, x, n * sizeof *x);
	cr_assert_eq(dsp_pulse_aas(x, n, &b, 21, NULL), 0);
	aas_reference(ref, n, &b, 21);
	for (size_t i = 0; i < n; i++) {
		cr_assert(fabs(x[i] - ref[i]) < 1e-12 * 1e-5, "sample %zu: %g vs %g", i, x[i],
			  ref[i]);
		big = fmax(big, fabs(x[i]));
	}
	cr_assert_gt(big, 1e-6);
	dsp_pulse_beats_fini(&b);
	free(r);
	free(x);
	free(ref);
}

/* An artifact identical at every beat (no background) leaves nothing inside the interior
 * segments after AAS; OBS also removes it when its amplitude changes from beat to beat. */
Test(dsp_pulse, locked_artifact_removed)
{
	const size_t n = 50000;
	int64_t *r = peaks(55, 500, 880, 0);
	double *x = calloc(n, sizeof *x), *y = malloc(n * sizeof *y), rms = 0, res = 0;
	struct dsp_pulse_beats b;
	struct dsp_pulse_obs_params p;
	struct dsp_pulse_obs_result out;

	for (size_t k = 0; k < 55; k++)
		for (int64_t i = r[k]; i < r[k] + 700 && i < (int64_t)n; i++) {
			double t = (double)(i - r[k]) / 1000;

			x[i] += (1 + 0.3 * sin((double)k)) * 5e-5 * exp(-pow((t - 0.3) / 0.05, 2)) *
				sin(2 * M_PI * 6 * t);
		}
	cr_assert_eq(dsp_pulse_beats_make(r, 55, 1000, 0.21, n, &b, NULL), 0);
	dsp_pulse_obs_params_init(&p);
	memcpy(y, x, n * sizeof *y);
	cr_assert_eq(dsp_pulse_obs(y, n, &b, &p, &out, NULL), 0);
	cr_assert_eq(out.skipped, 0);
	for (int64_t i = b.centre[2]; i < b.centre[b.n - 3]; i++) {
		rms += x[i] * x[i];
		res += y[i] * y[i];
	}
	cr_assert_lt(sqrt(res / rms), 1e-4, "OBS leaves %g of the artifact (k %zu)",
		     sqrt(res / rms), out.k);
	dsp_pulse_beats_fini(&b);
	free(r);
	free(x);
	free(y);
}

/* Band 1-40 Hz RMS of a − b over [2 s, n − 2 s). */
static double
band_rms(const double *a, const double *b, size_t n, double fs)
{
	double *d = malloc(n * sizeof *d), s = 0;
	size_t lo = (size_t)(2 * fs), hi = n - (size_t)(2 * fs);

	for (size_t i = 0; i < n; i++)
		d[i] = a[i] - b[i];
	cr_assert_eq(dsp_filter_bandpass(d, n, fs, 1, 40, NULL), 0);
	for (size_t i = lo; i < hi; i++)
		s += d[i] * d[i];
	free(d);
	return sqrt(s / (double)(hi - lo));
}

struct recording {
	double fs;
	size_t n, nch;
	double **clean, **rec;
	int64_t *rpeaks;
	size_t nr;
};

/* EEG (the gradient generator's clean channels, high-passed at 1 Hz as the correction pipeline
 * leaves them) plus the cardiac model's pulse artifact; the true R peaks. */
static void
recording_make(struct recording *g, double fs, double hr, double uv, uint64_t seed, double sec)
{
	struct synth_fmri_params fp;
	struct synth_pulse_params pp;
	struct synth_fmri *f = NULL;
	struct synth_pulse *s = NULL;
	const int64_t *t;

	synth_fmri_params_init(&fp);
	fp.rate = fs;
	fp.duration = sec;
	fp.n_eeg = 4;
	fp.seed = seed;
	cr_assert_eq(synth_fmri_new(&fp, &f, NULL), 0);
	g->fs = fs;
	g->n = synth_fmri_n_samples(f);
	g->nch = 4;
	synth_pulse_params_init(&pp);
	pp.heart_rate = hr;
	pp.bcg_uv = uv;
	pp.seed = seed;
	cr_assert_eq(synth_pulse_new(&pp, fs, g->n, g->nch, &s, NULL), 0);
	g->clean = calloc(g->nch, sizeof *g->clean);
	g->rec = calloc(g->nch, sizeof *g->rec);
	for (size_t c = 0; c < g->nch; c++) {
		g->clean[c] = malloc(g->n * sizeof(double));
		g->rec[c] = malloc(g->n * sizeof(double));
		cr_assert_eq(synth_fmri_read(f, SYNTH_FMRI_CLEAN, c, 0, g->n, g->clean[c], NULL),
			     0);
		cr_assert_eq(dsp_filter_highpass(g->clean[c], g->n, fs, 1, NULL), 0);
		memcpy(g->rec[c], g->clean[c], g->n * sizeof(double));
		synth_pulse_add_artifact(s, c, 0, g->n, g->rec[c]);
	}
	t = synth_pulse_rpeaks(s, &g->nr);
	g->rpeaks = malloc(g->nr * sizeof *g->rpeaks);
	memcpy(g->rpeaks, t, g->nr * sizeof *t);
	synth_pulse_free(s);
	synth_fmri_free(f);
}

static void
recording_free(struct recording *g)
{
	for (size_t c = 0; c < g->nch; c++) {
		free(g->clean[c]);
		free(g->rec[c]);
	}
	free(g->clean);
	free(g->rec);
	free(g->rpeaks);
}

/* The median over channels of what OBS removes beyond the plain 21-beat average, in dB of the
 * 1-40 Hz error against the truth, on recordings of several rates, heart rates, amplitudes;
 * the last with an artifact as large as the background EEG. */
Test(dsp_pulse, obs_beats_plain_average)
{
	static const struct {
		double fs, hr, uv;
	} cases[] = {{1000, 80, 60}, {2048, 66, 100}, {5000, 55, 150}, {500, 100, 80}, {2048, 90, 40}};

	for (size_t q = 0; q < sizeof cases / sizeof cases[0]; q++) {
		struct recording g;
		struct dsp_pulse_beats b;
		struct dsp_pulse_obs_params p;
		double gain[4], *y;

		recording_make(&g, cases[q].fs, cases[q].hr, cases[q].uv, 20 + q, 120);
		cr_assert_eq(dsp_pulse_beats_make(g.rpeaks, g.nr, g.fs, 0.21, g.n, &b, NULL), 0);
		dsp_pulse_obs_params_init(&p);
		y = malloc(g.n * sizeof *y);
		for (size_t c = 0; c < g.nch; c++) {
			double e_aas, e_obs;

			memcpy(y, g.rec[c], g.n * sizeof *y);
			cr_assert_eq(dsp_pulse_aas(y, g.n, &b, 21, NULL), 0);
			e_aas = band_rms(y, g.clean[c], g.n, g.fs);
			memcpy(y, g.rec[c], g.n * sizeof *y);
			cr_assert_eq(dsp_pulse_obs(y, g.n, &b, &p, NULL, NULL), 0);
			e_obs = band_rms(y, g.clean[c], g.n, g.fs);
			gain[c] = 20 * log10(e_aas / e_obs);
		}
		for (size_t i = 1; i < 4; i++)
			for (size_t j = i; j > 0 && gain[j] < gain[j - 1]; j--) {
				double t = gain[j];
				gain[j] = gain[j - 1];
				gain[j - 1] = t;
			}
		cr_assert_geq(0.5 * (gain[1] + gain[2]), 1.0,
			      "%g Hz, %g bpm, %g µV: OBS only %.2f dB better than AAS", cases[q].fs,
			      cases[q].hr, cases[q].uv, 0.5 * (gain[1] + gain[2]));
		free(y);
		dsp_pulse_beats_fini(&b);
		recording_free(&g);
	}
}

/* A channel without a pulse artifact is left alone; n_components fixes k. */
Test(dsp_pulse, obs_skips_channel_without_artifact)
{
	struct recording g;
	struct dsp_pulse_beats b;
	struct dsp_pulse_obs_params p;
	struct dsp_pulse_obs_result res;
	double *y;

	recording_make(&g, 1000, 70, 100, 3, 90);
	cr_assert_eq(dsp_pulse_beats_make(g.rpeaks, g.nr, g.fs, 0.21, g.n, &b, NULL), 0);
	dsp_pulse_obs_params_init(&p);
	y = malloc(g.n * sizeof *y);
	memcpy(y, g.clean[0], g.n * sizeof *y);
	cr_assert_eq(dsp_pulse_obs(y, g.n, &b, &p, &res, NULL), 0);
	cr_assert_eq(res.skipped, 1, "locked ratio %g", res.locked);
	cr_assert_eq(memcmp(y, g.clean[0], g.n * sizeof *y), 0);
	memcpy(y, g.rec[0], g.n * sizeof *y);
	p.n_components = 3;
	cr_assert_eq(dsp_pulse_obs(y, g.n, &b, &p, &res, NULL), 0);
	cr_assert_eq(res.k, 3);
	cr_assert_eq(res.skipped, 0);
	cr_assert_gt(res.removed_rms, 1e-6);
	p.n_components = 17;
	cr_assert_eq(dsp_pulse_obs(y, g.n, &b, &p, &res, NULL), -EINVAL);
	free(y);
	dsp_pulse_beats_fini(&b);
	recording_free(&g);
}
