/* The BrainVision reader and writer: write/read round trips in every layout (INT_16 within half a
 * resolution step, IEEE_FLOAT_32 to float precision, markers kept with their durations),
 * hand-written headers with a Latin-1 codepage and escaped commas, and one clear error naming the
 * file, the field and the line for each kind of broken file. */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test-tmpdir.h"
#include "worker/io/rec/io-brainvision.h"
#include "worker/io/rec/io-rec.h"

TEST_TMPDIR_DEFINE("io-bv")

static void
write_text(const char *name, const char *text)
{
	FILE *fp = fopen(tmp_path(name), "wb");

	cr_assert_not_null(fp);
	fputs(text, fp);
	fclose(fp);
}

static void
write_bytes(const char *name, const void *data, size_t n)
{
	FILE *fp = fopen(tmp_path(name), "wb");

	cr_assert_not_null(fp);
	cr_assert_eq(fwrite(data, 1, n, fp), n);
	fclose(fp);
}

/* Three channels of 1000 samples: a sine in volts, a ramp, and a beat rate in bpm. */
#define NS 1000
static double chan[3][NS];

static void
make_channels(void)
{
	for (size_t i = 0; i < NS; i++) {
		chan[0][i] = 80e-6 * sin(2 * M_PI * 10 * (double)i / 500.0);
		chan[1][i] = -2e-3 + 4e-3 * (double)i / NS;
		chan[2][i] = 60 + 5 * cos((double)i / 50.0);
	}
}

static const struct io_rec_annotation annots[] = {
    {0.5, 0.002, "Response/R128"},
    {1.0, -1, "Stimulus/S  1"},
    {1.25, 0.1, "free text, with a comma"},
};

static void
roundtrip(enum io_rec_sample type, bool vectorized)
{
	struct io_brainvision_writer_channel wc[3] = {
	    {"Fp1", NULL, chan[0]}, {"EC,G", "mV", chan[1]}, {"HR", "bpm", chan[2]}};
	struct io_brainvision_spec spec = {.n_channels = 3,
					   .channels = wc,
					   .rate = 500,
					   .n_samples = NS,
					   .type = type,
					   .vectorized = vectorized,
					   .n_annotations = 3,
					   .annotations = annots,
					   .start_year = 2024,
					   .start_month = 3,
					   .start_day = 9,
					   .start_hour = 14,
					   .start_minute = 5,
					   .start_second = 7};
	const struct io_rec_header *h;
	struct io_rec *r;
	char *cause = NULL;
	double *x;
	size_t n;

	make_channels();
	cr_assert_eq(io_brainvision_write(tmp_path("w.vhdr"), &spec, NULL, NULL, &cause), 0, "%s",
		     cause);
	cr_assert_eq(io_rec_open(tmp_path("w.vhdr"), NULL, &r, &cause), 0, "%s", cause);
	h = io_rec_header(r);
	cr_assert_eq(h->format, IO_REC_BRAINVISION);
	cr_assert_eq(h->n_channels, 3);
	cr_assert_str_eq(h->channels[1].label, "EC,G");
	cr_assert(h->channels[0].is_voltage && h->channels[1].is_voltage);
	cr_assert(!h->channels[2].is_voltage);
	cr_assert_str_eq(h->channels[2].unit, "bpm");
	cr_assert_eq(h->start_year, 2024);
	cr_assert_eq(h->start_second, 7);
	for (size_t c = 0; c < 3; c++) {
		double tol = 0, peak = 0;

		cr_assert_eq(h->channels[c].rate, 500);
		cr_assert_eq(io_rec_read_channel(r, c, &x, &n, &cause), 0, "%s", cause);
		cr_assert_eq(n, NS);
		for (size_t i = 0; i < NS; i++)
			peak = fmax(peak, fabs(chan[c][i]));
		/* INT_16: half a step of peak/32767; float32: its relative precision. */
		tol = type == IO_REC_INT16 ? 0.5 * peak / 32767 * 1.0001 : peak * 1.2e-7;
		for (size_t i = 0; i < NS; i++)
			cr_assert_leq(fabs(x[i] - chan[c][i]), tol,
				      "channel %zu sample %zu: %g vs %g", c, i, x[i], chan[c][i]);
		free(x);
	}
	/* "New Segment/" first (with the date), then the annotations as written. */
	cr_assert_eq(h->n_annotations, 4);
	cr_assert_str_eq(h->annotations[0].text, "New Segment/");
	cr_assert_str_eq(h->annotations[1].text, "Response/R128");
	cr_assert_float_eq(h->annotations[1].onset, 0.5, 1e-12);
	cr_assert_float_eq(h->annotations[1].duration, 0.002, 1e-12);
	cr_assert_str_eq(h->annotations[2].text, "Stimulus/S  1");
	cr_assert_float_eq(h->annotations[2].duration, 0.002, 1e-12); /* one point */
	cr_assert_str_eq(h->annotations[3].text, "Comment/free text, with a comma");
	cr_assert_float_eq(h->annotations[3].duration, 0.1, 1e-12);
	io_rec_close(r);
}

