/* The .spy writer and reader on AnalogData: round trips, the .info checksum against sha1sum,
 * corruption and missing-dataset errors, data_offset pointing at the raw data, and part files
 * stitched. The other data classes are in test-io-spy-kinds.c. */
#include <criterion/criterion.h>
#include <errno.h>
#include <hdf5.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test-io-spy.h"
#include "worker/io/io-spy-h5.h"
#include "worker/io/io-spy-read.h"
#include "worker/io/io-spy-stitch.h"
#include "worker/io/io-spy-writer.h"

#define NCHAN 4

/* Six trials of different lengths with a gap (samples 40..45 belong to no trial). */
static const double test_trl[] = {
    0, 10, -2, 10, 25, 0, 25, 40, -5, 45, 52, 0, 52, 70, 3, 70, 80, 0,
};
#define NTRIALS  6
#define NSAMPLES 80

/* Sample values; the gap between trials 3 and 4 stays zero, as unwritten rows do. */
static double
test_value(size_t s, size_t c)
{
	if (s >= 40 && s < 45)
		return 0;
	return (double)s * 0.5 - (double)c * 3.25 + 1.0 / (1.0 + (double)(s % 7));
}

static void
test_meta(struct io_spy_meta *m, enum io_spy_dtype dtype)
{
	memset(m, 0, sizeof(*m));
	m->dataclass = IO_SPY_ANALOG;
	m->dtype = dtype;
	m->shape[0] = NSAMPLES;
	m->shape[1] = NCHAN;
	m->samplerate = 1000;
	m->trl = test_trl;
	m->ntrials = NTRIALS;
	m->trl_cols = 3;
	m->log = "written by test-io-spy";
}

static char *
test_write(const char *name, enum io_spy_dtype dtype)
{
	struct io_spy_meta m;
	char *container, *path, *cause = NULL;
	double *d = malloc(NSAMPLES * NCHAN * sizeof(double));
	float *f = malloc(NSAMPLES * NCHAN * sizeof(float));

	test_meta(&m, dtype);
	for (size_t s = 0; s < NSAMPLES; s++)
		for (size_t c = 0; c < NCHAN; c++)
			f[s * NCHAN + c] = (float)(d[s * NCHAN + c] = test_value(s, c));
	cr_assert(asprintf(&container, "%s/%s", test_dir, name) > 0);
	cr_assert_eq(io_spy_container_prepare(container, IO_SPY_ANALOG, &path, &cause), 0);
	cr_assert_eq(
	    io_spy_write(path, &m, dtype == IO_SPY_FLOAT32 ? (void *)f : (void *)d, &cause), 0,
	    "%s", cause);
	free(container);
	free(d);
	free(f);
	return path;
}

static void
test_check_read(const char *path, double tol)
{
	struct io_spy_read *r;
	char *cause = NULL;

	cr_assert_eq(io_spy_read_open(&r, path, 0, &cause), 0, "%s", cause);
	const struct io_spy_read_info *info = io_spy_read_info(r);
	cr_assert_eq(info->nsamples, NSAMPLES);
	cr_assert_eq(info->nchan, NCHAN);
	cr_assert_eq(info->ntrials, NTRIALS);
	cr_assert_eq(info->trl_cols, 3);
	cr_assert_float_eq(info->samplerate, 1000, 0);
	cr_assert_str_eq(info->channel[0], "channel1");
	cr_assert_str_eq(info->channel[3], "channel4");
	for (size_t i = 0; i < NTRIALS * 3; i++)
		cr_assert_eq(info->trl[i], test_trl[i]);
	cr_assert_gt(info->data_offset, 0);

	/* Trials 1..3 (with the gap after trial 2), channels 1..2 only. */
	uint64_t n = io_spy_read_trial_samples(r, 1, 3);
	cr_assert_eq(n, 15 + 15 + 7);
	double *buf = calloc(n * 2, sizeof(double)), *p = buf;
	cr_assert_eq(io_spy_read_trials(r, 1, 3, 1, 2, buf, &cause), 0, "%s", cause);
	for (size_t t = 1; t <= 3; t++)
		for (size_t s = (size_t)test_trl[t * 3]; s < (size_t)test_trl[t * 3 + 1]; s++)
			for (size_t c = 1; c <= 2; c++) {
				double got = *p++;
				cr_assert_float_eq(got, test_value(s, c), tol,
						   "s %zu c %zu: %g vs %g", s, c, got,
						   test_value(s, c));
			}
	cr_assert_neq(io_spy_read_trials(r, 5, 2, 0, 1, buf, &cause), 0);
	free(cause);
	free(buf);
	io_spy_read_close(r);
}

Test(io_spy, round_trip_float64)
{
	char *path = test_write("rt64", IO_SPY_FLOAT64);

	test_check_read(path, 0);
	free(path);
}

