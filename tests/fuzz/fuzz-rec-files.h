/* For the recording-reader fuzz targets: one input holds several files (a header, markers,
 * samples) separated by FUZZ_REC_SEP; they are written under fixed names into a private
 * directory (in /dev/shm when there is one) that the reader is pointed at. */
#ifndef ND_FUZZ_REC_FILES_H
#define ND_FUZZ_REC_FILES_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FUZZ_REC_SEP "\n--nd-fuzz-part--\n"

static char fuzz_rec_dir[64];

static const char *
fuzz_rec_path(const char *name)
{
	static char buf[4][128];
	static int next;
	char *p = buf[next++ % 4];

	if (fuzz_rec_dir[0] == '\0') {
		snprintf(fuzz_rec_dir, sizeof fuzz_rec_dir, "%s/nd-fuzz-rec-XXXXXX",
			 access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
		if (mkdtemp(fuzz_rec_dir) == NULL)
			abort();
	}
	snprintf(p, sizeof buf[0], "%s/%s", fuzz_rec_dir, name);
	return p;
}

/* Write part i of the input (the whole input past the last separator for the last name) to
 * each names[i]; a missing part leaves its file removed. */
static void
fuzz_rec_write(const uint8_t *data, size_t size, const char *const *names, size_t n)
{
	size_t sep = strlen(FUZZ_REC_SEP);

	for (size_t i = 0; i < n; i++) {
		const uint8_t *end =
		    data != NULL && size > 0 ? memmem(data, size, FUZZ_REC_SEP, sep) : NULL;
		size_t len = end != NULL && i + 1 < n ? (size_t)(end - data) : size;
		const char *path = fuzz_rec_path(names[i]);
		FILE *fp;

		unlink(path);
		if (data == NULL)
			continue;
		if ((fp = fopen(path, "wb")) == NULL)
			abort();
		if (len > 0 && fwrite(data, 1, len, fp) != len)
			abort();
		fclose(fp);
		if (end != NULL && i + 1 < n) {
			size -= len + sep;
			data = end + sep;
		} else {
			data = NULL;
		}
	}
}

#endif
