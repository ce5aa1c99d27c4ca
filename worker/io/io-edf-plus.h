/* The EDF+ header subfields and exact annotation times the writer keeps (io-edf-plus.c). */
#ifndef ND_IO_EDF_PLUS_H
#define ND_IO_EDF_PLUS_H

#include <stddef.h>

#include "worker/io/io-edf.h"

/* Set the spec's patient and recording subfields on EDFlib handle h: NULL, or the EDFlib call
 * that refused its value. */
const char *io_edf_plus_fields(int h, const struct io_edf_writer_spec *spec);
/* After EDFlib closed `path`: write the onsets and durations of the annotations a[0..n) (in the
 * order they were given to EDFlib, onsets ascending) to the microsecond in their TALs. Blocks
 * without room keep EDFlib's 100 µs (a warning says how many). 0 or -errno with a cause. */
int io_edf_plus_exact_onsets(const char *path, const struct io_edf_annotation *a, size_t n,
			     char **cause);

#endif
