/* The weighted AAS modes: which epochs make the template of each epoch (the nearest ones inside
 * a motion segment, FARM's most similar ones, the same slice of nearby volumes), never the
 * epoch itself, and the per-epoch least-squares scaling of the template. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/xmalloc.h"
#include "common/xsort.h"
#include "worker/dsp/fmri/dsp-aas-priv.h"

/* Segments shorter than this many epochs join the one before (a movement in the first or last
 * volumes, or two close together, must not leave an epoch with a handful of neighbours). */
#define DSP_AAS_MIN_SEGMENT 10

void
dsp_aas_params_init(struct dsp_aas_params *p)
{
	memset(p, 0, sizeof *p);
	p->window = 30;
	p->threshold = 0.975;
	p->mode = DSP_AAS_BLOCKS;
	p->farm_threshold = 0.9;
	p->farm_range = 3;
	p->motion_threshold = 0.5;
	p->band = 70;
	p->decim = 1;
}

void
dsp_aas_segments_make(const struct dsp_aas_params *p, size_t nt, struct dsp_aas_segments *sg)
{
	size_t spv = p->slices_per_volume > 0 ? p->slices_per_volume : 1, nvol = (nt + spv - 1) / spv;
	size_t n = 0, pad;

	sg->seg = xmalloc((nt ? nt : 1) * sizeof *sg->seg);
	sg->start = xmalloc((nt + 2) * sizeof *sg->start);
	sg->source = xmalloc(nt ? nt : 1);
	memset(sg->source, 1, nt);
	sg->start[n++] = 0;
	/* A realignment file without its dummy scans is shorter: its rows are the last volumes. */
	pad = p->motion != NULL && p->nmotion < nvol ? nvol - p->nmotion : 0;
	for (size_t v = 1; p->motion != NULL && v < nvol; v++) {
		double m = v >= pad && v - pad < p->nmotion ? p->motion[v - pad] : 0;
		size_t e0 = v * spv, e1 = e0 + spv < nt ? e0 + spv : nt;

		if (!(m > p->motion_threshold))
			continue;
		/* The movement happened after volume v - 1 began: both are in transit. */
		memset(sg->source + (e0 - spv), 0, e1 - (e0 - spv));
		if (e0 - sg->start[n - 1] < DSP_AAS_MIN_SEGMENT)
			continue;
		sg->start[n++] = e0;
	}
	if (n > 1 && nt - sg->start[n - 1] < DSP_AAS_MIN_SEGMENT)
		n--;
	sg->start[n] = nt;
	sg->n = n;
	for (size_t s = 0; s < n; s++)
		for (size_t i = sg->start[s]; i < sg->start[s + 1]; i++)
			sg->seg[i] = s;
}

void
dsp_aas_segments_fini(struct dsp_aas_segments *sg)
{
	free(sg->seg), free(sg->start), free(sg->source);
	memset(sg, 0, sizeof *sg);
}

void
dsp_aas_nearest_range(const struct dsp_aas_segments *sg, size_t i, size_t W, size_t *a,
		      size_t *b)
{
	size_t s0 = sg->start[sg->seg[i]], s1 = sg->start[sg->seg[i] + 1], lo, hi;

	if (s1 - s0 <= W + 1) {
		*a = s0, *b = s1;
		return;
	}
	lo = i > s0 + W / 2 ? i - W / 2 : s0;
	hi = lo + W + 1;
	if (hi > s1) {
		hi = s1;
		lo = s1 - (W + 1);
	}
	*a = lo, *b = hi;
}

void
dsp_aas_nearest_init(struct dsp_aas_nearest *it, const double *X, size_t nt, size_t m,
		     const struct dsp_aas_segments *sg, size_t W)
{
	*it = (struct dsp_aas_nearest){.X = X, .nt = nt, .m = m, .W = W, .sg = sg};
	it->sum = xcalloc(m ? m : 1, sizeof *it->sum);
}

void
dsp_aas_nearest_fini(struct dsp_aas_nearest *it)
{
	free(it->sum);
	it->sum = NULL;
}

/* Move the window to epoch i's: windows only move forward, so drop what fell out (rows below
 * it->a are then never read again) and add what came in. */
static void
dsp_aas_nearest_advance(struct dsp_aas_nearest *it, size_t i)
{
	const struct dsp_aas_segments *sg = it->sg;
	size_t na, nb, m = it->m;

	dsp_aas_nearest_range(sg, i, it->W, &na, &nb);
	for (; it->a < na; it->a++)
		if (it->a < it->b && sg->source[it->a]) {
			for (size_t t = 0; t < m; t++)
				it->sum[t] -= it->X[it->a * m + t];
			it->count--;
		}
	if (it->b < it->a)
		it->b = it->a;
	for (; it->b < nb; it->b++)
		if (sg->source[it->b]) {
			for (size_t t = 0; t < m; t++)
				it->sum[t] += it->X[it->b * m + t];
			it->count++;
		}
}

