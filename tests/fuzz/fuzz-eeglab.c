/* libFuzzer target for the EEGLAB reader (the size checks of io-eeglab-check.c, libmatio's parsing
 * of a MATLAB v5/v7 .set, then our checks of the EEG structure): an input is a .set and a .fdt
 * separated by FUZZ_REC_SEP. Any contents must open or fail with an explanation, never crash,
 * hang or leak; every channel must read back. Inputs with a v7.3 header are skipped: they go to
 * HDF5, whose parser is not ours to fuzz and keeps growing caches across runs. */
#include "fuzz-rec-files.h"
#include "worker/io/rec/io-rec.h"

#define FUZZ_EEGLAB_MAX_SAMPLES (1u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = {"s.set", "s.fdt"};
	struct io_rec *r = NULL;
	char *cause = NULL;

	if (size >= 128 && data[124] == 0 && data[125] == 2)
		return 0; /* v7.3: HDF5 */
	fuzz_rec_write(data, size, names, 2);
	if (io_rec_open(fuzz_rec_path("s.set"), "eeglab", &r, &cause) != 0) {
		if (cause == NULL || r != NULL)
			abort();
	} else {
		const struct io_rec_header *h = io_rec_header(r);

		for (size_t c = 0; c < h->n_channels; c++) {
			size_t n = h->channels[c].n_samples;
			double *x;
			char *why = NULL;

			if (n == 0 || n > FUZZ_EEGLAB_MAX_SAMPLES)
				continue;
			x = malloc(n * sizeof *x);
			if (io_rec_read_range(r, c, 0, n, x, &why) != 0 && why == NULL)
				abort();
			free(why);
			free(x);
		}
		io_rec_close(r);
	}
	free(cause);
	return 0;
}
