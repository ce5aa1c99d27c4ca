/* Reading an EEGLAB dataset through libmatio: the .set (MATLAB v5/v7, or v7.3 when libmatio has
 * HDF5) holds the EEG structure, either as one variable EEG or as its fields saved as variables;
 * the samples (µV, channels × points) are in a float32 .fdt beside it or in the .set itself.
 * Continuous data only (trials = 1); events become annotations named by their type. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <matio.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/error.h"
#include "common/xmalloc.h"
#include "worker/io/rec/io-eeglab.h"
#include "worker/io/rec/io-rec-binary.h"
#include "worker/io/rec/io-rec.h"

#define IO_EEGLAB_UV 1e-6 /* EEGLAB data are in microvolts */

struct io_eeglab {
	struct io_rec_binary bin; /* the .fdt, when the data are there (fd >= 0) */
	char *fdt_path;
	double *data; /* or: embedded samples, channel after channel, in volts */
};

/* The EEG structure being read: fields of one struct variable, or variables of the file. */
struct io_eeglab_set {
	const char *path;
	mat_t *mat;
	matvar_t *eeg;    /* the EEG struct variable, or NULL */
	matvar_t **owned; /* variables read from the file, freed at the end */
	size_t n_owned;
};

/* libmatio reports through a process-wide log function, and its HDF5 side is not thread-safe:
 * its calls are serialised here and the last message of the calling thread is kept. */
static pthread_mutex_t io_eeglab_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t io_eeglab_once = PTHREAD_ONCE_INIT;
static __thread char io_eeglab_msg[256];

static void
io_eeglab_log(int level, char *message)
{
	snprintf(io_eeglab_msg, sizeof io_eeglab_msg, "%s", message != NULL ? message : "");
}

static void
io_eeglab_log_init(void)
{
	Mat_LogInitFunc("neurodag", io_eeglab_log);
}

static int
io_eeglab_read(void *impl, const struct io_rec_header *h, size_t channel, size_t start, size_t n,
	       double *buf, char **cause)
{
	struct io_eeglab *e = impl;

	if (e->data != NULL) {
		memcpy(buf, e->data + channel * e->bin.n_samples + start, n * sizeof *buf);
		return 0;
	}
	return io_rec_binary_read(&e->bin, channel, start, n, IO_EEGLAB_UV, buf, cause);
}

static void
io_eeglab_close(void *impl)
{
	struct io_eeglab *e = impl;

	if (e == NULL)
		return;
	if (e->bin.fd >= 0)
		close(e->bin.fd);
	free(e->fdt_path);
	free(e->data);
	free(e);
}

static const struct io_rec_ops io_eeglab_ops = {io_eeglab_read, io_eeglab_close};

/* Elements of an array (SIZE_MAX when the dimensions overflow). */
static size_t
io_eeglab_numel(const matvar_t *v)
{
	size_t n = 1;

	for (int i = 0; v->dims != NULL && i < v->rank; i++) {
		if (v->dims[i] != 0 && n > SIZE_MAX / v->dims[i])
			return SIZE_MAX;
		n *= v->dims[i];
	}
	return n;
}

/* A real numeric array whose data hold all its elements. */
static bool
io_eeglab_is_numeric(const matvar_t *v)
{
	size_t n;

	if (v == NULL || v->class_type < MAT_C_DOUBLE || v->class_type > MAT_C_UINT64 ||
	    v->isComplex || v->data == NULL || v->data_size <= 0)
		return false;
	n = io_eeglab_numel(v);
	return n != SIZE_MAX && n <= v->nbytes / (size_t)v->data_size;
}

/* Element i of a real numeric array as a double. */
static double
io_eeglab_elem(const matvar_t *v, size_t i)
{
	const void *d = v->data;

	switch (v->class_type) {
	case MAT_C_DOUBLE:
		return ((const double *)d)[i];
	case MAT_C_SINGLE:
		return ((const float *)d)[i];
	case MAT_C_INT8:
		return ((const int8_t *)d)[i];
	case MAT_C_UINT8:
		return ((const uint8_t *)d)[i];
	case MAT_C_INT16:
		return ((const int16_t *)d)[i];
	case MAT_C_UINT16:
		return ((const uint16_t *)d)[i];
	case MAT_C_INT32:
		return ((const int32_t *)d)[i];
	case MAT_C_UINT32:
		return ((const uint32_t *)d)[i];
	case MAT_C_INT64:
		return (double)((const int64_t *)d)[i];
	default:
		return (double)((const uint64_t *)d)[i];
	}
}