/* Epoch i's mean from the window the iterator holds. */
static void
dsp_aas_nearest_row(const struct dsp_aas_nearest *it, size_t i, double *o)
{
	const double *xi = it->X + i * it->m;
	int src = it->sg->source[i] != 0;
	size_t k = it->count - (src ? 1 : 0);

	for (size_t t = 0; t < it->m; t++)
		if (k == 0) /* No other source epoch: the window's mean, the epoch included. */
			o[t] = it->count ? it->sum[t] / (double)it->count : xi[t];
		else
			o[t] = (it->sum[t] - (src ? xi[t] : 0.0)) / (double)k;
}

void
dsp_aas_nearest_next(struct dsp_aas_nearest *it, size_t i, double *o)
{
	dsp_aas_nearest_advance(it, i);
	dsp_aas_nearest_row(it, i, o);
}

/* The nearest-window means of rows X into out, or (ring not NULL) into X itself: each mean waits
 * in ring (nring rows, at least the widest window) until its row has left every later window,
 * then replaces it. With scale, scale[i] is the least-squares scale of mean i to row i. */
static void
dsp_aas_nearest_pass(double *X, size_t nt, size_t m, const struct dsp_aas_segments *sg, size_t W,
		     double *out, double *ring, size_t nring, double *scale)
{
	struct dsp_aas_nearest it;
	size_t done = 0;

	dsp_aas_nearest_init(&it, X, nt, m, sg, W);
	for (size_t i = 0; i < nt; i++) {
		double *o = ring != NULL ? ring + (i % nring) * m : out + i * m;

		dsp_aas_nearest_advance(&it, i);
		for (; ring != NULL && done < it.a; done++)
			memcpy(X + done * m, ring + (done % nring) * m, m * sizeof *X);
		dsp_aas_nearest_row(&it, i, o);
		if (scale != NULL)
			scale[i] = dsp_aas_scale_of(X + i * m, o, m);
	}
	for (; ring != NULL && done < nt; done++)
		memcpy(X + done * m, ring + (done % nring) * m, m * sizeof *X);
	dsp_aas_nearest_fini(&it);
}

void
dsp_aas_nearest_mean(const double *X, size_t nt, size_t m, const struct dsp_aas_segments *sg,
		     size_t W, double *out)
{
	dsp_aas_nearest_pass((double *)X, nt, m, sg, W, out, NULL, 0, NULL);
}

size_t
dsp_aas_band_length(double fs, double band)
{
	/* A moving average of k samples twice: sinc² of f·k/fs, -6 dB at f·k/fs = 0.443. */
	double k = 0.443 * fs / band;

	return k < 1 ? 1 : (size_t)lround(k);
}

/* One moving average of k samples centred on each sample, over what v[0..n) has there. */
static void
dsp_aas_band_box(const double *v, size_t n, size_t k, double *out, double *cum)
{
	size_t h = k / 2;

	cum[0] = 0;
	for (size_t i = 0; i < n; i++)
		cum[i + 1] = cum[i] + v[i];
	for (size_t i = 0; i < n; i++) {
		size_t a = i > h ? i - h : 0, b = i + (k - h) < n ? i + (k - h) : n;

		out[i] = (cum[b] - cum[a]) / (double)(b - a);
	}
}

void
dsp_aas_band_low(const double *v, size_t n, size_t k, double *lo, double *scratch)
{
	double *tmp = xmalloc((n ? n : 1) * sizeof *tmp);

	dsp_aas_band_box(v, n, k, tmp, scratch);
	dsp_aas_band_box(tmp, n, k, lo, scratch);
	free(tmp);
}

double
dsp_aas_scale_of(const double *e, const double *T, size_t len)
{
	double et = 0, tt = 0;

	for (size_t k = 0; k < len; k++)
		et += e[k] * T[k], tt += T[k] * T[k];
	return tt > 0 && isfinite(et / tt) ? et / tt : 1.0;
}

void
dsp_aas_block_mean(const double *v, size_t len, size_t d, double *out)
{
	d = d ? d : 1;
	for (size_t t = 0; t * d < len; t++) {
		size_t a = t * d, b = a + d < len ? a + d : len;
		double acc = 0;

		for (size_t k = a; k < b; k++)
			acc += v[k];
		out[t] = acc / (double)(b - a);
	}
}

