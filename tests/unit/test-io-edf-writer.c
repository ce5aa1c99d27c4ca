/* The EDF+/BDF+ writer: round trips within one digital quantum, 5000 annotations all kept, record
 * durations for non-integer rates, the streaming API, automatic ranges and rejected input. */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test-tmpdir.h"
#include "worker/io/io-edf.h"

TEST_TMPDIR_DEFINE("io-edf-writer")

static double *
make_signal(size_t n, double rate, double f, double amp_v)
{
	double *x = malloc(n * sizeof *x);

	for (size_t i = 0; i < n; i++)
		x[i] = amp_v * sin(2 * M_PI * f * (double)i / rate) +
		       0.1 * amp_v * cos(0.37 * (double)i);
	return x;
}

/* Read every channel back and compare with the source within one quantum (+ rounding). */
static void
check_round_trip(const char *path, const struct io_edf_writer_channel *ch, size_t n)
{
	struct io_edf_file *f = NULL;
	const struct io_edf_header *h;
	char *cause = NULL;

	cr_assert_eq(io_edf_open(path, &f, &cause), 0, "%s", cause);
	h = io_edf_header(f);
	cr_assert_eq(h->n_channels, n);
	for (size_t c = 0; c < n; c++) {
		const struct io_edf_channel *rc = &h->channels[c];
		double q =
		    (rc->phys_max - rc->phys_min) / (rc->dig_max - rc->dig_min) * rc->volt_scale;
		double *x;
		size_t got;

		cr_assert_str_eq(rc->label, ch[c].label);
		cr_assert_float_eq(rc->rate, ch[c].rate, 1e-9);
		cr_assert_geq(rc->n_samples, ch[c].n_samples);
		cr_assert_eq(io_edf_read_channel(f, c, &x, &got, &cause), 0, "%s", cause);
		for (size_t i = 0; i < ch[c].n_samples; i++)
			cr_assert(fabs(x[i] - ch[c].data[i]) <= q * 0.5 + 1e-15,
				  "%s sample %zu: %g vs %g (quantum %g)", rc->label, i, x[i],
				  ch[c].data[i], q);
		free(x);
	}
	io_edf_close(f);
}

Test(io_edf_writer, round_trip_5000_annotations, .init = setup_tmp, .fini = teardown_tmp)
{
	const size_t n_ann = 5000;
	struct io_edf_writer_channel ch[3] = {
	    {.label = "Fp1",
	     .rate = 256,
	     .n_samples = 256 * 20,
	     .phys_min = -300e-6,
	     .phys_max = 300e-6},
	    {.label = "Cz",
	     .rate = 512,
	     .n_samples = 512 * 20,
	     .phys_min = -300e-6,
	     .phys_max = 300e-6},
	    {.label = "ECG",
	     .rate = 256,
	     .n_samples = 256 * 20,
	     .dimension = "mV",
	     .phys_min = -2e-3,
	     .phys_max = 2e-3},
	};
	struct io_edf_annotation *ann = calloc(n_ann, sizeof *ann);
	char(*text)[16] = calloc(n_ann, sizeof *text);
	struct io_edf_writer_spec spec = {
	    .type = IO_EDF_TYPE_EDFPLUS,
	    .n_channels = 3,
	    .channels = ch,
	    .n_annotations = n_ann,
	    .annotations = ann,
	};
	const struct io_edf_header *h;
	struct io_edf_file *f = NULL;
	char *cause = NULL;
	const char *path = tmp_path("many.edf");

	ch[0].data = make_signal(ch[0].n_samples, 256, 10, 100e-6);
	ch[1].data = make_signal(ch[1].n_samples, 512, 23, 200e-6);
	ch[2].data = make_signal(ch[2].n_samples, 256, 1.1, 1e-3);
	/* Written out of order: the writer sorts by onset. */
	for (size_t i = 0; i < n_ann; i++) {
		size_t k = (i * 7919) % n_ann;

		snprintf(text[k], sizeof text[k], "ev%zu", k);
		ann[k].onset = 0.004 * (double)k;
		ann[k].duration = k % 3 == 0 ? 0.25 : -1;
		ann[k].text = text[k];
	}
	cr_assert_eq(io_edf_write(path, &spec, NULL, NULL, &cause), 0, "%s", cause);
	check_round_trip(path, ch, 3);
	cr_assert_eq(io_edf_open(path, &f, &cause), 0, "%s", cause);
	h = io_edf_header(f);
	/* 5000 annotations need more than 64 annotation signals at 1 s: records got shorter. */
	cr_assert_float_eq(h->record_duration, 0.25, 1e-9);
	cr_assert_eq(h->n_annotations, n_ann);
	for (size_t i = 0; i < n_ann; i++) {
		cr_assert_float_eq(h->annotations[i].onset, ann[i].onset, 1e-6);
		cr_assert_str_eq(h->annotations[i].text, ann[i].text);
		cr_assert_float_eq(h->annotations[i].duration, ann[i].duration, 1e-6);
	}
	io_edf_close(f);
	for (int c = 0; c < 3; c++)
		free((void *)ch[c].data);
	free(ann);
	free(text);
}

