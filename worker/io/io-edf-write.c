/* Writing a whole recording in one call through the streaming writer (io-edf-writer.c): the
 * samples come from a callback or from arrays, one record per channel in memory; ranges left open
 * are computed from the data, and samples EDF cannot store (NaN, infinity) are refused. */
#include "worker/io/io-edf.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/xmalloc.h"

#define IO_EDF_WRITE_CHUNK 65536 /* samples per read of the range pass */

static int
io_edf_write_array_cb(void *arg, size_t channel, size_t start, size_t n, double *out, char **cause)
{
	const struct io_edf_writer_spec *spec = arg;

	if (spec->channels[channel].data == NULL)
		return error_set(cause, -EINVAL, "channel %s has neither data nor a source",
				 spec->channels[channel].label);
	memcpy(out, spec->channels[channel].data + start, n * sizeof *out);
	return 0;
}

/* EDF stores integers: a NaN or an infinity has no encoding (it would clip, or with a computed
 * range make the whole channel flat). */
static int
io_edf_write_finite(const char *path, const char *label, size_t start, const double *x, size_t n,
		     char **cause)
{
	for (size_t i = 0; i < n; i++)
		if (!isfinite(x[i]))
			return error_set(cause, -EINVAL,
					 "%s: channel %s: sample %zu is %g, not a finite number; "
					 "EDF cannot store it",
					 path, label, start + i, x[i]);
	return 0;
}

/* One pass over a channel for its min/max; the range gets a 5 % margin. */
static int
io_edf_write_autorange(const char *path, struct io_edf_writer_channel *ch, size_t c,
			io_edf_source_cb cb, void *arg, char **cause)
{
	double *buf = xmalloc(IO_EDF_WRITE_CHUNK * sizeof *buf);
	double lo = INFINITY, hi = -INFINITY, margin;
	int rc = 0;

	for (size_t s = 0; s < ch->n_samples && rc == 0; s += IO_EDF_WRITE_CHUNK) {
		size_t n = ch->n_samples - s < IO_EDF_WRITE_CHUNK ? ch->n_samples - s
								   : IO_EDF_WRITE_CHUNK;

		rc = cb(arg, c, s, n, buf, cause);
		if (rc == 0)
			rc = io_edf_write_finite(path, ch->label, s, buf, n, cause);
		for (size_t i = 0; rc == 0 && i < n; i++) {
			lo = buf[i] < lo ? buf[i] : lo;
			hi = buf[i] > hi ? buf[i] : hi;
		}
	}
	free(buf);
	if (rc != 0)
		return rc;
	if (!(lo <= hi)) {
		lo = 0;
		hi = 0;
	}
	margin = 0.05 * (hi - lo);
	if (margin == 0) {
		double scale = io_edf_volt_scale(ch->dimension != NULL ? ch->dimension : "uV");

		margin = scale != 0 ? scale : 1.0;
	}
	ch->phys_min = lo - margin;
	ch->phys_max = hi + margin;
	return 0;
}

int
io_edf_write(const char *path, const struct io_edf_writer_spec *spec, io_edf_source_cb cb,
	     void *arg, char **cause)
{
	struct io_edf_writer_spec local = *spec;
	struct io_edf_writer_channel *chans;
	struct io_edf_writer *w = NULL;
	double **rec;
	int rc = 0;

	if (cb == NULL) {
		cb = io_edf_write_array_cb;
		arg = (void *)spec;
	}
	chans = xcalloc(spec->n_channels > 0 ? spec->n_channels : 1, sizeof chans[0]);
	memcpy(chans, spec->channels, spec->n_channels * sizeof chans[0]);
	local.channels = chans;
	for (size_t c = 0; c < spec->n_channels && rc == 0; c++)
		if (chans[c].phys_min == chans[c].phys_max)
			rc = io_edf_write_autorange(path, &chans[c], c, cb, arg, cause);
	if (rc == 0)
		rc = io_edf_writer_open(path, &local, &w, cause);
	if (rc != 0) {
		free(chans);
		return rc;
	}
	rec = xcalloc(spec->n_channels, sizeof rec[0]);
	for (size_t c = 0; c < spec->n_channels; c++)
		rec[c] = xmalloc(io_edf_writer_record_samples(w, c) * sizeof rec[c][0]);
	for (size_t r = 0; r < io_edf_writer_n_records(w) && rc == 0; r++) {
		for (size_t c = 0; c < spec->n_channels && rc == 0; c++) {
			size_t spr = io_edf_writer_record_samples(w, c), start = r * spr, valid = 0;

			if (start < chans[c].n_samples)
				valid = chans[c].n_samples - start < spr
					    ? chans[c].n_samples - start
					    : spr;
			if (valid > 0)
				rc = cb(arg, c, start, valid, rec[c], cause);
			if (rc == 0)
				rc = io_edf_write_finite(path, chans[c].label, start, rec[c],
							  valid, cause);
			/* Pad the last record with the last sample (or 0): no clipping. */
			for (size_t i = valid; i < spr; i++)
				rec[c][i] = valid > 0 ? rec[c][valid - 1] : 0.0;
		}
		if (rc == 0)
			rc = io_edf_writer_write_record(w, (const double *const *)rec, cause);
	}
	for (size_t c = 0; c < spec->n_channels; c++)
		free(rec[c]);
	free(rec);
	free(chans);
	if (rc != 0) {
		io_edf_writer_close(w, NULL);
		return rc;
	}
	return io_edf_writer_close(w, cause);
}
