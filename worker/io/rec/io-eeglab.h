/* EEGLAB datasets (.set, with a .fdt or embedded samples) read through libmatio; opened with
 * io_eeglab_open (io-rec.h). This header holds what the reader's files share. */
#ifndef ND_IO_EEGLAB_H
#define ND_IO_EEGLAB_H

#include <stddef.h>
#include <stdint.h>

/* Before libmatio reads a .set (`size` bytes at `file`): 0 when it has a MATLAB v5/v7/v7.3
 * header and every v5 array's claimed elements fit in the bytes that hold them, else -EINVAL
 * with a cause naming `path`. */
int io_eeglab_check(const char *path, const uint8_t *file, size_t size, char **cause);

#endif
