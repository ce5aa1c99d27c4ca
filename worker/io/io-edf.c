/* Reading EDF/EDF+/BDF/BDF+ files through EDFlib: the header and annotations into plain structs,
 * one channel at a time in volts, and EDFlib's error codes turned into -errno with a sentence. */
#include "worker/io/io-edf.h"

#include <edflib.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "common/error.h"
#include "common/xmalloc.h"
#include "worker/io/io-edf-direct.h"

#define IO_EDF_CHUNK 65536

struct io_edf_file {
	int handle;
	struct io_edf_header hdr;
	struct io_edf_direct *direct; /* NULL: samples are read through EDFlib */
};

static pthread_mutex_t io_edf_mutex = PTHREAD_MUTEX_INITIALIZER;

void
io_edf_lock(void)
{
	pthread_mutex_lock(&io_edf_mutex);
}

void
io_edf_unlock(void)
{
	pthread_mutex_unlock(&io_edf_mutex);
}

static const struct {
	int code;
	int err;
	const char *text;
} io_edf_errors[] = {
    {EDFLIB_MALLOC_ERROR, -ENOMEM, "EDFlib ran out of memory"},
    {EDFLIB_NO_SUCH_FILE_OR_DIRECTORY, -ENOENT, "the file cannot be opened"},
    {EDFLIB_FILE_CONTAINS_FORMAT_ERRORS, -EINVAL,
     "the file is not a valid EDF/BDF file (malformed header, wrong size or bad annotations)"},
    {EDFLIB_MAXFILES_REACHED, -EMFILE, "too many EDF files are open at once (EDFlib limit)"},
    {EDFLIB_FILE_READ_ERROR, -EIO, "a read error occurred (file too short or I/O error)"},
    {EDFLIB_FILE_ALREADY_OPENED, -EBUSY, "the file is already open in this process"},
    {EDFLIB_FILETYPE_ERROR, -EINVAL, "the file type is invalid (must be EDF+ or BDF+)"},
    {EDFLIB_FILE_WRITE_ERROR, -EIO, "a write error occurred"},
    {EDFLIB_NUMBER_OF_SIGNALS_INVALID, -EINVAL,
     "the number of signals is invalid (1 to 640 are allowed)"},
    {EDFLIB_FILE_IS_DISCONTINUOUS, -ENOTSUP,
     "the file is EDF+D/BDF+D (discontinuous), which is not supported"},
    {EDFLIB_INVALID_READ_ANNOTS_VALUE, -EINVAL, "invalid annotation-reading mode"},
    {EDFLIB_ARCH_ERROR, -ENOTSUP, "EDFlib does not support this architecture"},
    {EDFLIB_NO_SIGNALS, -EINVAL, "the file has no signals"},
    {EDFLIB_TOO_MANY_SIGNALS, -E2BIG, "the file has too many signals"},
    {EDFLIB_NO_SAMPLES_IN_RECORD, -EINVAL, "a signal has no samples in a data record"},
    {EDFLIB_DIGMIN_IS_DIGMAX, -EINVAL, "a signal's digital minimum equals its maximum"},
    {EDFLIB_DIGMAX_LOWER_THAN_DIGMIN, -EINVAL,
     "a signal's digital maximum is lower than its minimum"},
    {EDFLIB_PHYSMIN_IS_PHYSMAX, -EINVAL, "a signal's physical minimum equals its maximum"},
    {EDFLIB_DATARECORD_SIZE_TOO_BIG, -E2BIG,
     "a data record is too big (10 MB for EDF, 15 MB for BDF)"},
};

const char *
io_edf_strerror(int edflib_code)
{
	for (size_t i = 0; i < sizeof io_edf_errors / sizeof io_edf_errors[0]; i++)
		if (io_edf_errors[i].code == edflib_code)
			return io_edf_errors[i].text;
	return "unknown EDFlib error";
}

int
io_edf_errno(int edflib_code)
{
	for (size_t i = 0; i < sizeof io_edf_errors / sizeof io_edf_errors[0]; i++)
		if (io_edf_errors[i].code == edflib_code)
			return io_edf_errors[i].err;
	return -EIO;
}

