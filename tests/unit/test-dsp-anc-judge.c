/* The ANC judgement: an output that takes a residual at the slice harmonics is accepted, one
 * that takes broadband signal or overshoots is not, and without artifact-free data nothing is. */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "test-rng.h"
#include "worker/dsp/fmri/dsp-anc.h"

enum { FS = 500, N = 500 * 120 };

struct case_ {
	double x[N], y[N];
	int64_t t[1000];
	size_t nt, ws, wl;
};

/* White noise; slice triggers every 0.1 s from 20 s to 100 s; in the scan a residual at the
 * first harmonics (10, 20, 30 Hz). */
static void
case_make(struct case_ *c, double residual)
{
	uint64_t g = 5;

	c->nt = 0;
	for (int64_t s = 20 * FS; s < 100 * FS; s += FS / 10)
		c->t[c->nt++] = s;
	c->ws = (size_t)c->t[0] - FS / 10;
	c->wl = (size_t)(c->t[c->nt - 1] - c->t[0]) + 2 * FS / 10;
	for (size_t i = 0; i < N; i++)
		c->x[i] = test_lcg_normal(&g);
	for (size_t i = 0; i < c->wl; i++) {
		double tt = (double)(c->ws + i) / FS, r = 0;

		for (int h = 1; h <= 3; h++)
			r += residual * sin(2 * M_PI * 10 * h * tt + h);
		c->x[c->ws + i] += r;
		c->y[i] = r;
	}
}

static struct dsp_anc_judgement
judge(struct case_ *c, const double *y)
{
	struct dsp_anc_judgement j;
	char *cause = NULL;

	cr_assert_eq(dsp_anc_judge(c->x, N, FS, c->t, c->nt, FS / 10, c->ws, y, c->wl, 70, &j,
				   &cause),
		     0, "%s", cause ? cause : "");
	return j;
}

Test(dsp_anc_judge, takes_the_residual_not_the_signal)
{
	static struct case_ c;
	static double y[N];
	struct dsp_anc_judgement j;
	uint64_t g = 9;

	case_make(&c, 0.3);
	j = judge(&c, c.y);
	cr_assert(j.accept, "residual taken: %g -> %g dB, excess %g uV, output %g uV, off %g",
		  j.before_db, j.after_db, j.excess_uv, j.output_uv, j.off_db);
	cr_assert_eq(j.harmonics, 6, "10..60 Hz under 70 Hz");
	cr_assert_lt(j.after_db, j.before_db);
	/* Twice the residual: its negative is left, as far from the reference as before. */
	for (size_t i = 0; i < c.wl; i++)
		y[i] = 2 * c.y[i];
	j = judge(&c, y);
	cr_assert(!j.accept, "overshoot: %g -> %g dB", j.before_db, j.after_db);
	/* The residual and a third of the signal: the power away from the harmonics falls. */
	for (size_t i = 0; i < c.wl; i++)
		y[i] = c.y[i] + 0.6 * (c.x[c.ws + i] - c.y[i]) + 0.1 * test_lcg_normal(&g);
	j = judge(&c, y);
	cr_assert(!j.accept, "signal taken: off %g dB", j.off_db);
	cr_assert_lt(j.off_db, -1);
}

Test(dsp_anc_judge, no_reference_no_judgement)
{
	static struct case_ c;
	struct dsp_anc_judgement j;
	char *cause = NULL;

	case_make(&c, 0.3);
	/* The scan from the first second to the last: under a second of artifact-free data. */
	cr_assert_eq(dsp_anc_judge(c.x + c.ws - FS / 4, c.wl + FS / 2, FS, c.t, 0, FS / 10, 0, c.y,
				   c.wl, 70, &j, &cause),
		     -EINVAL, "no triggers");
	free(cause);
	{
		int64_t t[1000];

		for (size_t i = 0; i < c.nt; i++)
			t[i] = c.t[i] - (int64_t)c.ws + FS / 4;
		cr_assert_eq(dsp_anc_judge(c.x + c.ws - FS / 4, c.wl + FS / 2, FS, t, c.nt, FS / 10,
					   FS / 4, c.y, c.wl, 70, &j, NULL),
			     0);
		cr_assert_eq(j.harmonics, 0);
		cr_assert(!j.accept);
	}
}
