/* Averaged artifact subtraction: epoch selection by Pearson correlation with a running average
 * (blocks of W epochs, or a window centred on each epoch), templates from the de-meaned channel,
 * trigger realignment on the templates, and subtraction with noise accumulation. */
#include "worker/dsp/fmri/dsp-aas.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/xmalloc.h"
#include "worker/dsp/fmri/dsp-aas-priv.h"
#include "worker/dsp/fmri/dsp-trigger.h"
#include "worker/dsp/core/dsp-xcorr.h"

#define DSP_AAS_FIRST_CHOSEN 5

/* out[k] = x[start + k] − sub for samples inside the data, 0 outside. */
static void
dsp_aas_epoch(const double *x, size_t n, int64_t start, size_t len, double sub, double *out)
{
	for (size_t k = 0; k < len; k++) {
		int64_t p = start + (int64_t)k;

		out[k] = p >= 0 && p < (int64_t)n ? x[p] - sub : 0.0;
	}
}

/* Mean (into *mean) and centred sum of squares of v[0..L): of each epoch once (an epoch is a
 * candidate in several windows in sliding mode), and of the reference epochs' running sum. */
static double
dsp_aas_centred_ss(const double *v, size_t L, double *mean)
{
	double m = 0.0, q = 0.0;

	for (size_t k = 0; k < L; k++)
		m += v[k];
	m /= (double)L;
	for (size_t k = 0; k < L; k++)
		q += (v[k] - m) * (v[k] - m);
	*mean = m;
	return q;
}

/* Choose epochs among [c0, c1): the references [r0, r1) (inside it) first, then every other
 * candidate in order whose correlation with the running average passes. Writes the mean of the
 * chosen de-meaned epochs into tpl. E holds epochs base.. (L samples each) with their means em
 * and centred sums of squares es; avg and sum are L-long scratch.
 * The correlation with the average sum/count is the correlation with sum (scaling does not change
 * it): sab = Σ sum·(e − me), and when e joins, the centred sum of squares of sum grows by exactly
 * 2·sab + see, so each candidate costs one pass over its epoch. */
static void
dsp_aas_select(const double *E, const double *em, const double *es, size_t base, size_t L,
	       size_t r0, size_t r1, size_t c0, size_t c1, double threshold, const double *x,
	       size_t n, const int64_t *t, long s0, double mean, double *sum, double *avg,
	       unsigned char *chosen, double *tpl)
{
	size_t count = 0;
	double saa, msum;

	memset(sum, 0, L * sizeof *sum);
	memset(chosen + c0, 0, c1 - c0);
	for (size_t j = r0; j < r1; j++) {
		for (size_t k = 0; k < L; k++)
			sum[k] += E[(j - base) * L + k];
		chosen[j] = 1;
		count++;
	}
	saa = dsp_aas_centred_ss(sum, L, &msum);
	for (size_t c = c0; c < c1; c++) {
		const double *e = E + (c - base) * L, me = em[c - base];
		double sab = 0.0;

		if (chosen[c])
			continue;
		/* Zero variance gives NaN in the reference, which never passes the threshold. */
		if (saa == 0.0 || es[c - base] == 0.0)
			continue;
		for (size_t k = 0; k < L; k++)
			sab += sum[k] * (e[k] - me);
		if (sab / sqrt(saa * es[c - base]) > threshold) {
			for (size_t k = 0; k < L; k++)
				sum[k] += e[k];
			chosen[c] = 1;
			count++;
			saa += 2.0 * sab + es[c - base];
		}
	}
	/* Template from x − mean(x): zero outside the data, as the epochs are. */
	memset(tpl, 0, L * sizeof *tpl);
	for (size_t j = c0; j < c1; j++) {
		if (!chosen[j])
			continue;
		dsp_aas_epoch(x, n, t[j] + s0, L, mean, avg);
		for (size_t k = 0; k < L; k++)
			tpl[k] += avg[k];
	}
	for (size_t k = 0; k < L; k++)
		tpl[k] /= (double)count;
}

/* Epochs [i0, i1) of x into E (from its start) with their statistics. */
static void
dsp_aas_epochs_fill(double *E, double *em, double *es, const double *x, size_t n, const int64_t *t,
		    long s0, size_t L, size_t i0, size_t i1)
{
	for (size_t i = i0; i < i1; i++) {
		dsp_aas_epoch(x, n, t[i] + s0, L, 0.0, E + (i - i0) * L);
		es[i - i0] = dsp_aas_centred_ss(E + (i - i0) * L, L, &em[i - i0]);
	}
}

