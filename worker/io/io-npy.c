/* The .npy codec: a bounded parser for the Python-dict header of format versions 1-3, whole-file
 * read and write, and read-only mmap of the data. Every length read from a file is checked. */
#include "worker/io/io-npy.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/error.h"
#include "common/paths.h"
#include "common/xmalloc.h"

static const struct {
	const char *descr;
	size_t size;
} io_npy_dtypes[] = {
    [IO_NPY_F4] = {"<f4", 4},    [IO_NPY_F8] = {"<f8", 8}, [IO_NPY_C8] = {"<c8", 8},
    [IO_NPY_C16] = {"<c16", 16}, [IO_NPY_I4] = {"<i4", 4}, [IO_NPY_I8] = {"<i8", 8},
};
#define IO_NPY_NDTYPES (sizeof io_npy_dtypes / sizeof io_npy_dtypes[0])

/* A cursor over the header dict text [p, end). */
struct io_npy_lex {
	const char *p;
	const char *end;
};

size_t
io_npy_dtype_size(enum io_npy_dtype dtype)
{
	return (size_t)dtype < IO_NPY_NDTYPES ? io_npy_dtypes[dtype].size : 0;
}

static void
io_npy_lex_space(struct io_npy_lex *lx)
{
	while (lx->p < lx->end &&
	       (*lx->p == ' ' || *lx->p == '\t' || *lx->p == '\n' || *lx->p == '\r'))
		lx->p++;
}

static int
io_npy_lex_char(struct io_npy_lex *lx, char c)
{
	io_npy_lex_space(lx);
	if (lx->p < lx->end && *lx->p == c) {
		lx->p++;
		return 1;
	}
	return 0;
}

/* A quoted string without escapes, copied into out (at most outsz - 1 bytes). */
static int
io_npy_lex_string(struct io_npy_lex *lx, char *out, size_t outsz)
{
	char q;
	size_t n = 0;

	io_npy_lex_space(lx);
	if (lx->p >= lx->end || (*lx->p != '\'' && *lx->p != '"'))
		return -1;
	q = *lx->p++;
	while (lx->p < lx->end && *lx->p != q) {
		if (*lx->p == '\\' || n + 1 >= outsz)
			return -1;
		out[n++] = *lx->p++;
	}
	if (lx->p >= lx->end)
		return -1;
	lx->p++;
	out[n] = '\0';
	return 0;
}

static int
io_npy_lex_size(struct io_npy_lex *lx, size_t *v)
{
	size_t x = 0;
	int digits = 0;

	io_npy_lex_space(lx);
	while (lx->p < lx->end && *lx->p >= '0' && *lx->p <= '9') {
		size_t d = (size_t)(*lx->p - '0');
		if (x > (SIZE_MAX - d) / 10)
			return -1;
		x = x * 10 + d;
		lx->p++;
		digits++;
	}
	/* Python 2 era writers appended L to longs. */
	if (digits > 0 && lx->p < lx->end && *lx->p == 'L')
		lx->p++;
	*v = x;
	return digits > 0 ? 0 : -1;
}

static int
io_npy_parse_shape(struct io_npy_lex *lx, struct io_npy_header *h, char **cause)
{
	h->ndim = 0;
	if (!io_npy_lex_char(lx, '('))
		return error_set(cause, -EINVAL, "npy header: shape is not a tuple");
	if (io_npy_lex_char(lx, ')'))
		return 0;
	for (;;) {
		size_t v;
		if (h->ndim >= IO_NPY_MAXDIM)
			return error_set(cause, -EINVAL,
					 "npy header: shape has more than %d dimensions",
					 IO_NPY_MAXDIM);
		if (io_npy_lex_size(lx, &v) != 0)
			return error_set(cause, -EINVAL, "npy header: shape entry is not a size");
		h->shape[h->ndim++] = v;
		if (io_npy_lex_char(lx, ')'))
			return 0;
		if (!io_npy_lex_char(lx, ','))
			return error_set(cause, -EINVAL, "npy header: bad separator in shape");
		if (io_npy_lex_char(lx, ')'))
			return 0;
	}
}