Test(io_spy, round_trip_float32_via_container_dir)
{
	char *path = test_write("rt32", IO_SPY_FLOAT32), *dir;

	cr_assert_str_eq(strrchr(path, '/') + 1, "rt32.analog");
	test_check_read(path, 1e-5);
	cr_assert(asprintf(&dir, "%s/rt32.spy", test_dir) > 0);
	test_check_read(dir, 1e-5);
	free(dir);
	free(path);
}

Test(io_spy, float32_reads_give_the_stored_values)
{
	char *path = test_write("rt32f", IO_SPY_FLOAT32), *cause = NULL;
	struct io_spy_read *r;
	uint64_t n;

	cr_assert_eq(io_spy_read_open(&r, path, 0, &cause), 0, "%s", cause);
	n = io_spy_read_trial_samples(r, 1, 3);
	double *d = calloc(n * 2, sizeof *d);
	float *f = calloc(n * 2, sizeof *f);
	cr_assert_eq(io_spy_read_trials(r, 1, 3, 1, 2, d, &cause), 0, "%s", cause);
	cr_assert_eq(io_spy_read_trials_f32(r, 1, 3, 1, 2, f, &cause), 0, "%s", cause);
	for (uint64_t i = 0; i < n * 2; i++)
		cr_assert_eq((double)f[i], d[i], "value %llu: float read %g, double read %g",
			     (unsigned long long)i, (double)f[i], d[i]);
	cr_assert_neq(io_spy_read_trials_f32(r, 5, 2, 0, 1, f, &cause), 0);
	free(cause);
	free(d);
	free(f);
	io_spy_read_close(r);
	free(path);
}

Test(io_spy, info_checksum_equals_sha1sum)
{
	char *path = test_write("sum", IO_SPY_FLOAT64), *cmd, out[128] = "";
	json_t *j = test_info(path);
	FILE *p;

	cr_assert(asprintf(&cmd, "sha1sum '%s'", path) > 0);
	p = popen(cmd, "r");
	cr_assert_not_null(fgets(out, sizeof(out), p));
	pclose(p);
	out[40] = '\0';
	cr_assert_str_eq(json_string_value(json_object_get(j, "file_checksum")), out);
	cr_assert_str_eq(json_string_value(json_object_get(j, "checksum_algorithm")),
			 "openssl_sha1");
	cr_assert_str_eq(json_string_value(json_object_get(j, "dataclass")), "AnalogData");
	cr_assert_str_eq(json_string_value(json_object_get(j, "filename")), "sum.analog");
	cr_assert_str_eq(json_string_value(json_object_get(j, "data_dtype")), "float64");
	cr_assert_str_eq(json_string_value(json_object_get(j, "order")), "C");
	cr_assert(json_is_null(json_object_get(j, "trl_offset")));
	json_decref(j);
	free(cmd);
	free(path);
}

Test(io_spy, data_offset_points_at_raw_data)
{
	char *path = test_write("off", IO_SPY_FLOAT64);
	json_t *j = test_info(path);
	long off = (long)json_integer_value(json_object_get(j, "data_offset"));
	double v[NCHAN];
	FILE *fp = fopen(path, "rb");

	cr_assert_gt(off, 0);
	cr_assert_eq(fseek(fp, off + 3 * NCHAN * (long)sizeof(double), SEEK_SET), 0);
	cr_assert_eq(fread(v, sizeof(double), NCHAN, fp), NCHAN);
	for (size_t c = 0; c < NCHAN; c++)
		cr_assert_eq(v[c], test_value(3, c));
	fclose(fp);
	json_decref(j);
	free(path);
}

Test(io_spy, corrupted_byte_is_a_checksum_error)
{
	char *path = test_write("bad", IO_SPY_FLOAT64), *cause = NULL;
	json_t *j = test_info(path);
	long off = (long)json_integer_value(json_object_get(j, "data_offset"));
	struct io_spy_read *r;
	FILE *fp = fopen(path, "r+b");

	cr_assert_eq(fseek(fp, off + 17, SEEK_SET), 0);
	cr_assert_eq(fputc(0x5a, fp), 0x5a);
	fclose(fp);
	cr_assert_eq(io_spy_read_open(&r, path, 0, &cause), -EBADMSG);
	cr_assert_null(r);
	cr_assert_not_null(strstr(cause, "checksum mismatch"), "%s", cause);
	cr_assert_not_null(strstr(cause, path), "%s", cause);
	cr_assert_not_null(strstr(cause, json_string_value(json_object_get(j, "file_checksum"))),
			   "%s", cause);
	free(cause);
	json_decref(j);
	free(path);
}

