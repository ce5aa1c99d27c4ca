/* One reader interface over the recording formats (EDF/BDF, BrainVision, EEGLAB): open a file,
 * look at its channels (label, unit, rate, length) and annotations, read one channel's samples
 * as float64 volts without loading the others. The format is named or inferred from the path. */
#ifndef ND_IO_REC_H
#define ND_IO_REC_H

#include <stdbool.h>
#include <stddef.h>

#define IO_REC_LABEL 64

enum io_rec_format {
	IO_REC_EDF = 0,
	IO_REC_BDF = 1,
	IO_REC_BRAINVISION = 2,
	IO_REC_EEGLAB = 3,
};

struct io_rec_channel {
	char label[IO_REC_LABEL]; /* UTF-8 */
	char unit[16];            /* as written ("uV", "µV", "mV", "bpm", ...) */
	double rate;              /* samples per second */
	size_t n_samples;
	double volt_scale; /* value in `unit` × volt_scale = volts (1 when not a voltage) */
	bool is_voltage;   /* false: values are left in their own unit */
	char transducer[81], prefilter[81]; /* EDF only; empty elsewhere */
};

struct io_rec_annotation {
	double onset;    /* seconds from the first sample */
	double duration; /* seconds, < 0 when absent */
	char *text;      /* UTF-8; BrainVision markers read as "Type/Description" */
};

struct io_rec_header {
	char *path;
	enum io_rec_format format;
	size_t n_channels;
	struct io_rec_channel *channels;
	double duration; /* seconds */
	/* Start of the recording; year 0 when the file does not say. */
	int start_year, start_month, start_day, start_hour, start_minute, start_second;
	char patient_name[81], equipment[81];
	/* EDF+ subfields, kept when the output is EDF+/BDF+ (empty when the format has none). */
	char patient_code[81], gender[16], birthdate[16], patient_additional[81];
	char admincode[81], technician[81], recording_additional[81];
	size_t n_annotations;
	struct io_rec_annotation *annotations;
};

/* What a format's reader provides once its header is filled in. */
struct io_rec_ops {
	/* Samples [start, start + n) of one channel into buf, in volts (or the channel's own
	 * unit when it is not a voltage). The range is checked by the caller. */
	int (*read_range)(void *impl, const struct io_rec_header *h, size_t channel, size_t start,
			  size_t n, double *buf, char **cause);
	void (*close)(void *impl);
};

/* An open recording. */
struct io_rec;

/* The format named `name` ("edf", "bdf", "brainvision", "eeglab"): 0, or -EINVAL. */
int io_rec_format_parse(const char *name, enum io_rec_format *out);
const char *io_rec_format_name(enum io_rec_format f);
/* The format a path's extension names (.edf, .bdf, .vhdr, .set; any case), or NULL. */
const char *io_rec_format_from_path(const char *path);
/* The known format names, for messages. */
#define IO_REC_FORMATS "edf, bdf, brainvision, eeglab"

/* io-rec-open.c: open `path` as `format` (NULL: from its extension). On success *out is owned by the caller
 * (io_rec_close). Errors name the file, and for text headers the field and the line: -ENOENT,
 * -EACCES, -EINVAL (malformed, truncated or inconsistent), -ENOTSUP, -EBUSY (EDFlib: already
 * open in this process), -ENOMEM. */
int io_rec_open(const char *path, const char *format, struct io_rec **out, char **cause);
/* Close; accepts NULL. */
void io_rec_close(struct io_rec *r);
/* The header; owned by the recording, valid until io_rec_close. */
const struct io_rec_header *io_rec_header(const struct io_rec *r);
/* Index of the channel labelled `label` (exact, spaces trimmed), or -ENOENT. */
int io_rec_channel_find(const struct io_rec_header *h, const char *label);
/* Read all samples of a channel; *out (n doubles, xmalloc) is owned by the caller. */
int io_rec_read_channel(struct io_rec *r, size_t channel, double **out, size_t *n, char **cause);
/* Read samples [start, start + n) of a channel into buf (caller-owned). */
int io_rec_read_range(struct io_rec *r, size_t channel, size_t start, size_t n, double *buf,
		      char **cause);

/* For the readers: a new recording with an empty header of `format` for `path`, and the
 * hand-over of its implementation. io_rec_header_fini frees what a header holds. */
struct io_rec *io_rec_new(const char *path, enum io_rec_format format);
struct io_rec_header *io_rec_header_mut(struct io_rec *r);
void io_rec_set_impl(struct io_rec *r, const struct io_rec_ops *ops, void *impl);
void io_rec_header_fini(struct io_rec_header *h);
/* The volts-per-unit factor of a unit and whether it is a voltage (io_edf_volt_scale). */
void io_rec_channel_unit(struct io_rec_channel *c, const char *unit);

/* The readers (one file each). Each fills a new recording or fails with a cause. */
int io_rec_edf_open(const char *path, struct io_rec **out, char **cause);
int io_brainvision_open(const char *path, struct io_rec **out, char **cause);
int io_eeglab_open(const char *path, struct io_rec **out, char **cause);

#endif
