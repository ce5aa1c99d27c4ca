/* The generator's recording shapes: uneven slice spacing, the EPI slice's active share, head
 * movements with their realignment parameters, a real recording as background EEG, and the
 * parameter checks that name what is wrong. */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test-synth-fmri.h"
#include "test-tmpdir.h"
#include "worker/io/io-edf.h"
#include "worker/synth/synth-fmri.h"

Test(synth_fmri_shapes, uneven_spacing_moves_triggers_and_artifact_together)
{
	struct synth_fmri_params p;
	struct synth_fmri *s;
	const size_t *t;
	size_t n, dmin = SIZE_MAX, dmax = 0;
	double nominal, *art;

	synth_fmri_params_init(&p);
	p.rate = 5000;
	p.spacing_jitter = 3;
	p.duration = 20;
	s = make(&p);
	t = synth_fmri_triggers(s, &n);
	nominal = p.slice_interval * p.rate;
	for (size_t i = 1; i < n; i++) {
		size_t d = t[i] - t[i - 1];

		if (i % p.slices == 0)
			continue;
		cr_assert(fabs((double)d - nominal) <= 2 * p.spacing_jitter + 1, "spacing %zu at %zu",
			  d, i);
		dmin = d < dmin ? d : dmin;
		dmax = d > dmax ? d : dmax;
	}
	/* Wider than the 3-sample tolerance of the even-spacing rule. */
	cr_assert_gt(dmax - dmin, 3, "spacing %zu..%zu", dmin, dmax);
	/* The artifact starts at each trigger (within the sub-sample jitter and the 8-sample
	 * reach of the amplifier's low-pass): silent before, the slice-select ramp right after. */
	art = read_part(s, SYNTH_FMRI_ARTIFACT, 0);
	for (size_t i = 1; i < n; i++) {
		cr_assert_eq(art[t[i] - 10], 0.0, "artifact before trigger %zu", i);
		cr_assert_gt(fabs(art[t[i] + 2]), 1e-5, "no artifact after trigger %zu", i);
	}
	free(art);
	synth_fmri_free(s);
}

Test(synth_fmri_shapes, epi_active_share_bounds_the_artifact)
{
	struct synth_fmri_params p;
	struct synth_fmri *s;
	const size_t *t;
	size_t n, on;
	double *art;

	synth_fmri_params_init(&p);
	p.epi_active = 0.5;
	p.jitter = 0;
	s = make(&p);
	t = synth_fmri_triggers(s, &n);
	art = read_part(s, SYNTH_FMRI_ARTIFACT, 1);
	on = (size_t)(0.5 * p.slice_interval * p.rate);
	for (size_t i = 0; i + 1 < n; i++) {
		double late = 0, early = 0;

		for (size_t k = t[i] + on + 10; k < t[i + 1] - 10; k++)
			late = fmax(late, fabs(art[k]));
		for (size_t k = t[i] + on * 8 / 10; k < t[i] + on * 9 / 10; k++)
			early = fmax(early, fabs(art[k]));
		cr_assert_eq(late, 0.0, "artifact after the active share of slice %zu", i);
		cr_assert_gt(early, 1e-4, "readout missing in slice %zu", i);
	}
	free(art);
	synth_fmri_free(s);
}

/* Relative difference of two epochs of the artifact. */
static double
epoch_change(const double *art, size_t a, size_t b, size_t len)
{
	double d = 0, e = 0;

	for (size_t k = 0; k < len; k++) {
		d += (art[a + k] - art[b + k]) * (art[a + k] - art[b + k]);
		e += art[a + k] * art[a + k];
	}
	return sqrt(d / e);
}

