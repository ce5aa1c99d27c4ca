/* Writing Syncopy `.spy` containers (AnalogData, SpectralData, CrossSpectralData, TimeLockData)
 * that the reference toolbox loads.
 *
 * A container is a directory `name.spy/` holding `name.<class>` (HDF5: dataset `data`, dataset
 * `trialdefinition`, attributes) and `name.<class>.info` (JSON metadata with the SHA-1 of the
 * HDF5 file). Writing is streaming-friendly: io_spy_create makes the file with the full shape,
 * then hyperslabs (a block of trials × a block of channels) are written in any order.
 *
 * HDF5 files must not be written by several processes at once. Parallel tasks therefore each
 * write a part file (io_spy_part_create, same write calls, global coordinates), and one final
 * task stitches the parts into the container in order (io-spy-stitch.h) and closes it, which
 * writes the .info. None of these functions is thread-safe (the HDF5 library is serial). */
#ifndef ND_IO_SPY_H
#define ND_IO_SPY_H

#include <stddef.h>
#include <stdint.h>

/* Version string written to `_version` (the Syncopy release whose layout this matches). */
#define IO_SPY_VERSION "2023.07"

#define IO_SPY_MAX_RANK 4

enum io_spy_class {
	IO_SPY_ANALOG = 0,   /* AnalogData, `.analog`, dimord (time, channel), rank 2 */
	IO_SPY_SPECTRAL = 1, /* SpectralData, `.spectral`, dimord (time, taper, freq, channel) */
	/* CrossSpectralData, `.crossspectral`, dimord (time, freq, channel_i, channel_j), rank 4 */
	IO_SPY_CROSSSPECTRAL = 2,
	/* TimeLockData, `.timelock`, dimord (time, channel), rank 2, with datasets avg, var, cov */
	IO_SPY_TIMELOCK = 3,
};

enum io_spy_dtype {
	IO_SPY_FLOAT32 = 0,
	IO_SPY_FLOAT64 = 1,
	IO_SPY_COMPLEX64 = 2, /* compound {r, i} of float32, as h5py writes numpy complex64 */
};

/* What a container holds. All pointers remain owned by the caller; create copies what it keeps. */
struct io_spy_meta {
	enum io_spy_class dataclass;
	enum io_spy_dtype dtype; /* analog, timelock: float32/float64; spectral, cross: f32/c64 */
	/* analog, timelock: {samples, channels}; spectral: {trials | 1, tapers | 1, freqs,
	 * channels}; cross: {rows (trials, lags) | 1, freqs, channels_i, channels_j} */
	uint64_t shape[IO_SPY_MAX_RANK];
	double samplerate;
	/* Trial definition, row-major ntrials × trl_cols (>= 3): start, stop, offset, extra…
	 * in samples; for spectral data the rows of axis 0 (times) of each trial. Spectral data may
	 * pass NULL: rows [i, i + 1, 0] for each entry of axis 0. */
	const double *trl;
	size_t ntrials;
	size_t trl_cols;
	const char *const *channel; /* channel labels (cross: channel_i), or NULL for "channel1", … */
	const char *const *channel_j; /* cross only: labels of the last axis, or NULL */
	const double *freq; /* spectral: shape[2], cross: shape[1] frequencies in Hz (required) */
	const char *const *taper;   /* spectral only: shape[1] labels, or NULL for "taper1", … */
	const char *log;            /* `_log` text, or NULL for "" */
	const char *cfg_json;       /* `cfg` as a JSON object text, or NULL for {} */
	const char *info_json;      /* `info` as a JSON object text, or NULL for {} */
};

struct io_spy_file;

/* The rank of a class's `data` (2 or 4) and its class name and extension without the dot. */
int io_spy_rank(enum io_spy_class dataclass);
const char *io_spy_class_name(enum io_spy_class dataclass);
const char *io_spy_class_ext(enum io_spy_class dataclass);
/* Bytes per element of a dtype (4, 8, 8) and its numpy name ("float32", …). */
size_t io_spy_dtype_size(enum io_spy_dtype dtype);
/* The axis of `data` holding frequencies: 2 (spectral), 1 (cross-spectral), -1 (none). */
int io_spy_freq_axis(enum io_spy_class dataclass);
const char *io_spy_dtype_name(enum io_spy_dtype dtype);

/* Make the directory `container` (adding ".spy" if missing; an existing one is kept) and set
 * *path to the data file inside, "dir/name.spy/name.<ext>". On success the caller frees *path. */
int io_spy_container_prepare(const char *container, enum io_spy_class dataclass, char **path,
			     char **cause);

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
