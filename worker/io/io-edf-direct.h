/* Direct sample reads for io-edf: EDFlib opens and validates a file, then a channel's samples are
 * read straight from its data records with pread. EDFlib itself reads one byte at a time through
 * stdio (a locked fgetc per byte), which made reading a channel several times slower than the
 * processing that follows; the layout and the digital-to-physical scaling here are the ones
 * EDFlib validated and uses, so the values are the same. */
#ifndef ND_IO_EDF_DIRECT_H
#define ND_IO_EDF_DIRECT_H

#include <stddef.h>

#include "worker/io/io-edf-header.h"

struct io_edf_direct;

/* Map the data records of `path`, whose header EDFlib parsed into h. Returns NULL when the raw
 * header does not match h (the caller then reads through EDFlib). */
struct io_edf_direct *io_edf_direct_open(const char *path, const struct io_edf_header *h);
/* Samples [start, start + n) of channel `channel` in physical units (not volts) into buf.
 * 0, or -errno (-EIO with the file truncated under us). */
int io_edf_direct_read(const struct io_edf_direct *d, size_t channel, size_t start, size_t n,
		       double *buf);
/* Accepts NULL. */
void io_edf_direct_close(struct io_edf_direct *d);
/* A fixed-width ASCII integer field of a raw EDF header (len <= 31 characters). */
long long io_edf_raw_field(const char *raw, size_t len);

#endif
