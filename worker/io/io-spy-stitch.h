/* Stitching part files (written by parallel tasks with io_spy_part_create) into a container. */
#ifndef ND_IO_SPY_STITCH_H
#define ND_IO_SPY_STITCH_H

#include <stddef.h>

#include "worker/io/io-spy-writer.h"

/* Copy each part file's hyperslab into the open container `f`, in the order given (a later part
 * wins where parts overlap), in blocks of at most IO_SPY_STITCH_BYTES (one row of axis 0 at
 * least). Parts must match f's dtype, rank and full shape. Part files are left in place. */
int io_spy_stitch_parts(struct io_spy_file *f, const char *const *parts, size_t nparts,
			char **cause);

#define IO_SPY_STITCH_BYTES (16u << 20)

#endif
