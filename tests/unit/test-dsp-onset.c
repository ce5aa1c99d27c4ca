/* Where artifact epochs start: in the middle of the quiet part of the cycle before each
 * trigger, wherever the artifact itself begins; the quietest point when nothing is quiet. */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "test-rng.h"
#include "worker/dsp/fmri/dsp-onset.h"

enum { C = 400, NT = 60, N = (NT + 2) * C };

/* Triggers every C samples; an artifact burst on [t + a, t + b) (b may pass C: it wraps into
 * the next cycle), noise of 1 elsewhere. */
static void
make(double *x, int64_t *t, long a, long b, double floor_amp)
{
	uint64_t g = 3;

	for (size_t i = 0; i < N; i++)
		x[i] = test_lcg_normal(&g);
	for (size_t i = 0; i < NT; i++) {
		t[i] = (int64_t)(C + i * C);
		for (long k = a; k < b; k++)
			x[t[i] + k] += 100 * sin(0.9 * (double)k);
		for (long k = 0; k < C; k++)
			x[t[i] + k] += floor_amp * (1 + sin(2 * M_PI * (double)k / C));
	}
}

Test(dsp_onset, middle_of_the_quiet_part_before_the_trigger)
{
	static double x[N];
	int64_t t[NT];
	struct dsp_onset o;

	/* Artifact from 10 samples before the trigger to 240 after: quiet from 240 - 400 = -160
	 * to -10 before it; the middle is at -85. */
	make(x, t, -10, 240, 0);
	cr_assert_eq(dsp_onset_quiet(x, N, t, NT, 1000, &o, NULL), 0);
	cr_assert_eq(o.cycle, C);
	cr_assert(labs(o.offset + 85) <= 4, "offset %ld", o.offset);
	cr_assert(o.quiet > 130 && o.quiet < 160, "quiet %zu", o.quiet);
	/* Starting after the trigger: the quiet part reaches it, the start is half way back. */
	make(x, t, 20, 300, 0);
	cr_assert_eq(dsp_onset_quiet(x, N, t, NT, 1000, &o, NULL), 0);
	cr_assert(labs(o.offset + 50) <= 4, "offset %ld", o.offset);
}

Test(dsp_onset, no_quiet_part_gives_the_quietest_point)
{
	static double x[N];
	int64_t t[NT];
	struct dsp_onset o;
	char *cause = NULL;

	/* A slow swell over the whole cycle: once de-meaned its power is least where it crosses
	 * its mean, at the trigger and half a cycle before. */
	make(x, t, 0, 0, 50);
	cr_assert_eq(dsp_onset_quiet(x, N, t, NT, 1000, &o, NULL), 0);
	cr_assert(o.offset <= 0 && o.offset >= -C / 2, "offset %ld", o.offset);
	cr_assert(labs(o.offset) <= 8 || labs(o.offset + C / 2) <= 8, "offset %ld quiet %zu",
		  o.offset, o.quiet);
	cr_assert_eq(dsp_onset_quiet(x, N, t, 3, 1000, &o, &cause), -EINVAL);
	cr_assert_not_null(cause);
	free(cause);
}