Test(io_edf_writer, bdf_and_non_integer_rate, .init = setup_tmp, .fini = teardown_tmp)
{
	struct io_edf_writer_channel ch[2] = {
	    {.label = "EEG",
	     .rate = 250,
	     .n_samples = 250 * 9 + 17,
	     .phys_min = -1e-3,
	     .phys_max = 1e-3},
	    {.label = "Slow",
	     .rate = 12.5,
	     .n_samples = 12 * 9,
	     .phys_min = -1e-3,
	     .phys_max = 1e-3},
	};
	struct io_edf_writer_spec spec = {
	    .type = IO_EDF_TYPE_BDFPLUS,
	    .n_channels = 2,
	    .channels = ch,
	};
	struct io_edf_file *f = NULL;
	char *cause = NULL;
	const char *path = tmp_path("slow.bdf");

	ch[0].data = make_signal(ch[0].n_samples, 250, 7, 400e-6);
	ch[1].data = make_signal(ch[1].n_samples, 12.5, 0.5, 400e-6);
	cr_assert_eq(io_edf_write(path, &spec, NULL, NULL, &cause), 0, "%s", cause);
	check_round_trip(path, ch, 2);
	cr_assert_eq(io_edf_open(path, &f, &cause), 0, "%s", cause);
	cr_assert_eq(io_edf_header(f)->type, IO_EDF_TYPE_BDFPLUS);
	cr_assert_float_eq(io_edf_header(f)->record_duration, 2.0, 1e-9);
	cr_assert_eq(io_edf_header(f)->channels[0].dig_max, 8388607);
	/* 2267 samples at 250 Hz → 5 records of 2 s (zero-padded at the end). */
	cr_assert_eq(io_edf_header(f)->n_records, 5);
	io_edf_close(f);
	free((void *)ch[0].data);
	free((void *)ch[1].data);
}

struct ramp {
	double slope;
};

static int
ramp_cb(void *arg, size_t channel, size_t start, size_t n, double *out, char **cause)
{
	const struct ramp *r = arg;

	for (size_t i = 0; i < n; i++)
		out[i] = r->slope * (double)(channel + 1) * (double)(start + i);
	return 0;
}

