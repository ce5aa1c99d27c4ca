/* The JSON side of .spy containers: the SHA-1 of the HDF5 file and the `.info` metadata. */
#ifndef ND_IO_SPY_INFO_H
#define ND_IO_SPY_INFO_H

#include <stdint.h>

#include "worker/io/io-spy.h"

/* The checksum algorithm name Syncopy records (hashlib's sha1 constructor name). */
#define IO_SPY_INFO_CHECKSUM_ALGORITHM "openssl_sha1"

/* Hash the whole file at `path` with SHA-1 (OpenSSL EVP) into 40 lowercase hex digits + NUL. */
int io_spy_info_sha1(const char *path, char hex[41], char **cause);

/* The dimension labels of a class, NULL-terminated. */
const char *const *io_spy_info_dimord(enum io_spy_class dataclass);

/* Write `h5path` + ".info" (atomically, through a temporary file and rename). `meta` must be
 * resolved: trl, channel (cross: and channel_j) and (spectral) taper and freq set.
 * `data_offset` < 0 writes null. `sha1` is the hex digest of the closed HDF5 file; `extra` names
 * the datasets besides `data` (may be NULL when nextra is 0). */
int io_spy_info_write(const char *h5path, const struct io_spy_meta *meta, int64_t data_offset,
		      const char *sha1, const char *const *extra, size_t nextra, char **cause);

#endif
