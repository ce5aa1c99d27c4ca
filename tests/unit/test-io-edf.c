/* The EDF reader and writer: headers of the shipped files, a hand-made fixture compared with what
 * MNE reads, write/read round trips (values within one quantum, every annotation kept), errors. */
#include <criterion/criterion.h>
#include <edflib.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test-tmpdir.h"
#include "worker/io/io-edf.h"

#define SHARED   ND_SOURCE_ROOT "/../shared/data/"
#define FIXTURE  ND_SOURCE_ROOT "/tests/data/small.edf"
#define EXPECTED ND_SOURCE_ROOT "/tests/data/small-expected.txt"

TEST_TMPDIR_DEFINE("io-edf")

static struct io_edf_file *
open_ok(const char *path)
{
	struct io_edf_file *f = NULL;
	char *cause = NULL;
	int rc = io_edf_open(path, &f, &cause);

	cr_assert_eq(rc, 0, "%s: %s", path, cause ? cause : "");
	return f;
}

Test(io_edf, shipped_recording_header)
{
	const char *path = SHARED "fmri-niazy-like/recording.edf";
	const struct io_edf_header *h;
	struct io_edf_file *f;

	if (access(path, R_OK) != 0)
		cr_skip_test("%s is not available", path);
	f = open_ok(path);
	h = io_edf_header(f);
	cr_assert_eq(h->type, IO_EDF_TYPE_EDFPLUS);
	cr_assert_eq(h->n_channels, 32);
	cr_assert_str_eq(h->channels[0].label, "Fp1");
	cr_assert_str_eq(h->channels[29].label, "CP5");
	cr_assert_str_eq(h->channels[30].label, "EMG");
	cr_assert_str_eq(h->channels[31].label, "ECG");
	for (size_t i = 0; i < h->n_channels; i++) {
		cr_assert_float_eq(h->channels[i].rate, 2048.0, 1e-9);
		cr_assert_eq(h->channels[i].n_samples, 162 * 2048);
		cr_assert_str_eq(h->channels[i].dimension, "uV");
		cr_assert(h->channels[i].is_voltage);
		cr_assert_float_eq(h->channels[i].volt_scale, 1e-6, 1e-18);
	}
	cr_assert_float_eq(h->duration, 162.0, 1e-9);
	cr_assert_eq(h->n_annotations, 840);
	for (size_t i = 0; i < h->n_annotations; i++)
		cr_assert_str_eq(h->annotations[i].text, "1");
	cr_assert_eq(llround(h->annotations[0].onset * 2048), 58886);
	cr_assert_eq(h->start_year, 2024);
	cr_assert_eq(io_edf_channel_find(h, "ECG"), 31);
	cr_assert_eq(io_edf_channel_find(h, "nope"), -ENOENT);
	io_edf_close(f);
}

Test(io_edf, shipped_plain_edf_header)
{
	const char *path = SHARED "real-eeg/test_epilepsy_eeg.edf";
	const struct io_edf_header *h;
	struct io_edf_file *f;

	if (access(path, R_OK) != 0)
		cr_skip_test("%s is not available", path);
	f = open_ok(path);
	h = io_edf_header(f);
	cr_assert_eq(h->type, IO_EDF_TYPE_EDF);
	cr_assert_eq(h->n_channels, 19);
	cr_assert_eq(h->n_annotations, 0);
	cr_assert_float_eq(h->channels[0].rate, 200.0, 1e-9);
	/* No physical dimension: values stay as they are and the channel says so. */
	cr_assert_not(h->channels[0].is_voltage);
	cr_assert_float_eq(h->channels[0].volt_scale, 1.0, 0);
	io_edf_close(f);
}

