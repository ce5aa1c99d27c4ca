/* The .spy containers of the other data classes: SpectralData (complex, raw bytes at
 * data_offset, refused by the AnalogData reader), CrossSpectralData stitched from a part, and
 * TimeLockData with its avg, var and cov datasets. */
#include <criterion/criterion.h>
#include <errno.h>
#include <hdf5.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test-io-spy.h"
#include "worker/io/io-spy-h5.h"
#include "worker/io/io-spy-read.h"
#include "worker/io/io-spy-stitch.h"
#include "worker/io/io-spy-writer.h"

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

Test(io_spy, crossspectral_part_stitched)
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
}

/* TimeLockData: data plus avg, var and cov, all listed in the .info. */
Test(io_spy, timelock_datasets)
{
	struct io_spy_meta t = {0};
	double ttrl[6] = {0, 2, -1, 2, 4, -1};
	float x[8] = {1, 2, 3, 4, 5, 6, 7, 8}, avg[4] = {3, 4, 5, 6}, cov[4] = {1, 0, 0, 1};
	uint64_t s2[2] = {2, 2};
	struct io_spy_file *f;
	char *container, *path, *cause = NULL;
	json_t *j;
	hid_t h, d;

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
