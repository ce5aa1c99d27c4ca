/* Volume-transition artifact removal: finding the volume gaps of a slice train, the mean slice
 * epochs on each side, the logistic ramp, the subtraction at the two boundary slices and the
 * linear interpolation of the samples between them. */
#include "worker/dsp/fmri/dsp-volume.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/xmalloc.h"

void
dsp_volume_params_init(struct dsp_volume_params *p)
{
	p->templates = 5;
	p->position = 0.8;
	p->slope = 20;
	p->interpolate = 1;
}

/* Mean of the epochs of t[from .. from + count) into out (len values); 0, or -1 when one
 * leaves the data. */
static int
dsp_volume_mean(const double *x, size_t n, const int64_t *t, size_t from, size_t count, size_t pre,
		size_t len, double *out)
{
	memset(out, 0, len * sizeof *out);
	for (size_t k = from; k < from + count; k++) {
		int64_t a = t[k] - (int64_t)pre;

		if (a < 0 || a + (int64_t)len > (int64_t)n)
			return -1;
		for (size_t j = 0; j < len; j++)
			out[j] += x[a + (int64_t)j] / (double)count;
	}
	return 0;
}

struct dsp_volume_ctx {
	double *x;
	size_t n, pre, len;
	const int64_t *t;
	size_t nt;
	const struct dsp_volume_params *p;
	double *w, *tpl_a, *tpl_b;
};

/* The gap after trigger a (a + 1 starts the next volume): 1 when corrected. */
static int
dsp_volume_gap(struct dsp_volume_ctx *k, size_t a, struct dsp_volume_result *res)
{
	size_t b = a + 1, T = k->p->templates, len = k->len;
	int64_t sa = k->t[a] - (int64_t)k->pre, sb = k->t[b] - (int64_t)k->pre, g0, g1;
	double ya, yb;

	if (a < T || b + T >= k->nt || sa < 0 || sb + (int64_t)len > (int64_t)k->n)
		return 0;
	if (dsp_volume_mean(k->x, k->n, k->t, a - T, T, k->pre, len, k->tpl_a) != 0 ||
	    dsp_volume_mean(k->x, k->n, k->t, b + 1, T, k->pre, len, k->tpl_b) != 0)
		return 0;
	for (size_t j = 0; j < len; j++) {
		double *xa = &k->x[sa + (int64_t)j], *xb = &k->x[sb + (int64_t)j];

		*xa -= (*xa - k->tpl_a[j]) * k->w[j];
		*xb -= (*xb - k->tpl_b[j]) * k->w[len - 1 - j];
	}
	res->corrected++;
	g0 = sa + (int64_t)len;
	g1 = sb;
	if (!k->p->interpolate || g1 <= g0)
		return 1;
	ya = k->x[g0 - 1];
	yb = k->x[g1];
	for (int64_t i = g0; i < g1; i++)
		k->x[i] = ya + (yb - ya) * (double)(i - g0 + 1) / (double)(g1 - g0 + 1);
	res->interpolated++;
	return 1;
}

int
dsp_volume_correct(double *x, size_t n, const int64_t *t, size_t nt, size_t L, long s0,
		   const struct dsp_volume_params *p, struct dsp_volume_result *res, char **cause)
{
	struct dsp_volume_result r = {0};
	struct dsp_volume_ctx k = {x, n, 0, L, t, nt, p, NULL, NULL, NULL};
	int64_t dmin = INT64_MAX, dmax = 0;

	if (L < 2 || nt < 2)
		return error_set(cause, -EINVAL,
				 "volume artifact: needs an artifact length over 1 and 2 triggers");
	if (p->templates < 1 || !(p->position >= 0 && p->position <= 1) || !(p->slope > 0))
		return error_set(cause, -EINVAL,
				 "volume artifact: templates >= 1, position in [0, 1], slope > 0");
	for (size_t i = 0; i + 1 < nt; i++) {
		int64_t d = t[i + 1] - t[i];

		dmin = d < dmin ? d : dmin;
		dmax = d > dmax ? d : dmax;
	}
	k.pre = s0 < 0 ? ((size_t)-s0 < L - 1 ? (size_t)-s0 : L - 1) : 0;
	k.w = xmalloc(L * sizeof *k.w);
	k.tpl_a = xmalloc(L * sizeof *k.tpl_a);
	k.tpl_b = xmalloc(L * sizeof *k.tpl_b);
	for (size_t j = 0; j < L; j++)
		k.w[j] = 1 / (1 + exp(-p->slope * ((double)(j + 1) / (double)L - p->position)));
	for (size_t i = 0; i + 1 < nt && dmax - dmin > 3; i++)
		if ((double)(t[i + 1] - t[i]) > 0.5 * (double)(dmin + dmax)) {
			r.gaps++;
			dsp_volume_gap(&k, i, &r);
		}
	free(k.w);
	free(k.tpl_a);
	free(k.tpl_b);
	if (res != NULL)
		*res = r;
	return 0;
}
