/* Samples of one channel out of a headerless binary file of little-endian values, channels
 * interleaved sample by sample (multiplexed) or one after the other (vectorized): the data files
 * of BrainVision (.eeg) and EEGLAB (.fdt). */
#ifndef ND_IO_REC_BINARY_H
#define ND_IO_REC_BINARY_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

enum io_rec_sample {
	IO_REC_INT16 = 0,
	IO_REC_INT32 = 1,
	IO_REC_FLOAT32 = 2,
};

struct io_rec_binary {
	int fd;
	const char *path; /* for messages; not owned */
	enum io_rec_sample type;
	size_t n_channels;
	size_t n_samples; /* per channel */
	bool multiplexed;
	off_t offset; /* of the first value */
};

/* Bytes of one value. */
size_t io_rec_binary_width(enum io_rec_sample t);
/* Samples [start, start + n) of channel `ch`, each value × scale[ch], into out. A short read
 * (the file shrank) fails with -EIO naming the file. The range must be within n_samples. */
int io_rec_binary_read(const struct io_rec_binary *b, size_t ch, size_t start, size_t n,
		       double scale, double *out, char **cause);
/* Check the file's size against n_channels × n_samples values: 0, or -EINVAL saying how many
 * bytes were expected and found (`what` names what promised the size, e.g. "DataPoints"). When
 * *n_samples is 0 it is set from the size, which must then be a whole number of samples. */
int io_rec_binary_size(struct io_rec_binary *b, const char *what, char **cause);

#endif
