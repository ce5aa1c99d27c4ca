/* The error convention: functions return 0 or -errno, and explain a failure through an optional
 * `char **cause` (a heap string the caller frees) built where the failure happens. */
#ifndef ND_ERROR_H
#define ND_ERROR_H

#include <stdbool.h>

/* Set *cause (if cause is not NULL and *cause is NULL) to the formatted message; return rc.
 * A cause already set is kept: the innermost failure explains best. */
int error_set(char **cause, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Prefix an existing cause with context ("step 3 (aas): " + cause). Returns rc. */
int error_wrap(char **cause, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* A failure its writer knows another attempt cannot fix, whatever its errno says elsewhere (the
 * user's output disk is full: ENOSPC there does not heal by running the task again, ENOSPC in a
 * job's work directory may): -(errno | ERROR_PERMANENT), above every errno (< 4096). Callers
 * pass it up unchanged; error_errno gives the errno back, error_is_permanent tells it apart. */
#define ERROR_PERMANENT 0x10000
static inline int
error_permanent(int rc)
{
	return rc < 0 ? -((-rc) | ERROR_PERMANENT) : rc;
}
static inline bool
error_is_permanent(int rc)
{
	return rc < 0 && ((-rc) & ERROR_PERMANENT) != 0;
}
static inline int
error_errno(int rc)
{
	return rc < 0 ? -((-rc) & ~ERROR_PERMANENT) : rc;
}

#endif
