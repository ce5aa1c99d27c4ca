/* Filesystem helpers: the default state directory, making directories, absolute paths, the hidden
 * temporary name an output is written under and the publishing of it under its own name. */
#ifndef ND_PATHS_H
#define ND_PATHS_H

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

/* $NEURODAG_STATE_DIR, else $XDG_STATE_HOME/neurodag, else ~/.local/state/neurodag. */
char *paths_default_state_dir(void);
/* mkdir -p with the given mode; 0 or -errno with a cause naming the directory. */
int paths_mkdirs(const char *dir, int mode, char **cause);
/* An absolute version of path (relative to the current directory). Caller frees. */
char *paths_absolute(const char *path);
/* DIR/.NAME.tmpPID for the output DIR/NAME (trailing slashes dropped), with ".EXT" when ext is
 * not NULL: the name an output is written under before its rename, the one the scheduler
 * removes when an export was interrupted. Caller frees. */
char *paths_hidden_temp(const char *path, const char *ext);
/* How paths_publish puts a file in place. A user's output is flushed to disk (the file, then
 * its directory after the rename), so that it is its old self or the whole new file also after
 * a power loss. A file in a job's work directory is only renamed: the state that names it is
 * committed with SQLite's synchronous=NORMAL, which holds against a crash of the process, not of
 * the machine, and a flush per part file would cost more than the task on short tasks. */
enum paths_publish_mode { PATHS_WORK_FILE, PATHS_OUTPUT };
/* rc, marked permanent (error_permanent) when it is a user's output (PATHS_OUTPUT) failing for
 * want of space: ENOSPC, EDQUOT or EFBIG. Another attempt on another worker writes to the same
 * full disk. A job's work files (PATHS_WORK_FILE) are in the scheduler's state dir, which it
 * watches and frees (retention): their failure is left to be retried. */
int paths_output_failure(int rc, enum paths_publish_mode mode);
/* Finish a file written under tmp (paths_hidden_temp): when rc is 0, rename it to path (with
 * the flushes of `mode`), so that path is either its old self or the whole new file; when rc is
 * not 0 or a step fails, remove tmp. An existing path is replaced: whether it may be (never the
 * input; an existing output only with --overwrite) is decided when the job is submitted.
 * Returns rc, or the step's -errno with a cause naming the file, through
 * paths_output_failure. No ownership is transferred. */
int paths_publish(const char *tmp, const char *path, int rc, enum paths_publish_mode mode,
		  char **cause);
/* paths_publish for a user's output that is a directory (a .spy container), written whole
 * under tmp (paths_hidden_temp of path): when rc is 0, flush the files in tmp and tmp, rename
 * it to path, flush path's directory; an existing path is replaced as a whole (exchanged with
 * tmp in one rename, then removed), so that path is its old self or the whole new directory.
 * When rc is not 0 or a step fails, remove tmp and its files. Returns rc or the step's -errno
 * with a cause naming the directory, through paths_output_failure. */
int paths_publish_tree(const char *tmp, const char *path, int rc, char **cause);
/* Close fp, a stream writing the file for path: 0, or -errno (ENOSPC when the disk is full; EIO
 * when the system gave no reason) with a cause naming path. */
int paths_close_stream(FILE *fp, const char *path, char **cause);
/* Write the JSON document v (json_dumpf flags) to path through a hidden temporary file and
 * paths_publish. 0 or -errno (ENOSPC when the disk is full) with a cause naming path. */
int paths_publish_json(const json_t *v, const char *path, size_t flags,
		       enum paths_publish_mode mode, char **cause);
/* Recursively remove a directory tree (best effort). */
void paths_remove_tree(const char *dir);

#endif
