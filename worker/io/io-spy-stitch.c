/* The final step of a parallel .spy write: copy the hyperslab of each task's part file into the
 * container, in order and in bounded blocks, after checking it belongs to this container. */
#include "worker/io/io-spy-stitch.h"

#include <errno.h>
#include <hdf5.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/xmalloc.h"
#include "worker/io/io-spy-h5.h"

struct io_spy_stitch_part {
	const char *path;
	hid_t file;
	hid_t data;
	int rank;
	uint64_t start[IO_SPY_MAX_RANK];
	hsize_t dims[IO_SPY_MAX_RANK];
};

/* Open a part and check it against the container's metadata. */
static int
io_spy_stitch_open(struct io_spy_stitch_part *p, const struct io_spy_meta *m, char **cause)
{
	uint64_t full[IO_SPY_MAX_RANK];
	enum io_spy_dtype dtype;
	hid_t space;
	int rc;

	io_spy_h5_quiet();
	p->rank = io_spy_rank(m->dataclass);
	p->file = H5Fopen(p->path, H5F_ACC_RDONLY, H5P_DEFAULT);
	if (p->file < 0)
		return error_set(cause, -EIO, "cannot open part file %s", p->path);
	p->data = H5Dopen2(p->file, "data", H5P_DEFAULT);
	if (p->data < 0)
		return error_set(cause, -ENOENT, "part file %s has no dataset 'data'", p->path);
	rc = io_spy_h5_dtype_of(p->data, p->path, &dtype, cause);
	if (rc == 0 && dtype != m->dtype)
		rc = error_set(cause, -EINVAL, "part file %s holds %s, the container %s", p->path,
			       io_spy_dtype_name(dtype), io_spy_dtype_name(m->dtype));
	if (rc == 0)
		rc = io_spy_h5_attr_read_u64s(p->data, p->path, "part_start", p->start,
					      (size_t)p->rank, cause);
	if (rc == 0)
		rc = io_spy_h5_attr_read_u64s(p->data, p->path, "part_full_shape", full,
					      (size_t)p->rank, cause);
	if (rc == 0 && memcmp(full, m->shape, (size_t)p->rank * sizeof(uint64_t)) != 0)
		rc = error_set(cause, -EINVAL,
			       "part file %s belongs to a container of another "
			       "shape",
			       p->path);
	if (rc != 0)
		return rc;
	space = H5Dget_space(p->data);
	if (H5Sget_simple_extent_ndims(space) != p->rank)
		rc = error_set(cause, -EINVAL, "part file %s: 'data' has rank %d, expected %d",
			       p->path, H5Sget_simple_extent_ndims(space), p->rank);
	else
		H5Sget_simple_extent_dims(space, p->dims, NULL);
	H5Sclose(space);
	return rc;
}

/* Read rows [r, r + n) of the part's `data` into buf (memory type of the dtype). */
static int
io_spy_stitch_read(struct io_spy_stitch_part *p, enum io_spy_dtype dtype, hsize_t r, hsize_t n,
		   void *buf, char **cause)
{
	hsize_t off[IO_SPY_MAX_RANK] = {0}, cnt[IO_SPY_MAX_RANK];
	hid_t fspace = H5Dget_space(p->data), mspace, mtype = io_spy_h5_mem_type(dtype);
	herr_t err;

	memcpy(cnt, p->dims, sizeof(cnt));
	off[0] = r;
	cnt[0] = n;
	H5Sselect_hyperslab(fspace, H5S_SELECT_SET, off, NULL, cnt, NULL);
	mspace = H5Screate_simple(p->rank, cnt, NULL);
	err = H5Dread(p->data, mtype, mspace, fspace, H5P_DEFAULT, buf);
	H5Sclose(mspace);
	H5Sclose(fspace);
	H5Tclose(mtype);
	if (err < 0)
		return error_set(cause, -EIO, "part file %s: cannot read 'data'", p->path);
	return 0;
}

static int
io_spy_stitch_one(struct io_spy_file *f, const char *path, char **cause)
{
	const struct io_spy_meta *m = io_spy_file_meta(f);
	struct io_spy_stitch_part p = {.path = path, .file = -1, .data = -1};
	uint64_t start[IO_SPY_MAX_RANK], count[IO_SPY_MAX_RANK];
	size_t row = io_spy_dtype_size(m->dtype), rows = 0;
	void *buf = NULL;
	int rc;

	rc = io_spy_stitch_open(&p, m, cause);
	if (rc == 0) {
		for (int i = 1; i < p.rank; i++)
			row *= (size_t)p.dims[i];
		rows = IO_SPY_STITCH_BYTES / row > 0 ? IO_SPY_STITCH_BYTES / row : 1;
		if (rows > p.dims[0])
			rows = (size_t)p.dims[0];
		buf = xmalloc(row * (rows > 0 ? rows : 1));
		memcpy(start, p.start, sizeof(start));
		for (int i = 0; i < p.rank; i++)
			count[i] = p.dims[i];
	}
	for (hsize_t r = 0; rc == 0 && r < p.dims[0]; r += rows) {
		count[0] = p.dims[0] - r < rows ? p.dims[0] - r : rows;
		start[0] = p.start[0] + r;
		rc = io_spy_stitch_read(&p, m->dtype, r, count[0], buf, cause);
		if (rc == 0)
			rc = io_spy_write_slab(f, start, count, buf, cause);
	}
	free(buf);
	if (p.data >= 0)
		H5Dclose(p.data);
	if (p.file >= 0)
		H5Fclose(p.file);
	return rc;
}

int
io_spy_stitch_parts(struct io_spy_file *f, const char *const *parts, size_t nparts, char **cause)
{
	int rc = 0;

	for (size_t i = 0; i < nparts && rc == 0; i++)
		rc = io_spy_stitch_one(f, parts[i], cause);
	return rc;
}
