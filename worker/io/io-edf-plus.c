/* What the EDF+ writer must keep beyond samples: the patient and recording subfields of the
 * header (code, sex, birthdate, name, additional; admin code, technician, equipment,
 * additional) set through EDFlib, and annotation onsets and durations to the microsecond.
 * EDFlib 1.23's annotation calls take 100 µs units; its microsecond calls came later. Without
 * them, once EDFlib has closed the file, each annotation's time-stamped list (TAL) in the
 * annotation signals is written again with the exact onset, in place and only where it fits in
 * its block (EDF+ allows any number of decimals; EDFlib's TALs leave room to spare). */
#include "worker/io/io-edf-plus.h"

#include <edflib.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/error.h"
#include "common/log.h"
#include "common/xmalloc.h"
#include "worker/io/io-edf-direct.h"

static int
io_edf_plus_month(const char *m)
{
	static const char *const names[] = {"jan", "feb", "mar", "apr", "may", "jun",
					    "jul", "aug", "sep", "oct", "nov", "dec"};

	for (int i = 0; i < 12; i++)
		if (strncasecmp(m, names[i], 3) == 0)
			return i + 1;
	return 0;
}

/* "02 aug 1951" (EDFlib's reading) or "02-AUG-1951" (the header's) into edf_set_birthdate. */
static int
io_edf_plus_birthdate(int h, const char *s)
{
	char buf[16], mon[4];
	int d, y, m;

	snprintf(buf, sizeof buf, "%s", s);
	for (char *p = buf; *p != '\0'; p++)
		*p = *p == '-' ? ' ' : *p;
	if (sscanf(buf, "%d %3s %d", &d, mon, &y) != 3 || (m = io_edf_plus_month(mon)) == 0)
		return 0; /* not a date: nothing to keep */
	return edf_set_birthdate(h, y, m, d);
}

#define IO_EDF_PLUS_SET(field, call)                                                               \
	do {                                                                                       \
		if (spec->field != NULL && spec->field[0] != '\0' && call(h, spec->field) != 0)    \
			return #call;                                                              \
	} while (0)

const char *
io_edf_plus_fields(int h, const struct io_edf_writer_spec *spec)
{
	IO_EDF_PLUS_SET(patient_code, edf_set_patientcode);
	IO_EDF_PLUS_SET(patient_name, edf_set_patientname);
	IO_EDF_PLUS_SET(patient_additional, edf_set_patient_additional);
	IO_EDF_PLUS_SET(admincode, edf_set_admincode);
	IO_EDF_PLUS_SET(technician, edf_set_technician);
	IO_EDF_PLUS_SET(equipment, edf_set_equipment);
	IO_EDF_PLUS_SET(recording_additional, edf_set_recording_additional);
	IO_EDF_PLUS_SET(birthdate, io_edf_plus_birthdate);
	if (spec->gender != NULL && (spec->gender[0] == 'M' || spec->gender[0] == 'm') &&
	    edf_set_gender(h, 1) != 0)
		return "edf_set_gender";
	if (spec->gender != NULL && (spec->gender[0] == 'F' || spec->gender[0] == 'f') &&
	    edf_set_gender(h, 0) != 0)
		return "edf_set_gender";
	return NULL;
}

/* A time in seconds as EDF+ writes it, to the microsecond: "+12.3456", "-0.000001", "+3". */
static void
io_edf_plus_time(char *out, size_t n, double t, bool sign)
{
	long long us = llround(fabs(t) * 1e6);
	int len = snprintf(out, n, "%s%lld.%06lld", t < 0 ? "-" : sign ? "+" : "", us / 1000000,
			   us % 1000000);

	while (len > 0 && out[len - 1] == '0')
		out[--len] = '\0';
	if (len > 0 && out[len - 1] == '.')
		out[--len] = '\0';
}

/* One TAL's onset, duration (or < 0) and its single text; false for the time-keeping TAL and
 * for lists of several texts (left as they are). */
static bool
io_edf_plus_parse(const char *tal, double *onset, double *dur, const char **text, size_t *tlen)
{
	const char *p = strchr(tal, 0x14), *q;

	if (p == NULL)
		return false;
	*onset = strtod(tal, NULL);
	q = memchr(tal, 0x15, (size_t)(p - tal));
	*dur = q != NULL ? strtod(q + 1, NULL) : -1;
	*text = p + 1;
	q = strchr(*text, 0x14);
	if (q == NULL || q == *text || q[1] != '\0')
		return false;
	*tlen = (size_t)(q - *text);
	return true;
}

/* The next unused annotation (from *next on, onsets ascending) that this TAL holds. */
static const struct io_edf_annotation *
io_edf_plus_match(const struct io_edf_annotation *a, size_t n, bool *used, size_t *next,
		  double onset, const char *text, size_t tlen)
{
	while (*next < n && used[*next])
		(*next)++;
	for (size_t k = *next; k < n && a[k].onset <= onset + 2e-4; k++)
		if (!used[k] && fabs(a[k].onset - onset) <= 1.01e-4 &&
		    strncmp(a[k].text, text, tlen) == 0) {
			used[k] = true;
			return &a[k];
		}
	return NULL;
}