/* Blocks and sliding with scaling: each epoch's least-squares scale to its template, from the
 * epochs of x − mean (scratch holds L). */
static void
dsp_aas_scale_epochs(struct dsp_aas_templates *tp, const double *x, size_t n, const int64_t *t,
		     long s0, double mean, double *scratch)
{
	tp->scale = xmalloc(tp->nepochs * sizeof *tp->scale);
	tp->choice.scaled = 1;
	tp->choice.scale_min = INFINITY, tp->choice.scale_max = -INFINITY;
	for (size_t i = 0; i < tp->nepochs; i++) {
		const double *T = dsp_aas_template(tp, i);
		double et = 0, tt = 0, a;

		dsp_aas_epoch(x, n, t[i] + s0, tp->len, mean, scratch);
		for (size_t k = 0; k < tp->len; k++)
			et += scratch[k] * T[k], tt += T[k] * T[k];
		a = tt > 0 && isfinite(et / tt) ? et / tt : 1.0;
		tp->scale[i] = a;
		tp->choice.scale_min = fmin(tp->choice.scale_min, a);
		tp->choice.scale_max = fmax(tp->choice.scale_max, a);
	}
}

/* What blocks and sliding mode share while they choose their epochs: the epochs (all of them,
 * or one block's) with their means and centred sums of squares, and scratch. */
struct dsp_aas_sel {
	const double *x;
	size_t n;
	const int64_t *t;
	size_t nt, L, ne;
	long s0;
	double mean, threshold;
	double *E, *em, *es, *sum, *avg;
	unsigned char *chosen;
};

static void
dsp_aas_sel_init(struct dsp_aas_sel *s, const double *x, size_t n, const int64_t *t, size_t nt,
		 size_t L, long s0, double mean, const struct dsp_aas_params *p)
{
	*s = (struct dsp_aas_sel){.x = x, .n = n, .t = t, .nt = nt, .L = L, .s0 = s0,
				  .mean = mean, .threshold = p->threshold};
	/* Blocks need only their own epochs; sliding windows reach across blocks: all of them. */
	s->ne = p->mode == DSP_AAS_BLOCKS && p->window < nt ? p->window : nt;
	s->E = xmalloc(s->ne * L * sizeof *s->E);
	s->em = xmalloc(s->ne * sizeof *s->em);
	s->es = xmalloc(s->ne * sizeof *s->es);
	if (s->ne == nt)
		dsp_aas_epochs_fill(s->E, s->em, s->es, x, n, t, s0, L, 0, nt);
	s->sum = xmalloc(L * sizeof *s->sum);
	s->avg = xmalloc(L * sizeof *s->avg);
	s->chosen = xcalloc(nt, 1);
}

static void
dsp_aas_sel_fini(struct dsp_aas_sel *s)
{
	free(s->E), free(s->em), free(s->es), free(s->sum), free(s->avg), free(s->chosen);
}

/* The references [r0, r1) and candidates [c0, c1) of the epochs held from base: tpl. */
static void
dsp_aas_sel_run(struct dsp_aas_sel *s, size_t base, size_t r0, size_t r1, size_t c0, size_t c1,
		double *tpl)
{
	dsp_aas_select(s->E, s->em, s->es, base, s->L, r0, r1, c0, c1, s->threshold, s->x, s->n,
		       s->t, s->s0, s->mean, s->sum, s->avg, s->chosen, tpl);
}

/* Blocks of W epochs: one template per block, from its first 5 epochs and those that pass. */
static void
dsp_aas_blocks(struct dsp_aas_templates *tp, struct dsp_aas_sel *s, size_t W)
{
	size_t nt = s->nt, L = s->L, nf = DSP_AAS_FIRST_CHOSEN;

	tp->ntemplates = (nt + W - 1) / W;
	tp->data = xmalloc(tp->ntemplates * L * sizeof *tp->data);
	for (size_t b = 0, row = 0; b < nt; b += W, row++) {
		size_t end = b + W < nt ? b + W : nt, base = s->ne == nt ? 0 : b;

		if (s->ne < nt)
			dsp_aas_epochs_fill(s->E, s->em, s->es, s->x, s->n, s->t, s->s0, L, b, end);
		dsp_aas_sel_run(s, base, b, b + nf < nt ? b + nf : nt, b, end, tp->data + row * L);
		for (size_t i = b; i < end; i++)
			tp->index[i] = row;
	}
}