Test(io_edf, fixture_matches_mne)
{
	FILE *fp = fopen(EXPECTED, "r");
	const struct io_edf_header *h;
	struct io_edf_file *f = open_ok(FIXTURE);
	size_t nch, nann;
	char line[256];

	cr_assert_not_null(fp);
	h = io_edf_header(f);
	cr_assert_eq(fscanf(fp, "channels %zu\n", &nch), 1);
	cr_assert_eq(h->n_channels, nch);
	cr_assert_eq(h->type, IO_EDF_TYPE_EDFPLUS);
	cr_assert_float_eq(h->duration, 10.0, 1e-9);
	cr_assert_eq(h->start_year, 2021);
	cr_assert_eq(h->start_hour, 10);
	for (size_t i = 0; i < nch; i++) {
		char label[32], dim[16];
		double rate, pmin, pmax;
		size_t n;
		int dmin, dmax;

		cr_assert_eq(fscanf(fp, "channel %31s %15s %lf %zu %lf %lf %d %d\n", label, dim,
				    &rate, &n, &pmin, &pmax, &dmin, &dmax),
			     8);
		cr_assert_str_eq(h->channels[i].label, label);
		cr_assert_str_eq(h->channels[i].dimension, dim);
		cr_assert_float_eq(h->channels[i].rate, rate, 1e-9);
		cr_assert_eq(h->channels[i].n_samples, n);
		cr_assert_float_eq(h->channels[i].phys_min, pmin, 1e-9);
		cr_assert_float_eq(h->channels[i].phys_max, pmax, 1e-9);
		cr_assert_eq(h->channels[i].dig_min, dmin);
		cr_assert_eq(h->channels[i].dig_max, dmax);
	}
	cr_assert_str_eq(h->channels[0].transducer, "AgAgCl electrode");
	cr_assert_str_eq(h->channels[0].prefilter, "HP:0.1Hz LP:70Hz");
	cr_assert_eq(fscanf(fp, "annotations %zu\n", &nann), 1);
	cr_assert_eq(h->n_annotations, nann);
	for (size_t i = 0; i < nann; i++) {
		double onset, dur;
		int off = 0;

		cr_assert_not_null(fgets(line, sizeof line, fp));
		line[strcspn(line, "\n")] = '\0';
		cr_assert_eq(sscanf(line, "annotation %lf %lf %n", &onset, &dur, &off), 2);
		cr_assert_float_eq(h->annotations[i].onset, onset, 1e-7);
		cr_assert_float_eq(h->annotations[i].duration, dur, 1e-7);
		cr_assert_str_eq(h->annotations[i].text, line + off);
	}
	for (size_t i = 0; i < nch; i++) {
		size_t c, n, got;
		double *x;
		char *cause = NULL;

		cr_assert_eq(fscanf(fp, "samples %zu %zu\n", &c, &n), 2);
		cr_assert_eq(io_edf_read_channel(f, c, &x, &got, &cause), 0, "%s", cause);
		cr_assert_eq(got, n);
		for (size_t k = 0; k < n; k++) {
			double want;

			cr_assert_eq(fscanf(fp, "%lf\n", &want), 1);
			cr_assert_float_eq(x[k], want, 1e-12 + 1e-9 * fabs(want),
					   "channel %zu sample %zu", c, k);
		}
		free(x);
	}
	fclose(fp);
	io_edf_close(f);
}

Test(io_edf, read_range_and_bounds)
{
	struct io_edf_file *f = open_ok(FIXTURE);
	double all[2560], part[100];
	char *cause = NULL;

	cr_assert_eq(io_edf_read_range(f, 0, 0, 2560, all, NULL), 0);
	cr_assert_eq(io_edf_read_range(f, 0, 1000, 100, part, NULL), 0);
	for (int i = 0; i < 100; i++)
		cr_assert_eq(part[i], all[1000 + i]);
	cr_assert_eq(io_edf_read_range(f, 0, 2500, 100, part, &cause), -EINVAL);
	cr_assert_not_null(strstr(cause, "small.edf"));
	free(cause);
	cause = NULL;
	cr_assert_eq(io_edf_read_range(f, 5, 0, 1, part, &cause), -EINVAL);
	free(cause);
	io_edf_close(f);
}

Test(io_edf, volt_scale)
{
	cr_assert_float_eq(io_edf_volt_scale("uV"), 1e-6, 0);
	cr_assert_float_eq(io_edf_volt_scale("\xc2\xb5V"), 1e-6, 0);
	cr_assert_float_eq(io_edf_volt_scale("mV "), 1e-3, 0);
	cr_assert_float_eq(io_edf_volt_scale("V"), 1.0, 0);
	cr_assert_float_eq(io_edf_volt_scale("bpm"), 0, 0);
	cr_assert_float_eq(io_edf_volt_scale(""), 0, 0);
}