Test(io_brainvision, roundtrip_int16_multiplexed, .init = setup_tmp, .fini = teardown_tmp)
{
	roundtrip(IO_REC_INT16, false);
}

Test(io_brainvision, roundtrip_int16_vectorized, .init = setup_tmp, .fini = teardown_tmp)
{
	roundtrip(IO_REC_INT16, true);
}

Test(io_brainvision, roundtrip_float32_multiplexed, .init = setup_tmp, .fini = teardown_tmp)
{
	roundtrip(IO_REC_FLOAT32, false);
}

Test(io_brainvision, roundtrip_float32_vectorized, .init = setup_tmp, .fini = teardown_tmp)
{
	roundtrip(IO_REC_FLOAT32, true);
}

/* A re-written recording keeps its New Segment marker instead of gaining a second one, and a
 * range read matches the whole channel. */
Test(io_brainvision, rewrite_keeps_one_segment, .init = setup_tmp, .fini = teardown_tmp)
{
	struct io_brainvision_writer_channel wc[1] = {{"Cz", NULL, NULL}};
	struct io_brainvision_spec spec = {
	    .n_channels = 1, .channels = wc, .rate = 250, .n_samples = NS, .type = IO_REC_FLOAT32};
	struct io_rec *r, *r2;
	char *cause = NULL;
	double *x, part[10];
	size_t n;

	make_channels();
	wc[0].data = chan[0];
	cr_assert_eq(io_brainvision_write(tmp_path("a.vhdr"), &spec, NULL, NULL, &cause), 0);
	cr_assert_eq(io_rec_open(tmp_path("a.vhdr"), "brainvision", &r, &cause), 0, "%s", cause);
	cr_assert_eq(io_rec_read_channel(r, 0, &x, &n, &cause), 0);
	spec.n_annotations = io_rec_header(r)->n_annotations;
	spec.annotations = io_rec_header(r)->annotations;
	wc[0].data = x;
	cr_assert_eq(io_brainvision_write(tmp_path("b.vhdr"), &spec, NULL, NULL, &cause), 0);
	cr_assert_eq(io_rec_open(tmp_path("b.vhdr"), NULL, &r2, &cause), 0, "%s", cause);
	cr_assert_eq(io_rec_header(r2)->n_annotations, 1);
	cr_assert_eq(io_rec_read_range(r2, 0, 500, 10, part, &cause), 0);
	for (size_t i = 0; i < 10; i++)
		cr_assert_eq(part[i], x[500 + i]);
	cr_assert_neq(io_rec_read_range(r2, 0, 995, 10, part, &cause), 0);
	cr_assert_not_null(strstr(cause, "past its 1000 samples"), "%s", cause);
	free(cause);
	free(x);
	io_rec_close(r);
	io_rec_close(r2);
}

