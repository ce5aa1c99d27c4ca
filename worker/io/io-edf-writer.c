/* Streaming EDF+/BDF+ writer on top of EDFlib: picks a record duration that gives every channel a
 * whole number of samples per record, converts volts to digital values itself, makes room for
 * every annotation (EDFlib stores one per annotation signal per record) and checks the result.
 * Writing a whole recording in one call is io-edf-write.c. */
#include "worker/io/io-edf.h"

#include <edflib.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <sys/stat.h>

#include "common/error.h"
#include "common/log.h"
#include "common/xmalloc.h"
#include "common/xsort.h"
#include "worker/io/io-edf-plus.h"

#define IO_EDF_WRITER_MAX_TEXT       40 /* EDFlib truncates annotation texts beyond this */
#define IO_EDF_WRITER_MAX_ANNOT_SIGS 64 /* EDFlib's limit of annotation signals */
#define IO_EDF_WRITER_ANNOT_BYTES    114

struct io_edf_writer_chan {
	size_t spr; /* samples per record */
	size_t n_samples;
	double to_phys;    /* volts → physical unit */
	double pmin, pmax; /* physical unit, exactly as printed in the header */
	int dmin, dmax;
};

struct io_edf_writer {
	char *path;
	int handle;
	size_t n_channels;
	struct io_edf_writer_chan *ch;
	size_t n_records, written;
	double record_duration;
	size_t n_annotations;
	struct io_edf_annotation *annots; /* as given to EDFlib (sorted); texts borrowed */
	size_t clipped;
	int *dbuf;
};

/* Record durations to try, in EDFlib's 10 µs units: 1 s first, then shorter (more room for
 * annotations), then longer (non-integer rates such as 0.5 Hz or 256.5 Hz). */
static const int io_edf_writer_durations[] = {
    100000, 50000, 25000, 20000, 12500, 10000,  5000,   4000,   2500,   2000,    1250,    1000,
    500,    400,   250,   200,   100,   200000, 300000, 400000, 500000, 1000000, 2000000, 6000000,
};

/* Round v outward (up when `up`) to a value that prints in 8 characters, as EDF requires. */
static int
io_edf_writer_fit8(double v, int up, double *out)
{
	char s[64];

	for (int d = 7; d >= 0; d--) {
		double p = pow(10, d), r = up ? ceil(v * p - 1e-9) / p : floor(v * p + 1e-9) / p;

		snprintf(s, sizeof s, "%.*f", d, r);
		if (strlen(s) <= 8) {
			*out = strtod(s, NULL);
			return 0;
		}
	}
	return -ERANGE;
}

static double
io_edf_writer_nudge(double v)
{
	return v + copysign(1e-12 * (fabs(v) + 1e-3), v);
}

/* Samples per record of a channel at rate `rate` for a duration of `dur` × 10 µs, or 0. */
static size_t
io_edf_writer_spr(double rate, int dur)
{
	double spr = rate * dur / 100000.0, r = round(spr);

	if (r < 1 || fabs(spr - r) > 1e-6 * r)
		return 0;
	return (size_t)r;
}

