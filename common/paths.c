/* Default locations and directory handling shared by the daemons and the CLI. */
#define _XOPEN_SOURCE 700
#include "common/paths.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/error.h"
#include "common/xmalloc.h"

char *
paths_default_state_dir(void)
{
	const char *env = getenv("NEURODAG_STATE_DIR"), *xdg = getenv("XDG_STATE_HOME");
	const char *home = getenv("HOME");

	if (env != NULL && *env != '\0')
		return xstrdup(env);
	if (xdg != NULL && *xdg != '\0')
		return xasprintf("%s/neurodag", xdg);
	return xasprintf("%s/.local/state/neurodag", home != NULL ? home : "/tmp");
}

int
paths_mkdirs(const char *dir, int mode, char **cause)
{
	char *p = xstrdup(dir);
	int rc = 0;

	for (char *s = p + 1;; s++) {
		char c = *s;
		if (c != '/' && c != '\0')
			continue;
		*s = '\0';
		if (mkdir(p, (mode_t)mode) != 0 && errno != EEXIST) {
			rc = error_set(cause, -errno, "cannot create the directory %s: %s", p,
				       strerror(errno));
			break;
		}
		*s = c;
		if (c == '\0')
			break;
	}
	if (rc == 0) {
		struct stat st;
		if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
			rc = error_set(cause, -ENOTDIR, "%s is not a directory", dir);
		else if (access(dir, W_OK) != 0)
			rc = error_set(cause, -EACCES, "the directory %s is not writable", dir);
	}
	free(p);
	return rc;
}

char *
paths_absolute(const char *path)
{
	char cwd[PATH_MAX];

	if (path[0] == '/' || getcwd(cwd, sizeof cwd) == NULL)
		return xstrdup(path);
	return xasprintf("%s/%s", cwd, path);
}

static int
paths_remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	remove(path);
	return 0;
}

void
paths_remove_tree(const char *dir)
{
	nftw(dir, paths_remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

char *
paths_hidden_temp(const char *path, const char *ext)
{
	size_t n = strlen(path), dir;
	const char *slash;

	while (n > 1 && path[n - 1] == '/')
		n--;
	slash = memrchr(path, '/', n);
	dir = slash != NULL ? (size_t)(slash - path) + 1 : 0;
	return xasprintf("%.*s.%.*s.tmp%d%s%s", (int)dir, path, (int)(n - dir), path + dir,
			 (int)getpid(), ext != NULL ? "." : "", ext != NULL ? ext : "");
}
