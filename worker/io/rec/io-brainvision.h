/* BrainVision Core Data Format: the .vhdr header and .vmrk marker files (INI-like text), the
 * .eeg binary (INT_16, INT_32 or IEEE_FLOAT_32, MULTIPLEXED or VECTORIZED); reading through the
 * recording-reader interface (io_brainvision_open in io-rec.h) and writing. */
#ifndef ND_IO_BRAINVISION_H
#define ND_IO_BRAINVISION_H

#include <stdbool.h>
#include <stddef.h>

#include "worker/io/rec/io-rec-binary.h"
#include "worker/io/rec/io-rec.h"

/* ---- Text files (io-brainvision-ini.c) ---- */

struct io_brainvision_entry {
	const char *section; /* without brackets; "" before the first section */
	char *key, *value;   /* trimmed; value with the file's codepage turned into UTF-8 */
	int line;            /* 1-based */
};

struct io_brainvision_ini {
	char *path;
	char *first_line;
	size_t n;
	struct io_brainvision_entry *e;
	char **sections; /* owned names the entries point to */
	size_t n_sections;
};

/* Read a .vhdr or .vmrk: the first line must name a BrainVision `kind` ("Header" or "Marker")
 * file; then [Section] lines, Key=Value lines, ';' comments and blank lines. A repeated key in
 * one section, a line that is none of these, or a file over 64 MiB is refused with its line. */
int io_brainvision_ini_load(const char *path, const char *kind, struct io_brainvision_ini *ini,
			    char **cause);
void io_brainvision_ini_fini(struct io_brainvision_ini *ini);
/* The entry of `key` in `section` (both case-insensitive), or NULL. */
const struct io_brainvision_entry *io_brainvision_ini_get(const struct io_brainvision_ini *ini,
							  const char *section, const char *key);
/* A field split at commas into at most `max` parts (in place; "\1" becomes ','). The count. */
size_t io_brainvision_ini_split(char *value, char **parts, size_t max);

/* ---- Markers (io-brainvision-markers.c) ---- */

/* Read the [Marker Infos] of a .vmrk as annotations "Type/Description" at (position − 1)/fs
 * with duration size/fs, into h (appended), and the date of the first New Segment marker into
 * h's start fields. Positions past n_samples or below 1 are refused with their line. */
int io_brainvision_markers_read(const char *path, double fs, size_t n_samples,
				struct io_rec_header *h, char **cause);

/* ---- Writer (io-brainvision-write.c) ---- */

struct io_brainvision_writer_channel {
	const char *label;
	const char *unit;   /* NULL: "µV"; the values given are in volts for a voltage unit */
	const double *data; /* optional: the samples; remain owned by the caller */
};

struct io_brainvision_spec {
	size_t n_channels;
	const struct io_brainvision_writer_channel *channels;
	double rate; /* every channel has this rate and n_samples samples */
	size_t n_samples;
	enum io_rec_sample type; /* IO_REC_INT16 (per-channel resolution from the data's range)
				  * or IO_REC_FLOAT32 */
	bool vectorized;         /* false: MULTIPLEXED */
	size_t n_annotations;
	const struct io_rec_annotation *annotations; /* remain owned by the caller */
	int start_year, start_month, start_day, start_hour, start_minute,
	    start_second; /* 0: none */
};

/* Fill out[0..n) with samples [start, start + n) of `channel` (volts). 0 or -errno. */
typedef int (*io_brainvision_source_cb)(void *arg, size_t channel, size_t start, size_t n,
					double *out, char **cause);

/* Write `path` (the .vhdr; the .eeg and .vmrk get the same stem beside it, all overwritten)
 * from cb (or, when cb is NULL, from channels[i].data), a bounded block at a time. Annotations
 * named "Type/Description" become markers of that type; others become "Comment" markers. */
int io_brainvision_write(const char *path, const struct io_brainvision_spec *spec,
			 io_brainvision_source_cb cb, void *arg, char **cause);

#endif
