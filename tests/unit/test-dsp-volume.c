/* Volume-transition artifact correction: against a plain reference of the same definition, on a
 * slice train whose boundary slices carry an extra transient (which it removes), and leaving a
 * train without volume gaps untouched. */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "worker/dsp/fmri/dsp-volume.h"

#define SLICES 10
#define VOLS   12
#define L      100
#define GAP    40

/* Slice triggers: SLICES per volume L apart, GAP extra samples between volumes. */
static size_t
train(int64_t *t, int gap)
{
	size_t n = 0;
	int64_t p = 300;

	for (int v = 0; v < VOLS; v++)
		for (int s = 0; s < SLICES; s++) {
			t[n++] = p;
			p += L + (s == SLICES - 1 ? gap : 0);
		}
	return n;
}

/* A periodic slice artifact, slow background, and a transient rising into the gap at the end of
 * every volume's last slice and decaying from the start of the next volume's first slice. */
static double *
signal(const int64_t *t, size_t nt, size_t n, double **transient)
{
	double *x = calloc(n, sizeof *x);

	*transient = calloc(n, sizeof **transient);
	for (size_t i = 0; i < n; i++)
		x[i] = 20 * sin(0.002 * (double)i);
	for (size_t k = 0; k < nt; k++)
		for (int j = 0; j < L; j++)
			x[t[k] + j] += 1000 * sin(2 * M_PI * j / 25.0) * exp(-j / 60.0);
	for (size_t k = 0; k + 1 < nt; k++) {
		if ((k + 1) % SLICES != 0)
			continue;
		for (int j = 0; j < L; j++) {
			(*transient)[t[k] + j] += 300 * exp(-(L - 1 - j) / 8.0);
			(*transient)[t[k + 1] + j] += 300 * exp(-j / 8.0);
		}
	}
	for (size_t i = 0; i < n; i++)
		x[i] += (*transient)[i];
	return x;
}

/* The definition written out plainly (FACET's RARemoveVolumeArtifact with pre = 0). */
static void
reference(double *x, const int64_t *t, size_t nt, const struct dsp_volume_params *p)
{
	double w[L], ta[L], tb[L];

	for (int j = 0; j < L; j++)
		w[j] = 1 / (1 + exp(-p->slope * ((j + 1.0) / L - p->position)));
	for (size_t a = 0; a + 1 < nt; a++) {
		size_t b = a + 1;

		if (t[b] - t[a] <= L + GAP / 2 || a < p->templates || b + p->templates >= nt)
			continue;
		for (int j = 0; j < L; j++) {
			ta[j] = tb[j] = 0;
			for (size_t q = 1; q <= p->templates; q++) {
				ta[j] += x[t[a - q] + j] / (double)p->templates;
				tb[j] += x[t[b + q] + j] / (double)p->templates;
			}
		}
		for (int j = 0; j < L; j++) {
			x[t[a] + j] -= (x[t[a] + j] - ta[j]) * w[j];
			x[t[b] + j] -= (x[t[b] + j] - tb[j]) * w[L - 1 - j];
		}
		for (int64_t i = t[a] + L; i < t[b]; i++)
			x[i] = x[t[a] + L - 1] + (x[t[b]] - x[t[a] + L - 1]) *
						     (double)(i - t[a] - L + 1) /
						     (double)(t[b] - t[a] - L + 1);
	}
}

Test(dsp_volume, matches_reference_and_removes_transient)
{
	int64_t t[SLICES * VOLS];
	size_t nt = train(t, GAP), n = (size_t)t[nt - 1] + 500;
	double *tr, *x = signal(t, nt, n, &tr), *ref = malloc(n * sizeof *ref), before = 0,
		    after = 0;
	struct dsp_volume_params p;
	struct dsp_volume_result res;

	memcpy(ref, x, n * sizeof *x);
	dsp_volume_params_init(&p);
	cr_assert_eq(dsp_volume_correct(x, n, t, nt, L, 0, &p, &res, NULL), 0);
	reference(ref, t, nt, &p);
	for (size_t i = 0; i < n; i++)
		cr_assert_float_eq(x[i], ref[i], 1e-9, "sample %zu: %g vs %g", i, x[i], ref[i]);
	/* Every volume has 10 slices, so each gap has its 5 neighbours on both sides. */
	cr_assert_eq(res.gaps, VOLS - 1);
	cr_assert_eq(res.corrected, VOLS - 1);
	cr_assert_eq(res.interpolated, VOLS - 1);
	/* Over the half of the boundary slices next to the gap, the transient is mostly gone. */
	free(tr);
	{
		double *orig = signal(t, nt, n, &tr), *clean = malloc(n * sizeof *clean);

		for (size_t i = 0; i < n; i++)
			clean[i] = orig[i] - tr[i];
		for (size_t k = 0; k + 1 < nt; k++) {
			if ((k + 1) % SLICES != 0)
				continue;
			for (int j = L / 2; j < L; j++) {
				before += pow(orig[t[k] + j] - clean[t[k] + j], 2);
				after += pow(x[t[k] + j] - clean[t[k] + j], 2);
			}
		}
		cr_assert_lt(sqrt(after / before), 0.2, "%.3f of the transient left",
			     sqrt(after / before));
		free(orig);
		free(clean);
	}
	free(tr);
	free(x);
	free(ref);
}

Test(dsp_volume, no_gaps_no_change)
{
	int64_t t[SLICES * VOLS];
	size_t nt = train(t, 0), n = (size_t)t[nt - 1] + 500;
	double *tr, *x = signal(t, nt, n, &tr), *y = malloc(n * sizeof *y);
	struct dsp_volume_params p;
	struct dsp_volume_result res;
	char *cause = NULL;

	memcpy(y, x, n * sizeof *x);
	dsp_volume_params_init(&p);
	cr_assert_eq(dsp_volume_correct(x, n, t, nt, L, 0, &p, &res, NULL), 0);
	cr_assert_eq(res.gaps, 0);
	cr_assert_eq(memcmp(x, y, n * sizeof *x), 0);
	p.position = 2;
	cr_assert_eq(dsp_volume_correct(x, n, t, nt, L, 0, &p, &res, &cause), -EINVAL);
	free(cause);
	free(tr);
	free(x);
	free(y);
}
