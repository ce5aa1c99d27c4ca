/* EDF, EDF+, BDF and BDF+ files through EDFlib: the header as a plain struct, one channel read in
 * volts without loading the others, and a streaming EDF+/BDF+ writer that keeps every annotation.
 * EDFlib keeps global state: every open and close here goes through one process-wide lock. */
#ifndef ND_IO_EDF_H
#define ND_IO_EDF_H

#include <stdbool.h>
#include <stddef.h>

#include "worker/io/io-edf-header.h"

/* An open file for reading. */
struct io_edf_file;

/* Open `path` and read its header and all its annotations. On success *out is a new file the
 * caller closes with io_edf_close. Errors: -ENOENT/-EACCES (cannot open), -EINVAL (not an EDF/BDF,
 * truncated or malformed), -ENOTSUP (EDF+D discontinuous), -EIO, -EMFILE, -ENOMEM. */
int io_edf_open(const char *path, struct io_edf_file **out, char **cause);
/* Close a file; accepts NULL. */
void io_edf_close(struct io_edf_file *f);
/* The header of an open file; owned by the file, valid until io_edf_close. */
const struct io_edf_header *io_edf_header(const struct io_edf_file *f);
/* Index of the channel labelled `label` (exact after trimming spaces), or -ENOENT. */
int io_edf_channel_find(const struct io_edf_header *h, const char *label);
/* Read all samples of one channel, converted to volts when its dimension is a voltage (see
 * io_edf_channel.is_voltage). On success *out (n_samples doubles, from xmalloc) is owned by the
 * caller. Reads in chunks: other channels are never loaded. */
int io_edf_read_channel(struct io_edf_file *f, size_t channel, double **out, size_t *n,
			char **cause);
/* Read samples [start, start + n) of one channel into buf (caller-owned, n doubles), in volts. */
int io_edf_read_range(struct io_edf_file *f, size_t channel, size_t start, size_t n, double *buf,
		      char **cause);

/* The factor from a physical dimension to volts ("uV" → 1e-6, "mV" → 1e-3, "V" → 1, also µV,
 * nV); 0 when the dimension is not a voltage. */
double io_edf_volt_scale(const char *dimension);
/* A sentence for an EDFlib error code (EDFLIB_*), and the matching -errno. */
const char *io_edf_strerror(int edflib_code);
int io_edf_errno(int edflib_code);
/* EDFlib's global tables are not thread-safe: hold this lock around its open/close calls.
 * For io-edf-writer.c. */
void io_edf_lock(void);
void io_edf_unlock(void);

/* ---- Writer (io-edf-writer.c; io_edf_write in io-edf-write.c) ---- */

struct io_edf_writer_channel {
	const char *label;     /* at most 16 characters */
	double rate;           /* Hz; need not be an integer */
	size_t n_samples;      /* samples of this channel; the last record is zero-padded */
	const char *dimension; /* NULL: "uV" */
	/* Physical range in volts (or in the channel's own unit when `dimension` is not a
	 * voltage). phys_min == phys_max: computed from the data (io_edf_write only). */
	double phys_min, phys_max;
	const char *transducer, *prefilter; /* optional */
	const double *data; /* optional: n_samples values, volts; remains owned by the caller */
};

struct io_edf_writer_spec {
	enum io_edf_type type; /* IO_EDF_TYPE_EDFPLUS (16-bit) or IO_EDF_TYPE_BDFPLUS (24-bit) */
	size_t n_channels;
	const struct io_edf_writer_channel *channels;
	size_t n_annotations;
	const struct io_edf_annotation *annotations; /* remain owned by the caller */
	double record_duration; /* seconds; 0: chosen so every channel has whole samples */
	int start_year, start_month, start_day; /* 0: 1985-01-01 (anonymous) */
	int start_hour, start_minute, start_second;
	/* Optional EDF+ subfields; birthdate "dd-MMM-yyyy" (or EDFlib's "dd mmm yyyy"), gender
	 * "Male"/"Female" (or M/F). */
	const char *patient_code, *gender, *birthdate, *patient_name, *patient_additional;
	const char *admincode, *technician, *equipment, *recording_additional;
};

struct io_edf_writer;

/* Fill out[0..n) with samples [start, start + n) of `channel`, in volts. Returns 0 or -errno. */
typedef int (*io_edf_source_cb)(void *arg, size_t channel, size_t start, size_t n, double *out,
				char **cause);

/* Create `path` (overwritten) for streaming. Every channel needs its physical range. The spec and
 * its annotations are copied. On success *out is owned by the caller (io_edf_writer_close). */
int io_edf_writer_open(const char *path, const struct io_edf_writer_spec *spec,
		       struct io_edf_writer **out, char **cause);
/* Number of data records, record duration (s) and one channel's samples per record. */
size_t io_edf_writer_n_records(const struct io_edf_writer *w);
double io_edf_writer_record_duration(const struct io_edf_writer *w);
size_t io_edf_writer_record_samples(const struct io_edf_writer *w, size_t channel);
/* Write the next data record: rec[c] holds io_edf_writer_record_samples(w, c) values of channel
 * c, in volts. Values outside the physical range are clipped (counted, logged at close). */
int io_edf_writer_write_record(struct io_edf_writer *w, const double *const *rec, char **cause);
/* Finalise: write the annotations, close, and read the file back to check that every annotation
 * was kept. Frees w (also on error); accepts NULL. Fails with -EIO if records are missing. */
int io_edf_writer_close(struct io_edf_writer *w, char **cause);

/* Write a whole file record by record from `cb` (or, when cb is NULL, from channels[i].data),
 * holding only one record per channel in memory. Ranges left equal are computed from the data
 * (an extra pass) with a 5 % margin. */
int io_edf_write(const char *path, const struct io_edf_writer_spec *spec, io_edf_source_cb cb,
		 void *arg, char **cause);

#endif