static const struct {
	const char *unit;
	double scale;
} io_edf_units[] = {
    {"uV", 1e-6}, {"\xc2\xb5V", 1e-6}, {"\xce\xbcV", 1e-6}, {"microV", 1e-6},
    {"mV", 1e-3}, {"V", 1.0},          {"nV", 1e-9},        {"kV", 1e3},
};

double
io_edf_volt_scale(const char *dimension)
{
	char unit[16];
	size_t n;

	while (*dimension == ' ')
		dimension++;
	n = strlen(dimension);
	while (n > 0 && dimension[n - 1] == ' ')
		n--;
	if (n == 0 || n >= sizeof unit)
		return 0;
	memcpy(unit, dimension, n);
	unit[n] = '\0';
	for (size_t i = 0; i < sizeof io_edf_units / sizeof io_edf_units[0]; i++)
		if (strcmp(unit, io_edf_units[i].unit) == 0)
			return io_edf_units[i].scale;
	/* Upper-case spellings seen in the wild ("UV", "MV" meaning millivolt). */
	if (strcasecmp(unit, "uv") == 0)
		return 1e-6;
	if (strcasecmp(unit, "mv") == 0)
		return 1e-3;
	return 0;
}

static void
io_edf_trim(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && s[n - 1] == ' ')
		s[--n] = '\0';
}

/* EDFlib says "format errors" for many problems: look at the raw header to say which. */
static int
io_edf_diagnose(const char *path, int code, char **cause)
{
	char raw[256], *sig = NULL;
	struct stat st;
	FILE *fp;
	size_t got;
	long long hdr_bytes, n_records, ns, rec_bytes = 0, expect;
	int bdf, rc;

	fp = fopen(path, "rb");
	if (fp == NULL || fstat(fileno(fp), &st) != 0) {
		rc = -errno;
		if (fp != NULL)
			fclose(fp);
		return error_set(cause, rc, "%s: cannot open: %s", path, strerror(-rc));
	}
	got = fread(raw, 1, sizeof raw, fp);
	if (got < sizeof raw) {
		fclose(fp);
		return error_set(
		    cause, -EINVAL,
		    "%s: not an EDF/BDF file: %zu bytes, shorter than the 256-byte header", path,
		    got);
	}
	bdf = (unsigned char)raw[0] == 0xff && memcmp(raw + 1, "BIOSEMI", 7) == 0;
	/* The file's own bytes are not quoted: the scheduler reads any path a job names, and its
	 * errors must not show what other files hold. */
	if (!bdf && memcmp(raw, "0       ", 8) != 0) {
		fclose(fp);
		return error_set(cause, -EINVAL,
				 "%s: not an EDF/BDF file: its first 8 bytes (the version field) are "
				 "not \"0\" for EDF or 0xFF \"BIOSEMI\" for BDF",
				 path);
	}
	hdr_bytes = io_edf_raw_field(raw + 184, 8);
	n_records = io_edf_raw_field(raw + 236, 8);
	ns = io_edf_raw_field(raw + 252, 4);
	if (ns < 1 || ns > EDFLIB_MAXSIGNALS || hdr_bytes != 256 * (ns + 1)) {
		fclose(fp);
		return error_set(cause, -EINVAL,
				 "%s: corrupt EDF header: %lld signals, header size %lld bytes "
				 "(expected 256 × (signals + 1))",
				 path, ns, hdr_bytes);
	}
	sig = xmalloc((size_t)ns * 256);
	if (fread(sig, 1, (size_t)ns * 256, fp) != (size_t)ns * 256) {
		fclose(fp);
		free(sig);
		return error_set(cause, -EINVAL,
				 "%s: truncated EDF: the file ends inside the %lld-byte header",
				 path, hdr_bytes);
	}
	fclose(fp);
	for (long long i = 0; i < ns; i++)
		rec_bytes += io_edf_raw_field(sig + ns * 216 + i * 8, 8) * (bdf ? 3 : 2);
	free(sig);
	expect = hdr_bytes + n_records * rec_bytes;
	if (n_records > 0 && rec_bytes > 0 && (long long)st.st_size < expect)
		return error_set(
		    cause, -EINVAL,
		    "%s: truncated EDF: the header promises %lld data records of %lld "
		    "bytes (%lld bytes) but the file has %lld bytes (%lld whole records)",
		    path, n_records, rec_bytes, expect, (long long)st.st_size,
		    ((long long)st.st_size - hdr_bytes) / rec_bytes);
	if (n_records > 0 && rec_bytes > 0 && (long long)st.st_size > expect)
		return error_set(
		    cause, -EINVAL,
		    "%s: corrupt EDF: %lld bytes after the %lld data records the header "
		    "announces",
		    path, (long long)st.st_size - expect, n_records);
	return error_set(cause, io_edf_errno(code), "%s: %s", path, io_edf_strerror(code));
}