static int
io_edf_writer_layout(struct io_edf_writer *w, const struct io_edf_writer_spec *spec, int *dur_out,
		     char **cause)
{
	size_t bytes = spec->type == IO_EDF_TYPE_BDFPLUS ? 3 : 2;
	size_t limit = spec->type == IO_EDF_TYPE_BDFPLUS ? 15000000 : 10000000;
	int single = (int)llround(spec->record_duration * 100000.0);
	size_t n_try = spec->record_duration > 0 ? 1 : sizeof io_edf_writer_durations / sizeof(int);

	for (size_t t = 0; t < n_try; t++) {
		int dur = spec->record_duration > 0 ? single : io_edf_writer_durations[t];
		size_t records = 0, rec_bytes = 0, sigs;
		int ok = dur >= 100 && dur <= 6000000;

		for (size_t c = 0; ok && c < w->n_channels; c++) {
			size_t spr = io_edf_writer_spr(spec->channels[c].rate, dur);
			size_t nr;

			if (spr == 0) {
				ok = 0;
				break;
			}
			w->ch[c].spr = spr;
			nr = (spec->channels[c].n_samples + spr - 1) / spr;
			records = nr > records ? nr : records;
			rec_bytes += spr * bytes;
		}
		if (!ok)
			continue;
		if (records == 0)
			records = 1;
		sigs = (spec->n_annotations + records - 1) / records;
		sigs = sigs < 1 ? 1 : sigs;
		if (sigs > IO_EDF_WRITER_MAX_ANNOT_SIGS)
			continue;
		if (rec_bytes + sigs * IO_EDF_WRITER_ANNOT_BYTES > limit)
			continue;
		w->n_records = records;
		w->record_duration = dur / 100000.0;
		*dur_out = dur;
		return (int)sigs;
	}
	if (spec->record_duration > 0)
		return error_set(
		    cause, -EINVAL,
		    "%s: record duration %g s does not give every channel a whole number "
		    "of samples, or leaves no room for %zu annotations",
		    w->path, spec->record_duration, spec->n_annotations);
	return error_set(cause, -EINVAL,
			 "%s: no record duration between 1 ms and 60 s gives every channel a whole "
			 "number of samples per record with room for %zu annotations",
			 w->path, spec->n_annotations);
}

static int
io_edf_writer_check(const char *path, const struct io_edf_writer_spec *spec, char **cause)
{
	if (spec->type != IO_EDF_TYPE_EDFPLUS && spec->type != IO_EDF_TYPE_BDFPLUS)
		return error_set(cause, -EINVAL, "%s: can only write EDF+ or BDF+", path);
	if (spec->n_channels == 0 || spec->n_channels > EDFLIB_MAXSIGNALS - 64)
		return error_set(cause, -EINVAL, "%s: %zu channels (1 to %d are allowed)", path,
				 spec->n_channels, EDFLIB_MAXSIGNALS - 64);
	for (size_t c = 0; c < spec->n_channels; c++) {
		const struct io_edf_writer_channel *ch = &spec->channels[c];

		if (ch->label == NULL || strlen(ch->label) > 16)
			return error_set(cause, -EINVAL,
					 "%s: channel %zu: a label of 1 to 16 characters is needed",
					 path, c);
		if (!(ch->rate > 0) || !isfinite(ch->rate))
			return error_set(cause, -EINVAL, "%s: channel %s: invalid rate %g", path,
					 ch->label, ch->rate);
		if (!(ch->phys_min < ch->phys_max))
			return error_set(cause, -EINVAL,
					 "%s: channel %s: physical range [%g, %g] is empty", path,
					 ch->label, ch->phys_min, ch->phys_max);
	}
	for (size_t i = 0; i < spec->n_annotations; i++) {
		const struct io_edf_annotation *a = &spec->annotations[i];

		if (a->text == NULL || strlen(a->text) > IO_EDF_WRITER_MAX_TEXT)
			return error_set(cause, -EINVAL,
					 "%s: annotation %zu: its text must be 0 to %d bytes "
					 "(EDFlib would cut it)",
					 path, i, IO_EDF_WRITER_MAX_TEXT);
		if (!(a->onset >= 0) || !isfinite(a->onset))
			return error_set(cause, -EINVAL, "%s: annotation %zu: invalid onset %g",
					 path, i, a->onset);
	}
	return 0;
}