/* A window of W epochs centred on each epoch (Allen et al. 2000): one template per epoch. */
static void
dsp_aas_sliding(struct dsp_aas_templates *tp, struct dsp_aas_sel *s, size_t W)
{
	size_t nt = s->nt, L = s->L, nf = DSP_AAS_FIRST_CHOSEN;

	tp->ntemplates = nt;
	tp->data = xmalloc(nt * L * sizeof *tp->data);
	for (size_t i = 0; i < nt; i++) {
		/* Window of W epochs centred on i, shifted to stay inside the train; the
		 * references are the 5 epochs of the window nearest to i. */
		size_t w0 = i > W / 2 ? i - W / 2 : 0, w1, r0;

		if (nt <= W)
			w0 = 0;
		else if (w0 > nt - W)
			w0 = nt - W;
		w1 = w0 + W < nt ? w0 + W : nt;
		r0 = i > 2 ? i - 2 : 0;
		if (r0 + nf > w1)
			r0 = w1 >= nf ? w1 - nf : 0;
		if (r0 < w0)
			r0 = w0;
		dsp_aas_sel_run(s, 0, r0, r0 + nf < w1 ? r0 + nf : w1, w0, w1, tp->data + i * L);
		tp->index[i] = i;
	}
}

/* The weighted modes (dsp-aas-weight.c; auto and scale auto: dsp-aas-auto.c) on every epoch
 * of x − mean(x), as the templates are built from. */
static int
dsp_aas_weighted(struct dsp_aas_templates *tp, const double *x, size_t n, const int64_t *t,
		 size_t nt, size_t L, long s0, double mean, const struct dsp_aas_params *p,
		 char **cause)
{
	double *E = xmalloc(nt * L * sizeof *E);
	int rc;

	for (size_t i = 0; i < nt; i++)
		dsp_aas_epoch(x, n, t[i] + s0, L, mean, E + i * L);
	tp->len = L;
	tp->nepochs = nt;
	tp->interpolate_gaps = p->interpolate_gaps;
	if (p->mode == DSP_AAS_AUTO || p->scale == DSP_AAS_SCALE_AUTO)
		rc = dsp_aas_auto_make(tp, E, nt, L, p, cause);
	else
		rc = dsp_aas_weighted_fixed(tp, E, nt, L, p, cause);
	/* With shifts the templates are kept apart from E (dsp_aas_weighted_fixed): read E here. */
	if (rc == 0 && tp->choice.shifted)
		dsp_aas_weight_shift(tp, E, p);
	if (tp->data != E)
		free(E);
	if (rc != 0)
		dsp_aas_templates_fini(tp);
	return rc;
}

static int
dsp_aas_check(size_t n, size_t nt, size_t L, const struct dsp_aas_params *p, char **cause)
{
	if (n == 0 || nt == 0 || L == 0)
		return error_set(cause, -EINVAL,
				 "AAS needs data, triggers and an artifact length "
				 "(n=%zu, triggers=%zu, L=%zu)",
				 n, nt, L);
	if (p->window == 0)
		return error_set(cause, -EINVAL, "AAS window must be at least 1 epoch");
	if (!(p->threshold >= -1.0 && p->threshold <= 1.0))
		return error_set(cause, -EINVAL, "AAS threshold %g must be in [-1, 1]",
				 p->threshold);
	if (p->mode < DSP_AAS_BLOCKS || p->mode > DSP_AAS_AUTO)
		return error_set(cause, -EINVAL, "unknown AAS mode %d", (int)p->mode);
	return 0;
}

int
dsp_aas_templates_make(struct dsp_aas_templates *tp, const double *x, size_t n, const int64_t *t,
		       size_t nt, size_t L, long s0, const struct dsp_aas_params *p, char **cause)
{
	struct dsp_aas_sel s;
	double mean = 0.0;
	int rc;

	memset(tp, 0, sizeof *tp);
	if ((rc = dsp_aas_check(n, nt, L, p, cause)) != 0)
		return rc;
	if (p->mean_given) {
		mean = p->mean;
	} else {
		for (size_t i = 0; i < n; i++)
			mean += x[i];
		mean /= (double)n;
	}
	if (p->mode != DSP_AAS_BLOCKS && p->mode != DSP_AAS_SLIDING)
		return dsp_aas_weighted(tp, x, n, t, nt, L, s0, mean, p, cause);
	tp->len = L;
	tp->nepochs = nt;
	tp->index = xmalloc(nt * sizeof *tp->index);
	dsp_aas_sel_init(&s, x, n, t, nt, L, s0, mean, p);
	if (p->mode == DSP_AAS_BLOCKS)
		dsp_aas_blocks(tp, &s, p->window);
	else
		dsp_aas_sliding(tp, &s, p->window);
	if (p->scale == DSP_AAS_SCALE_ON)
		dsp_aas_scale_epochs(tp, x, n, t, s0, mean, s.avg);
	dsp_aas_sel_fini(&s);
	tp->interpolate_gaps = p->interpolate_gaps;
	return 0;
}

