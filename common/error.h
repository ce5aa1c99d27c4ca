/* The error convention: functions return 0 or -errno, and explain a failure through an optional
 * `char **cause` (a heap string the caller frees) built where the failure happens. */
#ifndef ND_ERROR_H
#define ND_ERROR_H

/* Set *cause (if cause is not NULL and *cause is NULL) to the formatted message; return rc.
 * A cause already set is kept: the innermost failure explains best. */
int error_set(char **cause, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Prefix an existing cause with context ("step 3 (aas): " + cause). Returns rc. */
int error_wrap(char **cause, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