Test(synth_fmri_shapes, head_movements_change_the_artifact_and_show_in_the_realignment)
{
	struct synth_fmri_params p;
	struct synth_fmri *s;
	const size_t *t;
	const double *rp, *mt;
	size_t n, nv, nm, spv, len;
	double *art, tv, tp;

	synth_fmri_params_init(&p);
	p.duration = 60;
	p.motion = 2;
	p.motion_size = 0.3;
	p.drift = 0;
	p.jitter = 0; /* a sub-sample shift of the sharp ramps alone changes an epoch by ~10 % */
	s = make(&p);
	t = synth_fmri_triggers(s, &n);
	rp = synth_fmri_realignment(s, &nv);
	mt = synth_fmri_motion_times(s, &nm);
	cr_assert_eq(nm, 2);
	cr_assert_eq(nv, synth_fmri_volumes(s));
	cr_assert_lt(mt[0], mt[1]);
	spv = synth_fmri_slices(s);
	len = synth_fmri_artifact_length(s) - 10;
	art = read_part(s, SYNTH_FMRI_ARTIFACT, 2);
	for (size_t v = 0; v + 1 < nv; v++) {
		double dt = 0;

		for (int j = 0; j < 3; j++)
			dt += pow(rp[(v + 1) * 6 + j] - rp[v * 6 + j], 2);
		tv = (double)t[(v + 1) * spv] / p.rate;
		tp = (double)t[v * spv] / p.rate;
		for (size_t e = 0, whole = 0, part = 0; e <= nm; e++) {
			if (e == nm) {
				if (whole)
					cr_assert_gt(sqrt(dt), 0.2, "volume %zu: no step", v);
				else if (!part)
					cr_assert_lt(sqrt(dt), 0.1, "volume %zu: step without a movement",
						     v);
				break;
			}
			/* Each movement takes 0.5 s. */
			whole |= mt[e] > tp && mt[e] + 0.5 < tv;
			part |= mt[e] + 0.5 > tp && mt[e] < tv;
		}
	}
	/* The same slice two volumes apart (a whole number of samples later, 12305): a movement
	 * between them changes it, nothing else does. */
	for (size_t v = 0; v + 2 < nv; v++) {
		double a = (double)t[v * spv] / p.rate, b = (double)t[(v + 2) * spv + 4] / p.rate;
		double ch = epoch_change(art, t[v * spv + 3], t[(v + 2) * spv + 3], len);
		int moved = (mt[0] > a && mt[0] < b) || (mt[1] > a && mt[1] < b);

		if (moved)
			cr_assert_gt(ch, 0.04, "volumes %zu, %zu: change %g", v, v + 2, ch);
		else if (!(mt[0] > a - 1 && mt[0] < b + 1) && !(mt[1] > a - 1 && mt[1] < b + 1))
			cr_assert_lt(ch, 0.04, "volumes %zu, %zu: change %g", v, v + 2, ch);
	}
	free(art);
	synth_fmri_free(s);
}

/* A 200 Hz EDF with two channels of sinusoids and a blank dimension (taken as µV). */
static int
write_background(const char *path)
{
	enum { N = 200 * 40 };
	static double a[N], b[N];
	struct io_edf_writer_channel ch[2] = {{0}};
	struct io_edf_writer_spec spec = {0};
	char *cause = NULL;
	int rc;

	for (size_t i = 0; i < N; i++) {
		a[i] = 40 * sin(2 * M_PI * 5 * (double)i / 200);
		b[i] = 25 * sin(2 * M_PI * 11 * (double)i / 200 + 1);
	}
	ch[0].label = "Cz";
	ch[1].label = "Oz";
	for (int c = 0; c < 2; c++) {
		ch[c].rate = 200;
		ch[c].n_samples = N;
		ch[c].dimension = "";
		ch[c].phys_min = -100;
		ch[c].phys_max = 100;
		ch[c].data = c == 0 ? a : b;
	}
	spec.type = IO_EDF_TYPE_EDFPLUS;
	spec.n_channels = 2;
	spec.channels = ch;
	rc = io_edf_write(path, &spec, NULL, NULL, &cause);
	cr_assert_eq(rc, 0, "%s", cause);
	return rc;
}

