/* Writes the .spy containers that check-spy-h5py.py inspects with h5py: AnalogData float32
 * stitched from part files, AnalogData float64 from the AR(2) generator, SpectralData float32
 * and complex64. Values follow formulas the script recomputes. Usage: make-spy-fixtures DIR */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "worker/io/io-spy-stitch.h"
#include "worker/io/io-spy-writer.h"
#include "worker/synth/synth-trials.h"

static const struct synth_trials_gen test_ar2 = {
    .kind = SYNTH_TRIALS_AR2_NETWORK, .alpha1 = 0.55, .alpha2 = -0.8};

static int
make_spy_fixtures_fail(const char *what, char *cause)
{
	fprintf(stderr, "make-spy-fixtures: %s: %s\n", what, cause != NULL ? cause : "failed");
	free(cause);
	return 1;
}

/* AnalogData float32, 4 trials of unequal length with an extra trialinfo column, 5 channels
 * with labels, written as 2 × 2 part files and stitched. data[s][c] = s / 1000 + c. */
static int
make_spy_fixtures_analog_parts(const char *dir)
{
	static const double trl[] = {0,   100, -20, 7, 100, 250, 0, 8,
				     250, 300, -10, 7, 300, 420, 5, 9};
	static const char *const chan[] = {"Fz", "Cz", "Pz", "O1", "O2"};
	struct io_spy_meta m = {
	    .dataclass = IO_SPY_ANALOG,
	    .dtype = IO_SPY_FLOAT32,
	    .shape = {420, 5},
	    .samplerate = 1000,
	    .trl = trl,
	    .ntrials = 4,
	    .trl_cols = 4,
	    .channel = chan,
	    .log = "make-spy-fixtures: stitched from 4 parts",
	    .cfg_json = "{\"method\": \"test\"}",
	};
	char *path, *parts[4], *cause = NULL, container[4096];
	struct io_spy_file *f;
	float *buf = malloc(420 * 5 * sizeof(float));
	size_t k = 0;
	int rc = 0;

	snprintf(container, sizeof(container), "%s/analog_parts", dir);
	if (io_spy_container_prepare(container, IO_SPY_ANALOG, &path, &cause) != 0)
		return make_spy_fixtures_fail("prepare", cause);
	for (size_t t0 = 0; t0 < 4 && rc == 0; t0 += 2)
		for (size_t c0 = 0; c0 < 5 && rc == 0; c0 += 3, k++) {
			size_t nc = c0 == 0 ? 3 : 2;
			uint64_t start[4], count[4];
			float *p = buf;

			if (asprintf(&parts[k], "%s/part-%zu.h5", dir, k) < 0)
				return 1;
			rc = io_spy_trials_slab(&m, t0, 2, c0, nc, start, count, &cause);
			if (rc == 0)
				rc = io_spy_part_create(&f, parts[k], &m, start, count, &cause);
			for (size_t t = t0; rc == 0 && t < t0 + 2; t++)
				for (size_t s = (size_t)trl[t * 4]; s < (size_t)trl[t * 4 + 1]; s++)
					for (size_t c = c0; c < c0 + nc; c++)
						*p++ = (float)((double)s / 1000 + (double)c);
			if (rc == 0)
				rc = io_spy_write_trials(f, t0, 2, c0, nc, buf, &cause);
			if (rc == 0)
				rc = io_spy_close(f, &cause);
		}
	if (rc == 0)
		rc = io_spy_create(&f, path, &m, &cause);
	if (rc == 0 && (rc = io_spy_stitch_parts(f, (const char *const *)parts, 4, &cause)) != 0)
		io_spy_discard(f);
	if (rc == 0)
		rc = io_spy_close(f, &cause);
	for (size_t i = 0; i < k; i++) {
		remove(parts[i]);
		free(parts[i]);
	}
	free(buf);
	free(path);
	return rc != 0 ? make_spy_fixtures_fail("analog_parts", cause) : 0;
}

static int
make_spy_fixtures_analog_ar2(const char *dir)
{
	struct synth_trials_shape shape = {3, 200, 2, 200, 11};
	struct synth_trials *t;
	char container[4096], *cause = NULL;
	int rc;

	snprintf(container, sizeof(container), "%s/ar2.spy", dir);
	rc = synth_trials_generate(&t, &test_ar2, &shape, &cause);
	if (rc == 0)
		rc = synth_trials_write_spy(t, container, IO_SPY_FLOAT64, "ar2_network", &cause);
	synth_trials_free(t);
	return rc != 0 ? make_spy_fixtures_fail("ar2", cause) : 0;
}

/* SpectralData (ntrials, ntapers, 6 freqs, 3 channels); value at flat index i: i / 2 for
 * float32, (i / 2, −i) for complex64. */
static int
make_spy_fixtures_spectral(const char *dir, const char *name, enum io_spy_dtype dtype,
			   uint64_t ntrials, uint64_t ntapers)
{
	static const double freq[] = {0, 2.5, 5, 7.5, 10, 12.5};
	static const char *const tapers[] = {"dpss1", "dpss2"};
	struct io_spy_meta m = {
	    .dataclass = IO_SPY_SPECTRAL,
	    .dtype = dtype,
	    .shape = {ntrials, ntapers, 6, 3},
	    .samplerate = 250,
	    .freq = freq,
	    .taper = ntapers == 2 ? tapers : NULL,
	};
	size_t n = (size_t)(ntrials * ntapers * 6 * 3);
	float *buf = malloc(2 * n * sizeof(float));
	char container[4096], *path = NULL, *cause = NULL;
	int rc;

	for (size_t i = 0; i < n; i++) {
		if (dtype == IO_SPY_COMPLEX64) {
			buf[2 * i] = (float)i / 2;
			buf[2 * i + 1] = -(float)i;
		} else
			buf[i] = (float)i / 2;
	}
	snprintf(container, sizeof(container), "%s/%s", dir, name);
	rc = io_spy_container_prepare(container, IO_SPY_SPECTRAL, &path, &cause);
	if (rc == 0)
		rc = io_spy_write(path, &m, buf, &cause);
	free(buf);
	free(path);
	return rc != 0 ? make_spy_fixtures_fail(name, cause) : 0;
}

int
main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: make-spy-fixtures DIR\n");
		return 2;
	}
	if (mkdir(argv[1], 0777) != 0 && errno != EEXIST) {
		perror(argv[1]);
		return 1;
	}
	if (make_spy_fixtures_analog_parts(argv[1]) != 0 ||
	    make_spy_fixtures_analog_ar2(argv[1]) != 0 ||
	    make_spy_fixtures_spectral(argv[1], "spec_pow", IO_SPY_FLOAT32, 1, 1) != 0 ||
	    make_spy_fixtures_spectral(argv[1], "spec_fourier", IO_SPY_COMPLEX64, 4, 2) != 0)
		return 1;
	return 0;
}
