/* Head motion for the motion-informed AAS weighting: an SPM realignment-parameters file
 * (rp_*.txt) read into a displacement per volume. */
#ifndef ND_REC_MOTION_H
#define ND_REC_MOTION_H

#include <stddef.h>

/* A path given relative to the input recording's directory (absolute paths stay). Caller
 * frees. */
char *rec_motion_path(const char *input, const char *path);

/* Read `path`: one line per volume, six numbers (x, y, z translations in mm, pitch, roll, yaw
 * in radians, as SPM writes them; blank lines and lines starting with '#' skipped). On success
 * *motion (n values, caller frees) holds each volume's framewise displacement from the one
 * before, |Δx| + |Δy| + |Δz| + 50 mm·(|Δpitch| + |Δroll| + |Δyaw|) (Power et al. 2012), 0 for
 * the first. Errors name the file and the line. */
int rec_motion_read(const char *path, double **motion, size_t *n, char **cause);

#endif