double *
dsp_aas_decimate(const double *E, size_t nt, size_t len, size_t d, size_t *m_out)
{
	size_t m;
	double *X;

	d = d ? d : 1;
	m = (len + d - 1) / d;
	X = xmalloc((nt * m + 1) * sizeof *X);
	for (size_t i = 0; i < nt; i++)
		dsp_aas_block_mean(E + i * len, len, d, X + i * m);
	*m_out = m;
	return X;
}

void
dsp_aas_band_high(const double *X, size_t nt, size_t m, double fs, double band, double *out)
{
	size_t k = dsp_aas_band_length(fs, band);
	double *lo = xmalloc((m ? m : 1) * sizeof *lo), *scratch = xmalloc((m + 1) * sizeof *scratch);

	for (size_t i = 0; i < nt; i++) {
		dsp_aas_band_low(X + i * m, m, k, lo, scratch);
		for (size_t t = 0; t < m; t++)
			out[i * m + t] = X[i * m + t] - lo[t];
	}
	free(lo), free(scratch);
}

static int
dsp_aas_cmp_desc(const void *a, const void *b)
{
	double x = ((const double *)a)[0], y = ((const double *)b)[0];

	return (x < y) - (x > y);
}

void
dsp_aas_farm_lists(const double *H, size_t nt, size_t m, const struct dsp_aas_params *p,
		   size_t **idx_out, size_t **cnt_out)
{
	size_t R = p->farm_range * p->window, W = p->window;
	size_t *idx = xmalloc((nt * W + 1) * sizeof *idx), *cnt = xmalloc(nt * sizeof *cnt);
	double *cand = xmalloc((2 * R + 2) * 2 * sizeof *cand), *nrm = xmalloc(nt * sizeof *nrm);

	/* Pearson r of centred rows: the mean of each row taken out, norms once. */
	for (size_t i = 0; i < nt; i++) {
		double mean = 0, q = 0;

		for (size_t t = 0; t < m; t++)
			mean += H[i * m + t];
		mean /= (double)m;
		for (size_t t = 0; t < m; t++)
			q += (H[i * m + t] - mean) * (H[i * m + t] - mean);
		nrm[i] = q > 0 ? 1 / sqrt(q) : 0;
	}
	for (size_t i = 0; i < nt; i++) {
		size_t a = i > R ? i - R : 0, b = i + R + 1 < nt ? i + R + 1 : nt, nc = 0;

		for (size_t j = a; j < b; j++) {
			double r = 0, si = 0, sj = 0;

			if (j == i)
				continue;
			for (size_t t = 0; t < m; t++) {
				r += H[i * m + t] * H[j * m + t];
				si += H[i * m + t], sj += H[j * m + t];
			}
			r = (r - si * sj / (double)m) * nrm[i] * nrm[j];
			if (fabs(r) >= p->farm_threshold) {
				cand[2 * nc] = fabs(r);
				cand[2 * nc + 1] = (double)j;
				nc++;
			}
		}
		if (nc == 0)
			for (size_t j = i > 0 ? i - 1 : i + 1; j <= i + 1 && j < nt; j += 2)
				cand[2 * nc] = 1, cand[2 * nc + 1] = (double)j, nc++;
		xqsort(cand, nc, 2 * sizeof *cand, dsp_aas_cmp_desc);
		cnt[i] = nc < W ? nc : W;
		for (size_t c = 0; c < cnt[i]; c++)
			idx[i * W + c] = (size_t)cand[2 * c + 1];
	}
	free(cand), free(nrm);
	*idx_out = idx, *cnt_out = cnt;
}

void
dsp_aas_slice_lists(size_t nt, const struct dsp_aas_params *p, const struct dsp_aas_segments *sg,
		    size_t **idx_out, size_t **cnt_out)
{
	size_t spv = p->slices_per_volume, W = p->window;
	size_t *idx = xmalloc((nt * W + 1) * sizeof *idx), *cnt = xcalloc(nt, sizeof *cnt);

	for (size_t i = 0; i < nt; i++) {
		size_t s0 = sg->start[sg->seg[i]], s1 = sg->start[sg->seg[i] + 1];

		/* Volumes outwards from i, alternately before and after. */
		for (size_t d = 1; cnt[i] < W && (i >= d * spv || i + d * spv < nt); d++)
			for (int side = 0; side < 2 && cnt[i] < W; side++) {
				size_t j;

				if (side == 0 ? i < d * spv : i + d * spv >= nt)
					continue;
				j = side == 0 ? i - d * spv : i + d * spv;
				if (j >= s0 && j < s1 && sg->source[j])
					idx[i * W + cnt[i]++] = j;
			}
		if (cnt[i] == 0) /* a segment of one volume: the epoch's neighbours */
			for (size_t j = i > 0 ? i - 1 : i + 1; j <= i + 1 && j < nt && cnt[i] < W; j += 2)
				idx[i * W + cnt[i]++] = j;
	}
	*idx_out = idx, *cnt_out = cnt;
}