/* Set the header of one channel; returns 0 or the failing call's name. */
static const char *
io_edf_writer_channel_header(struct io_edf_writer *w, size_t c,
			     const struct io_edf_writer_channel *ch, int bdf)
{
	struct io_edf_writer_chan *o = &w->ch[c];
	const char *dim = ch->dimension != NULL ? ch->dimension : "uV";
	double scale = io_edf_volt_scale(dim);
	int h = w->handle, i = (int)c;

	o->n_samples = ch->n_samples;
	o->to_phys = scale != 0 ? 1.0 / scale : 1.0;
	o->dmin = bdf ? -8388608 : -32768;
	o->dmax = bdf ? 8388607 : 32767;
	if (io_edf_writer_fit8(ch->phys_min * o->to_phys, 0, &o->pmin) != 0 ||
	    io_edf_writer_fit8(ch->phys_max * o->to_phys, 1, &o->pmax) != 0)
		return "the physical range (too large to print in 8 characters)";
	if (edf_set_samplefrequency(h, i, (int)o->spr) != 0)
		return "edf_set_samplefrequency";
	/* EDFlib truncates when it prints: nudge away from zero so it prints our digits. */
	if (edf_set_physical_minimum(h, i, io_edf_writer_nudge(o->pmin)) != 0)
		return "edf_set_physical_minimum";
	if (edf_set_physical_maximum(h, i, io_edf_writer_nudge(o->pmax)) != 0)
		return "edf_set_physical_maximum";
	if (edf_set_digital_minimum(h, i, o->dmin) != 0)
		return "edf_set_digital_minimum";
	if (edf_set_digital_maximum(h, i, o->dmax) != 0)
		return "edf_set_digital_maximum";
	if (edf_set_label(h, i, ch->label) != 0)
		return "edf_set_label";
	if (edf_set_physical_dimension(h, i, dim) != 0)
		return "edf_set_physical_dimension";
	if (ch->transducer != NULL && edf_set_transducer(h, i, ch->transducer) != 0)
		return "edf_set_transducer";
	if (ch->prefilter != NULL && edf_set_prefilter(h, i, ch->prefilter) != 0)
		return "edf_set_prefilter";
	return NULL;
}

static int
io_edf_writer_annot_cmp(const void *a, const void *b)
{
	const struct io_edf_annotation *x = *(const struct io_edf_annotation *const *)a;
	const struct io_edf_annotation *y = *(const struct io_edf_annotation *const *)b;

	if (x->onset != y->onset)
		return x->onset < y->onset ? -1 : 1;
	return x < y ? -1 : x > y;
}

/* One annotation to EDFlib: in microseconds where it has the calls for them, else in its
 * 100 µs units (io_edf_plus_exact_onsets then writes the exact times after the close). */
static const char *
io_edf_writer_annotation(int h, const struct io_edf_annotation *a)
{
#ifdef ND_EDFLIB_HR
	long long onset = llround(a->onset * 1e6), dur = a->duration >= 0 ? llround(a->duration * 1e6) : -1;

	return edfwrite_annotation_utf8_hr(h, onset, dur, a->text) != 0
		   ? "edfwrite_annotation_utf8_hr"
		   : NULL;
#else
	long long onset = llround(a->onset * 10000.0);
	long long dur = a->duration >= 0 ? llround(a->duration * 10000.0) : -1;

	return edfwrite_annotation_utf8(h, onset, dur, a->text) != 0 ? "edfwrite_annotation_utf8"
								     : NULL;
#endif
}

/* Hand the annotations to EDFlib sorted by onset (ties keep their order). */
static const char *
io_edf_writer_annotations(struct io_edf_writer *w, const struct io_edf_writer_spec *spec)
{
	const struct io_edf_annotation **order;
	const char *failed = NULL;

	if (spec->n_annotations == 0)
		return NULL;
	order = xcalloc(spec->n_annotations, sizeof order[0]);
	for (size_t i = 0; i < spec->n_annotations; i++)
		order[i] = &spec->annotations[i];
	xqsort(order, spec->n_annotations, sizeof order[0], io_edf_writer_annot_cmp);
	w->annots = xcalloc(spec->n_annotations, sizeof *w->annots);
	for (size_t i = 0; i < spec->n_annotations && failed == NULL; i++) {
		w->annots[i] = *order[i];
		w->annots[i].text = xstrdup(order[i]->text);
		failed = io_edf_writer_annotation(w->handle, order[i]);
	}
	free(order);
	return failed;
}