static const char *const vhdr_ok = "Brain Vision Data Exchange Header File Version 1.0\r\n"
				   "; comment\r\n"
				   "[Common Infos]\r\n"
				   "Codepage=ANSI\r\n"
				   "DataFile=h.eeg\r\n"
				   "MarkerFile=h.vmrk\r\n"
				   "DataFormat=BINARY\r\n"
				   "DataOrientation=MULTIPLEXED\r\n"
				   "NumberOfChannels=2\r\n"
				   "SamplingInterval=1000\r\n"
				   "\r\n[Binary Infos]\r\nBinaryFormat=INT_16\r\n"
				   "\r\n[Channel Infos]\r\n"
				   "Ch1=F\\1p1,,0.5,\xb5V\r\n"
				   "Ch2=ECG,,,\r\n"
				   "\r\n[Comment]\r\nA m p l i f i e r  S e t u p\r\n=====\r\n";

static const char *const vmrk_ok = "Brain Vision Data Exchange Marker File, Version 1.0\r\n"
				   "[Marker Infos]\r\n"
				   "Mk1=New Segment,,1,1,0,20200102030405000000\r\n"
				   "Mk2=Volume,V,3,2,0\r\n";

static void
write_fixture(const char *vhdr, const char *vmrk, size_t frames)
{
	int16_t data[2 * 8] = {1, -2, 3, -4, 5, -6, 7, -8, 9, -10, 11, -12, 13, -14, 15, -16};

	write_text("h.vhdr", vhdr);
	write_text("h.vmrk", vmrk);
	write_bytes("h.eeg", data, frames * 2 * sizeof data[0]);
}

/* Latin-1 µV, "\1" for a comma, empty resolution and unit (1 and µV), free text in [Comment]. */
Test(io_brainvision, handwritten_latin1, .init = setup_tmp, .fini = teardown_tmp)
{
	const struct io_rec_header *h;
	struct io_rec *r;
	char *cause = NULL;
	double *x;
	size_t n;

	write_fixture(vhdr_ok, vmrk_ok, 8);
	cr_assert_eq(io_rec_open(tmp_path("h.vhdr"), NULL, &r, &cause), 0, "%s", cause);
	h = io_rec_header(r);
	cr_assert_str_eq(h->channels[0].label, "F,p1");
	cr_assert_str_eq(h->channels[0].unit, "\xc2\xb5V");
	cr_assert_eq(h->channels[0].rate, 1000);
	cr_assert_eq(h->channels[0].n_samples, 8);
	cr_assert_eq(io_rec_read_channel(r, 0, &x, &n, &cause), 0);
	cr_assert_float_eq(x[2], 5 * 0.5e-6, 1e-18);
	free(x);
	cr_assert_eq(io_rec_read_channel(r, 1, &x, &n, &cause), 0);
	cr_assert_float_eq(x[7], -16e-6, 1e-18);
	free(x);
	cr_assert_eq(h->n_annotations, 2);
	cr_assert_str_eq(h->annotations[1].text, "Volume/V");
	cr_assert_float_eq(h->annotations[1].onset, 0.002, 1e-15);
	cr_assert_float_eq(h->annotations[1].duration, 0.002, 1e-15);
	cr_assert_eq(h->start_year, 2020);
	cr_assert_eq(h->start_minute, 4);
	io_rec_close(r);
}

/* One broken thing at a time: the error names the file, the field and (for the header) line. */
static void
expect_error(const char *vhdr, const char *vmrk, size_t frames, const char *const *want)
{
	struct io_rec *r = NULL;
	char *cause = NULL;

	write_fixture(vhdr, vmrk, frames);
	cr_assert_neq(io_rec_open(tmp_path("h.vhdr"), NULL, &r, &cause), 0);
	cr_assert_null(r);
	cr_assert_not_null(cause);
	for (; *want != NULL; want++)
		cr_assert_not_null(strstr(cause, *want), "'%s' not in: %s", *want, cause);
	free(cause);
}

