/* The .spy container's directory: its name and its data file's name, and building it under a
 * hidden temporary directory beside the destination that is published whole or not at all. */
#include "worker/io/io-spy-writer.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/error.h"
#include "common/paths.h"
#include "common/xmalloc.h"
/* The container's directory "dir/name.spy" (".spy" added if missing, trailing slashes
 * dropped) and its data file's name "name.<ext>". Caller frees both. */
static void
io_spy_container_names(const char *container, enum io_spy_class dataclass, char **dir,
		       char **file)
{
	size_t len = strlen(container);
	const char *slash, *base;

	while (len > 1 && container[len - 1] == '/')
		len--;
	if (len >= 4 && strncmp(container + len - 4, ".spy", 4) == 0)
		*dir = xstrndup(container, len);
	else
		*dir = xasprintf("%.*s.spy", (int)len, container);
	slash = strrchr(*dir, '/');
	base = slash != NULL ? slash + 1 : *dir;
	*file = xasprintf("%.*s.%s", (int)(strlen(base) - 4), base, io_spy_class_ext(dataclass));
}

int
io_spy_container_prepare(const char *container, enum io_spy_class dataclass, char **path,
			 char **cause)
{
	char *dir, *file;
	int rc = 0;

	io_spy_container_names(container, dataclass, &dir, &file);
	if (mkdir(dir, 0777) != 0 && errno != EEXIST)
		rc = error_set(cause, -errno, "cannot create %s: %s", dir, strerror(errno));
	*path = rc == 0 ? xasprintf("%s/%s", dir, file) : NULL;
	free(file);
	free(dir);
	return rc;
}

int
io_spy_container_begin(struct io_spy_container *c, const char *container,
		       enum io_spy_class dataclass, const char *tmpdir, char **cause)
{
	char *file;
	int rc = 0;

	io_spy_container_names(container, dataclass, &c->dir, &file);
	c->tmpdir = tmpdir != NULL ? xstrdup(tmpdir) : paths_hidden_temp(c->dir, NULL);
	c->path = xasprintf("%s/%s", c->dir, file);
	c->tmp = xasprintf("%s/%s", c->tmpdir, file);
	free(file);
	if (mkdir(c->tmpdir, 0777) != 0 && errno != EEXIST)
		rc = error_set(cause, paths_output_failure(-errno, PATHS_OUTPUT),
			       "cannot create %s: %s", c->tmpdir, strerror(errno));
	if (rc != 0)
		io_spy_container_fini(c);
	return rc;
}

int
io_spy_container_publish(struct io_spy_container *c, int rc, char **cause)
{
	return paths_publish_tree(c->tmpdir, c->dir, rc, cause);
}

void
io_spy_container_fini(struct io_spy_container *c)
{
	free(c->dir);
	free(c->tmpdir);
	free(c->path);
	free(c->tmp);
	memset(c, 0, sizeof *c);
}