Test(synth_fmri_shapes, background_from_a_recording_is_the_ground_truth)
{
	char dir[64], path[96];
	struct synth_fmri_params p;
	struct synth_fmri *s;
	double *clean, *rec, *art, err = 0;
	size_t n;

	test_tmpdir_make(dir, sizeof dir, "synth-bg");
	snprintf(path, sizeof path, "%s/bg.edf", dir);
	write_background(path);
	synth_fmri_params_init(&p);
	p.rate = 1000;
	p.background = path;
	p.n_eeg = 8;
	s = make(&p);
	cr_assert_eq(synth_fmri_n_channels(s), 4, "2 EEG channels from the file + EMG + ECG");
	cr_assert_str_eq(synth_fmri_label(s, 0), "Cz");
	cr_assert_str_eq(synth_fmri_label(s, 1), "Oz");
	cr_assert_str_eq(synth_fmri_label(s, 2), "EMG");
	n = synth_fmri_n_samples(s);
	clean = read_part(s, SYNTH_FMRI_CLEAN, 0);
	rec = read_part(s, SYNTH_FMRI_RECORDING, 0);
	art = read_part(s, SYNTH_FMRI_ARTIFACT, 0);
	/* Away from the edges the resampled sinusoid is the file's, in µV (EDF quantisation
	 * of 200 µV over 16 bits: 3 nV). */
	for (size_t i = 1000; i < n - 1000; i++) {
		double want = 40e-6 * sin(2 * M_PI * 5 * (double)i / 1000);

		err = fmax(err, fabs(clean[i] - want));
		cr_assert_float_eq(rec[i] - clean[i], art[i], 1e-15);
	}
	cr_assert_lt(err, 0.05e-6, "resampled background off by %g V", err);
	free(clean);
	free(rec);
	free(art);
	synth_fmri_free(s);
	p.duration = 50; /* longer than the file */
	{
		char *cause = NULL;

		cr_assert_eq(synth_fmri_new(&p, &s, &cause), -EINVAL);
		cr_assert_not_null(strstr(cause, path), "%s", cause);
		free(cause);
	}
	test_tmpdir_remove(dir);
}

Test(synth_fmri_shapes, realignment_file_has_six_columns_per_volume)
{
	char dir[64], rp[96];
	struct synth_fmri_params p;
	char *cause = NULL, line[512];
	size_t lines = 0;
	FILE *f;

	test_tmpdir_make(dir, sizeof dir, "synth-rp");
	snprintf(rp, sizeof rp, "%s/rp_recording.txt", dir);
	synth_fmri_params_init(&p);
	p.motion = 1;
	cr_assert_eq(synth_fmri_write_all(&p, NULL, NULL, rp, &cause), 0, "%s", cause);
	cr_assert_not_null(f = fopen(rp, "r"));
	while (fgets(line, sizeof line, f) != NULL) {
		double v[6];

		cr_assert_eq(sscanf(line, "%lf %lf %lf %lf %lf %lf", &v[0], &v[1], &v[2], &v[3],
				    &v[4], &v[5]),
			     6, "line %zu: %s", lines + 1, line);
		lines++;
	}
	fclose(f);
	{
		struct synth_fmri *s = make(&p);

		cr_assert_eq(lines, synth_fmri_volumes(s));
		synth_fmri_free(s);
	}
	test_tmpdir_remove(dir);
}

Test(synth_fmri_shapes, impossible_shapes_are_named)
{
	static const char *const what[] = {"spacing jitter", "EPI active", "EPI readout"};
	struct synth_fmri_params p;
	struct synth_fmri *s = NULL;

	for (size_t i = 0; i < sizeof what / sizeof what[0]; i++) {
		char *cause = NULL;

		synth_fmri_params_init(&p);
		if (i == 0)
			p.spacing_jitter = 20; /* 5 % of 292.5 samples is 14.6 */
		else if (i == 1)
			p.epi_active = 0.99;
		else
			p.epi_hz = p.rate;
		cr_assert_eq(synth_fmri_new(&p, &s, &cause), -EINVAL, "%s", what[i]);
		cr_assert_null(s);
		cr_assert_not_null(strstr(cause, what[i]), "%s", cause);
		free(cause);
	}
}