static char *
replace(const char *s, const char *from, const char *to)
{
	const char *p = strstr(s, from);
	char *out;

	cr_assert_not_null(p, "%s", from);
	out = malloc(strlen(s) + strlen(to) + 1);
	sprintf(out, "%.*s%s%s", (int)(p - s), s, to, p + strlen(from));
	return out;
}

/* IEEE_FLOAT_32 data holding a NaN or an infinity: reading that channel fails naming the file,
 * the channel and the sample (they went on through every filter, and the output's writer
 * failed on them at the end); the other channel reads. */
Test(io_brainvision, non_finite_samples_refused, .init = setup_tmp, .fini = teardown_tmp)
{
	static const float bad[2] = {NAN, INFINITY};
	char *vhdr = replace(vhdr_ok, "BinaryFormat=INT_16", "BinaryFormat=IEEE_FLOAT_32");

	for (int k = 0; k < 2; k++) {
		float data[2 * 8];
		struct io_rec *r;
		char *cause = NULL;
		double *x;
		size_t n;

		for (int i = 0; i < 16; i++)
			data[i] = (float)i;
		data[2 * 5 + 1] = bad[k]; /* ECG, sample 5 */
		write_text("h.vhdr", vhdr);
		write_text("h.vmrk", vmrk_ok);
		write_bytes("h.eeg", data, sizeof data);
		cr_assert_eq(io_rec_open(tmp_path("h.vhdr"), NULL, &r, &cause), 0, "%s", cause);
		cr_assert_eq(io_rec_read_channel(r, 0, &x, &n, &cause), 0, "%s", cause);
		cr_assert_eq(n, 8);
		free(x);
		cr_assert_eq(io_rec_read_channel(r, 1, &x, &n, &cause), -EINVAL);
		cr_assert_null(x);
		cr_assert(strstr(cause, "h.vhdr") != NULL && strstr(cause, "channel ECG") != NULL &&
			      strstr(cause, "sample 5") != NULL && strstr(cause, "finite") != NULL,
			  "%s", cause);
		free(cause);
		io_rec_close(r);
	}
	free(vhdr);
}

Test(io_brainvision, errors_name_field_and_line, .init = setup_tmp, .fini = teardown_tmp)
{
	static const struct {
		const char *from, *to;
		const char *want[4];
	} cases[] = {
	    {"NumberOfChannels=2",
	     "NumberOfChannels=two",
	     {"h.vhdr: line 9", "NumberOfChannels", "\"two\"", NULL}},
	    {"SamplingInterval=1000", "SamplingInterval=-1", {"line 10", "SamplingInterval", NULL}},
	    {"BinaryFormat=INT_16", "BinaryFormat=UINT_8", {"line 13", "BinaryFormat", NULL}},
	    {"DataOrientation=MULTIPLEXED",
	     "DataOrientation=SIDEWAYS",
	     {"line 8", "DataOrientation", NULL}},
	    {"DataFile=h.eeg\r\n", "", {"h.vhdr", "DataFile: missing", NULL}},
	    {"DataFile=h.eeg", "DataFile=nowhere.eeg", {"line 5", "nowhere.eeg", NULL}},
	    {"Ch2=ECG,,,", "Ch3=ECG,,,", {"line 17", "Ch3", "Ch1 to Ch2", NULL}},
	    {"Ch1=F\\1p1,,0.5,", "Ch1=F\\1p1,,zero,", {"line 16", "resolution", NULL}},
	    {"DataFormat=BINARY", "DataFormat=ASCII", {"line 7", "DataFormat", NULL}},
	    {"Brain Vision", "EDF+", {"line 1", "not a BrainVision header", NULL}},
	    {"; comment", "garbage line", {"h.vhdr: line 2", NULL}},
	    {"NumberOfChannels=2", "NumberOfChannels=3", {"h.vhdr", "Ch3: missing", NULL}},
	    {"[Channel Infos]", "[Channel Infos\r\n", {"line 15", "']'", NULL}},
	    {"Ch2=ECG,,,", "Ch1=ECG,,,", {"line 17", "given again (first on line 16)", NULL}},
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *v = replace(vhdr_ok, cases[i].from, cases[i].to);
		expect_error(v, vmrk_ok, 8, cases[i].want);
		free(v);
	}
}