Test(io_edf, errors_name_the_file, .init = setup_tmp, .fini = teardown_tmp)
{
	struct io_edf_file *f = NULL;
	char *cause = NULL, *buf;
	const char *missing = tmp_path("missing.edf"), *text = tmp_path("notes.txt");
	const char *cut = tmp_path("cut.edf");
	FILE *fp;
	long size;

	cr_assert_eq(io_edf_open(missing, &f, &cause), -ENOENT);
	cr_assert_null(f);
	cr_assert_not_null(strstr(cause, missing), "%s", cause);
	free(cause);
	cause = NULL;

	fp = fopen(text, "w");
	for (int i = 0; i < 50; i++)
		fprintf(fp, "this is a plain text file, line %d\n", i);
	fclose(fp);
	cr_assert_eq(io_edf_open(text, &f, &cause), -EINVAL);
	cr_assert_not_null(strstr(cause, text), "%s", cause);
	cr_assert_not_null(strstr(cause, "not an EDF"), "%s", cause);
	free(cause);
	cause = NULL;

	fp = fopen(FIXTURE, "rb");
	fseek(fp, 0, SEEK_END);
	size = ftell(fp);
	rewind(fp);
	buf = malloc((size_t)size);
	cr_assert_eq(fread(buf, 1, (size_t)size, fp), (size_t)size);
	fclose(fp);
	fp = fopen(cut, "wb");
	fwrite(buf, 1, (size_t)size / 2, fp);
	fclose(fp);
	free(buf);
	cr_assert_eq(io_edf_open(cut, &f, &cause), -EINVAL);
	cr_assert_not_null(strstr(cause, cut), "%s", cause);
	cr_assert_not_null(strstr(cause, "truncated"), "%s", cause);
	free(cause);
	cause = NULL;

	cr_assert_eq(io_edf_open(tmpdir, &f, &cause), -EISDIR);
	free(cause);
	cr_assert_not_null(strstr(io_edf_strerror(EDFLIB_FILE_IS_DISCONTINUOUS), "discontinuous"));
	cr_assert_eq(io_edf_errno(EDFLIB_FILE_IS_DISCONTINUOUS), -ENOTSUP);
	cr_assert_eq(io_edf_errno(EDFLIB_MAXFILES_REACHED), -EMFILE);
}

/* Plain reference: every channel of `path` through EDFlib's own sample reader, in volts as
 * io_edf scales them. Returns per-channel arrays (NULL-terminated). */
static double **
edflib_channels(const char *path, size_t *nch)
{
	struct edf_hdr_struct e;
	double **out;

	cr_assert_eq(edfopen_file_readonly(path, &e, EDFLIB_DO_NOT_READ_ANNOTATIONS), 0, "%s",
		     path);
	*nch = (size_t)e.edfsignals;
	out = calloc(*nch + 1, sizeof *out);
	for (size_t c = 0; c < *nch; c++) {
		size_t n = (size_t)e.signalparam[c].smp_in_file;
		double scale = io_edf_volt_scale(e.signalparam[c].physdimension);

		out[c] = malloc((n ? n : 1) * sizeof **out);
		cr_assert_eq(edfread_physical_samples(e.handle, (int)c, (int)n, out[c]), (int)n);
		if (scale != 0 && scale != 1.0)
			for (size_t i = 0; i < n; i++)
				out[c][i] *= scale;
	}
	edfclose_file(e.handle);
	return out;
}

/* io_edf's direct reads give exactly EDFlib's values: whole channels and ranges that start and
 * end inside records, for EDF+, BDF+ with large and small record slices, and the shipped files. */
static void
check_direct_equals_edflib(const char *path)
{
	size_t nch;
	double **want = edflib_channels(path, &nch);
	struct io_edf_file *f = open_ok(path);
	const struct io_edf_header *h = io_edf_header(f);

	cr_assert_eq(h->n_channels, nch);
	for (size_t c = 0; c < nch; c++) {
		size_t n = h->channels[c].n_samples,
		       spr = (size_t)h->channels[c].samples_per_record;
		size_t starts[] = {0, spr / 2, spr + 1, n > 3 * spr ? n - 2 * spr - 1 : 0};
		double *x = malloc((n ? n : 1) * sizeof *x);

		for (size_t s = 0; s < sizeof starts / sizeof starts[0]; s++) {
			size_t len = n - starts[s] < 3 * spr + 5 ? n - starts[s] : 3 * spr + 5;

			if (s == 0)
				len = n;
			if (starts[s] >= n)
				continue;
			cr_assert_eq(io_edf_read_range(f, c, starts[s], len, x, NULL), 0);
			for (size_t i = 0; i < len; i++)
				cr_assert_eq(x[i], want[c][starts[s] + i],
					     "%s channel %zu sample %zu: %.17g vs EDFlib %.17g",
					     path, c, starts[s] + i, x[i], want[c][starts[s] + i]);
		}
		free(x);
		free(want[c]);
	}
	free(want);
	io_edf_close(f);
}

