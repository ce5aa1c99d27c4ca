/* libFuzzer target for the .npy header parser: any bytes must give 0 or -EINVAL with a cause,
 * never a crash, a hang or a leak; an accepted header must describe a sane shape. */
#include <stdint.h>
#include <stdlib.h>

#include "worker/io/io-npy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct io_npy_header h;
	char *cause = NULL;
	int rc = io_npy_header_parse(data, size, &h, &cause);

	if (rc == 0) {
		if (h.ndim < 0 || h.ndim > IO_NPY_MAXDIM)
			abort();
	} else if (cause == NULL) {
		abort(); /* every refusal explains itself */
	}
	free(cause);
	return 0;
}
