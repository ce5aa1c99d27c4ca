/* The files of a unit task's part: their base name "<workdir>/s<stage>-u<index>", and the .json
 * describing the output container, written atomically and read back, with its label lists;
 * the parts stitched into the container. */
#include "worker/ops/trial/data/trial-part.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/paths.h"
#include "common/xmalloc.h"
#include "worker/io/io-spy-stitch.h"
#include "worker/io/io-spy-writer.h"

char *
trial_part_base(const char *workdir, int stage, uint32_t index)
{
	return xasprintf("%s/s%d-u%u", workdir, stage, index);
}

int
trial_part_json(const json_t *d, const char *base, char **cause)
{
	char *path = xasprintf("%s.json", base);
	int rc = paths_publish_json(d, path, JSON_COMPACT, PATHS_WORK_FILE, cause);

	free(path);
	return rc;
}

int
trial_part_load_json(const char *base, json_t **out, char **cause)
{
	char *path = xasprintf("%s.json", base);
	json_error_t jerr;

	*out = json_load_file(path, 0, &jerr);
	if (*out == NULL) {
		error_set(cause, -ENOENT, "cannot read the part description %s: %s", path,
			  jerr.text);
		free(path);
		return -ENOENT;
	}
	free(path);
	return 0;
}

char **
trial_part_files(const char *workdir, int stage, uint32_t nparts, size_t *n)
{
	char **parts = xcalloc(nparts + 1, sizeof *parts);

	*n = 0;
	for (uint32_t u = 0; u < nparts; u++) {
		char *b = trial_part_base(workdir, stage, u);
		json_t *d = NULL;
		if (trial_part_load_json(b, &d, NULL) != 0 ||
		    !json_is_true(json_object_get(d, "empty")))
			parts[(*n)++] = xasprintf("%s.h5", b); /* a missing one is reported later */
		json_decref(d);
		free(b);
	}
	return parts;
}

char **
trial_part_strings(const json_t *a, size_t *n)
{
	char **v;

	*n = json_array_size(a);
	v = xcalloc(*n + 1, sizeof *v);
	for (size_t i = 0; i < *n; i++) {
		const char *s = json_string_value(json_array_get(a, i));
		v[i] = xstrdup(s != NULL ? s : "");
	}
	return v;
}

void
trial_part_strings_free(char **v, size_t n)
{
	for (size_t i = 0; v != NULL && i < n; i++)
		free(v[i]);
	free(v);
}

double *
trial_part_numbers(const json_t *a, size_t *n)
{
	double *v;

	*n = json_array_size(a);
	v = xcalloc(*n + 1, sizeof *v);
	for (size_t i = 0; i < *n; i++)
		v[i] = json_number_value(json_array_get(a, i));
	return v;
}

double *
trial_part_trl(const json_t *trl, size_t *rows, size_t *cols)
{
	double *v;

	*rows = json_array_size(trl);
	*cols = json_array_size(json_array_get(trl, 0));
	v = xcalloc(*rows * *cols + 1, sizeof *v);
	for (size_t i = 0; i < *rows; i++)
		for (size_t c = 0; c < *cols; c++)
			v[i * *cols + c] =
			    json_number_value(json_array_get(json_array_get(trl, i), c));
	return v;
}

int
trial_part_stitch(const char *workdir, int stage, uint32_t nparts, const struct io_spy_meta *m,
		  const char *h5, char **cause)
{
	size_t n = 0;
	char **parts = trial_part_files(workdir, stage, nparts, &n);
	struct io_spy_file *f = NULL;
	int rc;

	rc = io_spy_create(&f, h5, m, cause);
	if (rc == 0)
		rc = io_spy_stitch_parts(f, (const char *const *)parts, n, cause);
	if (rc == 0) {
		rc = io_spy_close(f, cause);
		f = NULL;
	}
	io_spy_discard(f);
	for (size_t u = 0; u < n; u++)
		free(parts[u]);
	free(parts);
	return rc;
}