/* Share of the energy of x[0..n) at frequencies in [lo, rate/2] (a plain DFT). */
static double
high_share(const double *x, size_t n, double rate, double lo)
{
	double all = 0, band = 0;

	for (size_t i = 0; i < n; i++)
		all += x[i] * x[i];
	for (size_t k = (size_t)ceil(lo / rate * (double)n); 2 * k <= n; k++) {
		double re = 0, im = 0;

		for (size_t i = 0; i < n; i++) {
			re += x[i] * cos(2 * M_PI * (double)(k * i % n) / (double)n);
			im -= x[i] * sin(2 * M_PI * (double)(k * i % n) / (double)n);
		}
		band += (2 * k == n ? 1 : 2) * (re * re + im * im) / (double)n;
	}
	return band / all;
}

/* At 1 kHz the 0.5 ms ramps, the 0.3 ms spike and the readout's harmonics lie past rate/2: an
 * amplifier low-passes them before sampling. Sampled without that filter they fold back and
 * 2.6 % of the artifact's energy lands in 0.4-0.5 of the rate, differently at every slice
 * (each starts at another sub-sample phase); recorded through it, under 1e-4 (the induced
 * model, a derivative that weighs the high band by its frequency, under 2e-3). */
Test(synth_fmri_shapes, the_amplifier_low_passes_before_sampling)
{
	for (int model = 0; model < 2; model++) {
		struct synth_fmri_params p;
		struct synth_fmri *s;
		size_t a = 5000, n = 4000;
		double *art, share;

		synth_fmri_params_init(&p);
		p.rate = 1000;
		p.duration = 12;
		p.model = model ? SYNTH_FMRI_INDUCED : SYNTH_FMRI_GRADIENT;
		s = make(&p);
		art = read_part(s, SYNTH_FMRI_ARTIFACT, 0);
		share = high_share(art + a, n, p.rate, 0.4 * p.rate);
		cr_assert_lt(share, model ? 2e-3 : 1e-4, "model %d: %g of the energy above 0.4 rate", model, share);
		cr_assert_gt(high_share(art + a, n, p.rate, 10), 0.5, "model %d: no artifact", model);
		free(art);
		synth_fmri_free(s);
	}
}

/* Energy share of x that a moving average over 1/70 s keeps (roughly the EEG band). */
static double
low_share(const double *x, size_t n, double rate)
{
	size_t w = (size_t)(rate / 70);
	double lo = 0, all = 0, acc = 0;

	for (size_t i = 0; i < n; i++) {
		acc += x[i] - (i >= w ? x[i - w] : 0);
		if (i >= w) {
			lo += (acc / (double)w) * (acc / (double)w);
			all += x[i] * x[i];
		}
	}
	return lo / all;
}

Test(synth_fmri_shapes, induced_model_is_mostly_above_the_eeg_band)
{
	struct synth_fmri_params p;
	struct synth_fmri *g, *s;
	double *ag, *ai, peak = 0;
	size_t n;

	synth_fmri_params_init(&p);
	p.duration = 12;
	g = make(&p);
	p.model = SYNTH_FMRI_INDUCED;
	s = make(&p);
	n = synth_fmri_n_samples(s);
	ag = read_part(g, SYNTH_FMRI_ARTIFACT, 0);
	ai = read_part(s, SYNTH_FMRI_ARTIFACT, 0);
	for (size_t i = 0; i < n; i++)
		peak = fmax(peak, fabs(ai[i]));
	cr_assert(peak > 0.4e-3 && peak < 2.5e-3, "induced peak %g V", peak);
	cr_assert_lt(low_share(ai, n, p.rate), 0.15, "induced: %g in band",
		     low_share(ai, n, p.rate));
	cr_assert_gt(low_share(ag, n, p.rate), 0.5, "gradient: %g in band",
		     low_share(ag, n, p.rate));
	free(ag);
	free(ai);
	synth_fmri_free(g);
	synth_fmri_free(s);
}
