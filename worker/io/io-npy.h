/* NumPy .npy files: parse the header (format versions 1, 2 and 3), read the data into memory,
 * write, and map the data read-only. Little-endian C-order arrays of a few numeric dtypes. */
#ifndef ND_IO_NPY_H
#define ND_IO_NPY_H

#include <stddef.h>

enum io_npy_dtype {
	IO_NPY_F4,  /* <f4 float */
	IO_NPY_F8,  /* <f8 double */
	IO_NPY_C8,  /* <c8 float complex */
	IO_NPY_C16, /* <c16 double complex */
	IO_NPY_I4,  /* <i4 int32_t */
	IO_NPY_I8,  /* <i8 int64_t */
};

#define IO_NPY_MAXDIM     16
#define IO_NPY_MAX_HEADER (1u << 20)

struct io_npy_header {
	enum io_npy_dtype dtype;
	int ndim;
	size_t shape[IO_NPY_MAXDIM];
	size_t count;       /* product of shape (1 for ndim 0) */
	size_t data_offset; /* bytes from the file start to the data */
};

/* A read-only mapping of a whole file; `data` points at the array. */
struct io_npy_map {
	struct io_npy_header h;
	const void *data;
	void *base;
	size_t maplen;
};

size_t io_npy_dtype_size(enum io_npy_dtype dtype);

/* Parse a header from the first `len` bytes of a file (len may exceed the header). Rejects bad
 * magic, versions other than 1-3, lengths beyond `len` or IO_NPY_MAX_HEADER, fortran order,
 * other dtypes, malformed dicts and shapes whose byte size overflows. Returns 0 or -EINVAL. */
int io_npy_header_parse(const void *buf, size_t len, struct io_npy_header *h, char **cause);

/* Read a whole file. On success *data (io_npy_header.count elements, malloc'd) is owned by the
 * caller, who frees it with free(). Returns 0, -EINVAL (format) or -errno (I/O). */
int io_npy_read(const char *path, struct io_npy_header *h, void **data, char **cause);

/* Write `data` (C order, shape[0..ndim)) as a version-1 file (version 2 if the header needs it).
 * No ownership is transferred. Returns 0 or -errno. */
int io_npy_write(const char *path, enum io_npy_dtype dtype, int ndim, const size_t *shape,
		 const void *data, char **cause);

/* Map a file read-only. Close with io_npy_map_close (accepts a zeroed map). */
int io_npy_map_open(const char *path, struct io_npy_map *m, char **cause);
void io_npy_map_close(struct io_npy_map *m);

#endif
