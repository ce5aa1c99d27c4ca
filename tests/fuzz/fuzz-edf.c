/* libFuzzer target for the EDF/BDF reader: any file contents must open with a header or fail
 * with an explanation, never crash, hang or leak; every channel of a file that opens must read
 * back (the direct record reads included) or fail with an explanation. The bytes go to a memfd,
 * as EDFlib reads by path. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "worker/io/io-edf.h"

/* Channels longer than this are not read back (allocation, not parsing, would be fuzzed). */
#define FUZZ_EDF_MAX_SAMPLES (1u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct io_edf_file *f = NULL;
	char path[64], *cause = NULL;
	int fd = memfd_create("fuzz-edf", MFD_CLOEXEC), rc;

	if (fd < 0)
		return 0;
	if (size > 0 && write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	rc = io_edf_open(path, &f, &cause);
	if (rc != 0) {
		if (cause == NULL || f != NULL)
			abort(); /* every refusal explains itself */
	} else {
		const struct io_edf_header *h = io_edf_header(f);

		for (size_t c = 0; c < h->n_channels; c++) {
			size_t n = h->channels[c].n_samples;
			double *x;
			char *why = NULL;

			if (n == 0 || n > FUZZ_EDF_MAX_SAMPLES)
				continue;
			x = malloc(n * sizeof *x);
			if (io_edf_read_range(f, c, 0, n, x, &why) != 0 && why == NULL)
				abort();
			free(why);
			free(x);
		}
		io_edf_close(f);
	}
	free(cause);
	close(fd);
	return 0;
}
