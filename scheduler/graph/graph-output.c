/* The rules every output path obeys, for every input kind: `"overwrite": true` in the pipeline's
 * output (taken out before the input kind validates the rest), never the input itself (the same
 * file by any name: path, symlink or hard link), and no existing file replaced unless the
 * pipeline or the command line (--overwrite) says so, as MNE does. */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/error.h"
#include "common/xmalloc.h"
#include "scheduler/graph/graph.h"

int
graph_output_take_overwrite(struct graph *g, json_t *root, char **cause)
{
	json_t *o = json_object_get(root, "output"), *v;

	if (!json_is_object(o) || (v = json_object_get(o, "overwrite")) == NULL)
		return 0;
	if (!json_is_boolean(v))
		return error_set(cause, -EINVAL, "output.overwrite: must be true or false");
	g->overwrite = json_is_true(v);
	json_object_del(o, "overwrite");
	return 0;
}

const char *
graph_output_path(const struct graph *g)
{
	return json_string_value(json_object_get(json_object_get(g->pipeline, "output"), "path"));
}

const char *
graph_input_path(const struct graph *g)
{
	return json_string_value(json_object_get(json_object_get(g->pipeline, "input"), "path"));
}

char *
graph_output_canonical(const char *path)
{
	char buf[PATH_MAX], *dup = xstrdup(path), *dup2 = xstrdup(path), *out;

	if (realpath(path, buf) != NULL)
		out = xstrdup(buf);
	else if (realpath(dirname(dup), buf) != NULL)
		out = xasprintf("%s/%s", buf, basename(dup2));
	else
		out = xstrdup(path);
	free(dup);
	free(dup2);
	return out;
}

bool
graph_output_same_file(const char *a, const char *b)
{
	struct stat sa, sb;
	char *ca, *cb;
	bool same;

	if (stat(a, &sa) == 0 && stat(b, &sb) == 0)
		return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
	ca = graph_output_canonical(a);
	cb = graph_output_canonical(b);
	same = strcmp(ca, cb) == 0;
	free(ca);
	free(cb);
	return same;
}

/* The folder the output goes into exists and may be written, so a job does not compute for
 * nothing (the export would fail at the end). */
static int
graph_output_dir_writable(const char *out, char **cause)
{
	const char *slash = strrchr(out, '/');
	char *dir = slash == NULL ? xstrdup(".") : xstrndup(out, slash == out ? 1 : slash - out);
	struct stat st;
	int rc = 0;

	if (stat(dir, &st) != 0)
		rc = error_set(cause, -EINVAL, "output.path: %s: folder %s: %s", out, dir,
			       strerror(errno));
	else if (!S_ISDIR(st.st_mode))
		rc = error_set(cause, -ENOTDIR, "output.path: %s: %s is not a folder", out, dir);
	else if (access(dir, W_OK | X_OK) != 0)
		rc = error_set(cause, -EINVAL, "output.path: %s: cannot write in %s: %s", out, dir,
			       strerror(errno));
	free(dir);
	return rc;
}

int
graph_check_output(const struct graph *g, bool overwrite, char **cause)
{
	const char *out = graph_output_path(g), *in = graph_input_path(g);
	struct stat st;

	if (out == NULL)
		return 0;
	if (in != NULL && graph_output_same_file(in, out))
		return error_set(
		    cause, -EINVAL,
		    "output.path: %s is the input: neurodag never overwrites its input", out);
	if (!overwrite && !g->overwrite && lstat(out, &st) == 0)
		return error_set(cause, -EINVAL,
				 "output.path: %s exists; give --overwrite (or \"overwrite\": true "
				 "in the pipeline's output) to replace it",
				 out);
	return graph_output_dir_writable(out, cause);
}
