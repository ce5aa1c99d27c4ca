/* Writing .spy containers. Writing is streaming-friendly: io_spy_create makes the file with the
 * full shape, then hyperslabs (a block of trials × a block of channels) are written in any
 * order.
 *
 * HDF5 files must not be written by several processes at once. Parallel tasks therefore each
 * write a part file (io_spy_part_create, same write calls, global coordinates), and one final
 * task stitches the parts into the container in order (io-spy-stitch.h) and closes it, which
 * writes the .info; or one task creates the container and closes it unsealed
 * (io_spy_close_unsealed), the tasks write their bytes of the contiguous `data` with plain file
 * writes, and the final task seals it (io_spy_seal). None of these functions is thread-safe (the
 * HDF5 library is serial). */
#ifndef ND_IO_SPY_WRITER_H
#define ND_IO_SPY_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include "worker/io/io-spy.h"

struct io_spy_file;

/* Make the directory `container` (adding ".spy" if missing; an existing one is kept) and set
 * *path to the data file inside, "dir/name.spy/name.<ext>", to write it in place (fixtures,
 * tools). On success the caller frees *path. */
int io_spy_container_prepare(const char *container, enum io_spy_class dataclass, char **path,
			     char **cause);

/* A container that appears whole or not at all: written in a hidden temporary directory beside
 * it (dir/.name.spy.tmpPID, paths_hidden_temp; the scheduler removes it when a job ends), then
 * renamed into place. */
struct io_spy_container {
	char *dir;    /* dir/name.spy */
	char *tmpdir; /* the hidden directory it is written in */
	char *path;   /* dir/name.spy/name.<ext>: the data file once published */
	char *tmp;    /* tmpdir/name.<ext>: the data file while it is written (its .info beside) */
};
/* Name the container `container` (".spy" added if missing) of class `dataclass`, written in
 * tmpdir (NULL: this process's hidden temporary name, as another task may have made it), and
 * make that directory (an existing one is kept). The final directory is not touched. On
 * failure c is left cleared. */
int io_spy_container_begin(struct io_spy_container *c, const char *container,
			   enum io_spy_class dataclass, const char *tmpdir, char **cause);
/* When rc is 0, rename the temporary directory to c->dir, flushed (an existing container is
 * replaced as a whole: whether it may be is decided when the job is submitted); else remove it
 * with its files. Returns rc or the step's -errno (paths_publish_tree). c stays owned by the
 * caller. */
int io_spy_container_publish(struct io_spy_container *c, int rc, char **cause);
/* Free c's names. */
void io_spy_container_fini(struct io_spy_container *c);

/* Create (truncate) the HDF5 data file `path` of a container: `data` of the full shape
 * (contiguous, allocated, zero-filled), `trialdefinition` and the attributes. */
int io_spy_create(struct io_spy_file **f, const char *path, const struct io_spy_meta *meta,
		  char **cause);

/* Create a part file holding the hyperslab [start, start + count) of the container `meta`
 * describes. Writes to it use container coordinates and must stay inside the hyperslab. */
int io_spy_part_create(struct io_spy_file **f, const char *path, const struct io_spy_meta *meta,
		       const uint64_t *start, const uint64_t *count, char **cause);

/* The hyperslab covering trials [trial0, trial0 + ntrials) and channels [chan0, chan0 + nchan):
 * rows from the smallest start to the largest stop (spectral and cross-spectral data without a
 * trial definition: entries trial0.. of axis 0); cross-spectral slabs hold every channel pair
 * (chan0 and nchan are ignored). */
int io_spy_trials_slab(const struct io_spy_meta *meta, size_t trial0, size_t ntrials, size_t chan0,
		       size_t nchan, uint64_t *start, uint64_t *count, char **cause);

/* Write the hyperslab [start, start + count) (container coordinates) from `buf`, C order, in the
 * file's dtype (float, double, or float pairs re, im). No ownership is transferred. */
int io_spy_write_slab(struct io_spy_file *f, const uint64_t *start, const uint64_t *count,
		      const void *buf, char **cause);

/* Write trials [trial0, trial0 + ntrials) × channels [chan0, chan0 + nchan) from `buf`: for
 * analog data the trials' (stop − start) × nchan blocks back to back; for spectral data the
 * trials' (stop − start) × tapers × freqs × nchan blocks back to back. */
int io_spy_write_trials(struct io_spy_file *f, size_t trial0, size_t ntrials, size_t chan0,
			size_t nchan, const void *buf, char **cause);

/* The resolved metadata of an open file (default labels filled in); owned by `f`. */
const struct io_spy_meta *io_spy_file_meta(const struct io_spy_file *f);

/* Close the file. For a container this finalizes it: records the data and trialdefinition
 * offsets, closes the HDF5 file, hashes it (SHA-1) and writes `path.info`. `f` is freed in all
 * cases; on failure the .info is not written. */
int io_spy_close(struct io_spy_file *f, char **cause);

/* Close a container created by io_spy_create without finalizing it, for writers that fill
 * `data` afterwards with plain file writes: *offset is the byte offset of `data` in the file
 * (contiguous, allocated at creation, C order, little-endian float32 or complex64 as float
 * pairs). `f` is freed in all cases. */
int io_spy_close_unsealed(struct io_spy_file *f, int64_t *offset, char **cause);
/* Finalize such a container once its data is written: hash the file `path` (SHA-1) and write
 * `path.info` from meta and the data offset. */
int io_spy_seal(const char *path, const struct io_spy_meta *meta, int64_t offset, char **cause);

/* Close without finalizing (error paths). Accepts NULL. */
void io_spy_discard(struct io_spy_file *f);

/* Add a float32 dataset `name` (rank <= IO_SPY_MAX_RANK, C order) to a container before it is
 * closed, listed in the .info's `_hdfFileDatasetProperties` after `data` (TimeLockData's avg,
 * var, cov). No ownership is transferred. */
int io_spy_add_dataset(struct io_spy_file *f, const char *name, int rank, const uint64_t *shape,
		       const float *data, char **cause);

/* Convenience: create the container file `path`, write the whole `data` and close it. */
int io_spy_write(const char *path, const struct io_spy_meta *meta, const void *data, char **cause);

#endif