/* Rewrite one annotation block (len bytes): false when it did not fit (left unchanged). */
static bool
io_edf_plus_block(char *blk, size_t len, const struct io_edf_annotation *a, size_t n, bool *used,
		  size_t *next, size_t *exact)
{
	char *out = xcalloc(len + 1, 1), on[40], du[40];
	size_t o = 0, found = 0;
	bool fits = true;

	for (size_t i = 0; i < len && blk[i] != '\0' && fits;) {
		size_t tl = strnlen(blk + i, len - i), tlen, need;
		const struct io_edf_annotation *m = NULL;
		double onset, dur;
		const char *text;
		char *tal = xstrndup(blk + i, tl);

		if (io_edf_plus_parse(tal, &onset, &dur, &text, &tlen))
			m = io_edf_plus_match(a, n, used, next, onset, text, tlen);
		if (m != NULL) {
			io_edf_plus_time(on, sizeof on, m->onset, true);
			io_edf_plus_time(du, sizeof du, m->duration, false);
			need = strlen(on) + (m->duration >= 0 ? strlen(du) + 1 : 0) + tlen + 3;
			fits = o + need <= len;
			if (fits)
				o += (size_t)sprintf(out + o, "%s%s%s\x14%.*s\x14", on,
						     m->duration >= 0 ? "\x15" : "",
						     m->duration >= 0 ? du : "", (int)tlen, text) +
				     1; /* and the NUL that ends a TAL */
			found++;
		} else {
			fits = o + tl + 1 <= len;
			if (fits) {
				memcpy(out + o, tal, tl);
				o += tl + 1;
			}
		}
		free(tal);
		i += tl + 1;
	}
	if (fits) {
		memcpy(blk, out, len);
		*exact += found;
	}
	free(out);
	return fits;
}

/* Where the annotation signals are in each data record, from the raw header. */
struct io_edf_plus_layout {
	long long hdr_bytes, records, rec_bytes;
	size_t nblocks;
	long long off[64], len[64];
};

static int
io_edf_plus_layout(FILE *fp, struct io_edf_plus_layout *l)
{
	char fixed[256], *sig;
	long long ns, pos = 0;
	int bps, rc = -EINVAL;

	if (fread(fixed, 1, 256, fp) != 256)
		return -EIO;
	bps = (unsigned char)fixed[0] == 0xff ? 3 : 2;
	l->hdr_bytes = io_edf_raw_field(fixed + 184, 8);
	l->records = io_edf_raw_field(fixed + 236, 8);
	ns = io_edf_raw_field(fixed + 252, 4);
	if (ns <= 0 || ns > 4096 || l->hdr_bytes != 256 * (ns + 1) || l->records <= 0)
		return -EINVAL;
	sig = xmalloc((size_t)ns * 256);
	l->nblocks = 0;
	if (fread(sig, 1, (size_t)ns * 256, fp) == (size_t)ns * 256) {
		rc = 0;
		for (long long s = 0; s < ns && rc == 0; s++) {
			long long spr = io_edf_raw_field(sig + ns * 216 + s * 8, 8);
			bool annot = strncmp(sig + s * 16 + 1, "DF Annotations", 14) == 0;

			if (spr <= 0 || (annot && l->nblocks == 64))
				rc = -EINVAL;
			else if (annot) {
				l->off[l->nblocks] = pos;
				l->len[l->nblocks++] = spr * bps;
			}
			pos += spr * bps;
		}
	}
	l->rec_bytes = pos;
	free(sig);
	return rc;
}

int
io_edf_plus_exact_onsets(const char *path, const struct io_edf_annotation *a, size_t n,
			 char **cause)
{
	struct io_edf_plus_layout l = {0};
	FILE *fp = fopen(path, "r+b");
	bool *used = xcalloc(n + 1, sizeof *used);
	size_t next = 0, exact = 0, tight = 0;
	char *blk = NULL;
	int rc = fp == NULL ? -errno : io_edf_plus_layout(fp, &l);

	for (long long r = 0; rc == 0 && r < l.records && next < n; r++)
		for (size_t b = 0; rc == 0 && b < l.nblocks; b++) {
			long long at = l.hdr_bytes + r * l.rec_bytes + l.off[b];

			blk = xrealloc(blk, (size_t)l.len[b]);
			if (fseeko(fp, at, SEEK_SET) != 0 ||
			    fread(blk, 1, (size_t)l.len[b], fp) != (size_t)l.len[b])
				rc = -EIO;
			else if (!io_edf_plus_block(blk, (size_t)l.len[b], a, n, used, &next,
						    &exact))
				tight++;
			else if (fseeko(fp, at, SEEK_SET) != 0 ||
				 fwrite(blk, 1, (size_t)l.len[b], fp) != (size_t)l.len[b])
				rc = -EIO;
		}
	if (fp != NULL && fclose(fp) != 0 && rc == 0)
		rc = -errno;
	free(blk);
	free(used);
	if (rc != 0)
		return error_set(cause, rc, "%s: writing the annotation onsets to the microsecond: "
				 "%s", path, strerror(-rc));
	if (exact < n)
		log_warn("%s: %zu of %zu annotation onsets are rounded to 100 µs (%zu annotation "
			 "blocks had no room)", path, n - exact, n, tight);
	return 0;
}
