/* Reading AnalogData from Syncopy `.spy` containers: the `.info` metadata, an optional SHA-1
 * check of the HDF5 file against it, the trial definition, and hyperslabs of `data` (a block of
 * trials × a range of channels) read without loading the whole file. Not thread-safe. */
#ifndef ND_IO_SPY_READ_H
#define ND_IO_SPY_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "worker/io/io-spy.h"

/* Skip the SHA-1 check of the HDF5 file against the .info `file_checksum`. */
#define IO_SPY_READ_NO_CHECKSUM 0x1u
/* Check it, but a mismatch is a warning (logged, io_spy_read_info's checksum_mismatch set), not
 * an error: the reference toolbox records a digest that its own files do not match. */
#define IO_SPY_READ_CHECKSUM_WARN 0x2u

struct io_spy_read;

/* What an opened container holds; owned by the reader, valid until io_spy_read_close. */
struct io_spy_read_info {
	const char *path;        /* the HDF5 data file */
	enum io_spy_dtype dtype; /* float32 or float64 on disk (reads convert to double) */
	uint64_t nsamples;       /* rows of `data` (trials concatenated along time) */
	uint64_t nchan;
	double samplerate;
	size_t ntrials;
	size_t trl_cols;            /* >= 3: start, stop, offset, extra… */
	const double *trl;          /* ntrials × trl_cols, row-major, in samples */
	const char *const *channel; /* nchan labels */
	int64_t data_offset;        /* .info data_offset, or -1 if null or absent */
	bool checksum_mismatch;     /* checked with IO_SPY_READ_CHECKSUM_WARN and found wrong */
};

/* Open `path`: the data file "x.spy/x.analog" or the container directory "x.spy" (then the file
 * "x.spy/x.analog" inside). Reads `path.info`, checks the checksum unless flags has
 * IO_SPY_READ_NO_CHECKSUM (mismatch: -EBADMSG naming the file, expected and actual digests; with
 * IO_SPY_READ_CHECKSUM_WARN a warning saying the same),
 * and reads the trial definition. Missing files, datasets or fields fail with a cause naming
 * them. On success the caller closes *r. */
int io_spy_read_open(struct io_spy_read **r, const char *path, unsigned flags, char **cause);

const struct io_spy_read_info *io_spy_read_info(const struct io_spy_read *r);

/* Total samples (sum of stop − start) of trials [trial0, trial0 + ntrials); 0 if out of range. */
uint64_t io_spy_read_trial_samples(const struct io_spy_read *r, size_t trial0, size_t ntrials);

/* Read trials [trial0, trial0 + ntrials) × channels [chan0, chan0 + nchan) as doubles, each
 * trial's (stop − start) × nchan block back to back (io_spy_read_trial_samples rows in all). */
int io_spy_read_trials(struct io_spy_read *r, size_t trial0, size_t ntrials, size_t chan0,
		       size_t nchan, double *buf, char **cause);

/* As io_spy_read_trials, as float32: the stored values of a float32 file, without converting
 * them twice (a float64 file is rounded). */
int io_spy_read_trials_f32(struct io_spy_read *r, size_t trial0, size_t ntrials, size_t chan0,
			   size_t nchan, float *buf, char **cause);

/* Close the file and free the reader. Accepts NULL. */
void io_spy_read_close(struct io_spy_read *r);

#endif