static const char *
io_edf_writer_setup(struct io_edf_writer *w, const struct io_edf_writer_spec *spec, int dur,
		    int sigs)
{
	int h = w->handle, bdf = spec->type == IO_EDF_TYPE_BDFPLUS;
	const char *failed;

	if (dur != 100000 && edf_set_datarecord_duration(h, dur) != 0)
		return "edf_set_datarecord_duration";
	if (edf_set_number_of_annotation_signals(h, sigs) != 0)
		return "edf_set_number_of_annotation_signals";
	if (spec->start_year != 0) {
		if (edf_set_startdatetime(h, spec->start_year, spec->start_month, spec->start_day,
					  spec->start_hour, spec->start_minute,
					  spec->start_second) != 0)
			return "edf_set_startdatetime";
	} else if (edf_set_startdatetime(h, 1985, 1, 1, 0, 0, 0) != 0) {
		return "edf_set_startdatetime";
	}
	if ((failed = io_edf_plus_fields(h, spec)) != NULL)
		return failed;
	for (size_t c = 0; c < w->n_channels; c++)
		if ((failed = io_edf_writer_channel_header(w, c, &spec->channels[c], bdf)) != NULL)
			return failed;
	return io_edf_writer_annotations(w, spec);
}

static void
io_edf_writer_free(struct io_edf_writer *w)
{
	for (size_t i = 0; w->annots != NULL && i < w->n_annotations; i++)
		free(w->annots[i].text);
	free(w->annots);
	free(w->dbuf);
	free(w->ch);
	free(w->path);
	free(w);
}

int
io_edf_writer_open(const char *path, const struct io_edf_writer_spec *spec,
		   struct io_edf_writer **out, char **cause)
{
	struct io_edf_writer *w;
	const char *failed;
	size_t max_spr = 1;
	int rc, dur = 100000, sigs;

	*out = NULL;
	if ((rc = io_edf_writer_check(path, spec, cause)) != 0)
		return rc;
	w = xcalloc(1, sizeof *w);
	w->path = xstrdup(path);
	w->n_channels = spec->n_channels;
	w->n_annotations = spec->n_annotations;
	w->ch = xcalloc(w->n_channels, sizeof w->ch[0]);
	if ((sigs = io_edf_writer_layout(w, spec, &dur, cause)) < 0) {
		io_edf_writer_free(w);
		return sigs;
	}
	io_edf_lock();
	w->handle = edfopen_file_writeonly(path, (int)spec->type, (int)spec->n_channels);
	io_edf_unlock();
	if (w->handle < 0) {
		rc = w->handle;
		io_edf_writer_free(w);
		return error_set(cause, io_edf_errno(rc), "%s: cannot create: %s", path,
				 io_edf_strerror(rc));
	}
	if ((failed = io_edf_writer_setup(w, spec, dur, sigs)) != NULL) {
		io_edf_lock();
		edfclose_file(w->handle);
		io_edf_unlock();
		io_edf_writer_free(w);
		return error_set(cause, -EINVAL, "%s: EDFlib refused %s", path, failed);
	}
	for (size_t c = 0; c < w->n_channels; c++)
		max_spr = w->ch[c].spr > max_spr ? w->ch[c].spr : max_spr;
	w->dbuf = xmalloc(max_spr * sizeof w->dbuf[0]);
	*out = w;
	return 0;
}

size_t
io_edf_writer_n_records(const struct io_edf_writer *w)
{
	return w->n_records;
}

double
io_edf_writer_record_duration(const struct io_edf_writer *w)
{
	return w->record_duration;
}

size_t
io_edf_writer_record_samples(const struct io_edf_writer *w, size_t channel)
{
	return channel < w->n_channels ? w->ch[channel].spr : 0;
}

