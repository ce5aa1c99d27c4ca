/* HDF5 plumbing for .spy files: the element types h5py uses for float32/float64/complex64 and
 * the attribute kinds Syncopy writes, with errors turned into causes instead of stack dumps. */
#include "worker/io/io-spy-h5.h"

#include <errno.h>
#include <string.h>

#include "common/error.h"

void
io_spy_h5_quiet(void)
{
	static int done;

	if (!done) {
		H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
		done = 1;
	}
}

static hid_t
io_spy_h5_complex(hid_t part)
{
	hid_t t = H5Tcreate(H5T_COMPOUND, 2 * H5Tget_size(part));

	H5Tinsert(t, "r", 0, part);
	H5Tinsert(t, "i", H5Tget_size(part), part);
	return t;
}

/* The type of dtype built from its single and double precision parts (complex64: two singles). */
static hid_t
io_spy_h5_type(enum io_spy_dtype dtype, hid_t f32, hid_t f64)
{
	switch (dtype) {
	case IO_SPY_FLOAT32:
		return H5Tcopy(f32);
	case IO_SPY_FLOAT64:
		return H5Tcopy(f64);
	case IO_SPY_COMPLEX64:
		return io_spy_h5_complex(f32);
	}
	return H5I_INVALID_HID;
}

hid_t
io_spy_h5_file_type(enum io_spy_dtype dtype)
{
	return io_spy_h5_type(dtype, H5T_IEEE_F32LE, H5T_IEEE_F64LE);
}

hid_t
io_spy_h5_mem_type(enum io_spy_dtype dtype)
{
	return io_spy_h5_type(dtype, H5T_NATIVE_FLOAT, H5T_NATIVE_DOUBLE);
}

int
io_spy_h5_dtype_of(hid_t dset, const char *what, enum io_spy_dtype *dtype, char **cause)
{
	hid_t t = H5Dget_type(dset);
	H5T_class_t cls = H5Tget_class(t);
	size_t size = H5Tget_size(t);
	int rc = 0;

	if (cls == H5T_FLOAT && size == 4)
		*dtype = IO_SPY_FLOAT32;
	else if (cls == H5T_FLOAT && size == 8)
		*dtype = IO_SPY_FLOAT64;
	else if (cls == H5T_COMPOUND && size == 8 && H5Tget_nmembers(t) == 2)
		*dtype = IO_SPY_COMPLEX64;
	else
		rc = error_set(cause, -ENOTSUP,
			       "%s: element type is not float32, float64 or complex64", what);
	H5Tclose(t);
	return rc;
}

/* Create attribute `name` of (type, space) on loc, deleting an older one, and write buf (of
 * memory type mtype). */
static int
io_spy_h5_attr_put(hid_t loc, const char *name, hid_t type, hid_t mtype, hid_t space,
		   const void *buf, char **cause)
{
	hid_t a;
	herr_t err;

	if (H5Aexists(loc, name) > 0)
		H5Adelete(loc, name);
	a = H5Acreate2(loc, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
	if (a < 0)
		return error_set(cause, -EIO, "cannot create HDF5 attribute '%s'", name);
	err = H5Awrite(a, mtype, buf);
	H5Aclose(a);
	if (err < 0)
		return error_set(cause, -EIO, "cannot write HDF5 attribute '%s'", name);
	return 0;
}

static hid_t
io_spy_h5_vlen_utf8(void)
{
	hid_t t = H5Tcopy(H5T_C_S1);

	H5Tset_size(t, H5T_VARIABLE);
	H5Tset_cset(t, H5T_CSET_UTF8);
	return t;
}

int
io_spy_h5_attr_string(hid_t loc, const char *name, const char *value, char **cause)
{
	hid_t t = io_spy_h5_vlen_utf8(), s = H5Screate(H5S_SCALAR);
	int rc = io_spy_h5_attr_put(loc, name, t, t, s, &value, cause);

	H5Sclose(s);
	H5Tclose(t);
	return rc;
}

int
io_spy_h5_attr_strings(hid_t loc, const char *name, const char *const *v, size_t n, char **cause)
{
	hsize_t dim = n;
	hid_t t = io_spy_h5_vlen_utf8(), s = H5Screate_simple(1, &dim, NULL);
	int rc = io_spy_h5_attr_put(loc, name, t, t, s, v, cause);

	H5Sclose(s);
	H5Tclose(t);
	return rc;
}

int
io_spy_h5_attr_doubles(hid_t loc, const char *name, const double *v, size_t n, char **cause)
{
	hsize_t dim = n;
	hid_t s = n == 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &dim, NULL);
	int rc = io_spy_h5_attr_put(loc, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, s, v, cause);

	H5Sclose(s);
	return rc;
}

int
io_spy_h5_attr_u64s(hid_t loc, const char *name, const uint64_t *v, size_t n, char **cause)
{
	hsize_t dim = n;
	hid_t s = H5Screate_simple(1, &dim, NULL);
	int rc = io_spy_h5_attr_put(loc, name, H5T_STD_U64LE, H5T_NATIVE_UINT64, s, v, cause);

	H5Sclose(s);
	return rc;
}

static int
io_spy_h5_attr_read(hid_t loc, const char *where, const char *name, hid_t memtype, void *v,
		    size_t n, char **cause)
{
	hid_t a, s;
	hssize_t npoints;
	int rc = 0;

	if (H5Aexists(loc, name) <= 0)
		return error_set(cause, -ENOENT, "%s: attribute '%s' is missing", where, name);
	a = H5Aopen(loc, name, H5P_DEFAULT);
	if (a < 0)
		return error_set(cause, -EIO, "%s: cannot open attribute '%s'", where, name);
	s = H5Aget_space(a);
	npoints = H5Sget_simple_extent_npoints(s);
	if (npoints < 0 || (size_t)npoints != n)
		rc = error_set(cause, -EINVAL, "%s: attribute '%s' has %lld elements, expected %zu",
			       where, name, (long long)npoints, n);
	else if (H5Aread(a, memtype, v) < 0)
		rc = error_set(cause, -EINVAL, "%s: attribute '%s' is not numeric", where, name);
	H5Sclose(s);
	H5Aclose(a);
	return rc;
}

int
io_spy_h5_attr_read_doubles(hid_t loc, const char *where, const char *name, double *v, size_t n,
			    char **cause)
{
	return io_spy_h5_attr_read(loc, where, name, H5T_NATIVE_DOUBLE, v, n, cause);
}

int
io_spy_h5_attr_read_u64s(hid_t loc, const char *where, const char *name, uint64_t *v, size_t n,
			 char **cause)
{
	return io_spy_h5_attr_read(loc, where, name, H5T_NATIVE_UINT64, v, n, cause);
}
