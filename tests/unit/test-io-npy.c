/* The .npy codec: reference files load, all dtypes round-trip, v2/v3 headers parse, mmap agrees
 * with read, and malformed or unsupported headers are rejected with a cause (never a crash). */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "worker/io/io-npy.h"

static size_t
test_header(unsigned char *buf, int version, const char *dict)
{
	size_t n = strlen(dict), pre = version == 1 ? 10 : 12;

	memcpy(buf, "\x93NUMPY", 6);
	buf[6] = (unsigned char)version;
	buf[7] = 0;
	for (size_t i = 0; i < pre - 8; i++)
		buf[8 + i] = (unsigned char)((n >> (8 * i)) & 0xff);
	memcpy(buf + pre, dict, n);
	return pre + n;
}

Test(io_npy, reads_reference_input)
{
	struct io_npy_header h;
	void *data;
	char *cause = NULL;

	cr_assert_eq(io_npy_read(ND_TEST_DATA "/wn_input.npy", &h, &data, &cause), 0, "%s", cause);
	cr_assert_eq(h.dtype, IO_NPY_F4);
	cr_assert_eq(h.ndim, 2);
	cr_assert_eq(h.shape[0], 10000);
	cr_assert_eq(h.shape[1], 4);
	cr_assert_float_eq(((float *)data)[0], -0.05481802f, 1e-7);
	cr_assert_float_eq(((float *)data)[2], 0.875053f, 1e-6);

	struct io_npy_map m;
	cr_assert_eq(io_npy_map_open(ND_TEST_DATA "/wn_input.npy", &m, &cause), 0, "%s", cause);
	cr_assert_eq(m.h.count, 40000);
	cr_assert_eq(memcmp(m.data, data, 40000 * 4), 0);
	io_npy_map_close(&m);
	io_npy_map_close(&m);
	free(data);
}

Test(io_npy, roundtrip_all_dtypes)
{
	char path[] = "/tmp/test-io-npy-XXXXXX";
	int fd = mkstemp(path);
	unsigned char src[16 * 24];
	enum io_npy_dtype types[] = {IO_NPY_F4,  IO_NPY_F8, IO_NPY_C8,
				     IO_NPY_C16, IO_NPY_I4, IO_NPY_I8};
	size_t shapes[][3] = {{2, 3, 4}, {5, 0, 0}, {0, 0, 0}};
	int ndims[] = {3, 1, 0};

	cr_assert(fd >= 0);
	close(fd);
	for (size_t i = 0; i < sizeof src; i++)
		src[i] = (unsigned char)(i * 7 + 3);
	for (size_t t = 0; t < 6; t++)
		for (size_t s = 0; s < 3; s++) {
			struct io_npy_header h;
			void *data;
			char *cause = NULL;
			size_t count = 1;
			for (int d = 0; d < ndims[s]; d++)
				count *= shapes[s][d];
			cr_assert_eq(io_npy_write(path, types[t], ndims[s], shapes[s], src, &cause),
				     0, "%s", cause);
			cr_assert_eq(io_npy_read(path, &h, &data, &cause), 0, "%s", cause);
			cr_assert_eq(h.dtype, types[t]);
			cr_assert_eq(h.ndim, ndims[s]);
			cr_assert_eq(h.count, count);
			cr_assert_eq(h.data_offset % 64, 0);
			cr_assert_eq(memcmp(data, src, count * io_npy_dtype_size(types[t])), 0);
			free(data);
		}
	unlink(path);
}

Test(io_npy, header_versions_2_and_3)
{
	unsigned char buf[256];
	struct io_npy_header h;
	char *cause = NULL;
	size_t n;

	for (int v = 2; v <= 3; v++) {
		n = test_header(buf, v,
				"{'shape': (7, 2), 'fortran_order': False, "
				"'descr': '<c16'}  \n");
		cr_assert_eq(io_npy_header_parse(buf, n, &h, &cause), 0, "%s", cause);
		cr_assert_eq(h.dtype, IO_NPY_C16);
		cr_assert_eq(h.count, 14);
		cr_assert_eq(h.data_offset, n);
	}
	n = test_header(buf, 1, "{\"descr\": \"<i8\", \"fortran_order\": False, \"shape\": (3L,)}");
	cr_assert_eq(io_npy_header_parse(buf, n, &h, &cause), 0, "%s", cause);
	cr_assert_eq(h.count, 3);
}