void
dsp_aas_templates_fini(struct dsp_aas_templates *tp)
{
	if (tp == NULL)
		return;
	free(tp->data);
	free(tp->index);
	free(tp->scale);
	free(tp->advance);
	memset(tp, 0, sizeof *tp);
}

const double *
dsp_aas_template(const struct dsp_aas_templates *tp, size_t i)
{
	return tp->data + tp->index[i] * tp->len;
}

int
dsp_aas_realign(const double *x, size_t n, const int64_t *t, size_t nt, long s0,
		const struct dsp_aas_templates *tp, double scale, int64_t *t_out, char **cause)
{
	size_t L = tp->len, ws = dsp_trigger_radius(3.0, scale);
	double *seg;
	long seglen = (long)L + (long)ws - s0;

	if (nt != tp->nepochs)
		return error_set(cause, -EINVAL, "%zu triggers for %zu AAS templates", nt,
				 tp->nepochs);
	if (seglen <= 0)
		return error_set(cause, -EINVAL,
				 "artifact offset %ld leaves no realignment segment", s0);
	seg = xmalloc((size_t)seglen * sizeof *seg);
	for (size_t i = 0; i < nt; i++) {
		int64_t start = t[i] + s0;

		if (t[i] + (int64_t)L + (int64_t)ws > (int64_t)n) {
			t_out[i] = t[i];
			continue;
		}
		dsp_aas_epoch(x, n, start, (size_t)seglen, 0.0, seg);
		t_out[i] =
		    t[i] + dsp_xcorr_shift(seg, (size_t)seglen, dsp_aas_template(tp, i), L, ws);
	}
	free(seg);
	return 0;
}

/* The line across the gap between the end of epoch i's template (its last value, at sample
 * end - 1) and the start of epoch i + 1's (at sample next): subtracted from x[end, next). */
static void
dsp_aas_gap(double *x, size_t n, int64_t end, int64_t next, double va, double vb, double *noise)
{
	int64_t len = next - end + 1;

	for (int64_t q = end; q < next; q++) {
		double v = va + (vb - va) * (double)(q - end + 1) / (double)len;

		if (q < 0 || q >= (int64_t)n)
			continue;
		if (x != NULL)
			x[q] -= v;
		if (noise != NULL)
			noise[q] += v;
	}
}

int
dsp_aas_subtract(double *x, size_t n, const int64_t *t, size_t nt, long s0,
		 const struct dsp_aas_templates *tp, double *noise, char **cause)
{
	size_t L = tp->len;
	double *row = NULL;

	if (nt != tp->nepochs)
		return error_set(cause, -EINVAL, "%zu triggers for %zu AAS templates", nt,
				 tp->nepochs);
	if (tp->advance != NULL)
		row = xmalloc(L * sizeof *row);
	for (size_t i = 0; i < nt; i++) {
		const double *tpl = dsp_aas_template(tp, i);
		double a = tp->scale != NULL ? tp->scale[i] : 1.0;
		int64_t start = t[i] + s0;
		size_t k0 = start < 0 ? (size_t)(-start) : 0, end = L;

		/* Epochs tile: where the next one starts inside this one (L is the longest
		 * spacing, so most slices overlap their successor by a fraction of a recorded
		 * sample), the samples are the next one's; both templates hold the artifact there
		 * and subtracting both took it twice. */
		if (i + 1 < nt && t[i + 1] >= t[i] && t[i + 1] - t[i] < (int64_t)L)
			end = (size_t)(t[i + 1] - t[i]);
		if (row != NULL) {
			dsp_aas_advance(tpl, L, tp->advance[i], row);
			tpl = row;
		}
		for (size_t k = k0; k < end && start + (int64_t)k < (int64_t)n; k++) {
			size_t q = (size_t)(start + (int64_t)k);

			if (x != NULL)
				x[q] -= a * tpl[k];
			if (noise != NULL)
				noise[q] += a * tpl[k];
		}
		if (tp->interpolate_gaps && i + 1 < nt && t[i + 1] + s0 > start + (int64_t)L) {
			const double *nx = dsp_aas_template(tp, i + 1);
			double b = tp->scale != NULL ? tp->scale[i + 1] : 1.0;

			dsp_aas_gap(x, n, start + (int64_t)L, t[i + 1] + s0, a * tpl[L - 1], b * nx[0],
				    noise);
		}
	}
	free(row);
	return 0;
}
