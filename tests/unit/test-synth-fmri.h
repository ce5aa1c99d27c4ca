/* What the two synthetic-recording test programs share: a generator made or the test fails, and
 * one part (recording, clean, artifact) of one channel read whole. */
#ifndef ND_TEST_SYNTH_FMRI_H
#define ND_TEST_SYNTH_FMRI_H

#include <criterion/criterion.h>
#include <stdlib.h>

#include "worker/synth/synth-fmri.h"

static inline struct synth_fmri *
make(const struct synth_fmri_params *p)
{
	struct synth_fmri *s = NULL;
	char *cause = NULL;

	cr_assert_eq(synth_fmri_new(p, &s, &cause), 0, "%s", cause);
	return s;
}

static inline double *
read_part(struct synth_fmri *s, enum synth_fmri_part part, size_t c)
{
	size_t n = synth_fmri_n_samples(s);
	double *x = malloc(n * sizeof *x);

	cr_assert_eq(synth_fmri_read(s, part, c, 0, n, x, NULL), 0);
	return x;
}

#endif