/* Field `name` of element i of a structure array, or NULL; checks first what libmatio does
 * not (a structure whose field table is missing or shorter than its dimensions). */
static matvar_t *
io_eeglab_sfield(matvar_t *v, const char *name, size_t i)
{
	char *const *names;
	size_t n, nf;

	if (v == NULL || v->class_type != MAT_C_STRUCT || v->data == NULL)
		return NULL;
	n = io_eeglab_numel(v);
	nf = Mat_VarGetNumberOfFields(v);
	if (n == SIZE_MAX || i >= n || nf == 0 || n > SIZE_MAX / nf / sizeof(matvar_t *) ||
	    v->nbytes < n * nf * sizeof(matvar_t *))
		return NULL;
	/* Looked up here rather than by Mat_VarGetStructFieldByName, which follows a missing field
	 * name of a damaged file into a NULL pointer. A structure's data is its table of fields,
	 * element after element. */
	names = Mat_VarGetStructFieldnames(v);
	for (size_t k = 0; names != NULL && k < nf; k++)
		if (names[k] != NULL && strcmp(names[k], name) == 0)
			return ((matvar_t **)v->data)[i * nf + k];
	return NULL;
}

/* Field `name` of the EEG structure (borrowed), or NULL. */
static matvar_t *
io_eeglab_field(struct io_eeglab_set *s, const char *name)
{
	matvar_t *v;

	if (s->eeg != NULL)
		return io_eeglab_sfield(s->eeg, name, 0);
	if ((v = Mat_VarRead(s->mat, name)) == NULL)
		return NULL;
	s->owned = xreallocarray(s->owned, s->n_owned + 1, sizeof *s->owned);
	s->owned[s->n_owned++] = v;
	return v;
}

static bool
io_eeglab_scalar(const matvar_t *v, double *out)
{
	if (!io_eeglab_is_numeric(v) || io_eeglab_numel(v) != 1)
		return false;
	*out = io_eeglab_elem(v, 0);
	return isfinite(*out);
}

/* A char array as UTF-8 (libmatio gives 8- or 16-bit code units), or NULL. */
static char *
io_eeglab_string(const matvar_t *v)
{
	size_t n, w;
	char *s, *o;

	if (v == NULL || v->class_type != MAT_C_CHAR || (v->data == NULL && v->nbytes > 0))
		return NULL;
	w = v->data_size == 2 ? 2 : v->data_size == 4 ? 4 : 1;
	n = v->nbytes / w;
	if (n > io_eeglab_numel(v))
		n = io_eeglab_numel(v);
	o = s = xmalloc(3 * n + 1);
	for (size_t i = 0; i < n; i++) {
		uint32_t c = w == 1   ? ((const uint8_t *)v->data)[i]
			     : w == 2 ? ((const uint16_t *)v->data)[i]
				      : ((const uint32_t *)v->data)[i];
		if (c == 0)
			break;
		if (c < 0x80) {
			*o++ = (char)c;
		} else if (c < 0x800 || w == 1) {
			c = c > 0x7ff ? '?' : c;
			*o++ = (char)(0xc0 | (c >> 6));
			*o++ = (char)(0x80 | (c & 0x3f));
		} else {
			c = c > 0xffff ? 0xfffd : c;
			*o++ = (char)(0xe0 | (c >> 12));
			*o++ = (char)(0x80 | ((c >> 6) & 0x3f));
			*o++ = (char)(0x80 | (c & 0x3f));
		}
	}
	*o = '\0';
	return s;
}

static int
io_eeglab_count(struct io_eeglab_set *s, const char *name, double hi, size_t *out, char **cause)
{
	double v;

	if (!io_eeglab_scalar(io_eeglab_field(s, name), &v) || v < 1 || v > hi || v != floor(v))
		return error_set(cause, -EINVAL,
				 "%s: EEG.%s: missing or not a whole number from 1 to %.0f",
				 s->path, name, hi);
	*out = (size_t)v;
	return 0;
}

