/* Test helper: wrap a (samples × channels) .npy array as an AnalogData .spy container, with the
 * trial definition from a .npy (rows start, stop, offset, ...) or N equal trials.
 * Usage: spy-from-npy DATA.npy SAMPLERATE OUT.spy (TRL.npy | NTRIALS) */
#include <stdio.h>
#include <stdlib.h>

#include "worker/io/io-npy.h"
#include "worker/io/io-spy-writer.h"

int
main(int argc, char **argv)
{
	struct io_npy_header h, th;
	void *data = NULL, *trl = NULL;
	double *rows;
	char *cause = NULL, *path = NULL, *end;
	size_t ntrials, cols = 3;
	long n;
	int rc;

	if (argc != 5) {
		fprintf(stderr, "usage: spy-from-npy DATA.npy SAMPLERATE OUT.spy (TRL.npy | N)\n");
		return 2;
	}
	if ((rc = io_npy_read(argv[1], &h, &data, &cause)) != 0 || h.ndim != 2 ||
	    (h.dtype != IO_NPY_F4 && h.dtype != IO_NPY_F8)) {
		fprintf(stderr, "%s: %s\n", argv[1], cause != NULL ? cause : "not 2-D float");
		return 1;
	}
	n = strtol(argv[4], &end, 10);
	if (*end == '\0' && n > 0) {
		ntrials = (size_t)n;
		rows = calloc(ntrials * 3, sizeof *rows);
		for (size_t t = 0; t < ntrials; t++) {
			rows[t * 3] = (double)(t * (h.shape[0] / ntrials));
			rows[t * 3 + 1] = (double)((t + 1) * (h.shape[0] / ntrials));
		}
	} else {
		if ((rc = io_npy_read(argv[4], &th, &trl, &cause)) != 0 || th.ndim != 2 ||
		    th.dtype != IO_NPY_F8 || th.shape[1] < 3) {
			fprintf(stderr, "%s: %s\n", argv[4],
				cause != NULL ? cause : "not (n, >= 3)");
			return 1;
		}
		ntrials = th.shape[0];
		cols = th.shape[1];
		rows = trl;
	}
	struct io_spy_meta meta = {
	    .dataclass = IO_SPY_ANALOG,
	    .dtype = h.dtype == IO_NPY_F4 ? IO_SPY_FLOAT32 : IO_SPY_FLOAT64,
	    .shape = {h.shape[0], h.shape[1]},
	    .samplerate = strtod(argv[2], NULL),
	    .trl = rows,
	    .ntrials = ntrials,
	    .trl_cols = cols,
	    .log = "spy-from-npy",
	};
	rc = io_spy_container_prepare(argv[3], IO_SPY_ANALOG, &path, &cause);
	if (rc == 0)
		rc = io_spy_write(path, &meta, data, &cause);
	if (rc != 0)
		fprintf(stderr, "%s: %s\n", argv[3], cause);
	free(path);
	free(cause);
	free(data);
	if (rows != trl)
		free(rows);
	free(trl);
	return rc == 0 ? 0 : 1;
}
