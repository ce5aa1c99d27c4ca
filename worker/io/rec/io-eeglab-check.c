/* A bound on what a MATLAB v5 file may make libmatio allocate: libmatio sizes its arrays (and a
 * structure's table of fields, one variable per element) from the dimensions a file claims
 * before it reads them, so a damaged 1 kB .set can take gigabytes. Here every array's claimed
 * elements are checked against the bytes that hold them, compressed variables inflated with
 * zlib, before libmatio opens the file. v7.3 files (HDF5) are left to libmatio and HDF5. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "common/error.h"
#include "common/xmalloc.h"
#include "worker/io/rec/io-eeglab.h"

#define IO_EEGLAB_MI_MATRIX     14
#define IO_EEGLAB_MI_COMPRESSED 15
#define IO_EEGLAB_MAX_DEPTH     16
#define IO_EEGLAB_MAX_INFLATE   ((size_t)4 << 30)

struct io_eeglab_walk {
	const char *path;
	bool swap; /* the file's byte order is not ours */
	char **cause;
};

static uint32_t
io_eeglab_u32(const struct io_eeglab_walk *w, const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return w->swap ? __builtin_bswap32(v) : v;
}

/* One data element at p (n bytes left): its type, its data and the bytes it spans. */
static int
io_eeglab_elem_at(const struct io_eeglab_walk *w, const uint8_t *p, size_t n, uint32_t *type,
		  const uint8_t **data, size_t *len, size_t *span)
{
	uint32_t t;

	if (n < 8)
		return -EINVAL;
	t = io_eeglab_u32(w, p);
	if ((t >> 16) != 0) { /* small element: size and type in one word, data inline */
		*type = t & 0xffff;
		*len = t >> 16;
		*data = p + 4;
		*span = 8;
		return *len <= 4 ? 0 : -EINVAL;
	}
	*type = t;
	*len = io_eeglab_u32(w, p + 4);
	*data = p + 8;
	*span = 8 + ((*len + 7) & ~(size_t)7);
	if (t == IO_EEGLAB_MI_COMPRESSED)
		*span = 8 + *len;
	return *len <= n - 8 ? 0 : -EINVAL;
}

static size_t
io_eeglab_type_size(uint32_t t)
{
	static const size_t sizes[] = {0, 1, 1, 2, 2, 4, 4, 4, 0, 8, 0, 0, 8, 8, 0, 0, 1, 2, 4};

	return t < sizeof sizes / sizeof sizes[0] ? sizes[t] : 0;
}

static int io_eeglab_matrix(const struct io_eeglab_walk *w, const uint8_t *p, size_t n, int depth);

/* The elements of a cell (per = 1) or structure (per = fields) array: numel × per matrices. */
static int
io_eeglab_children(const struct io_eeglab_walk *w, const uint8_t *p, size_t n, uint64_t count,
		   int depth)
{
	if (count > n / 8)
		return -EINVAL;
	for (uint64_t i = 0; i < count; i++) {
		uint32_t t;
		const uint8_t *d;
		size_t len, span;

		if (io_eeglab_elem_at(w, p, n, &t, &d, &len, &span) != 0 ||
		    t != IO_EEGLAB_MI_MATRIX || span > n ||
		    io_eeglab_matrix(w, d, len, depth + 1) != 0)
			return -EINVAL;
		p += span;
		n -= span;
	}
	return 0;
}

/* The contents of a miMATRIX: flags, dimensions, name, then by class its data or children. */
static int
io_eeglab_matrix(const struct io_eeglab_walk *w, const uint8_t *p, size_t n, int depth)
{
	uint32_t t, cls;
	const uint8_t *d;
	size_t len, span;
	uint64_t numel = 1;

	if (n == 0) /* an empty matrix */
		return 0;
	if (depth > IO_EEGLAB_MAX_DEPTH || io_eeglab_elem_at(w, p, n, &t, &d, &len, &span) != 0 ||
	    len < 4 || span > n)
		return -EINVAL;
	cls = io_eeglab_u32(w, d) & 0xff;
	p += span, n -= span;
	if (io_eeglab_elem_at(w, p, n, &t, &d, &len, &span) != 0 || span > n || len % 4 != 0)
		return -EINVAL;
	for (size_t i = 0; i < len / 4; i++) {
		uint32_t dim = io_eeglab_u32(w, d + 4 * i);
		if (dim > (uint32_t)INT32_MAX || (dim != 0 && numel > UINT64_MAX / dim))
			return -EINVAL;
		numel *= dim;
	}
	p += span, n -= span;
	if (io_eeglab_elem_at(w, p, n, &t, &d, &len, &span) != 0 || span > n) /* name */
		return -EINVAL;
	p += span, n -= span;
	if (cls == 1) /* cell */
		return io_eeglab_children(w, p, n, numel, depth);
	if (cls == 2 || cls == 3) { /* structure (object: its class name first) */
		uint32_t flen, nfields;

		if (cls == 3) {
			if (io_eeglab_elem_at(w, p, n, &t, &d, &len, &span) != 0 || span > n)
				return -EINVAL;
			p += span, n -= span;
		}
		if (io_eeglab_elem_at(w, p, n, &t, &d, &len, &span) != 0 || len < 4 || span > n)
			return -EINVAL;
		flen = io_eeglab_u32(w, d);
		p += span, n -= span;
		/* Field names are at most 63 characters in MATLAB (4095 in v7.3). */
		if (io_eeglab_elem_at(w, p, n, &t, &d, &len, &span) != 0 || span > n || flen == 0 ||
		    flen > 4096)
			return -EINVAL;
		nfields = (uint32_t)(len / flen);
		p += span, n -= span;
		if (nfields != 0 && numel > UINT64_MAX / nfields)
			return -EINVAL;
		return io_eeglab_children(w, p, n, numel * nfields, depth);
	}
	if (cls >= 4 && cls <= 15 && cls != 5 &&
	    numel > 0) { /* char, numeric: all in the real part */
		if (io_eeglab_elem_at(w, p, n, &t, &d, &len, &span) != 0 ||
		    io_eeglab_type_size(t) == 0 || numel > len / io_eeglab_type_size(t))
			return -EINVAL;
	}
	if ((cls == 0 || cls > 15) && numel > n) /* function handles, opaque objects, unknown */
		return -EINVAL;
	return 0;
}