int
io_edf_writer_write_record(struct io_edf_writer *w, const double *const *rec, char **cause)
{
	if (w->written >= w->n_records)
		return error_set(cause, -ENOSPC, "%s: all %zu data records are already written",
				 w->path, w->n_records);
	for (size_t c = 0; c < w->n_channels; c++) {
		const struct io_edf_writer_chan *o = &w->ch[c];
		double k = (double)(o->dmax - o->dmin) / (o->pmax - o->pmin);
		size_t valid = 0;
		int rc;

		if (w->written * o->spr < o->n_samples)
			valid = o->n_samples - w->written * o->spr;
		for (size_t i = 0; i < o->spr; i++) {
			double d = round((rec[c][i] * o->to_phys - o->pmin) * k) + o->dmin;

			if (d < o->dmin || d > o->dmax) {
				d = d < o->dmin ? o->dmin : o->dmax;
				w->clipped += i < valid;
			}
			w->dbuf[i] = (int)d;
		}
		rc = edfwrite_digital_samples(w->handle, w->dbuf);
		if (rc != 0)
			return error_set(cause, rc < -1 ? io_edf_errno(rc) : -EIO,
					 "%s: record %zu, channel %zu: %s", w->path, w->written, c,
					 rc < -1 ? io_edf_strerror(rc) : "write error");
	}
	w->written++;
	return 0;
}

/* EDFlib's buffered writes fail without telling why: a file that does not read back while its
 * disk is full is reported with the system's reason, not as a malformed file. */
static int
io_edf_writer_disk_full(const char *path, int rc, char **cause)
{
	char *dir = xstrdup(path), *slash = strrchr(dir, '/');
	struct statvfs vfs;
	struct stat st;

	if (slash != NULL)
		*slash = '\0';
	if (statvfs(slash != NULL ? dir : ".", &vfs) == 0 && vfs.f_bavail == 0) {
		if (cause != NULL) {
			free(*cause);
			*cause = NULL;
		}
		rc = error_set(cause, -ENOSPC, "%s: %s (the file came out %lld bytes long)", path,
			       strerror(ENOSPC), stat(path, &st) == 0 ? (long long)st.st_size : 0LL);
	}
	free(dir);
	return rc;
}

int
io_edf_writer_close(struct io_edf_writer *w, char **cause)
{
	struct io_edf_file *f;
	int rc;

	if (w == NULL)
		return 0;
	io_edf_lock();
	rc = edfclose_file(w->handle);
	io_edf_unlock();
	if (rc != 0) {
		rc = error_set(cause, -EIO, "%s: EDFlib could not finalise the file", w->path);
		goto out;
	}
	if (w->written < w->n_records) {
		rc = error_set(cause, -EIO, "%s: only %zu of %zu data records were written",
			       w->path, w->written, w->n_records);
		goto out;
	}
	if (w->clipped > 0)
		log_warn("%s: %zu samples were outside the physical range and clipped", w->path,
			 w->clipped);
	if (w->n_annotations > 0 &&
	    (rc = io_edf_plus_exact_onsets(w->path, w->annots, w->n_annotations, cause)) != 0) {
		rc = io_edf_writer_disk_full(w->path, rc, cause);
		goto out;
	}
	if ((rc = io_edf_open(w->path, &f, cause)) != 0) {
		rc = error_wrap(cause, rc, "reading back what was written: ");
		rc = io_edf_writer_disk_full(w->path, rc, cause);
		goto out;
	}
	if (io_edf_header(f)->n_annotations != w->n_annotations)
		rc = error_set(cause, -EIO, "%s: only %zu of %zu annotations were kept", w->path,
			       io_edf_header(f)->n_annotations, w->n_annotations);
	for (size_t c = 0; rc == 0 && c < w->n_channels; c++) {
		const struct io_edf_channel *hc = &io_edf_header(f)->channels[c];

		double tol = 1e-9 * (w->ch[c].pmax - w->ch[c].pmin);

		if (fabs(hc->phys_min - w->ch[c].pmin) > tol ||
		    fabs(hc->phys_max - w->ch[c].pmax) > tol)
			rc = error_set(cause, -EIO,
				       "%s: channel %s: the header range [%.9g, %.9g] differs "
				       "from the one used to encode [%.9g, %.9g]",
				       w->path, hc->label, hc->phys_min, hc->phys_max,
				       w->ch[c].pmin, w->ch[c].pmax);
	}
	io_edf_close(f);
out:
	io_edf_writer_free(w);
	return rc;
}
