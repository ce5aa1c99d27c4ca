/* Default locations and directory handling shared by the daemons and the CLI, and files put in
 * place whole (written under a hidden name, renamed; a user's output flushed to disk). */
#define _XOPEN_SOURCE 700
#include "common/paths.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
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

/* fsync the file or directory at path. */
static int
paths_sync(const char *path, int flags, char **cause)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | flags), rc = 0;

	if (fd < 0)
		return error_set(cause, -errno, "cannot open %s: %s", path, strerror(errno));
	if (fsync(fd) != 0 && errno != EINVAL) /* EINVAL: a file system without fsync */
		rc = error_set(cause, -errno, "cannot flush %s to disk: %s", path,
			       strerror(errno));
	close(fd);
	return rc;
}

int
paths_output_failure(int rc, enum paths_publish_mode mode)
{
	int e = -error_errno(rc);

	if (mode == PATHS_OUTPUT && (e == ENOSPC || e == EDQUOT || e == EFBIG))
		return error_permanent(rc);
	return rc;
}

int
paths_publish(const char *tmp, const char *path, int rc, enum paths_publish_mode mode,
	      char **cause)
{
	const char *slash = strrchr(path, '/');
	char *dir;

	if (rc == 0 && mode == PATHS_OUTPUT)
		rc = paths_sync(tmp, 0, cause);
	if (rc == 0 && rename(tmp, path) != 0)
		rc = error_set(cause, -errno, "cannot rename %s to %s: %s", tmp, path,
			       strerror(errno));
	if (rc != 0) {
		unlink(tmp);
		return paths_output_failure(rc, mode);
	}
	if (mode != PATHS_OUTPUT)
		return 0;
	dir = slash == NULL ? xstrdup(".") : xasprintf("%.*s", (int)(slash - path + 1), path);
	rc = paths_sync(dir, O_DIRECTORY, cause);
	free(dir);
	return paths_output_failure(rc, mode);
}

/* fsync each regular file in the directory dir (not below), then dir itself. */
static int
paths_sync_dir_files(const char *dir, char **cause)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int rc = 0;

	if (d == NULL)
		return error_set(cause, -errno, "cannot open %s: %s", dir, strerror(errno));
	while (rc == 0 && (e = readdir(d)) != NULL) {
		char *file;
		if (e->d_type != DT_REG && e->d_type != DT_UNKNOWN)
			continue;
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		file = xasprintf("%s/%s", dir, e->d_name);
		rc = paths_sync(file, O_NOFOLLOW, cause);
		free(file);
	}
	closedir(d);
	return rc == 0 ? paths_sync(dir, O_DIRECTORY, cause) : rc;
}

/* Put the directory tmp in the place of the existing path: exchanged with it in one step, then
 * the old tree (now under tmp) removed. Where the file system cannot exchange, the old tree is
 * first renamed aside (tmp's name with ".old", which the scheduler's sweep also removes). */
static int
paths_replace_tree(const char *tmp, const char *path, char **cause)
{
	char *aside;
	int rc = 0;

	if (renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_EXCHANGE) == 0) {
		paths_remove_tree(tmp);
		return 0;
	}
	if (errno != EINVAL && errno != ENOSYS)
		return error_set(cause, -errno, "cannot replace %s by %s: %s", path, tmp,
				 strerror(errno));
	aside = xasprintf("%s.old", tmp);
	if (rename(path, aside) != 0)
		rc = error_set(cause, -errno, "cannot rename %s to %s: %s", path, aside,
			       strerror(errno));
	else if (rename(tmp, path) != 0)
		rc = error_set(cause, -errno, "cannot rename %s to %s: %s", tmp, path,
			       strerror(errno));
	if (rc == 0)
		paths_remove_tree(aside);
	else if (access(aside, F_OK) == 0)
		rename(aside, path); /* the old output back in place */
	free(aside);
	return rc;
}

int
paths_publish_tree(const char *tmp, const char *path, int rc, char **cause)
{
	const char *slash = strrchr(path, '/');
	char *dir;

	if (rc == 0)
		rc = paths_sync_dir_files(tmp, cause);
	if (rc == 0 && rename(tmp, path) != 0) {
		if (errno == EEXIST || errno == ENOTEMPTY || errno == ENOTDIR || errno == EISDIR)
			rc = paths_replace_tree(tmp, path, cause);
		else
			rc = error_set(cause, -errno, "cannot rename %s to %s: %s", tmp, path,
				       strerror(errno));
	}
	if (rc != 0) {
		paths_remove_tree(tmp);
		return paths_output_failure(rc, PATHS_OUTPUT);
	}
	dir = slash == NULL ? xstrdup(".") : xasprintf("%.*s", (int)(slash - path + 1), path);
	rc = paths_sync(dir, O_DIRECTORY, cause);
	free(dir);
	return paths_output_failure(rc, PATHS_OUTPUT);
}

int
paths_close_stream(FILE *fp, const char *path, char **cause)
{
	int err = ferror(fp) ? (errno != 0 ? errno : EIO) : 0;

	if (fclose(fp) != 0 && err == 0)
		err = errno != 0 ? errno : EIO;
	if (err == 0)
		return 0;
	return error_set(cause, -err, "cannot write %s: %s", path, strerror(err));
}

int
paths_publish_json(const json_t *v, const char *path, size_t flags,
		   enum paths_publish_mode mode, char **cause)
{
	char *tmp = paths_hidden_temp(path, NULL);
	FILE *fp = fopen(tmp, "w");
	int rc = 0;

	if (fp == NULL) {
		rc = error_set(cause, -errno, "cannot create %s: %s", tmp, strerror(errno));
		free(tmp);
		return paths_output_failure(rc, mode);
	}
	errno = 0;
	json_dumpf(v, fp, flags);
	rc = paths_close_stream(fp, path, cause);
	rc = paths_publish(tmp, path, rc, mode, cause);
	free(tmp);
	return rc;
}