static int
io_eeglab_inflate(const uint8_t *src, size_t n, uint8_t **out, size_t *len)
{
	z_stream z = {0};
	size_t cap = n * 4 + 4096;
	int zr;

	if (inflateInit(&z) != Z_OK)
		return -ENOMEM;
	*out = xmalloc(cap);
	z.next_in = (Bytef *)src;
	z.avail_in = (uInt)(n > UINT32_MAX ? UINT32_MAX : n);
	do {
		if (z.total_out == cap) {
			if (cap >= IO_EEGLAB_MAX_INFLATE)
				break;
			cap *= 2;
			*out = xrealloc(*out, cap);
		}
		z.next_out = *out + z.total_out;
		z.avail_out =
		    (uInt)(cap - z.total_out > UINT32_MAX ? UINT32_MAX : cap - z.total_out);
		zr = inflate(&z, Z_NO_FLUSH);
	} while (zr == Z_OK);
	*len = z.total_out;
	inflateEnd(&z);
	if (zr != Z_STREAM_END && zr != Z_BUF_ERROR) {
		free(*out);
		*out = NULL;
		return -EINVAL;
	}
	return 0; /* a stream cut short is checked as far as it goes */
}

/* One top-level variable at p: a matrix, or a compressed one. */
static int
io_eeglab_variable(const struct io_eeglab_walk *w, const uint8_t *p, size_t n, size_t *span)
{
	uint32_t t;
	const uint8_t *d;
	size_t len;
	uint8_t *buf;
	int rc;

	if (io_eeglab_elem_at(w, p, n, &t, &d, &len, span) != 0)
		return -EINVAL;
	if (*span > n)
		*span = n;
	if (t == IO_EEGLAB_MI_MATRIX)
		return io_eeglab_matrix(w, d, len, 0);
	if (t != IO_EEGLAB_MI_COMPRESSED)
		return 0; /* libmatio skips what it does not know */
	if (io_eeglab_inflate(d, len, &buf, &len) != 0)
		return -EINVAL;
	rc = io_eeglab_elem_at(w, buf, len, &t, &d, &len, &(size_t){0});
	if (rc == 0 && t == IO_EEGLAB_MI_MATRIX)
		rc = io_eeglab_matrix(w, d, len, 0);
	free(buf);
	return rc;
}

int
io_eeglab_check(const char *path, const uint8_t *file, size_t size, char **cause)
{
	struct io_eeglab_walk w = {.path = path, .cause = cause};
	size_t at = 128, span;
	uint16_t version;

	/* EEGLAB writes MATLAB v6/v7 (the v5 container) or v7.3; the older v4 files that
	 * libmatio also reads have no 128-byte header and are not datasets. */
	if (size < 128 || (memcmp(file + 126, "IM", 2) != 0 && memcmp(file + 126, "MI", 2) != 0))
		return error_set(cause, -EINVAL,
				 "%s: not a MATLAB file (EEGLAB .set): no 128-byte MATLAB v5/v7 "
				 "header",
				 path);
	w.swap = memcmp(file + 126, "IM", 2) != 0;
	version = w.swap ? (uint16_t)(file[124] << 8 | file[125])
			 : (uint16_t)(file[125] << 8 | file[124]);
	if (version == 0x0200)
		return 0; /* v7.3 (HDF5) */
	if (version != 0x0100)
		return error_set(cause, -EINVAL,
				 "%s: not a MATLAB v5/v7/v7.3 file: header version 0x%04x", path,
				 version);
	while (at + 8 <= size) {
		if (io_eeglab_variable(&w, file + at, size - at, &span) != 0)
			return error_set(cause, -EINVAL,
					 "%s: damaged MATLAB file: the variable at byte %zu claims "
					 "more elements than the file holds",
					 path, at);
		at += span;
	}
	return 0;
}