Test(io_edf_writer, callback_with_auto_range, .init = setup_tmp, .fini = teardown_tmp)
{
	struct io_edf_writer_channel ch[2] = {
	    {.label = "A", .rate = 100, .n_samples = 1000},
	    {.label = "B", .rate = 100, .n_samples = 1000},
	};
	struct io_edf_writer_spec spec = {
	    .type = IO_EDF_TYPE_EDFPLUS, .n_channels = 2, .channels = ch};
	struct ramp r = {1e-7};
	struct io_edf_file *f = NULL;
	const struct io_edf_header *h;
	char *cause = NULL;
	double *x;
	size_t n;

	cr_assert_eq(io_edf_write(tmp_path("ramp.edf"), &spec, ramp_cb, &r, &cause), 0, "%s",
		     cause);
	cr_assert_eq(io_edf_open(tmp_path("ramp.edf"), &f, &cause), 0, "%s", cause);
	h = io_edf_header(f);
	/* Range from the data with a margin, in uV: B spans 0 .. 199.8 uV. */
	cr_assert_lt(h->channels[1].phys_min, 0);
	cr_assert_gt(h->channels[1].phys_max, 199.8);
	cr_assert_lt(h->channels[1].phys_max, 215);
	cr_assert_eq(io_edf_read_channel(f, 1, &x, &n, &cause), 0, "%s", cause);
	for (size_t i = 0; i < n; i++)
		cr_assert_float_eq(x[i], 2e-7 * (double)i, 0.01e-6);
	free(x);
	io_edf_close(f);
}

Test(io_edf_writer, streaming_api, .init = setup_tmp, .fini = teardown_tmp)
{
	struct io_edf_writer_channel ch[2] = {
	    {.label = "X", .rate = 200, .n_samples = 600, .phys_min = -1e-3, .phys_max = 1e-3},
	    {.label = "Y", .rate = 50, .n_samples = 150, .phys_min = -1e-3, .phys_max = 1e-3},
	};
	struct io_edf_annotation ann[2] = {{0.5, -1, "start"}, {2.5, 0.1, "end"}};
	struct io_edf_writer_spec spec = {
	    .type = IO_EDF_TYPE_EDFPLUS,
	    .n_channels = 2,
	    .channels = ch,
	    .n_annotations = 2,
	    .annotations = ann,
	    .start_year = 2020,
	    .start_month = 5,
	    .start_day = 17,
	    .start_hour = 8,
	    .patient_name = "Anon",
	    .equipment = "bench",
	};
	struct io_edf_writer *w = NULL;
	struct io_edf_file *f = NULL;
	double x[200], y[50];
	const double *rec[2] = {x, y};
	char *cause = NULL;

	cr_assert_eq(io_edf_writer_open(tmp_path("s.edf"), &spec, &w, &cause), 0, "%s", cause);
	cr_assert_eq(io_edf_writer_n_records(w), 3);
	cr_assert_eq(io_edf_writer_record_samples(w, 0), 200);
	cr_assert_eq(io_edf_writer_record_samples(w, 1), 50);
	cr_assert_float_eq(io_edf_writer_record_duration(w), 1.0, 0);
	for (int r = 0; r < 3; r++) {
		for (int i = 0; i < 200; i++)
			x[i] = 1e-6 * (r * 200 + i);
		for (int i = 0; i < 50; i++)
			y[i] = -1e-6 * (r * 50 + i);
		cr_assert_eq(io_edf_writer_write_record(w, rec, &cause), 0, "%s", cause);
	}
	cr_assert_eq(io_edf_writer_write_record(w, rec, &cause), -ENOSPC);
	free(cause);
	cause = NULL;
	cr_assert_eq(io_edf_writer_close(w, &cause), 0, "%s", cause);
	cr_assert_eq(io_edf_open(tmp_path("s.edf"), &f, &cause), 0, "%s", cause);
	cr_assert_eq(io_edf_header(f)->n_annotations, 2);
	cr_assert_str_eq(io_edf_header(f)->annotations[1].text, "end");
	cr_assert_eq(io_edf_header(f)->start_year, 2020);
	cr_assert_str_eq(io_edf_header(f)->patient_name, "Anon");
	cr_assert_str_eq(io_edf_header(f)->equipment, "bench");
	io_edf_close(f);
}