Test(io_edf, direct_reads_equal_edflib, .init = setup_tmp, .fini = teardown_tmp)
{
	struct io_edf_writer_channel ch[2] = {
	    {.label = "EEG",
	     .rate = 250,
	     .n_samples = 250 * 9 + 17,
	     .phys_min = -3e-3,
	     .phys_max = 1e-3},
	    {.label = "Slow",
	     .rate = 12.5,
	     .n_samples = 12 * 9,
	     .phys_min = -1e-3,
	     .phys_max = 2e-3},
	};
	struct io_edf_writer_spec spec = {
	    .type = IO_EDF_TYPE_BDFPLUS, .n_channels = 2, .channels = ch};
	const char *bdf = tmp_path("mixed.bdf");
	double *a = malloc(ch[0].n_samples * sizeof *a), *b = malloc(ch[1].n_samples * sizeof *b);
	char *cause = NULL;

	for (size_t i = 0; i < ch[0].n_samples; i++)
		a[i] = 9e-4 * sin(0.05 * (double)i) - 1e-3;
	for (size_t i = 0; i < ch[1].n_samples; i++)
		b[i] = 1e-3 * cos(0.3 * (double)i);
	ch[0].data = a;
	ch[1].data = b;
	cr_assert_eq(io_edf_write(bdf, &spec, NULL, NULL, &cause), 0, "%s", cause);
	check_direct_equals_edflib(bdf);
	check_direct_equals_edflib(FIXTURE);
	if (access(SHARED "fmri-niazy-like/recording.edf", R_OK) == 0)
		check_direct_equals_edflib(SHARED "fmri-niazy-like/recording.edf");
	if (access(SHARED "real-eeg/test_epilepsy_eeg.edf", R_OK) == 0)
		check_direct_equals_edflib(SHARED "real-eeg/test_epilepsy_eeg.edf");
	free(a);
	free(b);
}

/* Copy the fixture with signal 0's physical minimum and maximum fields replaced. */
static void
write_with_phys_range(const char *path, const char *pmin, const char *pmax)
{
	FILE *in = fopen(FIXTURE, "rb"), *out;
	static unsigned char buf[1 << 20];
	size_t n, ns;
	char field[9];

	cr_assert_not_null(in);
	n = fread(buf, 1, sizeof buf, in);
	fclose(in);
	memcpy(field, buf + 252, 4);
	field[4] = '\0';
	ns = (size_t)atoi(field);
	snprintf(field, sizeof field, "%-8s", pmin);
	memcpy(buf + 256 + ns * 104, field, 8);
	snprintf(field, sizeof field, "%-8s", pmax);
	memcpy(buf + 256 + ns * 112, field, 8);
	out = fopen(path, "wb");
	cr_assert_not_null(out);
	cr_assert_eq(fwrite(buf, 1, n, out), n);
	fclose(out);
}

/* A physical range whose scale is not finite would turn that channel into infinities (written
 * flat): the header is refused, naming the file and the channel. */
Test(io_edf, physical_range_must_give_a_finite_scale, .init = setup_tmp, .fini = teardown_tmp)
{
	static const char *const bad[][2] = {{"-1e308", "1e308"}, {"-1e308", "-1e307"},
					     {"-inf", "100"}, {"-100", "nan"}};
	struct io_edf_file *f = NULL;
	char *cause = NULL;

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		const char *p = tmp_path("range.edf");
		int rc;

		write_with_phys_range(p, bad[i][0], bad[i][1]);
		rc = io_edf_open(p, &f, &cause);
		if (rc == 0) {
			/* EDFlib took it: the samples must be finite, or it is refused. */
			const struct io_edf_header *h = io_edf_header(f);
			double *x = NULL;
			size_t nx = 0;
			rc = io_edf_read_channel(f, 0, &x, &nx, &cause);
			cr_assert_neq(rc, 0, "[%s, %s] accepted with scale giving %g (first sample)",
				      bad[i][0], bad[i][1], x != NULL ? x[0] : 0.0);
			(void)h;
			free(x);
			io_edf_close(f);
		}
		cr_assert_not_null(cause);
		cr_assert(strstr(cause, p) != NULL, "names the file: %s", cause);
		/* EDFlib itself refuses fields that are not numbers ("nan", "-inf"). */
		if (i < 2)
			cr_assert(strstr(cause, "physical range") != NULL &&
				      strstr(cause, "channel 1") != NULL,
				  "names the channel and says why: %s", cause);
		free(cause);
		cause = NULL;
	}
	/* A wide but finite range is fine. */
	write_with_phys_range(tmp_path("wide.edf"), "-1e6", "1e6");
	io_edf_close(open_ok(tmp_path("wide.edf")));
}
