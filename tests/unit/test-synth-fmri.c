/* The synthetic EEG-fMRI generator: the seed decides everything, the triggers have the shipped
 * data's spacing, recording − clean is the artifact (in memory and in the written files). */
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

Test(synth_fmri, same_seed_same_samples)
{
	struct synth_fmri_params p;
	struct synth_fmri *a, *b, *c;

	synth_fmri_params_init(&p);
	p.duration = 12;
	a = make(&p);
	b = make(&p);
	p.seed = 2;
	c = make(&p);
	for (size_t ch = 0; ch < synth_fmri_n_channels(a); ch++) {
		double *x = read_part(a, SYNTH_FMRI_RECORDING, ch);
		double *y = read_part(b, SYNTH_FMRI_RECORDING, ch);
		double *z = read_part(c, SYNTH_FMRI_RECORDING, ch);

		cr_assert_eq(memcmp(x, y, synth_fmri_n_samples(a) * sizeof *x), 0);
		cr_assert_neq(memcmp(x, z, synth_fmri_n_samples(a) * sizeof *x), 0);
		free(x);
		free(y);
		free(z);
	}
	synth_fmri_free(a);
	synth_fmri_free(b);
	synth_fmri_free(c);
}

Test(synth_fmri, reads_in_pieces_and_backwards_agree)
{
	struct synth_fmri_params p;
	struct synth_fmri *s;
	double *all, piece[1000];

	synth_fmri_params_init(&p);
	p.duration = 10;
	s = make(&p);
	all = read_part(s, SYNTH_FMRI_CLEAN, 2);
	cr_assert_eq(synth_fmri_read(s, SYNTH_FMRI_CLEAN, 2, 5000, 1000, piece, NULL), 0);
	cr_assert_eq(memcmp(piece, all + 5000, sizeof piece), 0);
	cr_assert_eq(synth_fmri_read(s, SYNTH_FMRI_CLEAN, 2, 17, 1000, piece, NULL), 0);
	cr_assert_eq(memcmp(piece, all + 17, sizeof piece), 0);
	cr_assert_eq(
	    synth_fmri_read(s, SYNTH_FMRI_CLEAN, 2, synth_fmri_n_samples(s), 1, piece, NULL),
	    -EINVAL);
	free(all);
	synth_fmri_free(s);
}

/* The detection rule of the spec (recording-ops.md, detect_triggers). */
Test(synth_fmri, trigger_count_and_spacing)
{
	struct synth_fmri_params p;
	struct synth_fmri *s;
	const size_t *t;
	size_t n, gaps = 0, in_vol[2] = {0};

	synth_fmri_params_init(&p);
	s = make(&p);
	t = synth_fmri_triggers(s, &n);
	cr_assert_eq(synth_fmri_slices(s), 21);
	cr_assert_geq(synth_fmri_volumes(s), 5);
	cr_assert_eq(n, (size_t)synth_fmri_volumes(s) * 21);
	cr_assert_eq(synth_fmri_artifact_length(s), 293);
	cr_assert_eq(t[0], (size_t)(p.lead_in * p.rate));
	cr_assert_leq(t[n - 1] + 293, synth_fmri_n_samples(s) - (size_t)(p.lead_out * p.rate));
	for (size_t i = 1; i < n; i++) {
		size_t d = t[i] - t[i - 1];

		if (i % 21 == 0) {
			cr_assert(d == 302 || d == 303, "gap %zu at %zu", d, i);
			gaps++;
		} else {
			cr_assert(d == 292 || d == 293, "spacing %zu at %zu", d, i);
			in_vol[d - 292]++;
		}
	}
	cr_assert_eq(gaps, synth_fmri_volumes(s) - 1);
	cr_assert_gt(in_vol[0], 0);
	cr_assert_gt(in_vol[1], 0);
	synth_fmri_free(s);
}