/* The reference toolbox's way: a mismatch found on request is a warning, the file is read. */
Test(io_spy, checksum_warn_reads_a_mismatching_file)
{
	char *path = test_write("warn", IO_SPY_FLOAT64), *cause = NULL;
	json_t *j = test_info(path);
	long off = (long)json_integer_value(json_object_get(j, "data_offset"));
	struct io_spy_read *r = NULL;
	FILE *fp = fopen(path, "r+b");
	double v[1], *buf;

	cr_assert_eq(io_spy_read_open(&r, path, IO_SPY_READ_CHECKSUM_WARN, &cause), 0, "%s",
		     cause);
	cr_assert_not(io_spy_read_info(r)->checksum_mismatch, "an intact file matches");
	io_spy_read_close(r);
	cr_assert_eq(fseek(fp, off, SEEK_SET), 0);
	v[0] = 42.5;
	cr_assert_eq(fwrite(v, sizeof(double), 1, fp), 1);
	fclose(fp);
	cr_assert_eq(io_spy_read_open(&r, path, IO_SPY_READ_CHECKSUM_WARN, &cause), 0, "%s",
		     cause);
	cr_assert(io_spy_read_info(r)->checksum_mismatch);
	buf = calloc(io_spy_read_trial_samples(r, 0, 1) * NCHAN, sizeof *buf);
	cr_assert_eq(io_spy_read_trials(r, 0, 1, 0, NCHAN, buf, &cause), 0, "%s", cause);
	cr_assert_eq(buf[0], 42.5, "the file's own values are read");
	free(buf);
	io_spy_read_close(r);
	json_decref(j);
	free(path);
}

Test(io_spy, missing_data_dataset_is_named)
{
	char *path = test_write("nodata", IO_SPY_FLOAT64), *cause = NULL;
	struct io_spy_read *r;
	hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);

	cr_assert_geq(H5Ldelete(f, "data", H5P_DEFAULT), 0);
	H5Fclose(f);
	cr_assert_eq(io_spy_read_open(&r, path, IO_SPY_READ_NO_CHECKSUM, &cause), -ENOENT);
	cr_assert_not_null(strstr(cause, "dataset 'data' is missing"), "%s", cause);
	cr_assert_not_null(strstr(cause, path), "%s", cause);
	free(cause);
	cause = NULL;
	/* With the checksum check on, the edited file is caught first. */
	cr_assert_eq(io_spy_read_open(&r, path, 0, &cause), -EBADMSG);
	free(cause);
	free(path);
}

Test(io_spy, missing_info_is_named)
{
	char *path = test_write("noinfo", IO_SPY_FLOAT64), *ip, *cause = NULL;
	struct io_spy_read *r;

	cr_assert(asprintf(&ip, "%s.info", path) > 0);
	cr_assert_eq(unlink(ip), 0);
	cr_assert_eq(io_spy_read_open(&r, path, 0, &cause), -ENOENT);
	cr_assert_not_null(strstr(cause, ip), "%s", cause);
	free(cause);
	free(ip);
	free(path);
}

Test(io_spy, rejects_bad_meta)
{
	struct io_spy_meta m;
	struct io_spy_file *f;
	char *cause = NULL, *path;
	double trl[] = {0, 90, 0};

	cr_assert(asprintf(&path, "%s/x.analog", test_dir) > 0);
	test_meta(&m, IO_SPY_COMPLEX64);
	cr_assert_eq(io_spy_create(&f, path, &m, &cause), -EINVAL);
	free(cause);
	cause = NULL;
	test_meta(&m, IO_SPY_FLOAT32);
	m.trl = trl;
	m.ntrials = 1;
	cr_assert_eq(io_spy_create(&f, path, &m, &cause), -EINVAL);
	cr_assert_not_null(strstr(cause, "trial 0"), "%s", cause);
	free(cause);
	free(path);
}

static unsigned char *
test_slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	unsigned char *b;

	cr_assert_not_null(fp);
	fseek(fp, 0, SEEK_END);
	*len = (size_t)ftell(fp);
	rewind(fp);
	b = malloc(*len);
	cr_assert_eq(fread(b, 1, *len, fp), *len);
	fclose(fp);
	return b;
}

