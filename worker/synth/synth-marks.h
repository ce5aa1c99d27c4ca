/* Which slice triggers of a synthetic recording get an annotation, as trigger cables and
 * scanners deliver them: every slice, only the first slice of each volume, and with some of
 * them missing (a few runs of three and single ones). */
#ifndef ND_SYNTH_MARKS_H
#define ND_SYNTH_MARKS_H

#include <stddef.h>
#include <stdint.h>

struct synth_marks_params {
	double drop_percent; /* share of the marks left out, in runs of 3 and singles (0: none) */
	int volumes_only;    /* mark only the first slice of each volume */
	uint64_t seed;
};

/* keep[i] = 1 when trigger i of n (slices per volume `slices`) is annotated, 0 when it is not.
 * The dropped marks total round(drop_percent · marks / 100), alternating runs of three and
 * single marks at seeded random places, with at least two kept marks between runs.
 * Returns 0 or -EINVAL (too many to drop). */
int synth_marks_choose(const struct synth_marks_params *p, size_t n, unsigned slices,
		       unsigned char *keep, char **cause);

#endif