Test(synth_fmri, recording_is_clean_plus_artifact)
{
	struct synth_fmri_params p;
	struct synth_fmri *s;
	const size_t *t;
	size_t n, ns;

	synth_fmri_params_init(&p);
	s = make(&p);
	t = synth_fmri_triggers(s, &n);
	ns = synth_fmri_n_samples(s);
	for (size_t c = 0; c < synth_fmri_n_channels(s); c++) {
		double *rec = read_part(s, SYNTH_FMRI_RECORDING, c);
		double *cln = read_part(s, SYNTH_FMRI_CLEAN, c);
		double *art = read_part(s, SYNTH_FMRI_ARTIFACT, c);
		double peak = 0, sum2 = 0;

		for (size_t i = 0; i < ns; i++) {
			cr_assert_float_eq(rec[i] - cln[i], art[i], 1e-15);
			if (i + 10 < t[0] || i > t[n - 1] + 293 + 10)
				cr_assert_eq(art[i], 0.0, "artifact outside the scan at %zu", i);
			peak = fmax(peak, fabs(art[i]));
			sum2 += cln[i] * cln[i];
		}
		/* Artifact in mV, clean signal in tens of µV. */
		cr_assert(peak > 1e-3 && peak < 6e-3, "%s artifact peak %g V",
			  synth_fmri_label(s, c), peak);
		cr_assert(sqrt(sum2 / ns) > 2e-6 && sqrt(sum2 / ns) < 150e-6, "%s clean rms %g V",
			  synth_fmri_label(s, c), sqrt(sum2 / ns));
		free(rec);
		free(cln);
		free(art);
	}
	cr_assert_str_eq(synth_fmri_label(s, 0), "Fp1");
	cr_assert_str_eq(synth_fmri_label(s, p.n_eeg), "EMG");
	cr_assert_str_eq(synth_fmri_label(s, p.n_eeg + 1), "ECG");
	synth_fmri_free(s);
}

Test(synth_fmri, rejects_impossible_params)
{
	struct synth_fmri_params p;
	struct synth_fmri *s = NULL;
	char *cause = NULL;

	synth_fmri_params_init(&p);
	p.duration = 5; /* shorter than one volume after lead-in and lead-out */
	cr_assert_eq(synth_fmri_new(&p, &s, &cause), -EINVAL);
	cr_assert_null(s);
	cr_assert_not_null(strstr(cause, "volume"), "%s", cause);
	free(cause);
}

Test(synth_fmri, written_files_hold_the_truth)
{
	char dir[64], rec_path[96], clean_path[96];
	struct synth_fmri_params p;
	struct io_edf_file *fr = NULL, *fc = NULL;
	const struct io_edf_header *hr, *hc;
	struct synth_fmri *s;
	const size_t *t;
	size_t n;
	char *cause = NULL;

	test_tmpdir_make(dir, sizeof dir, "synth-fmri");
	snprintf(rec_path, sizeof rec_path, "%s/recording.edf", dir);
	snprintf(clean_path, sizeof clean_path, "%s/clean.edf", dir);
	synth_fmri_params_init(&p);
	p.n_eeg = 4;
	p.duration = 16;
	p.seed = 7;
	cr_assert_eq(synth_fmri_write(&p, rec_path, clean_path, &cause), 0, "%s", cause);
	s = make(&p);
	t = synth_fmri_triggers(s, &n);
	cr_assert_eq(io_edf_open(rec_path, &fr, &cause), 0, "%s", cause);
	cr_assert_eq(io_edf_open(clean_path, &fc, &cause), 0, "%s", cause);
	hr = io_edf_header(fr);
	hc = io_edf_header(fc);
	cr_assert_eq(hr->n_channels, 6);
	cr_assert_eq(hr->n_annotations, n);
	cr_assert_eq(hc->n_annotations, n);
	for (size_t i = 0; i < n; i++) {
		cr_assert_str_eq(hr->annotations[i].text, "1");
		cr_assert_eq((size_t)llround(hr->annotations[i].onset * p.rate), t[i]);
	}
	for (size_t c = 0; c < hr->n_channels; c++) {
		const struct io_edf_channel *a = &hr->channels[c], *b = &hc->channels[c];
		double qa = (a->phys_max - a->phys_min) / (a->dig_max - a->dig_min) * 1e-6;
		double qb = (b->phys_max - b->phys_min) / (b->dig_max - b->dig_min) * 1e-6;
		double *x, *y, *art = read_part(s, SYNTH_FMRI_ARTIFACT, c);
		size_t nx, ny;

		cr_assert_str_eq(a->label, synth_fmri_label(s, c));
		cr_assert_float_eq(a->rate, p.rate, 1e-9);
		cr_assert_eq(io_edf_read_channel(fr, c, &x, &nx, &cause), 0, "%s", cause);
		cr_assert_eq(io_edf_read_channel(fc, c, &y, &ny, &cause), 0, "%s", cause);
		cr_assert_eq(nx, synth_fmri_n_samples(s));
		cr_assert_eq(ny, nx);
		for (size_t i = 0; i < nx; i++)
			cr_assert(fabs(x[i] - y[i] - art[i]) <= 0.5 * (qa + qb) + 1e-12,
				  "%s sample %zu: %g - %g vs %g (q %g %g)", a->label, i, x[i], y[i],
				  art[i], qa, qb);
		free(x);
		free(y);
		free(art);
	}
	io_edf_close(fr);
	io_edf_close(fc);
	synth_fmri_free(s);
	test_tmpdir_remove(dir);
}