Test(io_npy, rejects_malformed_headers)
{
	static const struct {
		const char *dict;
		const char *expect;
	} bad[] = {
	    {"{'descr': '<f8', 'fortran_order': True, 'shape': (3,), }", "fortran"},
	    {"{'descr': '>f8', 'fortran_order': False, 'shape': (3,), }", "dtype"},
	    {"{'descr': '<u2', 'fortran_order': False, 'shape': (3,), }", "dtype"},
	    {"{'descr': '<f8', 'fortran_order': False, }", "shape"},
	    {"{'descr': '<f8', 'shape': (3,), }", "fortran_order"},
	    {"{'descr': '<f8', 'fortran_order': False, 'shape': (-3,), }", "shape"},
	    {"{'descr': '<f8', 'fortran_order': False, 'shape': 3, }", "shape"},
	    {"{'descr': '<f8, 'fortran_order': False, 'shape': (3,), }", ""},
	    {"{'descr': '<f8', 'fortran_order': False, 'shape': (3,), } xyz", "trailing"},
	    {"{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999, 99999999999, "
	     "99999999999), }",
	     "overflow"},
	    {"{'descr': '<f8', 'fortran_order': False, 'shape': (1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,"
	     "1,1), }",
	     "dimensions"},
	    {"{'descr': '<f8', 'descr': '<f4', 'fortran_order': False, 'shape': (3,), }",
	     "repeated"},
	    {"{'descr': '<f8', 'fortran_order': False, 'shape': (3,)", ""},
	    {"", "dict"},
	};
	unsigned char buf[512];
	struct io_npy_header h;

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char *cause = NULL;
		size_t n = test_header(buf, 1, bad[i].dict);
		cr_assert_eq(io_npy_header_parse(buf, n, &h, &cause), -EINVAL, "case %zu", i);
		cr_assert_not_null(cause);
		cr_assert_not_null(strstr(cause, bad[i].expect), "case %zu: %s", i, cause);
		free(cause);
	}
	/* Bad magic, bad version, header length past the buffer, truncated preamble. */
	char *cause = NULL;
	size_t n = test_header(buf, 1, "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }");
	buf[0] = 0;
	cr_assert_eq(io_npy_header_parse(buf, n, &h, &cause), -EINVAL);
	free(cause);
	cause = NULL;
	buf[0] = 0x93;
	buf[6] = 4;
	cr_assert_eq(io_npy_header_parse(buf, n, &h, &cause), -EINVAL);
	free(cause);
	cause = NULL;
	buf[6] = 1;
	cr_assert_eq(io_npy_header_parse(buf, n - 1, &h, &cause), -EINVAL);
	free(cause);
	cause = NULL;
	cr_assert_eq(io_npy_header_parse(buf, 9, &h, &cause), -EINVAL);
	free(cause);
	cause = NULL;
	buf[6] = 2;
	memset(buf + 8, 0xff, 4);
	cr_assert_eq(io_npy_header_parse(buf, n, &h, &cause), -EINVAL);
	cr_assert_not_null(strstr(cause, "limit"), "%s", cause);
	free(cause);
}

Test(io_npy, rejects_truncated_data)
{
	char path[] = "/tmp/test-io-npy-XXXXXX", *cause = NULL;
	int fd = mkstemp(path);
	double d[4] = {1, 2, 3, 4};
	size_t shape[1] = {4};
	struct io_npy_header h;
	void *data;

	close(fd);
	cr_assert_eq(io_npy_write(path, IO_NPY_F8, 1, shape, d, NULL), 0);
	cr_assert_eq(truncate(path, 128 + 24), 0);
	cr_assert_eq(io_npy_read(path, &h, &data, &cause), -EINVAL);
	cr_assert_not_null(strstr(cause, "truncated"), "%s", cause);
	free(cause);
	unlink(path);
}

Test(io_npy, survives_mutated_headers)
{
	unsigned char buf[256], mut[256];
	struct io_npy_header h;
	size_t n =
	    test_header(buf, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (10, 4), }");
	uint64_t s = 88172645463325252ull;

	for (int iter = 0; iter < 20000; iter++) {
		char *cause = NULL;
		memcpy(mut, buf, n);
		for (int k = 0; k < 1 + iter % 4; k++) {
			s ^= s << 13;
			s ^= s >> 7;
			s ^= s << 17;
			mut[s % n] = (unsigned char)(s >> 32);
		}
		int rc = io_npy_header_parse(mut, (size_t)(s >> 40) % (n + 1), &h, &cause);
		cr_assert(rc == 0 || (rc == -EINVAL && cause != NULL));
		free(cause);
	}
}

Test(io_npy, a_full_disk_says_enospc)
{
	static double x[100000];
	size_t n = 100000;
	char *cause = NULL;

	if (access("/dev/full", W_OK) != 0)
		cr_skip_test("no /dev/full here");
	cr_assert_eq(io_npy_write("/dev/full", IO_NPY_F8, 1, &n, x, &cause), -ENOSPC, "%s",
		     cause);
	cr_assert_not_null(strstr(cause, "/dev/full"), "names the file: %s", cause);
	free(cause);
}