static int
io_npy_parse_dict(struct io_npy_lex *lx, struct io_npy_header *h, char **cause)
{
	char key[32], descr[32];
	int have_descr = 0, have_order = 0, have_shape = 0, rc;

	if (!io_npy_lex_char(lx, '{'))
		return error_set(cause, -EINVAL, "npy header: not a dict");
	while (!io_npy_lex_char(lx, '}')) {
		if (io_npy_lex_string(lx, key, sizeof key) != 0 || !io_npy_lex_char(lx, ':'))
			return error_set(cause, -EINVAL, "npy header: bad dict key");
		if (strcmp(key, "descr") == 0 && !have_descr) {
			size_t i;
			if (io_npy_lex_string(lx, descr, sizeof descr) != 0)
				return error_set(cause, -EINVAL,
						 "npy header: descr is not a string");
			for (i = 0; i < IO_NPY_NDTYPES; i++)
				if (strcmp(descr, io_npy_dtypes[i].descr) == 0)
					break;
			if (i == IO_NPY_NDTYPES)
				return error_set(cause, -EINVAL,
						 "npy header: unsupported dtype '%s' "
						 "(supported: <f4 <f8 <c8 <c16 <i4 <i8)",
						 descr);
			h->dtype = (enum io_npy_dtype)i;
			have_descr = 1;
		} else if (strcmp(key, "fortran_order") == 0 && !have_order) {
			io_npy_lex_space(lx);
			if ((size_t)(lx->end - lx->p) >= 5 && memcmp(lx->p, "False", 5) == 0)
				lx->p += 5;
			else if ((size_t)(lx->end - lx->p) >= 4 && memcmp(lx->p, "True", 4) == 0)
				return error_set(cause, -EINVAL,
						 "npy header: fortran_order arrays are "
						 "not supported (save with C order)");
			else
				return error_set(cause, -EINVAL,
						 "npy header: fortran_order is not a bool");
			have_order = 1;
		} else if (strcmp(key, "shape") == 0 && !have_shape) {
			if ((rc = io_npy_parse_shape(lx, h, cause)) != 0)
				return rc;
			have_shape = 1;
		} else {
			return error_set(cause, -EINVAL,
					 "npy header: unexpected or repeated key '%s'", key);
		}
		if (!io_npy_lex_char(lx, ',')) {
			if (!io_npy_lex_char(lx, '}'))
				return error_set(cause, -EINVAL,
						 "npy header: bad separator in dict");
			break;
		}
	}
	if (!have_descr || !have_order || !have_shape)
		return error_set(cause, -EINVAL, "npy header: missing %s",
				 !have_descr   ? "descr"
				 : !have_order ? "fortran_order"
					       : "shape");
	io_npy_lex_space(lx);
	if (lx->p != lx->end)
		return error_set(cause, -EINVAL, "npy header: trailing bytes after the dict");
	return 0;
}

int
io_npy_header_parse(const void *buf, size_t len, struct io_npy_header *h, char **cause)
{
	const unsigned char *b = buf;
	size_t hlen, pre, bytes;
	struct io_npy_lex lx;
	int rc;

	memset(h, 0, sizeof *h);
	if (len < 10 || memcmp(b, "\x93NUMPY", 6) != 0)
		return error_set(cause, -EINVAL, "not an npy file (bad magic)");
	if (b[6] == 1) {
		hlen = (size_t)b[8] | (size_t)b[9] << 8;
		pre = 10;
	} else if (b[6] == 2 || b[6] == 3) {
		if (len < 12)
			return error_set(cause, -EINVAL, "npy file truncated in the preamble");
		hlen = (size_t)b[8] | (size_t)b[9] << 8 | (size_t)b[10] << 16 | (size_t)b[11] << 24;
		pre = 12;
	} else {
		return error_set(cause, -EINVAL, "unsupported npy format version %u.%u", b[6],
				 b[7]);
	}
	if (hlen > IO_NPY_MAX_HEADER)
		return error_set(cause, -EINVAL, "npy header length %zu exceeds the limit %u", hlen,
				 IO_NPY_MAX_HEADER);
	if (hlen > len - pre)
		return error_set(cause, -EINVAL, "npy header length %zu runs past the file", hlen);
	lx.p = (const char *)b + pre;
	lx.end = lx.p + hlen;
	if (memchr(lx.p, '\0', hlen) != NULL)
		return error_set(cause, -EINVAL, "npy header contains a NUL byte");
	if ((rc = io_npy_parse_dict(&lx, h, cause)) != 0)
		return rc;
	h->count = 1;
	for (int i = 0; i < h->ndim; i++) {
		if (h->shape[i] != 0 && h->count > SIZE_MAX / h->shape[i])
			return error_set(cause, -EINVAL, "npy shape overflows");
		h->count *= h->shape[i];
	}
	bytes = io_npy_dtype_size(h->dtype);
	if (h->count > (SIZE_MAX / 2) / bytes)
		return error_set(cause, -EINVAL, "npy shape overflows");
	h->data_offset = pre + hlen;
	return 0;
}

/* Read the whole file descriptor's header region (at most the preamble + the limit). */
static int
io_npy_load_header(int fd, const char *path, off_t fsize, struct io_npy_header *h, char **cause)
{
	size_t want =
	    (size_t)fsize < 12 + IO_NPY_MAX_HEADER ? (size_t)fsize : 12 + IO_NPY_MAX_HEADER;
	unsigned char *buf = xmalloc(want);
	ssize_t got = pread(fd, buf, want, 0);
	int rc;

	if (got < 0) {
		rc = -errno;
		free(buf);
		return error_set(cause, rc, "%s: %s", path, strerror(-rc));
	}
	rc = io_npy_header_parse(buf, (size_t)got, h, cause);
	free(buf);
	if (rc != 0)
		return error_wrap(cause, rc, "%s: ", path);
	if ((uint64_t)fsize - h->data_offset < (uint64_t)h->count * io_npy_dtype_size(h->dtype))
		return error_set(cause, -EINVAL, "%s: npy data truncated (%zu elements expected)",
				 path, h->count);
	return 0;
}