static void
io_edf_header_fill(struct io_edf_header *h, const char *path, const struct edf_hdr_struct *e)
{
	h->path = xstrdup(path);
	h->type = (enum io_edf_type)e->filetype;
	h->n_channels = (size_t)e->edfsignals;
	h->channels = xcalloc(h->n_channels, sizeof h->channels[0]);
	h->record_duration = (double)e->datarecord_duration / EDFLIB_TIME_DIMENSION;
	h->n_records = e->datarecords_in_file;
	h->duration = (double)e->file_duration / EDFLIB_TIME_DIMENSION;
	h->start_year = e->startdate_year;
	h->start_month = e->startdate_month;
	h->start_day = e->startdate_day;
	h->start_hour = e->starttime_hour;
	h->start_minute = e->starttime_minute;
	h->start_second = e->starttime_second;
	h->start_subsecond = (double)e->starttime_subsecond / EDFLIB_TIME_DIMENSION;
#define IO_EDF_COPY(dst, src)                                                                      \
	do {                                                                                       \
		snprintf(h->dst, sizeof h->dst, "%s", e->src);                                     \
		io_edf_trim(h->dst);                                                               \
	} while (0)
	IO_EDF_COPY(patient, patient);
	IO_EDF_COPY(recording, recording);
	IO_EDF_COPY(patient_code, patientcode);
	IO_EDF_COPY(gender, gender);
	IO_EDF_COPY(birthdate, birthdate);
	IO_EDF_COPY(patient_name, patient_name);
	IO_EDF_COPY(patient_additional, patient_additional);
	IO_EDF_COPY(admincode, admincode);
	IO_EDF_COPY(technician, technician);
	IO_EDF_COPY(equipment, equipment);
	IO_EDF_COPY(recording_additional, recording_additional);
#undef IO_EDF_COPY
	for (size_t i = 0; i < h->n_channels; i++) {
		const struct edf_param_struct *s = &e->signalparam[i];
		struct io_edf_channel *c = &h->channels[i];
		double scale;

		snprintf(c->label, sizeof c->label, "%s", s->label);
		snprintf(c->dimension, sizeof c->dimension, "%s", s->physdimension);
		snprintf(c->transducer, sizeof c->transducer, "%s", s->transducer);
		snprintf(c->prefilter, sizeof c->prefilter, "%s", s->prefilter);
		io_edf_trim(c->label);
		io_edf_trim(c->dimension);
		io_edf_trim(c->transducer);
		io_edf_trim(c->prefilter);
		c->samples_per_record = s->smp_in_datarecord;
		c->rate = (double)s->smp_in_datarecord * EDFLIB_TIME_DIMENSION /
			  (double)e->datarecord_duration;
		c->n_samples = (size_t)s->smp_in_file;
		c->phys_min = s->phys_min;
		c->phys_max = s->phys_max;
		c->dig_min = s->dig_min;
		c->dig_max = s->dig_max;
		scale = io_edf_volt_scale(c->dimension);
		c->is_voltage = scale != 0;
		c->volt_scale = scale != 0 ? scale : 1.0;
	}
}