/* Channel names from EEG.chanlocs(i).labels; without chanlocs, "EEG 000", "EEG 001", ... */
static int
io_eeglab_labels(struct io_eeglab_set *s, struct io_rec_header *h, char **cause)
{
	matvar_t *v = io_eeglab_field(s, "chanlocs");
	size_t n = h->n_channels;

	if (v != NULL && io_eeglab_numel(v) > 0 &&
	    (v->class_type != MAT_C_STRUCT || io_eeglab_numel(v) != n))
		return error_set(
		    cause, -EINVAL, "%s: EEG.chanlocs: %zu entries for %zu channels (EEG.nbchan)",
		    s->path, v->class_type == MAT_C_STRUCT ? io_eeglab_numel(v) : 0, n);
	for (size_t i = 0; i < n; i++) {
		struct io_rec_channel *c = &h->channels[i];
		char *l = NULL;

		if (v != NULL && io_eeglab_numel(v) > 0)
			l = io_eeglab_string(io_eeglab_sfield(v, "labels", i));
		if (v != NULL && io_eeglab_numel(v) > 0 &&
		    (l == NULL || l[0] == '\0' || strlen(l) >= sizeof c->label)) {
			free(l);
			return error_set(cause, -EINVAL,
					 "%s: EEG.chanlocs(%zu).labels: missing, empty or longer "
					 "than %zu bytes",
					 s->path, i + 1, sizeof c->label - 1);
		}
		if (l != NULL)
			snprintf(c->label, sizeof c->label, "%s", l);
		else
			snprintf(c->label, sizeof c->label, "EEG %03zu", i);
		free(l);
		io_rec_channel_unit(c, "uV");
	}
	return 0;
}

/* A numeric event type as MNE names it (Python's str): "7" for an integer class, "7.0" or the
 * shortest round-trip form for a floating-point one. */
static char *
io_eeglab_number_text(const matvar_t *v, double t)
{
	char buf[40];

	if (v->class_type != MAT_C_DOUBLE && v->class_type != MAT_C_SINGLE)
		return xasprintf("%.0f", t);
	if (t == floor(t) && fabs(t) < 1e16)
		return xasprintf("%.1f", t);
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(buf, sizeof buf, "%.*g", prec, t);
		if (strtod(buf, NULL) == t)
			break;
	}
	return xstrdup(buf);
}

static int
io_eeglab_event(struct io_eeglab_set *s, matvar_t *ev, size_t i, struct io_rec_header *h, double fs,
		size_t pnts, char **cause)
{
	matvar_t *type = io_eeglab_sfield(ev, "type", i);
	matvar_t *dur = io_eeglab_sfield(ev, "duration", i);
	double lat, d = -1, t;
	char *text = io_eeglab_string(type);
	struct io_rec_annotation *a;

	if (text == NULL && io_eeglab_scalar(type, &t))
		text = io_eeglab_number_text(type, t);
	if (text == NULL)
		return error_set(cause, -EINVAL,
				 "%s: EEG.event(%zu).type: missing, or neither "
				 "text nor a number",
				 s->path, i + 1);
	if (!io_eeglab_scalar(io_eeglab_sfield(ev, "latency", i), &lat) || lat < 1 ||
	    lat > (double)pnts + 1) {
		free(text);
		return error_set(cause, -EINVAL,
				 "%s: EEG.event(%zu).latency: missing or outside the %zu points "
				 "(latencies count from 1)",
				 s->path, i + 1, pnts);
	}
	if (dur != NULL && io_eeglab_numel(dur) > 0 && (!io_eeglab_scalar(dur, &d) || d < 0)) {
		free(text);
		return error_set(cause, -EINVAL,
				 "%s: EEG.event(%zu).duration: not a non-negative number", s->path,
				 i + 1);
	}
	h->annotations = xreallocarray(h->annotations, h->n_annotations + 1, sizeof *a);
	a = &h->annotations[h->n_annotations++];
	a->onset = (lat - 1) / fs;
	a->duration = d >= 0 ? d / fs : -1;
	a->text = text;
	return 0;
}

