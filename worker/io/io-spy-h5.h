/* HDF5 helpers shared by the .spy writer and reader: element types as h5py writes them and
 * attributes of the kinds Syncopy stores (UTF-8 strings, string arrays, float64, uint64). */
#ifndef ND_IO_SPY_H5_H
#define ND_IO_SPY_H5_H

#include <hdf5.h>
#include <stddef.h>
#include <stdint.h>

#include "worker/io/io-spy.h"

/* Turn off HDF5's automatic error stack printing; failures are reported through causes. */
void io_spy_h5_quiet(void);

/* New type ids for a dtype in the file (little-endian) and in memory (native); caller closes. */
hid_t io_spy_h5_file_type(enum io_spy_dtype dtype);
hid_t io_spy_h5_mem_type(enum io_spy_dtype dtype);
/* Classify a dataset's element type; -ENOTSUP (with cause naming `what`) for other types. */
int io_spy_h5_dtype_of(hid_t dset, const char *what, enum io_spy_dtype *dtype, char **cause);

/* Attributes on `loc`, replacing an existing one of the same name. */
int io_spy_h5_attr_string(hid_t loc, const char *name, const char *value, char **cause);
int io_spy_h5_attr_strings(hid_t loc, const char *name, const char *const *v, size_t n,
			   char **cause);
/* n == 0 writes a scalar v[0]. */
int io_spy_h5_attr_doubles(hid_t loc, const char *name, const double *v, size_t n, char **cause);
int io_spy_h5_attr_u64s(hid_t loc, const char *name, const uint64_t *v, size_t n, char **cause);

/* Read a numeric attribute of exactly n elements (1 for a scalar), converted. -ENOENT (with a
 * cause naming `where`) if it is missing. */
int io_spy_h5_attr_read_doubles(hid_t loc, const char *where, const char *name, double *v, size_t n,
				char **cause);
int io_spy_h5_attr_read_u64s(hid_t loc, const char *where, const char *name, uint64_t *v, size_t n,
			     char **cause);

#endif
