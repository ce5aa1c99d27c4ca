/* Filesystem helpers: the default state directory, making directories, absolute paths, the hidden
 * temporary name an output is written under. */
#ifndef ND_PATHS_H
#define ND_PATHS_H

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
/* Recursively remove a directory tree (best effort). */
void paths_remove_tree(const char *dir);

#endif
