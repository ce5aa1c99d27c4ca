/* The .vmrk of a BrainVision recording: each Mk<n>=Type,Description,Position,Size,Channel[,Date]
 * becomes an annotation "Type/Description" at (Position − 1)/fs lasting Size/fs, as MNE names
 * them; the first New Segment's date gives the start of the recording. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/error.h"
#include "common/xmalloc.h"
#include "worker/io/rec/io-brainvision.h"

static int
io_brainvision_markers_whole(const char *s, long long *out)
{
	char *end;

	errno = 0;
	*out = strtoll(s, &end, 10);
	return errno == 0 && end != s && *end == '\0' ? 0 : -EINVAL;
}

/* YYYYMMDDhhmmss followed by microseconds; all zeros means no date. */
static void
io_brainvision_markers_date(const char *s, struct io_rec_header *h)
{
	int y, mo, d, hh, mi, ss;

	if (h->start_year != 0 || strlen(s) < 14 || strspn(s, "0123456789") < 14 ||
	    sscanf(s, "%4d%2d%2d%2d%2d%2d", &y, &mo, &d, &hh, &mi, &ss) != 6)
		return;
	if (y < 1900 || mo < 1 || mo > 12 || d < 1 || d > 31 || hh > 23 || mi > 59 || ss > 60)
		return;
	h->start_year = y;
	h->start_month = mo;
	h->start_day = d;
	h->start_hour = hh;
	h->start_minute = mi;
	h->start_second = ss > 59 ? 59 : ss;
}

static int
io_brainvision_markers_one(const struct io_brainvision_ini *ini,
			   const struct io_brainvision_entry *e, double fs, size_t n_samples,
			   struct io_rec_header *h, char **cause)
{
	char *v = xstrdup(e->value), *f[6] = {"", "", "", "", "", ""};
	size_t nf = io_brainvision_ini_split(v, f, 6);
	long long pos = 0, size = 0;
	struct io_rec_annotation *a;
	int rc = 0;

	if (nf < 3 || io_brainvision_markers_whole(f[2], &pos) != 0)
		rc = error_set(cause, -EINVAL,
			       "%s: line %d: %s: expected Type,Description,Position,Size,Channel "
			       "with a whole-number position",
			       ini->path, e->line, e->key);
	else if (pos < 1 || (unsigned long long)pos > n_samples)
		rc = error_set(cause, -EINVAL,
			       "%s: line %d: %s: position %lld is outside the recording's %zu "
			       "samples (positions count from 1)",
			       ini->path, e->line, e->key, pos, n_samples);
	else if (f[3][0] != '\0' && (io_brainvision_markers_whole(f[3], &size) != 0 || size < 0))
		rc = error_set(cause, -EINVAL,
			       "%s: line %d: %s: size \"%.40s\" is not a whole number of samples",
			       ini->path, e->line, e->key, f[3]);
	if (rc == 0) {
		if (strcasecmp(f[0], "New Segment") == 0 && nf >= 6)
			io_brainvision_markers_date(f[5], h);
		h->annotations =
		    xreallocarray(h->annotations, h->n_annotations + 1, sizeof *h->annotations);
		a = &h->annotations[h->n_annotations++];
		a->onset = (double)(pos - 1) / fs;
		a->duration = (double)size / fs;
		a->text = xasprintf("%s/%s", f[0], f[1]);
	}
	free(v);
	return rc;
}

int
io_brainvision_markers_read(const char *path, double fs, size_t n_samples, struct io_rec_header *h,
			    char **cause)
{
	struct io_brainvision_ini ini;
	int rc = io_brainvision_ini_load(path, "Marker", &ini, cause);

	for (size_t i = 0; rc == 0 && i < ini.n; i++) {
		const struct io_brainvision_entry *e = &ini.e[i];
		char *end;

		if (strcasecmp(e->section, "Marker Infos") != 0)
			continue;
		if (strncasecmp(e->key, "Mk", 2) != 0 || strtoul(e->key + 2, &end, 10) == 0 ||
		    *end != '\0')
			rc = error_set(cause, -EINVAL,
				       "%s: line %d: [Marker Infos] %s: expected Mk<number>", path,
				       e->line, e->key);
		else
			rc = io_brainvision_markers_one(&ini, e, fs, n_samples, h, cause);
	}
	io_brainvision_ini_fini(&ini);
	return rc;
}
