/* The .spy writer and reader: round trips, the .info checksum against sha1sum, corruption and
 * missing-dataset errors, data_offset pointing at the raw data, and part files stitched. */
#include <criterion/criterion.h>
#include <errno.h>
#include <hdf5.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test-tmpdir.h"
#include "worker/io/io-spy-h5.h"
#include "worker/io/io-spy-read.h"
#include "worker/io/io-spy-stitch.h"
#include "worker/io/io-spy-stitch.h"
#include "worker/io/io-spy-writer.h"

#define NCHAN 4

/* Six trials of different lengths with a gap (samples 40..45 belong to no trial). */
static const double test_trl[] = {
    0, 10, -2, 10, 25, 0, 25, 40, -5, 45, 52, 0, 52, 70, 3, 70, 80, 0,
};
#define NTRIALS  6
#define NSAMPLES 80

static char test_dir[] = "/tmp/test-io-spy-XXXXXX";

static void
test_setup(void)
{
	cr_assert_not_null(mkdtemp(test_dir));
}

static void
test_teardown(void)
{
	test_tmpdir_remove(test_dir);
}

TestSuite(io_spy, .init = test_setup, .fini = test_teardown);

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

static json_t *
test_info(const char *path)
{
	char *ip;
	json_t *j;

	cr_assert(asprintf(&ip, "%s.info", path) > 0);
	j = json_load_file(ip, 0, NULL);
	cr_assert_not_null(j, "cannot parse %s", ip);
	free(ip);
	return j;
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

Test(io_spy, spectral_complex_container)
{
	struct io_spy_meta m = {0};
	double freq[5] = {0, 1, 2, 3, 4};
	float data[2 * 1 * 5 * 3 * 2];
	char *container, *path, *cause = NULL;
	json_t *j;

	for (size_t i = 0; i < sizeof(data) / sizeof(data[0]); i++)
		data[i] = (float)i * 0.25f;
	m.dataclass = IO_SPY_SPECTRAL;
	m.dtype = IO_SPY_COMPLEX64;
	m.shape[0] = 2, m.shape[1] = 1, m.shape[2] = 5, m.shape[3] = 3;
	m.samplerate = 500;
	m.freq = freq;
	cr_assert(asprintf(&container, "%s/spec.spy", test_dir) > 0);
	cr_assert_eq(io_spy_container_prepare(container, IO_SPY_SPECTRAL, &path, &cause), 0);
	cr_assert_eq(io_spy_write(path, &m, data, &cause), 0, "%s", cause);
	j = test_info(path);
	cr_assert_str_eq(json_string_value(json_object_get(j, "dataclass")), "SpectralData");
	cr_assert_str_eq(json_string_value(json_object_get(j, "data_dtype")), "complex64");
	cr_assert_eq(json_array_size(json_object_get(j, "freq")), 5);
	cr_assert_str_eq(json_string_value(json_array_get(json_object_get(j, "taper"), 0)),
			 "taper1");
	cr_assert_eq(json_integer_value(json_array_get(json_object_get(j, "trl_shape"), 0)), 2);

	/* The raw bytes at data_offset are the interleaved (re, im) floats. */
	float raw[6];
	FILE *fp = fopen(path, "rb");
	fseek(fp, (long)json_integer_value(json_object_get(j, "data_offset")), SEEK_SET);
	cr_assert_eq(fread(raw, sizeof(float), 6, fp), 6);
	fclose(fp);
	cr_assert_eq(memcmp(raw, data, sizeof(raw)), 0);

	/* The reader serves AnalogData only and says so. */
	struct io_spy_read *r;
	cr_assert_eq(io_spy_read_open(&r, container, 0, &cause), -ENOENT);
	free(cause);
	cause = NULL;
	cr_assert_eq(io_spy_read_open(&r, path, 0, &cause), -ENOTSUP);
	cr_assert_not_null(strstr(cause, "SpectralData"), "%s", cause);
	free(cause);
	json_decref(j);
	free(container);
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

/* The string attribute `name` (variable-length string array) entry i of file f. */
static char *
test_attr_string(hid_t f, const char *name, size_t i)
{
	hid_t a = H5Aopen(f, name, H5P_DEFAULT), t = H5Aget_type(a), s = H5Aget_space(a);
	hssize_t n = H5Sget_simple_extent_npoints(s);
	char **v = calloc((size_t)n, sizeof *v), *out;

	cr_assert(a >= 0 && (size_t)n > i, "attribute %s", name);
	cr_assert_geq(H5Aread(a, t, v), 0);
	out = strdup(v[i]);
	H5Dvlen_reclaim(t, s, H5P_DEFAULT, v);
	free(v);
	H5Sclose(s);
	H5Tclose(t);
	H5Aclose(a);
	return out;
}

Test(io_spy, crossspectral_parts_and_timelock_datasets)
{
	static const char *const ci[] = {"a", "b"}, *const cj[] = {"x", "y", "z"};
	double freq[4] = {1, 2, 3, 4}, trl[6] = {0, 1, -5, 1, 2, -5};
	float data[2 * 4 * 2 * 3 * 2];
	struct io_spy_meta m = {0};
	struct io_spy_file *part, *f;
	uint64_t start[4], count[4];
	char *container, *path, *pp, *cause = NULL;

	for (size_t i = 0; i < sizeof data / sizeof data[0]; i++)
		data[i] = (float)i;
	m.dataclass = IO_SPY_CROSSSPECTRAL;
	m.dtype = IO_SPY_COMPLEX64;
	m.shape[0] = 2, m.shape[1] = 4, m.shape[2] = 2, m.shape[3] = 3;
	m.samplerate = 500;
	m.freq = freq;
	m.trl = trl;
	m.ntrials = 2;
	m.trl_cols = 3;
	m.channel = ci;
	m.channel_j = cj;
	m.info_json = "{\"converged\": true}";
	cr_assert(asprintf(&container, "%s/cross", test_dir) > 0);
	cr_assert_eq(io_spy_container_prepare(container, IO_SPY_CROSSSPECTRAL, &path, &cause), 0);
	cr_assert_not_null(strstr(path, "cross.spy/cross.crossspectral"), "%s", path);
	/* trial 1 as a part in container coordinates, stitched into the container */
	cr_assert(asprintf(&pp, "%s/part1.h5", test_dir) > 0);
	cr_assert_eq(io_spy_trials_slab(&m, 1, 1, 0, 0, start, count, &cause), 0, "%s", cause);
	cr_assert(start[0] == 1 && count[0] == 1 && count[2] == 2 && count[3] == 3);
	cr_assert_eq(io_spy_part_create(&part, pp, &m, start, count, &cause), 0, "%s", cause);
	cr_assert_eq(io_spy_write_trials(part, 1, 1, 0, 0, data + 48, &cause), 0, "%s", cause);
	cr_assert_eq(io_spy_close(part, &cause), 0);
	cr_assert_eq(io_spy_create(&f, path, &m, &cause), 0, "%s", cause);
	cr_assert_eq(io_spy_write_trials(f, 0, 1, 0, 0, data, &cause), 0, "%s", cause);
	const char *parts[1] = {pp};
	cr_assert_eq(io_spy_stitch_parts(f, parts, 1, &cause), 0, "%s", cause);
	cr_assert_eq(io_spy_close(f, &cause), 0, "%s", cause);

	json_t *j = test_info(path);
	cr_assert_str_eq(json_string_value(json_object_get(j, "dataclass")), "CrossSpectralData");
	cr_assert_str_eq(json_string_value(json_array_get(json_object_get(j, "dimord"), 2)),
			 "channel_i");
	cr_assert_str_eq(json_string_value(json_array_get(json_object_get(j, "channel_j"), 2)),
			 "z");
	cr_assert_null(json_object_get(j, "channel"));
	cr_assert(json_is_true(json_object_get(json_object_get(j, "info"), "converged")));
	cr_assert_eq(json_array_size(json_object_get(j, "freq")), 4);
	float raw[96];
	hid_t h = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT), d = H5Dopen2(h, "data", H5P_DEFAULT);
	hid_t mt = io_spy_h5_mem_type(IO_SPY_COMPLEX64);
	cr_assert_geq(H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, raw), 0);
	cr_assert_eq(memcmp(raw, data, sizeof raw), 0);
	char *l = test_attr_string(h, "channel_j", 1), *l2 = test_attr_string(h, "channel_i", 0);
	cr_assert_str_eq(l, "y");
	cr_assert_str_eq(l2, "a");
	free(l);
	free(l2);
	H5Tclose(mt);
	H5Dclose(d);
	H5Fclose(h);
	json_decref(j);
	free(path);
	free(container);
	free(pp);

	/* TimeLockData: data plus avg, var and cov, all listed in the .info */
	struct io_spy_meta t = {0};
	double ttrl[6] = {0, 2, -1, 2, 4, -1};
	float x[8] = {1, 2, 3, 4, 5, 6, 7, 8}, avg[4] = {3, 4, 5, 6}, cov[4] = {1, 0, 0, 1};
	uint64_t s2[2] = {2, 2};
	t.dataclass = IO_SPY_TIMELOCK;
	t.dtype = IO_SPY_FLOAT32;
	t.shape[0] = 4, t.shape[1] = 2;
	t.samplerate = 10;
	t.trl = ttrl;
	t.ntrials = 2;
	t.trl_cols = 3;
	cr_assert(asprintf(&container, "%s/tl.spy", test_dir) > 0);
	cr_assert_eq(io_spy_container_prepare(container, IO_SPY_TIMELOCK, &path, &cause), 0);
	cr_assert_eq(io_spy_create(&f, path, &t, &cause), 0, "%s", cause);
	cr_assert_eq(io_spy_write_trials(f, 0, 2, 0, 2, x, &cause), 0, "%s", cause);
	cr_assert_eq(io_spy_add_dataset(f, "avg", 2, s2, avg, &cause), 0, "%s", cause);
	cr_assert_eq(io_spy_add_dataset(f, "var", 2, s2, avg, &cause), 0, "%s", cause);
	cr_assert_eq(io_spy_add_dataset(f, "cov", 2, s2, cov, &cause), 0, "%s", cause);
	cr_assert_eq(io_spy_add_dataset(f, "data", 2, s2, cov, &cause), -EINVAL);
	free(cause);
	cause = NULL;
	cr_assert_eq(io_spy_close(f, &cause), 0, "%s", cause);
	j = test_info(path);
	cr_assert_str_eq(json_string_value(json_object_get(j, "dataclass")), "TimeLockData");
	json_t *props = json_object_get(j, "_hdfFileDatasetProperties");
	cr_assert_eq(json_array_size(props), 4);
	cr_assert_str_eq(json_string_value(json_array_get(props, 3)), "cov");
	h = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
	d = H5Dopen2(h, "avg", H5P_DEFAULT);
	float back[4];
	cr_assert_geq(H5Dread(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, back), 0);
	cr_assert_eq(memcmp(back, avg, sizeof back), 0);
	H5Dclose(d);
	H5Fclose(h);
	json_decref(j);
	free(path);
	free(container);
}
