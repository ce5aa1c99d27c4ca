/* Trigger marks of the synthetic recordings: the volume-only selection and the seeded choice of
 * missing marks (runs of three and singles that never touch each other). */
#include "worker/synth/synth-marks.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/xmalloc.h"
#include "worker/synth/synth-trials.h"

/* Drop `len` marks starting at a random index of `idx` (the marked triggers), with two kept marks
 * on each side; 0, or -1 when no such place was found. */
static int
synth_marks_drop_run(struct synth_trials_rng *r, const size_t *idx, size_t m, size_t len,
		     unsigned char *dropped, unsigned char *keep)
{
	for (int tries = 0; tries < 10000; tries++) {
		size_t j = (size_t)(synth_trials_rng_uniform(r) * (double)(m - len + 1)), lo, hi;
		int free_run = 1;

		lo = j >= 2 ? j - 2 : 0;
		hi = j + len + 2 < m ? j + len + 2 : m;
		for (size_t k = lo; k < hi && free_run; k++)
			free_run = !dropped[k];
		if (!free_run)
			continue;
		for (size_t k = j; k < j + len; k++) {
			dropped[k] = 1;
			keep[idx[k]] = 0;
		}
		return 0;
	}
	return -1;
}

int
synth_marks_choose(const struct synth_marks_params *p, size_t n, unsigned slices,
		   unsigned char *keep, char **cause)
{
	struct synth_trials_rng r;
	size_t *idx = xcalloc(n > 0 ? n : 1, sizeof *idx), m = 0, want, done = 0;
	unsigned char *dropped;
	int rc = 0;

	for (size_t i = 0; i < n; i++) {
		keep[i] = !p->volumes_only || slices == 0 || i % slices == 0;
		if (keep[i])
			idx[m++] = i;
	}
	if (!(p->drop_percent >= 0 && p->drop_percent <= 20)) {
		free(idx);
		return error_set(cause, -EINVAL, "synth: drop %g %% of the triggers (0 to 20)",
				 p->drop_percent);
	}
	want = (size_t)llround(p->drop_percent * (double)m / 100.0);
	dropped = xcalloc(m > 0 ? m : 1, 1);
	synth_trials_rng_init(&r, p->seed, 0xd209);
	for (size_t run = 0; done < want && rc == 0; run++) {
		size_t len = run % 2 == 0 ? 3 : 1;

		len = len < want - done ? len : want - done;
		if (synth_marks_drop_run(&r, idx, m, len, dropped, keep) != 0)
			rc = error_set(
			    cause, -EINVAL,
			    "synth: cannot leave out %zu of %zu triggers in separate runs", want,
			    m);
		done += len;
	}
	free(dropped);
	free(idx);
	return rc;
}