static int
io_eeglab_events(struct io_eeglab_set *s, struct io_rec_header *h, double fs, size_t pnts,
		 char **cause)
{
	matvar_t *ev = io_eeglab_field(s, "event");
	size_t n = ev != NULL ? io_eeglab_numel(ev) : 0;
	int rc = 0;

	if (n == 0)
		return 0;
	if (ev->class_type != MAT_C_STRUCT || n == SIZE_MAX)
		return error_set(cause, -EINVAL, "%s: EEG.event: not a structure array", s->path);
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = io_eeglab_event(s, ev, i, h, fs, pnts, cause);
	return rc;
}

/* EEG.data names a .fdt: beside the .set, else the .set's name with .fdt (as EEGLAB does). */
static int
io_eeglab_fdt(struct io_eeglab_set *s, struct io_eeglab *e, const char *name, char **cause)
{
	const char *slash = strrchr(s->path, '/'), *base = strrchr(name, '/');
	const char *dot = strrchr(s->path, '.');
	struct stat st;

	base = base != NULL ? base + 1 : name;
	e->fdt_path = slash != NULL ? xasprintf("%.*s/%s", (int)(slash - s->path), s->path, base)
				    : xstrdup(base);
	if (stat(e->fdt_path, &st) != 0 && dot != NULL) {
		free(e->fdt_path);
		e->fdt_path = xasprintf("%.*s.fdt", (int)(dot - s->path), s->path);
	}
	e->bin.path = e->fdt_path;
	e->bin.fd = open(e->fdt_path, O_RDONLY | O_CLOEXEC);
	if (e->bin.fd < 0)
		return error_set(cause, -errno, "%s: EEG.data: cannot open the data file %s: %s",
				 s->path, e->fdt_path, strerror(errno));
	return io_rec_binary_size(&e->bin, "EEG.nbchan × EEG.pnts", cause);
}

static int
io_eeglab_embedded(struct io_eeglab_set *s, struct io_eeglab *e, const matvar_t *v, char **cause)
{
	size_t nc = e->bin.n_channels, np = e->bin.n_samples;
	bool vec = v->rank == 2 && nc == 1 && (v->dims[0] == 1 || v->dims[1] == 1);

	if (np > SIZE_MAX / sizeof(double) / nc)
		return error_set(cause, -EINVAL, "%s: EEG.pnts: %zu points is too many", s->path,
				 np);
	if (!io_eeglab_is_numeric(v) || v->rank < 2 ||
	    !(vec || (v->dims[0] == nc && v->dims[1] == np)) || io_eeglab_numel(v) != nc * np)
		return error_set(cause, -EINVAL,
				 "%s: EEG.data: expected a real %zu × %zu array (EEG.nbchan × "
				 "EEG.pnts) or the name of a .fdt file",
				 s->path, nc, np);
	e->data = xmalloc(nc * np * sizeof *e->data);
	for (size_t c = 0; c < nc; c++)
		for (size_t t = 0; t < np; t++)
			e->data[c * np + t] = io_eeglab_elem(v, c + t * nc) * IO_EEGLAB_UV;
	return 0;
}