void
dsp_aas_list_row(const double *X, size_t m, const size_t *idx, size_t cnt, double *o)
{
	memset(o, 0, m * sizeof *o);
	for (size_t c = 0; c < cnt; c++) {
		const double *x = X + idx[c] * m;

		for (size_t t = 0; t < m; t++)
			o[t] += x[t];
	}
	for (size_t t = 0; t < m; t++)
		o[t] /= (double)(cnt ? cnt : 1);
}

void
dsp_aas_lists_mean(const double *X, size_t nt, size_t m, const size_t *idx, const size_t *cnt,
		   size_t W, double *out)
{
	for (size_t i = 0; i < nt; i++)
		dsp_aas_list_row(X, m, idx + i * W, cnt[i], out + i * m);
}

/* The mean of the source epochs of segment s nearest to its end (side 0) or start (side 1). */
static void
dsp_aas_segment_end_mean(const double *E, size_t len, const struct dsp_aas_segments *sg, size_t s,
			 int side, size_t W, double *out)
{
	size_t s0 = sg->start[s], s1 = sg->start[s + 1], used = 0;

	memset(out, 0, len * sizeof *out);
	for (size_t k = 0; k < s1 - s0 && used < W; k++) {
		size_t j = side ? s0 + k : s1 - 1 - k;

		if (!sg->source[j])
			continue;
		for (size_t t = 0; t < len; t++)
			out[t] += E[j * len + t];
		used++;
	}
	for (size_t t = 0; used && t < len; t++)
		out[t] /= (double)used;
}

/* Artifact-band energy of e − a·T (a its least-squares scale), for choosing between templates. */
static double
dsp_aas_miss(const double *e, const double *T, size_t len, size_t k, double *d, double *lo,
	     double *scratch)
{
	double a = dsp_aas_scale_of(e, T, len), acc = 0;

	for (size_t t = 0; t < len; t++)
		d[t] = e[t] - a * T[t];
	dsp_aas_band_low(d, len, k, lo, scratch);
	for (size_t t = 0; t < len; t++)
		acc += (d[t] - lo[t]) * (d[t] - lo[t]);
	return acc;
}

/* Epochs of the volumes in transit at a movement (not sources): which side of it each one
 * belongs to is not known from the realignment, so each takes the template from the segment
 * before or after, whichever leaves less in the artifact band. */
static void
dsp_aas_transit(struct dsp_aas_templates *tp, const double *E, size_t len,
		const struct dsp_aas_params *p, const struct dsp_aas_segments *sg)
{
	size_t k = dsp_aas_band_length(p->fs, p->band);
	double *alt = xmalloc(len * sizeof *alt), *d = xmalloc(len * sizeof *d);
	double *lo = xmalloc(len * sizeof *lo), *scratch = xmalloc((len + 1) * sizeof *scratch);

	for (size_t i = 0; i < tp->nepochs; i++) {
		size_t s = sg->seg[i];
		double *T = tp->data + i * len, best;

		if (sg->source[i] || sg->n < 2)
			continue;
		best = dsp_aas_miss(E + i * len, T, len, k, d, lo, scratch);
		for (int side = 0; side < 2; side++) {
			size_t o = side ? s + 1 : s - 1;
			double m;

			if ((side == 0 && s == 0) || (side == 1 && s + 1 >= sg->n))
				continue;
			dsp_aas_segment_end_mean(E, len, sg, o, side, p->window, alt);
			if ((m = dsp_aas_miss(E + i * len, alt, len, k, d, lo, scratch)) < best) {
				best = m;
				memcpy(T, alt, len * sizeof *T);
			}
		}
	}
	free(alt), free(d), free(lo), free(scratch);
}

/* The range of the scale factors tp->scale. */
static void
dsp_aas_weight_scale_range(struct dsp_aas_templates *tp)
{
	tp->choice.scale_min = INFINITY, tp->choice.scale_max = -INFINITY;
	for (size_t i = 0; i < tp->nepochs; i++) {
		tp->choice.scale_min = fmin(tp->choice.scale_min, tp->scale[i]);
		tp->choice.scale_max = fmax(tp->choice.scale_max, tp->scale[i]);
	}
	tp->choice.scaled = 1;
}

