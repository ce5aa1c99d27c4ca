/* Syncopy `.spy` containers (AnalogData, SpectralData, CrossSpectralData, TimeLockData) that
 * the reference toolbox loads: the classes, element types and container metadata shared by the
 * writer (io-spy-writer.h), the reader (io-spy-read.h) and the .info metadata (io-spy-info.h).
 *
 * A container is a directory `name.spy/` holding `name.<class>` (HDF5: dataset `data`, dataset
 * `trialdefinition`, attributes) and `name.<class>.info` (JSON metadata with the SHA-1 of the
 * HDF5 file). */
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

/* The rank of a class's `data` (2 or 4) and its class name and extension without the dot. */
int io_spy_rank(enum io_spy_class dataclass);
const char *io_spy_class_name(enum io_spy_class dataclass);
const char *io_spy_class_ext(enum io_spy_class dataclass);
/* Bytes per element of a dtype (4, 8, 8) and its numpy name ("float32", …). */
size_t io_spy_dtype_size(enum io_spy_dtype dtype);
/* The axis of `data` holding frequencies: 2 (spectral), 1 (cross-spectral), -1 (none). */
int io_spy_freq_axis(enum io_spy_class dataclass);
const char *io_spy_dtype_name(enum io_spy_dtype dtype);

#endif