Test(io_spy, parts_stitched_equal_a_single_write)
{
	char *single = test_write("single", IO_SPY_FLOAT32), *path, *cause = NULL;
	char *parts[4];
	struct io_spy_meta m;
	struct io_spy_file *f;
	size_t k = 0;

	test_meta(&m, IO_SPY_FLOAT32);
	/* Four tasks: trials {0..2, 3..5} × channels {0..1, 2..3}, each in its own part file. */
	for (size_t t0 = 0; t0 < NTRIALS; t0 += 3)
		for (size_t c0 = 0; c0 < NCHAN; c0 += 2, k++) {
			uint64_t start[4], count[4];
			float buf[NSAMPLES * 2], *p = buf;

			cr_assert_eq(io_spy_trials_slab(&m, t0, 3, c0, 2, start, count, &cause), 0);
			cr_assert(asprintf(&parts[k], "%s/part%zu.h5", test_dir, k) > 0);
			cr_assert_eq(io_spy_part_create(&f, parts[k], &m, start, count, &cause), 0,
				     "%s", cause);
			for (size_t t = t0; t < t0 + 3; t++)
				for (size_t s = (size_t)test_trl[t * 3];
				     s < (size_t)test_trl[t * 3 + 1]; s++)
					for (size_t c = c0; c < c0 + 2; c++)
						*p++ = (float)test_value(s, c);
			cr_assert_eq(io_spy_write_trials(f, t0, 3, c0, 2, buf, &cause), 0, "%s",
				     cause);
			/* Outside the part's hyperslab: refused. */
			cr_assert_eq(io_spy_write_trials(f, 0, 6, 0, 4, buf, &cause), -EINVAL);
			free(cause);
			cause = NULL;
			cr_assert_eq(io_spy_close(f, &cause), 0, "%s", cause);
		}
	cr_assert_eq(io_spy_container_prepare("/nonexistent-dir/x", IO_SPY_ANALOG, &path, &cause),
		     -ENOENT);
	free(cause);
	cause = NULL;
	cr_assert(asprintf(&path, "%s/stitched.analog", test_dir) > 0);
	cr_assert_eq(io_spy_create(&f, path, &m, &cause), 0, "%s", cause);
	/* Out of order on purpose: the parts are disjoint. */
	const char *order[4] = {parts[3], parts[0], parts[2], parts[1]};
	cr_assert_eq(io_spy_stitch_parts(f, order, 4, &cause), 0, "%s", cause);
	cr_assert_eq(io_spy_close(f, &cause), 0, "%s", cause);
	test_check_read(path, 1e-5);

	/* Same metadata and data, no timestamps: the HDF5 files are byte-identical. */
	size_t la, lb;
	unsigned char *a = test_slurp(single, &la), *b = test_slurp(path, &lb);
	cr_assert_eq(la, lb);
	cr_assert_eq(memcmp(a, b, la), 0);
	free(a);
	free(b);
	for (k = 0; k < 4; k++)
		free(parts[k]);
	free(path);
	free(single);
}

Test(io_spy, stitch_rejects_foreign_part)
{
	struct io_spy_meta m, other;
	struct io_spy_file *f, *p;
	uint64_t start[4] = {0, 0}, count[4] = {10, 4};
	char *path, *part, *cause = NULL;

	test_meta(&m, IO_SPY_FLOAT32);
	test_meta(&other, IO_SPY_FLOAT64);
	cr_assert(asprintf(&path, "%s/c.analog", test_dir) > 0);
	cr_assert(asprintf(&part, "%s/p.h5", test_dir) > 0);
	cr_assert_eq(io_spy_part_create(&p, part, &other, start, count, &cause), 0);
	cr_assert_eq(io_spy_close(p, &cause), 0);
	cr_assert_eq(io_spy_create(&f, path, &m, &cause), 0);
	cr_assert_eq(io_spy_stitch_parts(f, (const char *const *)&part, 1, &cause), -EINVAL);
	cr_assert_not_null(strstr(cause, "float64"), "%s", cause);
	io_spy_discard(f);
	free(cause);
	free(part);
	free(path);
}

Test(io_spy, missing_samplerate_and_trialdefinition_are_named)
{
	char *path = test_write("nosr", IO_SPY_FLOAT64), *ip, *cause = NULL;
	struct io_spy_read *r;
	json_t *j = test_info(path);
	hid_t f;

	/* samplerate gone from both the .info and the HDF5 attributes. */
	cr_assert(asprintf(&ip, "%s.info", path) > 0);
	json_object_del(j, "samplerate");
	cr_assert_eq(json_dump_file(j, ip, JSON_INDENT(4)), 0);
	f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
	cr_assert_geq(H5Adelete(f, "samplerate"), 0);
	H5Fclose(f);
	cr_assert_eq(io_spy_read_open(&r, path, IO_SPY_READ_NO_CHECKSUM, &cause), -ENOENT);
	cr_assert_not_null(strstr(cause, "no samplerate"), "%s", cause);
	cr_assert_not_null(strstr(cause, "attribute 'samplerate' is missing"), "%s", cause);
	free(cause);
	cause = NULL;

	f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
	cr_assert_geq(H5Ldelete(f, "trialdefinition", H5P_DEFAULT), 0);
	H5Fclose(f);
	cr_assert_eq(io_spy_read_open(&r, path, IO_SPY_READ_NO_CHECKSUM, &cause), -ENOENT);
	cr_assert_not_null(strstr(cause, "dataset 'trialdefinition' is missing"), "%s", cause);
	free(cause);
	json_decref(j);
	free(ip);
	free(path);
}