Test(io_brainvision, errors_data_and_markers, .init = setup_tmp, .fini = teardown_tmp)
{
	char *v =
	    replace(vhdr_ok, "SamplingInterval=1000", "DataPoints=9\r\nSamplingInterval=1000");
	char *m;

	expect_error(v, vmrk_ok, 8,
		     (const char *const[]){"h.eeg", "DataPoints", "line 10", "truncated", NULL});
	free(v);
	expect_error(vhdr_ok, vmrk_ok, 0, (const char *const[]){"h.vmrk: line 3", "outside", NULL});
	write_bytes("h.eeg", "abcdefg", 7); /* 7 bytes: not whole 2 × 16-bit frames */
	{
		struct io_rec *r = NULL;
		char *cause = NULL;

		cr_assert_eq(io_rec_open(tmp_path("h.vhdr"), NULL, &r, &cause), -EINVAL);
		cr_assert_not_null(strstr(cause, "h.eeg: 7 bytes"), "%s", cause);
		cr_assert_not_null(strstr(cause, "not a whole number of samples"), "%s", cause);
		free(cause);
	}
	m = replace(vmrk_ok, "Mk2=Volume,V,3,2,0", "Mk2=Volume,V,9,2,0");
	expect_error(vhdr_ok, m, 8,
		     (const char *const[]){"h.vhdr: line 6: MarkerFile", "h.vmrk: line 4", "Mk2",
					   "position 9", NULL});
	free(m);
	m = replace(vmrk_ok, "Mk2=Volume,V,3,2,0", "Mk2=Volume,V,3,big,0");
	expect_error(vhdr_ok, m, 8, (const char *const[]){"h.vmrk: line 4", "size", NULL});
	free(m);
	m = replace(vmrk_ok, "Mk2=", "Marker2=");
	expect_error(vhdr_ok, m, 8, (const char *const[]){"line 4", "Mk<number>", NULL});
	free(m);
	expect_error(vhdr_ok, "Brain Vision Data Exchange Header File Version 1.0\r\n", 8,
		     (const char *const[]){"h.vmrk: line 1", "not a BrainVision marker", NULL});
}

Test(io_brainvision, format_by_extension)
{
	cr_assert_str_eq(io_rec_format_from_path("/a/b.VHDR"), "brainvision");
	cr_assert_str_eq(io_rec_format_from_path("x.set"), "eeglab");
	cr_assert_str_eq(io_rec_format_from_path("x.edf"), "edf");
	cr_assert_str_eq(io_rec_format_from_path("x.bdf"), "bdf");
	cr_assert_null(io_rec_format_from_path("x.eeg"));
	cr_assert_null(io_rec_format_from_path("dir.vhdr/x"));
}

Test(io_brainvision, writer_refuses, .init = setup_tmp, .fini = teardown_tmp)
{
	struct io_brainvision_writer_channel wc[1] = {{"Cz", NULL, chan[0]}};
	struct io_brainvision_spec spec = {
	    .n_channels = 1, .channels = wc, .rate = 250, .n_samples = NS, .type = IO_REC_FLOAT32};
	char *cause = NULL;

	cr_assert_eq(io_brainvision_write(tmp_path("a.eeg"), &spec, NULL, NULL, &cause), -EINVAL);
	cr_assert_not_null(strstr(cause, ".vhdr"), "%s", cause);
	free(cause);
	cause = NULL;
	cr_assert_neq(io_brainvision_write("/nonexistent/dir/a.vhdr", &spec, NULL, NULL, &cause),
		      0);
	cr_assert_not_null(strstr(cause, "cannot create"), "%s", cause);
	free(cause);
}
