/* Helpers shared by the DSP tests: load reference .npy files as doubles and compare with the
 * reference tolerance |x - ref| <= 1e-4 |ref| + 1e-6 max|ref|. Needs ND_TEST_DATA and
 * ND_SOURCE_ROOT. */
#ifndef ND_TEST_DSP_UTIL_H
#define ND_TEST_DSP_UTIL_H

#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "tests/unit/test-rng.h"
#include "worker/io/io-npy.h"

/* Load <dir>/<name>.npy (f4/f8/i4/i8) as a malloc'd double array. */
static inline double *
test_load_in(const char *dir, const char *name, struct io_npy_header *h)
{
	char path[512], *cause = NULL;
	void *data;
	double *d;

	snprintf(path, sizeof path, "%s/%s.npy", dir, name);
	cr_assert_eq(io_npy_read(path, h, &data, &cause), 0, "%s", cause ? cause : path);
	d = malloc((h->count ? h->count : 1) * sizeof *d);
	for (size_t i = 0; i < h->count; i++) {
		switch (h->dtype) {
		case IO_NPY_F4:
			d[i] = ((float *)data)[i];
			break;
		case IO_NPY_F8:
			d[i] = ((double *)data)[i];
			break;
		case IO_NPY_I4:
			d[i] = ((int32_t *)data)[i];
			break;
		case IO_NPY_I8:
			d[i] = (double)((int64_t *)data)[i];
			break;
		default:
			cr_assert_fail("unexpected dtype in %s", name);
		}
	}
	free(data);
	return d;
}

/* Load tests/data/spectral/<name>.npy as a malloc'd double array. */
static inline double *
test_load(const char *name, struct io_npy_header *h)
{
	return test_load_in(ND_TEST_DATA, name, h);
}

/* Load the 1-D fixture tests/data/<dir>/<name>.npy, which must hold exactly n values, as a
 * malloc'd double array. */
static inline double *
test_fixture(const char *dir, const char *name, size_t n)
{
	struct io_npy_header h;
	char path[512];
	double *d;

	snprintf(path, sizeof path, "%s/tests/data/%s", ND_SOURCE_ROOT, dir);
	d = test_load_in(path, name, &h);
	cr_assert(h.ndim == 1 && h.count == n, "%s/%s.npy: %zu values, want %zu", dir, name,
		  h.count, n);
	return d;
}

/* Assert x matches ref within the reference tolerance; returns the worst relative excess. */
static inline void
test_close(const double *x, const double *ref, size_t n, const char *what)
{
	double mx = 0;

	for (size_t i = 0; i < n; i++)
		mx = fmax(mx, fabs(ref[i]));
	for (size_t i = 0; i < n; i++)
		cr_assert(fabs(x[i] - ref[i]) <= 1e-4 * fabs(ref[i]) + 1e-6 * mx,
			  "%s[%zu]: %.9g vs reference %.9g", what, i, x[i], ref[i]);
}

static inline void
test_close_f(const float *x, const double *ref, size_t n, const char *what)
{
	double *d = malloc((n ? n : 1) * sizeof *d);

	for (size_t i = 0; i < n; i++)
		d[i] = x[i];
	test_close(d, ref, n, what);
	free(d);
}

#endif
