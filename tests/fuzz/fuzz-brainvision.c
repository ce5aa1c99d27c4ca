/* libFuzzer target for the BrainVision reader: an input is a .vhdr, a .vmrk and a .eeg separated
 * by FUZZ_REC_SEP. Any contents must open with a header or fail with an explanation, never crash,
 * hang or leak; every channel of a recording that opens must read back or explain why not. */
#include "fuzz-rec-files.h"
#include "worker/io/rec/io-rec.h"

/* Channels longer than this are not read back (allocation, not parsing, would be fuzzed). */
#define FUZZ_BV_MAX_SAMPLES (1u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = {"h.vhdr", "h.vmrk", "h.eeg"};
	struct io_rec *r = NULL;
	char *cause = NULL;

	fuzz_rec_write(data, size, names, 3);
	if (io_rec_open(fuzz_rec_path("h.vhdr"), "brainvision", &r, &cause) != 0) {
		if (cause == NULL || r != NULL)
			abort(); /* every refusal explains itself */
	} else {
		const struct io_rec_header *h = io_rec_header(r);

		for (size_t c = 0; c < h->n_channels; c++) {
			size_t n = h->channels[c].n_samples;
			double *x;
			char *why = NULL;

			if (n == 0 || n > FUZZ_BV_MAX_SAMPLES)
				continue;
			x = malloc(n * sizeof *x);
			if (io_rec_read_range(r, c, 0, n, x, &why) != 0 && why == NULL)
				abort();
			free(why);
			free(x);
		}
		for (size_t a = 0; a < h->n_annotations; a++)
			if (h->annotations[a].text == NULL || !(h->annotations[a].onset >= 0))
				abort();
		io_rec_close(r);
	}
	free(cause);
	return 0;
}
