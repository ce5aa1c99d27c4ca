/* The files of a unit task's part (trial-part.c). */
#ifndef ND_TRIAL_PART_H
#define ND_TRIAL_PART_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "worker/io/io-spy.h"

/* The parts' files: "<workdir>/s<stage>-u<index>" (caller frees), and their .json description
 * written atomically or read back (*out: a new reference). */
char *trial_part_base(const char *workdir, int stage, uint32_t index);
int trial_part_json(const json_t *d, const char *base, char **cause);
int trial_part_load_json(const char *base, json_t **out, char **cause);
/* The .h5 part files of stage `stage`'s nparts tasks, without the ones a selection left empty
 * ("empty" in their description): *n paths, caller frees each and the array. */
char **trial_part_files(const char *workdir, int stage, uint32_t nparts, size_t *n);
/* Write the container data file h5 of `m` from those part files, and close it (.info beside).
 * The caller holds the HDF5 lock (trial_run_h5_lock). */
int trial_part_stitch(const char *workdir, int stage, uint32_t nparts, const struct io_spy_meta *m,
		      const char *h5, char **cause);

/* The strings of a JSON array (labels; "" for anything else), NULL-terminated, *n of them; and
 * their release (accepts NULL). */
char **trial_part_strings(const json_t *a, size_t *n);
void trial_part_strings_free(char **v, size_t n);
/* The numbers of a JSON array (0 for anything else), *n of them (caller frees). */
double *trial_part_numbers(const json_t *a, size_t *n);
/* A trial definition, a JSON array of rows: rows x cols numbers row-major, cols from the first
 * row (caller frees). */
double *trial_part_trl(const json_t *trl, size_t *rows, size_t *cols);

#endif