Test(io_edf_writer, incomplete_file_is_an_error, .init = setup_tmp, .fini = teardown_tmp)
{
	struct io_edf_writer_channel ch = {
	    .label = "X", .rate = 10, .n_samples = 30, .phys_min = -1, .phys_max = 1};
	struct io_edf_writer_spec spec = {
	    .type = IO_EDF_TYPE_EDFPLUS, .n_channels = 1, .channels = &ch};
	struct io_edf_writer *w = NULL;
	double x[10] = {0};
	const double *rec[1] = {x};
	char *cause = NULL;

	cr_assert_eq(io_edf_writer_open(tmp_path("i.edf"), &spec, &w, &cause), 0, "%s", cause);
	cr_assert_eq(io_edf_writer_write_record(w, rec, &cause), 0);
	cr_assert_eq(io_edf_writer_close(w, &cause), -EIO);
	cr_assert_not_null(strstr(cause, "1 of 3"), "%s", cause);
	free(cause);
}

Test(io_edf_writer, rejects_bad_input, .init = setup_tmp, .fini = teardown_tmp)
{
	struct io_edf_writer_channel ch = {
	    .label = "X", .rate = 10, .n_samples = 30, .phys_min = -1, .phys_max = 1};
	struct io_edf_annotation ann = {1.0, -1,
					"this annotation text is much longer than forty bytes"};
	struct io_edf_writer_spec spec = {.type = IO_EDF_TYPE_EDFPLUS,
					  .n_channels = 1,
					  .channels = &ch,
					  .n_annotations = 1,
					  .annotations = &ann};
	struct io_edf_writer *w = NULL;
	char *cause = NULL;

	cr_assert_eq(io_edf_writer_open(tmp_path("b.edf"), &spec, &w, &cause), -EINVAL);
	cr_assert_not_null(strstr(cause, "annotation 0"), "%s", cause);
	free(cause);
	cause = NULL;
	spec.n_annotations = 0;
	ch.label = "a label that is far too long";
	cr_assert_eq(io_edf_writer_open(tmp_path("b.edf"), &spec, &w, &cause), -EINVAL);
	free(cause);
	cause = NULL;
	ch.label = "X";
	ch.rate = 1.0 / 7.0;
	cr_assert_eq(io_edf_writer_open(tmp_path("b.edf"), &spec, &w, &cause), -EINVAL);
	cr_assert_not_null(strstr(cause, "whole"), "%s", cause);
	free(cause);
	cause = NULL;
	ch.rate = 10;
	spec.type = IO_EDF_TYPE_EDF;
	cr_assert_eq(io_edf_writer_open(tmp_path("b.edf"), &spec, &w, &cause), -EINVAL);
	free(cause);
	cr_assert_null(w);
	cr_assert_eq(io_edf_writer_close(NULL, NULL), 0);
}

/* A sample that is not a finite number cannot be stored: the write fails naming the channel
 * and the sample, with the range given or computed from the data, instead of a flat channel. */
Test(io_edf_writer, non_finite_samples_are_refused, .init = setup_tmp, .fini = teardown_tmp)
{
	const double bad[] = {NAN, INFINITY, -INFINITY};

	for (int autorange = 0; autorange < 2; autorange++)
		for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
			struct io_edf_writer_channel ch[2] = {
			    {.label = "Fp1", .rate = 100, .n_samples = 1000},
			    {.label = "Fp2", .rate = 100, .n_samples = 1000},
			};
			struct io_edf_writer_spec spec = {
			    .type = IO_EDF_TYPE_EDFPLUS, .n_channels = 2, .channels = ch};
			double *x = make_signal(1000, 100, 7, 100e-6);
			char *cause = NULL;

			x[617] = bad[k];
			ch[0].data = make_signal(1000, 100, 5, 100e-6);
			ch[1].data = x;
			for (int c = 0; c < 2 && !autorange; c++) {
				ch[c].phys_min = -1e-3;
				ch[c].phys_max = 1e-3;
			}
			cr_assert_neq(io_edf_write(tmp_path("nan.edf"), &spec, NULL, NULL, &cause),
				      0, "a %g sample was written", bad[k]);
			cr_assert(strstr(cause, "Fp2") != NULL && strstr(cause, "617") != NULL,
				  "names the channel and the sample: %s", cause);
			free(cause);
			free((void *)ch[0].data);
			free(x);
		}
}