static int
io_npy_open(const char *path, off_t *fsize, char **cause)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc;

	if (fd < 0) {
		rc = -errno;
		return error_set(cause, rc, "%s: %s", path, strerror(-rc));
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return error_set(cause, -EINVAL, "%s: not a regular file", path);
	}
	*fsize = st.st_size;
	return fd;
}

int
io_npy_read(const char *path, struct io_npy_header *h, void **data, char **cause)
{
	off_t fsize;
	int fd, rc;
	size_t bytes, done = 0;
	unsigned char *p;

	*data = NULL;
	if ((fd = io_npy_open(path, &fsize, cause)) < 0)
		return fd;
	if ((rc = io_npy_load_header(fd, path, fsize, h, cause)) != 0) {
		close(fd);
		return rc;
	}
	bytes = h->count * io_npy_dtype_size(h->dtype);
	p = xmalloc(bytes);
	while (done < bytes) {
		ssize_t n = pread(fd, p + done, bytes - done, (off_t)(h->data_offset + done));
		if (n <= 0) {
			rc = n < 0 ? -errno : -EIO;
			if (rc == -EINTR)
				continue;
			free(p);
			close(fd);
			return error_set(cause, rc, "%s: short read", path);
		}
		done += (size_t)n;
	}
	close(fd);
	*data = p;
	return 0;
}

int
io_npy_write(const char *path, enum io_npy_dtype dtype, int ndim, const size_t *shape,
	     const void *data, char **cause)
{
	char dict[64 + 24 * IO_NPY_MAXDIM], *hdr;
	size_t n, count = 1, pre, total, bytes;
	FILE *f;
	int rc = 0;

	if ((size_t)dtype >= IO_NPY_NDTYPES)
		return error_set(cause, -EINVAL, "npy write: bad dtype");
	if (ndim < 0 || ndim > IO_NPY_MAXDIM)
		return error_set(cause, -EINVAL, "npy write: ndim %d out of range", ndim);
	n = (size_t)snprintf(dict, sizeof dict,
			     "{'descr': '%s', 'fortran_order': False, 'shape': (",
			     io_npy_dtypes[dtype].descr);
	for (int i = 0; i < ndim; i++) {
		n += (size_t)snprintf(dict + n, sizeof dict - n, "%zu,%s", shape[i],
				      i + 1 < ndim ? " " : "");
		count *= shape[i];
	}
	n += (size_t)snprintf(dict + n, sizeof dict - n, "), }");
	/* Pad with spaces so the data starts on a 64-byte boundary; the header ends in '\n'. */
	pre = n + 1 + 10 <= 65535 ? 10 : 12;
	total = (pre + n + 1 + 63) / 64 * 64;
	hdr = xmalloc(total);
	memcpy(hdr, "\x93NUMPY", 6);
	hdr[6] = pre == 10 ? 1 : 2;
	hdr[7] = 0;
	for (size_t i = 0; i < pre - 8; i++)
		hdr[8 + i] = (char)(((total - pre) >> (8 * i)) & 0xff);
	memcpy(hdr + pre, dict, n);
	memset(hdr + pre + n, ' ', total - pre - n - 1);
	hdr[total - 1] = '\n';
	bytes = count * io_npy_dtypes[dtype].size;
	if ((f = fopen(path, "wb")) == NULL) {
		rc = -errno;
		free(hdr);
		return error_set(cause, rc, "%s: %s", path, strerror(-rc));
	}
	if (fwrite(hdr, 1, total, f) == total && bytes)
		fwrite(data, 1, bytes, f);
	free(hdr);
	return paths_close_stream(f, path, cause);
}

int
io_npy_map_open(const char *path, struct io_npy_map *m, char **cause)
{
	off_t fsize;
	int fd, rc;
	void *base;

	memset(m, 0, sizeof *m);
	if ((fd = io_npy_open(path, &fsize, cause)) < 0)
		return fd;
	if ((rc = io_npy_load_header(fd, path, fsize, &m->h, cause)) != 0) {
		close(fd);
		return rc;
	}
	base = mmap(NULL, (size_t)fsize, PROT_READ, MAP_SHARED, fd, 0);
	rc = base == MAP_FAILED ? -errno : 0;
	close(fd);
	if (rc != 0)
		return error_set(cause, rc, "%s: mmap: %s", path, strerror(-rc));
	m->base = base;
	m->maplen = (size_t)fsize;
	m->data = (const unsigned char *)base + m->h.data_offset;
	return 0;
}

void
io_npy_map_close(struct io_npy_map *m)
{
	if (m == NULL || m->base == NULL)
		return;
	munmap(m->base, m->maplen);
	m->base = NULL;
	m->data = NULL;
}