static int
io_eeglab_parse(struct io_eeglab_set *s, struct io_rec *r, struct io_eeglab *e, char **cause)
{
	struct io_rec_header *h = io_rec_header_mut(r);
	size_t nbchan, pnts, trials;
	double fs;
	matvar_t *data;
	char *name;
	int rc;

	if (io_eeglab_count(s, "nbchan", 65536, &nbchan, cause) != 0 ||
	    io_eeglab_count(s, "pnts", 1e15, &pnts, cause) != 0 ||
	    io_eeglab_count(s, "trials", 1e9, &trials, cause) != 0)
		return -EINVAL;
	if (trials != 1)
		return error_set(cause, -ENOTSUP,
				 "%s: EEG.trials: %zu epochs; only continuous data (trials = 1) "
				 "are read",
				 s->path, trials);
	if (!io_eeglab_scalar(io_eeglab_field(s, "srate"), &fs) || fs <= 0 || fs > 1e9)
		return error_set(cause, -EINVAL, "%s: EEG.srate: missing or not a positive number",
				 s->path);
	h->n_channels = nbchan;
	h->channels = xcalloc(nbchan, sizeof *h->channels);
	e->bin.type = IO_REC_FLOAT32;
	e->bin.multiplexed = true;
	e->bin.n_channels = nbchan;
	e->bin.n_samples = pnts;
	if ((rc = io_eeglab_labels(s, h, cause)) != 0 ||
	    (rc = io_eeglab_events(s, h, fs, pnts, cause)) != 0)
		return rc;
	if ((data = io_eeglab_field(s, "data")) == NULL)
		return error_set(cause, -EINVAL, "%s: EEG.data: missing", s->path);
	if ((name = io_eeglab_string(data)) != NULL) {
		rc = name[0] != '\0' ? io_eeglab_fdt(s, e, name, cause)
				     : error_set(cause, -EINVAL, "%s: EEG.data: empty", s->path);
		free(name);
	} else {
		rc = io_eeglab_embedded(s, e, data, cause);
	}
	for (size_t c = 0; rc == 0 && c < nbchan; c++) {
		h->channels[c].rate = fs;
		h->channels[c].n_samples = pnts;
	}
	h->duration = (double)pnts / fs;
	return rc;
}

/* Map the file and bound what its dimensions claim (io-eeglab-check.c). */
static int
io_eeglab_precheck(const char *path, char **cause)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc;
	struct stat st;
	void *m;

	if (fd < 0)
		return error_set(cause, -errno, "%s: cannot open: %s", path, strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return error_set(cause, -EINVAL, "%s: not a regular file", path);
	}
	if (st.st_size == 0) {
		close(fd);
		return error_set(cause, -EINVAL, "%s: empty file", path);
	}
	m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (m == MAP_FAILED)
		return error_set(cause, -errno, "%s: cannot map: %s", path, strerror(errno));
	rc = io_eeglab_check(path, m, (size_t)st.st_size, cause);
	munmap(m, (size_t)st.st_size);
	return rc;
}

static int
io_eeglab_load(struct io_rec *r, struct io_eeglab *e, char **cause)
{
	struct io_eeglab_set s = {.path = io_rec_header(r)->path};
	int rc;

	io_eeglab_msg[0] = '\0';
	if ((rc = io_eeglab_precheck(s.path, cause)) != 0)
		return rc;
	if ((s.mat = Mat_Open(s.path, MAT_ACC_RDONLY)) == NULL) {
		if (access(s.path, R_OK) != 0)
			return error_set(cause, -errno, "%s: cannot open: %s", s.path,
					 strerror(errno));
		return error_set(cause, -EINVAL, "%s: not a MATLAB file (EEGLAB .set)%s%s", s.path,
				 io_eeglab_msg[0] != '\0' ? ": " : "", io_eeglab_msg);
	}
	s.eeg = Mat_VarRead(s.mat, "EEG");
	if (s.eeg != NULL && s.eeg->class_type != MAT_C_STRUCT) {
		Mat_VarFree(s.eeg);
		s.eeg = NULL;
	}
	rc = io_eeglab_parse(&s, r, e, cause);
	for (size_t i = 0; i < s.n_owned; i++)
		Mat_VarFree(s.owned[i]);
	free(s.owned);
	Mat_VarFree(s.eeg);
	Mat_Close(s.mat);
	return rc;
}

int
io_eeglab_open(const char *path, struct io_rec **out, char **cause)
{
	struct io_rec *r = io_rec_new(path, IO_REC_EEGLAB);
	struct io_eeglab *e = xcalloc(1, sizeof *e);
	int rc;

	*out = NULL;
	e->bin.fd = -1;
	io_rec_set_impl(r, &io_eeglab_ops, e);
	pthread_once(&io_eeglab_once, io_eeglab_log_init);
	pthread_mutex_lock(&io_eeglab_mutex);
	rc = io_eeglab_load(r, e, cause);
	pthread_mutex_unlock(&io_eeglab_mutex);
	if (rc != 0) {
		io_rec_close(r);
		return rc;
	}
	*out = r;
	return 0;
}