static int
io_edf_annotations_fill(struct io_edf_header *h, int handle, long long n, char **cause)
{
	struct edf_annotation_struct a;

	h->annotations = xcalloc(n > 0 ? (size_t)n : 1, sizeof h->annotations[0]);
	for (long long i = 0; i < n; i++) {
		struct io_edf_annotation *out = &h->annotations[i];

		if (edf_get_annotation(handle, (int)i, &a) != 0)
			return error_set(cause, -EIO, "%s: cannot get annotation %lld of %lld",
					 h->path, i, n);
		out->onset = (double)a.onset / EDFLIB_TIME_DIMENSION;
		out->duration = a.duration[0] != '\0' ? strtod(a.duration, NULL) : -1.0;
		out->text = xstrdup(a.annotation);
		h->n_annotations++;
	}
	return 0;
}

/* Physical values beyond this (in volts, or the channel's own unit) are refused: far beyond any
 * recorded signal, and small enough that sums of squares over any recording stay finite. */
#define IO_EDF_PHYS_LIMIT 1e100

/* Every channel's physical range maps its digital range to finite values: a range such as
 * [-1e308, 1e308] has an infinite gain, and the channel would read as infinities (and be
 * written flat); one of ±1e307 overflows the first energy computed from it. */
static int
io_edf_check_ranges(const struct io_edf_header *h, char **cause)
{
	for (size_t i = 0; i < h->n_channels; i++) {
		const struct io_edf_channel *c = &h->channels[i];
		double gain = (c->phys_max - c->phys_min) / ((double)c->dig_max - c->dig_min);
		double lo = c->phys_min * c->volt_scale, hi = c->phys_max * c->volt_scale;

		if (isfinite(gain) && gain != 0 && fabs(lo) <= IO_EDF_PHYS_LIMIT &&
		    fabs(hi) <= IO_EDF_PHYS_LIMIT)
			continue;
		return error_set(cause, -EINVAL,
				 "%s: channel %zu (%s): the physical range [%g, %g] %s for the "
				 "digital range [%d, %d] is not usable (a finite, non-zero scale and "
				 "values within ±1e100)",
				 h->path, i + 1, c->label, c->phys_min, c->phys_max, c->dimension,
				 c->dig_min, c->dig_max);
	}
	return 0;
}

int
io_edf_open(const char *path, struct io_edf_file **out, char **cause)
{
	struct edf_hdr_struct *e;
	struct io_edf_file *f;
	struct stat st;
	int rc;

	*out = NULL;
	if (stat(path, &st) != 0) {
		rc = -errno;
		return error_set(cause, rc, "%s: cannot open: %s", path, strerror(-rc));
	}
	if (S_ISDIR(st.st_mode))
		return error_set(cause, -EISDIR, "%s: is a directory, not an EDF file", path);
	e = xmalloc(sizeof *e);
	io_edf_lock();
	rc = edfopen_file_readonly(path, e, EDFLIB_READ_ALL_ANNOTATIONS);
	io_edf_unlock();
	if (rc != 0) {
		int code = e->filetype;

		free(e);
		if (code == EDFLIB_NO_SUCH_FILE_OR_DIRECTORY || code == EDFLIB_FILE_READ_ERROR ||
		    code == EDFLIB_FILE_CONTAINS_FORMAT_ERRORS)
			return io_edf_diagnose(path, code, cause);
		return error_set(cause, io_edf_errno(code), "%s: %s", path, io_edf_strerror(code));
	}
	f = xcalloc(1, sizeof *f);
	f->handle = e->handle;
	io_edf_header_fill(&f->hdr, path, e);
	rc = io_edf_check_ranges(&f->hdr, cause);
	if (rc == 0)
		rc = io_edf_annotations_fill(&f->hdr, f->handle, e->annotations_in_file, cause);
	free(e);
	if (rc != 0) {
		io_edf_close(f);
		return rc;
	}
	f->direct = io_edf_direct_open(path, &f->hdr);
	*out = f;
	return 0;
}