/* Scale factors of every template to its epoch (tp->scale), with their range. */
static void
dsp_aas_weight_scale(struct dsp_aas_templates *tp, const double *E)
{
	size_t L = tp->len;

	tp->scale = xmalloc(tp->nepochs * sizeof *tp->scale);
	for (size_t i = 0; i < tp->nepochs; i++)
		tp->scale[i] = dsp_aas_scale_of(E + i * L, tp->data + i * L, L);
	dsp_aas_weight_scale_range(tp);
}

/* Nearest-epoch templates without motion segments, in place of the epochs E (tp->data = E):
 * the templates wait in a ring of one window, so the epochs are held once, not twice. */
static void
dsp_aas_nearest_in_place(struct dsp_aas_templates *tp, double *E, const struct dsp_aas_params *p,
			 const struct dsp_aas_segments *sg)
{
	size_t nt = tp->nepochs, len = tp->len, nring = p->window + 1 < nt ? p->window + 1 : nt;
	double *ring = xmalloc(nring * len * sizeof *ring);

	if (p->scale != DSP_AAS_SCALE_OFF)
		tp->scale = xmalloc(nt * sizeof *tp->scale);
	dsp_aas_nearest_pass(E, nt, len, sg, p->window, NULL, ring, nring, tp->scale);
	free(ring);
	tp->data = E;
}

int
dsp_aas_weighted_fixed(struct dsp_aas_templates *tp, double *E, size_t nt, size_t len,
		       const struct dsp_aas_params *p, char **cause)
{
	struct dsp_aas_segments sg;
	int shifted = p->scale != DSP_AAS_SCALE_OFF && p->shift && p->fs > 0 && p->band < p->fs / 2;

	if (p->mode == DSP_AAS_SLICE && p->slices_per_volume == 0)
		return error_set(cause, -EINVAL,
				 "AAS slice mode needs the slices per volume (slice triggers with "
				 "volume gaps)");
	if (p->mode == DSP_AAS_FARM &&
	    !(p->fs > 0 && p->band > 0 && p->band < p->fs / (double)(p->decim ? p->decim : 1) / 2))
		return error_set(cause, -EINVAL,
				 "AAS farm mode: band %g Hz must lie below half the recording's "
				 "rate",
				 p->band);
	tp->ntemplates = nt;
	tp->index = xmalloc(nt * sizeof *tp->index);
	for (size_t i = 0; i < nt; i++)
		tp->index[i] = i;
	dsp_aas_segments_make(p, nt, &sg);
	/* The shift fit reads the epochs after the templates: not in their place then. */
	if (p->mode == DSP_AAS_NEAREST && sg.n < 2 && !shifted) {
		dsp_aas_nearest_in_place(tp, E, p, &sg);
	} else if (p->mode == DSP_AAS_FARM || p->mode == DSP_AAS_SLICE) {
		size_t *idx, *cnt, m;
		double *H;

		if (p->mode == DSP_AAS_FARM) {
			H = dsp_aas_decimate(E, nt, len, p->decim, &m);
			dsp_aas_band_high(H, nt, m, p->fs / (double)(p->decim ? p->decim : 1),
					  p->band, H);
			dsp_aas_farm_lists(H, nt, m, p, &idx, &cnt);
			free(H);
		} else {
			dsp_aas_slice_lists(nt, p, &sg, &idx, &cnt);
		}
		tp->data = xmalloc(nt * len * sizeof *tp->data);
		dsp_aas_lists_mean(E, nt, len, idx, cnt, p->window, tp->data);
		free(idx), free(cnt);
	} else {
		tp->data = xmalloc(nt * len * sizeof *tp->data);
		dsp_aas_nearest_mean(E, nt, len, &sg, p->window, tp->data);
		if (p->fs > 0 && p->band < p->fs / 2)
			dsp_aas_transit(tp, E, len, p, &sg);
	}
	tp->choice.mode = p->mode;
	tp->choice.window = p->window;
	tp->choice.segments = sg.n;
	tp->choice.error_db = NAN;
	tp->choice.scale_min = tp->choice.scale_max = 1;
	/* Shifts are fitted after (dsp_aas_weight_shift, by the caller), scales with them. */
	tp->choice.shifted = shifted;
	tp->choice.shift_rescale = !p->shift_band_scale;
	if (p->scale != DSP_AAS_SCALE_OFF && !shifted && tp->data == E)
		dsp_aas_weight_scale_range(tp);
	else if (p->scale != DSP_AAS_SCALE_OFF && !shifted)
		dsp_aas_weight_scale(tp, E);
	dsp_aas_segments_fini(&sg);
	return 0;
}
