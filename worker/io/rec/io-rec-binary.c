/* Strided and contiguous reads of one channel from an interleaved or channel-major binary file
 * of little-endian int16, int32 or float32 values, in bounded chunks. */
#include "worker/io/rec/io-rec-binary.h"

#include <endian.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/error.h"
#include "common/xmalloc.h"

#define IO_REC_BINARY_CHUNK (1u << 20) /* bytes read at a time */

size_t
io_rec_binary_width(enum io_rec_sample t)
{
	return t == IO_REC_INT16 ? 2 : 4;
}

static double
io_rec_binary_value(const unsigned char *p, enum io_rec_sample t)
{
	uint16_t u16;
	uint32_t u32;
	float f;

	switch (t) {
	case IO_REC_INT16:
		memcpy(&u16, p, 2);
		return (double)(int16_t)le16toh(u16);
	case IO_REC_INT32:
		memcpy(&u32, p, 4);
		return (double)(int32_t)le32toh(u32);
	default:
		memcpy(&u32, p, 4);
		u32 = le32toh(u32);
		memcpy(&f, &u32, 4);
		return (double)f;
	}
}

static int
io_rec_binary_pread(const struct io_rec_binary *b, void *buf, size_t len, off_t at, char **cause)
{
	size_t done = 0;

	while (done < len) {
		ssize_t k = pread(b->fd, (char *)buf + done, len - done, at + (off_t)done);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return error_set(cause, -errno, "%s: read error: %s", b->path,
					 strerror(errno));
		if (k == 0)
			return error_set(cause, -EIO,
					 "%s: truncated: ends at byte %lld, inside the data",
					 b->path, (long long)(at + (off_t)done));
		done += (size_t)k;
	}
	return 0;
}

int
io_rec_binary_read(const struct io_rec_binary *b, size_t ch, size_t start, size_t n, double scale,
		   double *out, char **cause)
{
	size_t w = io_rec_binary_width(b->type);
	size_t frame = b->multiplexed ? w * b->n_channels : w; /* bytes from one sample to next */
	size_t per = IO_REC_BINARY_CHUNK / frame > 0 ? IO_REC_BINARY_CHUNK / frame : 1;
	unsigned char *buf = xmalloc(per * frame);
	int rc = 0;

	for (size_t done = 0; done < n && rc == 0;) {
		size_t k = n - done < per ? n - done : per;
		size_t s = start + done;
		off_t at = b->multiplexed ? b->offset + (off_t)(s * frame)
					  : b->offset + (off_t)((ch * b->n_samples + s) * w);
		size_t skip = b->multiplexed ? ch * w : 0;

		rc = io_rec_binary_pread(b, buf, (k - 1) * frame + skip + w, at, cause);
		for (size_t i = 0; rc == 0 && i < k; i++)
			out[done + i] =
			    io_rec_binary_value(buf + i * frame + skip, b->type) * scale;
		done += k;
	}
	free(buf);
	return rc;
}

int
io_rec_binary_size(struct io_rec_binary *b, const char *what, char **cause)
{
	size_t w = io_rec_binary_width(b->type), frame = w * b->n_channels;
	struct stat st;
	unsigned long long have, want;

	if (fstat(b->fd, &st) != 0)
		return error_set(cause, -errno, "%s: %s", b->path, strerror(errno));
	have = st.st_size > b->offset ? (unsigned long long)(st.st_size - b->offset) : 0;
	if (b->n_samples == 0) {
		if (have % frame != 0)
			return error_set(cause, -EINVAL,
					 "%s: %llu bytes of data is not a whole number of samples "
					 "(%zu channels × %zu bytes): truncated or wrong "
					 "NumberOfChannels/BinaryFormat",
					 b->path, have, b->n_channels, w);
		b->n_samples = (size_t)(have / frame);
		return 0;
	}
	if (b->n_samples > (unsigned long long)-1 / frame)
		return error_set(cause, -EINVAL, "%s: %s: %zu samples is too many", b->path, what,
				 b->n_samples);
	want = (unsigned long long)b->n_samples * frame;
	if (have != want)
		return error_set(cause, -EINVAL,
				 "%s: %s %s %zu samples of %zu channels (%llu bytes) but the file "
				 "has %llu bytes of data%s",
				 b->path, what, "promises", b->n_samples, b->n_channels, want, have,
				 have < want ? ": truncated" : "");
	return 0;
}