void
io_edf_close(struct io_edf_file *f)
{
	if (f == NULL)
		return;
	io_edf_lock();
	edfclose_file(f->handle);
	io_edf_unlock();
	io_edf_direct_close(f->direct);
	for (size_t i = 0; i < f->hdr.n_annotations; i++)
		free(f->hdr.annotations[i].text);
	free(f->hdr.annotations);
	free(f->hdr.channels);
	free(f->hdr.path);
	free(f);
}

const struct io_edf_header *
io_edf_header(const struct io_edf_file *f)
{
	return &f->hdr;
}

int
io_edf_channel_find(const struct io_edf_header *h, const char *label)
{
	char want[17];

	snprintf(want, sizeof want, "%s", label);
	io_edf_trim(want);
	for (size_t i = 0; i < h->n_channels; i++)
		if (strcmp(h->channels[i].label, want) == 0)
			return (int)i;
	return -ENOENT;
}

/* Samples through EDFlib: a seek, then chunks (EDFlib takes an int count). */
static int
io_edf_read_edflib(struct io_edf_file *f, size_t channel, size_t start, size_t n, double *buf,
		   char **cause)
{
	const struct io_edf_channel *c = &f->hdr.channels[channel];
	size_t done = 0;

	if (edfseek(f->handle, (int)channel, (long long)start, EDFSEEK_SET) != (long long)start)
		return error_set(cause, -EIO, "%s: channel %s: cannot seek to sample %zu",
				 f->hdr.path, c->label, start);
	while (done < n) {
		int want = n - done > IO_EDF_CHUNK ? IO_EDF_CHUNK : (int)(n - done);
		int got = edfread_physical_samples(f->handle, (int)channel, want, buf + done);

		if (got != want)
			return error_set(cause, -EIO,
					 "%s: channel %s: read error at sample %zu (file truncated "
					 "or unreadable)",
					 f->hdr.path, c->label, start + done);
		done += (size_t)got;
	}
	return 0;
}

int
io_edf_read_range(struct io_edf_file *f, size_t channel, size_t start, size_t n, double *buf,
		  char **cause)
{
	const struct io_edf_channel *c;
	int rc;

	if (channel >= f->hdr.n_channels)
		return error_set(cause, -EINVAL, "%s: no channel %zu (the file has %zu)",
				 f->hdr.path, channel, f->hdr.n_channels);
	c = &f->hdr.channels[channel];
	if (start > c->n_samples || n > c->n_samples - start)
		return error_set(cause, -EINVAL,
				 "%s: channel %s: samples [%zu, %zu) are past its %zu samples",
				 f->hdr.path, c->label, start, start + n, c->n_samples);
	if (f->direct == NULL) {
		if ((rc = io_edf_read_edflib(f, channel, start, n, buf, cause)) != 0)
			return rc;
	} else if (io_edf_direct_read(f->direct, channel, start, n, buf) != 0) {
		return error_set(cause, -EIO,
				 "%s: channel %s: read error in samples [%zu, %zu) (file truncated "
				 "or unreadable)",
				 f->hdr.path, c->label, start, start + n);
	}
	if (c->volt_scale != 1.0)
		for (size_t i = 0; i < n; i++)
			buf[i] *= c->volt_scale;
	for (size_t i = 0; i < n; i++)
		if (!isfinite(buf[i]))
			return error_set(cause, -EINVAL,
					 "%s: channel %s: sample %zu is not a finite number",
					 f->hdr.path, c->label, start + i);
	return 0;
}

int
io_edf_read_channel(struct io_edf_file *f, size_t channel, double **out, size_t *n, char **cause)
{
	double *buf;
	size_t len;
	int rc;

	*out = NULL;
	*n = 0;
	if (channel >= f->hdr.n_channels)
		return error_set(cause, -EINVAL, "%s: no channel %zu (the file has %zu)",
				 f->hdr.path, channel, f->hdr.n_channels);
	len = f->hdr.channels[channel].n_samples;
	buf = xmalloc((len > 0 ? len : 1) * sizeof *buf);
	rc = io_edf_read_range(f, channel, 0, len, buf, cause);
	if (rc != 0) {
		free(buf);
		return rc;
	}
	*out = buf;
	*n = len;
	return 0;
}
