/* mtmconvol and welch. For a fraction or "all", a trial is zero-extended by half a window at
 * both ends and cut into windows every `step` samples (window i centred on trial sample
 * i*step), each detrended, tapered and transformed; demeaning (the default) is folded into the
 * taper pass, with the window means summed from the blocks the windows share. For a sparse toi
 * list, one window of 2*halfwin+1 samples per time, tapered without detrending (the
 * reference's mtmfft path). Tapers come from the process-wide cache; all windows of one channel
 * and taper go through one batched FFT. */
#include "worker/dsp/spectral/dsp-mtmconvol.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/intmath.h"
#include "common/xmalloc.h"
#include "worker/dsp/core/dsp-clones.h"
#include "worker/dsp/core/fft-plan.h"

struct dsp_mtmconvol {
	struct dsp_mtmconvol_params p;
	size_t nperseg, step, half; /* fraction / all */
	size_t halfwin;             /* toi list: int(nperseg / 2) */
	double nw;                  /* dpss */
	size_t k;                   /* tapers (1 for a window) */
	size_t nfreq;
	size_t *bins;  /* selected bins of the nperseg grid */
	double *freqs; /* their frequencies (the output's freq attribute) */
};

struct dsp_mtmconvol_work {
	size_t ncols, nseg, nspec, nmean;
	double *cols, *seg, *buf;
	double *mean, *blk; /* sliding: each window's mean, the block sums they come from */
	fftw_complex *spec;
	size_t *bins; /* toi list: bins of a window's own grid */
	double *grid;
};

void
dsp_mtmconvol_params_init(struct dsp_mtmconvol_params *p, double fs)
{
	memset(p, 0, sizeof *p);
	p->fs = fs;
	p->taper = DSP_TAPER_HANN;
	p->toi_kind = DSP_TFR_TOI_ALL;
	p->output = DSP_MTMFFT_POW;
}

/* NW and K as the reference takes them: from the mean trial length, tapsmofrq clamped. */
static int
dsp_mtmconvol_dpss(struct dsp_mtmconvol *m, char **cause)
{
	const struct dsp_mtmconvol_params *p = &m->p;
	double n = p->mean_len, lo = p->fs / n,
	       hi = fmin(p->fs / 2 - 1 / n, p->fs * (n + 1) / (2 * n));
	double f = p->tapsmofrq < lo ? lo : p->tapsmofrq > hi ? hi : p->tapsmofrq, kk;

	m->nw = f * n / p->fs;
	kk = trunc(2 * m->nw - 1);
	m->k = p->ntaper > 0 ? p->ntaper : kk > 1 ? (size_t)kk : 1;
	if (m->k > m->nperseg)
		return error_set(cause, -EINVAL,
				 "nTaper: %zu tapers do not fit windows of %zu samples", m->k,
				 m->nperseg);
	return 0;
}

static int
dsp_mtmconvol_check(const struct dsp_mtmconvol_params *p, char **cause)
{
	double dt = 1 / p->fs, tmax = (double)p->min_len / p->fs;

	if (!(p->fs > 0) || !isfinite(p->fs) || p->min_len == 0 || !(p->mean_len > 0))
		return error_set(cause, -EINVAL, "samplerate and trial lengths must be positive");
	if (!(p->t_ftimwin >= dt && p->t_ftimwin <= tmax))
		return error_set(cause, -EINVAL,
				 "t_ftimwin: Invalid value of `t_ftimwin`: '%g'; expected value "
				 "to be greater or equals %g and less or equals %g",
				 p->t_ftimwin, dt, tmax);
	if (p->toi_kind == DSP_TFR_TOI_FRACTION && !(p->toi_frac >= 0 && p->toi_frac <= 1))
		return error_set(cause, -EINVAL,
				 "toi: Invalid value of `toi`: '%g'; expected value to be greater "
				 "or equals 0 and less or equals 1",
				 p->toi_frac);
	if (p->welch && p->toi_kind != DSP_TFR_TOI_FRACTION)
		return error_set(cause, -EINVAL,
				 "toi: Invalid value of `toi`; expected toi to be a float in range "
				 "[0, 1] for method='welch'");
	if (p->welch && p->output != DSP_MTMFFT_POW)
		return error_set(cause, -EINVAL,
				 "output: Invalid value of `output`; expected output='pow' with "
				 "method='welch'");
	if (p->welch && p->keeptapers)
		return error_set(cause, -EINVAL,
				 "keeptapers: Invalid value of `keeptapers`: 'True'; expected "
				 "keeptapers='False' with method='welch'");
	if (p->tapsmofrq > 0 && !p->keeptapers && p->output != DSP_MTMFFT_POW)
		return error_set(cause, -EINVAL,
				 "output: Invalid value of `output|keeptapers`: '%s'|False; "
				 "expected 'pow'|False or '%s'|True, set either keeptapers=True or "
				 "`output='pow'`!",
				 "non-pow", "non-pow");
	for (size_t i = 1; i < p->ntoi; i++)
		if (p->toi[i] < p->toi[i - 1])
			return error_set(cause, -EINVAL,
					 "toi: Invalid value of `toi`: 'unsorted list/array'; "
					 "expected ordered list/array of time-points");
	if (p->toi_kind == DSP_TFR_TOI_LIST && p->ntoi == 0)
		return error_set(cause, -EINVAL, "toi: an empty list of times");
	return 0;
}

/* Equidistant as numpy.allclose(diff, diff[0]) decides it. */
static bool
dsp_mtmconvol_equidistant(const double *toi, size_t n)
{
	for (size_t i = 1; i + 1 < n; i++) {
		double a = toi[i + 1] - toi[i], b = toi[1] - toi[0];
		if (!(fabs(a - b) <= 1e-8 + 1e-5 * fabs(b)))
			return false;
	}
	return true;
}

static int
dsp_mtmconvol_select(struct dsp_mtmconvol *m, char **cause)
{
	const struct dsp_mtmconvol_params *p = &m->p;
	size_t nb = m->nperseg / 2 + 1;
	double *grid = xmalloc(nb * sizeof *grid);

	dsp_tfr_rfftfreq(m->nperseg, p->fs, grid);
	m->bins = xmalloc((nb + p->nfoi + 1) * sizeof *m->bins);
	if (p->nfoi > 0)
		m->nfreq = dsp_tfr_best_match(grid, nb, p->foi, p->nfoi, true, m->bins);
	else if (p->use_foilim)
		m->nfreq = dsp_tfr_span(grid, nb, p->foilim[0], p->foilim[1], m->bins);
	else
		for (m->nfreq = 0; m->nfreq < nb; m->nfreq++)
			m->bins[m->nfreq] = m->nfreq;
	m->freqs = xmalloc((m->nfreq + 1) * sizeof *m->freqs);
	for (size_t i = 0; i < m->nfreq; i++)
		m->freqs[i] = grid[m->bins[i]];
	free(grid);
	if (m->nfreq == 0)
		return error_set(cause, -EINVAL,
				 "foilim: Invalid value of `foi/foilim`: 'empty frequency "
				 "selection'; expected non-empty frequency specification");
	return 0;
}

int
dsp_mtmconvol_new(const struct dsp_mtmconvol_params *p, struct dsp_mtmconvol **out, char **cause)
{
	struct dsp_mtmconvol *m;
	int rc;

	*out = NULL;
	if ((rc = dsp_mtmconvol_check(p, cause)) != 0)
		return rc;
	m = xcalloc(1, sizeof *m);
	m->p = *p;
	m->p.toi = NULL;
	m->p.foi = NULL;
	if (p->ntoi > 0) {
		m->p.toi = xmalloc(p->ntoi * sizeof *p->toi);
		memcpy((double *)m->p.toi, p->toi, p->ntoi * sizeof *p->toi);
	}
	if (p->nfoi > 0) {
		m->p.foi = xmalloc(p->nfoi * sizeof *p->foi);
		memcpy((double *)m->p.foi, p->foi, p->nfoi * sizeof *p->foi);
	}
	m->nperseg = (size_t)trunc(p->t_ftimwin * p->fs);
	m->half = m->nperseg / 2;
	m->halfwin = m->nperseg / 2;
	if (p->toi_kind == DSP_TFR_TOI_FRACTION) {
		double nov = trunc(p->toi_frac * (double)m->nperseg);
		size_t noverlap = nov < (double)m->nperseg - 1 ? (size_t)nov : m->nperseg - 1;
		m->step = m->nperseg - noverlap;
	} else if (p->toi_kind == DSP_TFR_TOI_ALL) {
		m->step = 1;
	} else if (p->ntoi > 1 && dsp_mtmconvol_equidistant(p->toi, p->ntoi) &&
		   !((p->toi[p->ntoi - 1] - p->toi[0]) / (double)(p->ntoi - 1) * p->fs >
		     (double)m->halfwin)) {
		dsp_mtmconvol_free(m);
		return error_set(cause, -EINVAL,
				 "toi: an equidistant list spaced at most t_ftimwin/2 apart is not "
				 "supported (use toi \"all\" or an overlap fraction, or space the "
				 "times more than %zu samples apart)",
				 m->halfwin);
	}
	m->k = 1;
	rc = m->nperseg == 0 ? error_set(cause, -EINVAL, "t_ftimwin: shorter than one sample") : 0;
	if (rc == 0 && p->tapsmofrq > 0)
		rc = dsp_mtmconvol_dpss(m, cause);
	if (rc == 0)
		rc = dsp_mtmconvol_select(m, cause);
	if (rc != 0) {
		dsp_mtmconvol_free(m);
		return rc;
	}
	*out = m;
	return 0;
}

void
dsp_mtmconvol_free(struct dsp_mtmconvol *m)
{
	if (m == NULL)
		return;
	free((double *)m->p.toi);
	free((double *)m->p.foi);
	free(m->bins);
	free(m->freqs);
	free(m);
}

size_t
dsp_mtmconvol_nperseg(const struct dsp_mtmconvol *m)
{
	return m->nperseg;
}

size_t
dsp_mtmconvol_step(const struct dsp_mtmconvol *m)
{
	return m->p.toi_kind == DSP_TFR_TOI_LIST ? 0 : m->step;
}

size_t
dsp_mtmconvol_ntap(const struct dsp_mtmconvol *m)
{
	return m->p.keeptapers ? m->k : 1;
}

size_t
dsp_mtmconvol_nfreq(const struct dsp_mtmconvol *m)
{
	return m->nfreq;
}

const double *
dsp_mtmconvol_freqs(const struct dsp_mtmconvol *m)
{
	return m->freqs;
}

const char *
dsp_mtmconvol_taper(const struct dsp_mtmconvol *m)
{
	return m->p.tapsmofrq > 0 ? "dpss" : dsp_taper_window_name(m->p.taper);
}

size_t
dsp_mtmconvol_ntime(const struct dsp_mtmconvol *m, size_t nsamp)
{
	if (m->p.welch)
		return 1;
	if (m->p.toi_kind == DSP_TFR_TOI_LIST)
		return m->p.ntoi;
	return (nsamp + m->step - 1) / m->step;
}

/* The tapers of windows of n samples (dpss periodic for the sliding windows, symmetric for the
 * toi list, as the reference) with their scale, sqrt(2)/n folded in. *stride is the distance
 * between consecutive tapers in set->w. */
static int
dsp_mtmconvol_tapers(const struct dsp_mtmconvol *m, size_t n, bool periodic,
		     const struct dsp_taper_set **set, size_t *stride, double *scale, char **cause)
{
	const struct dsp_mtmconvol_params *p = &m->p;
	double nn = (double)n;
	int rc;

	if (p->tapsmofrq > 0) {
		rc = dsp_taper_cache_get(DSP_TAPER_DPSS, periodic ? n + 1 : n, m->nw, m->k, set,
					 cause);
		*stride = periodic ? n + 1 : n;
		*scale = sqrt(nn);
	} else {
		rc = dsp_taper_cache_get(p->taper, n, p->kaiser_beta, 1, set, cause);
		*stride = n;
		if (rc == 0)
			*scale = (p->taper == DSP_TAPER_BOXCAR ? 1 : sqrt(4.0 / 3.0)) *
				 sqrt(nn / (*set)->sum[0]);
	}
	*scale *= sqrt(2.0) / nn;
	return rc;
}

static void
dsp_mtmconvol_reserve(struct dsp_mtmconvol_work *w, size_t ncols, size_t nseg, size_t nspec,
		      size_t nmean)
{
	if (nmean > w->nmean) {
		free(w->mean);
		free(w->blk);
		w->mean = xmalloc(nmean * sizeof *w->mean);
		w->blk = xmalloc(nmean * sizeof *w->blk);
		w->nmean = nmean;
	}
	if (ncols > w->ncols) {
		free(w->cols);
		w->cols = xmalloc(ncols * sizeof *w->cols);
		w->ncols = ncols;
	}
	if (nseg > w->nseg) {
		free(w->seg);
		fft_free(w->buf);
		w->seg = xmalloc(nseg * sizeof *w->seg);
		w->buf = fft_alloc_real(nseg);
		w->nseg = nseg;
	}
	if (nspec > w->nspec) {
		fft_free(w->spec);
		w->spec = fft_alloc_complex(nspec);
		w->nspec = nspec;
	}
}

void
dsp_mtmconvol_work_free(struct dsp_mtmconvol_work *w)
{
	if (w == NULL)
		return;
	free(w->cols);
	free(w->seg);
	free(w->mean);
	free(w->blk);
	fft_free(w->buf);
	fft_free(w->spec);
	free(w->bins);
	free(w->grid);
	free(w);
}

/* The channels of x channel-major in cols[c * lp + ...], each zero-extended by `half` samples in
 * front and zero to lp = n + pp behind, so window i is cols[c * lp + i * step ...][0..pp).
 * Row by row: each input row is read once, in order. */
static void
dsp_mtmconvol_padded(const struct dsp_trial *x, size_t half, size_t lp, double *cols)
{
	size_t n = x->nsamp, nc = x->nchan, ld = x->ld != 0 ? x->ld : nc;

	memset(cols, 0, nc * lp * sizeof *cols);
	for (size_t r = 0; r < n; r++) {
		double *dst = cols + half + r;
		if (x->dtype == DSP_TRIAL_F32) {
			const float *row = (const float *)x->data + r * ld;
			for (size_t c = 0; c < nc; c++)
				dst[c * lp] = row[c];
		} else {
			const double *row = (const double *)x->data + r * ld;
			for (size_t c = 0; c < nc; c++)
				dst[c * lp] = row[c];
		}
	}
}

/* Sum of x[0..n) in four interleaved partial sums (a sequential sum waits on each add). */
static double
dsp_mtmconvol_sum(const double *x, size_t n)
{
	double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
	size_t i = 0;

	for (; i + 4 <= n; i += 4) {
		s0 += x[i];
		s1 += x[i + 1];
		s2 += x[i + 2];
		s3 += x[i + 3];
	}
	for (; i < n; i++)
		s0 += x[i];
	return (s0 + s1) + (s2 + s3);
}

/* The mean of each of the nt windows of the padded column col: windows are made of blocks of
 * g = gcd(step, pp) samples, and each block is summed once (blk holds the block sums). */
static void
dsp_mtmconvol_means(const struct dsp_mtmconvol *m, const double *col, size_t nt, double *blk,
		    double *mean)
{
	size_t pp = m->nperseg, g = intmath_gcd(m->step, pp), per = pp / g;
	size_t nblk = ((nt - 1) * m->step + pp) / g;

	for (size_t b = 0; b < nblk; b++)
		blk[b] = dsp_mtmconvol_sum(col + b * g, g);
	for (size_t i = 0; i < nt; i++)
		mean[i] = dsp_mtmconvol_sum(blk + i * (m->step / g), per) / (double)pp;
}

/* Windows of one padded column, detrended: demeaned (polyremoval 0) by their means in w->mean,
 * taken as they are (-1), or copied to w->seg and linearly detrended (1). *src and *sstep say
 * where window i starts (src + i * sstep) for the taper. */
static int
dsp_mtmconvol_detrend(const struct dsp_mtmconvol *m, const double *col, size_t nt,
		      struct dsp_mtmconvol_work *w, const double **src, size_t *sstep, char **cause)
{
	size_t pp = m->nperseg;
	int rc = dsp_trial_polyremoval(NULL, 0, m->p.polyremoval, cause); /* checks the order */

	*src = col;
	*sstep = m->step;
	memset(w->mean, 0, nt * sizeof *w->mean);
	if (rc != 0 || m->p.polyremoval == -1)
		return rc;
	if (m->p.polyremoval == 0) {
		dsp_mtmconvol_means(m, col, nt, w->blk, w->mean);
		return 0;
	}
	for (size_t i = 0; i < nt && rc == 0; i++) {
		memcpy(w->seg + i * pp, col + i * m->step, pp * sizeof *w->seg);
		rc = dsp_trial_polyremoval(w->seg + i * pp, pp, 1, cause);
	}
	*src = w->seg;
	*sstep = pp;
	return rc;
}

/* buf[i * pp + j] = (src[i * sstep + j] - mean[i]) * w[j] for nt windows: a hot loop, built per
 * CPU. */
DSP_CLONES static void
dsp_mtmconvol_taper_windows(const double *restrict src, size_t sstep, const double *restrict mean,
			    const double *restrict w, double *restrict buf, size_t nt, size_t pp)
{
	for (size_t i = 0; i < nt; i++) {
		const double *restrict s = src + i * sstep;
		double mu = mean[i];
		for (size_t j = 0; j < pp; j++)
			buf[i * pp + j] = (s[j] - mu) * w[j];
	}
}

/* dst[f * ldst] += wmean * output(scale * sp[bins[f]]) for the selected bins (pow inline). */
static void
dsp_mtmconvol_add(const struct dsp_mtmconvol *m, const double *sp, double scale, double wmean,
		  double *dst, size_t ldst)
{
	enum dsp_mtmfft_output o = m->p.output;

	if (o == DSP_MTMFFT_POW) {
		for (size_t f = 0; f < m->nfreq; f++) {
			double re = scale * sp[2 * m->bins[f]], im = scale * sp[2 * m->bins[f] + 1];
			dst[f * ldst] += wmean * (re * re + im * im);
		}
		return;
	}
	for (size_t f = 0; f < m->nfreq; f++)
		dsp_tfr_convert_add(o, scale * sp[2 * m->bins[f]], scale * sp[2 * m->bins[f] + 1],
				    wmean, dst + f * ldst);
}

static int
dsp_mtmconvol_sliding(const struct dsp_mtmconvol *m, const struct dsp_trial *x, double *out,
		      struct dsp_mtmconvol_work *w, char **cause)
{
	const struct dsp_mtmconvol_params *p = &m->p;
	size_t n = x->nsamp, nc = x->nchan, pp = m->nperseg, nb = pp / 2 + 1, stride;
	size_t nt = (n + m->step - 1) / m->step, ntap = dsp_mtmconvol_ntap(m), cw, lp = n + pp;
	const struct dsp_taper_set *set;
	double scale, wmean;
	int rc;

	if ((rc = dsp_mtmconvol_tapers(m, pp, true, &set, &stride, &scale, cause)) != 0)
		return rc;
	cw = dsp_tfr_width(p->output);
	wmean = (p->keeptapers ? 1.0 : 1.0 / (double)m->k) / (p->welch ? (double)nt : 1.0);
	dsp_mtmconvol_reserve(w, lp * nc, nt * pp, nt * nb, lp);
	dsp_mtmconvol_padded(x, m->half, lp, w->cols);
	for (size_t c = 0; c < nc && rc == 0; c++) {
		const double *src;
		size_t sstep;
		if ((rc = dsp_mtmconvol_detrend(m, w->cols + c * lp, nt, w, &src, &sstep, cause)) !=
		    0)
			break;
		for (size_t k = 0; k < m->k; k++) {
			size_t row = p->keeptapers ? k : 0;
			dsp_mtmconvol_taper_windows(src, sstep, w->mean, set->w + k * stride,
						    w->buf, nt, pp);
			fft_r2c_many(pp, nt, w->buf, w->spec);
			for (size_t i = 0; i < nt; i++) {
				size_t t = p->welch ? 0 : i;
				dsp_mtmconvol_add(
				    m, (const double *)(w->spec + i * nb), scale, wmean,
				    out + ((t * ntap + row) * m->nfreq * nc + c) * cw, nc * cw);
			}
		}
	}
	return rc;
}

/* Window j of a toi list on a trial at offset `offset`: trial samples [*a, *b), shifted right
 * when the first window would start before the trial, as the reference does. */
static int
dsp_mtmconvol_window(const struct dsp_mtmconvol *m, double offset, size_t nsamp, size_t j,
		     size_t *a, size_t *b, char **cause)
{
	const struct dsp_mtmconvol_params *p = &m->p;
	double t0 = offset / p->fs, hw = (double)m->halfwin;
	double first = trunc((p->toi[0] - t0) * p->fs), pad = hw - first;
	double lo = trunc(p->fs * (p->toi[j] - t0) - hw),
	       hi = trunc(p->fs * (p->toi[j] - t0) + hw + 1);

	pad = pad > 0 ? trunc(pad) : 0;
	lo += pad;
	hi += pad;
	hi = fmax(hi, hi - lo);
	if (!(lo >= 0) || !(hi <= (double)nsamp) || !(hi > lo))
		return error_set(cause, -EINVAL,
				 "toi: the window around %g s reaches outside the trial "
				 "(%zu samples from %g s)",
				 p->toi[j], nsamp, t0);
	*a = (size_t)lo;
	*b = (size_t)hi;
	return 0;
}

static int
dsp_mtmconvol_list(const struct dsp_mtmconvol *m, const struct dsp_trial *x, double offset,
		   double *out, struct dsp_mtmconvol_work *w, char **cause)
{
	const struct dsp_mtmconvol_params *p = &m->p;
	size_t nc = x->nchan, ntap = dsp_mtmconvol_ntap(m), cw = dsp_tfr_width(p->output);
	size_t ld = x->ld != 0 ? x->ld : nc;
	double wmean = p->keeptapers ? 1.0 : 1.0 / (double)m->k;
	int rc = 0;

	for (size_t j = 0; j < p->ntoi && rc == 0; j++) {
		const struct dsp_taper_set *set;
		size_t a = 0, b = 0, n, nb, stride, got;
		double scale;
		if ((rc = dsp_mtmconvol_window(m, offset, x->nsamp, j, &a, &b, cause)) != 0 ||
		    (rc = dsp_mtmconvol_tapers(m, b - a, false, &set, &stride, &scale, cause)) != 0)
			break;
		n = b - a;
		nb = n / 2 + 1;
		dsp_mtmconvol_reserve(w, 0, n * nc, nb * nc, 0);
		free(w->grid);
		free(w->bins);
		w->grid = xmalloc(nb * sizeof *w->grid);
		w->bins = xmalloc((m->nfreq + 1) * sizeof *w->bins);
		dsp_tfr_rfftfreq(n, p->fs, w->grid);
		got = dsp_tfr_best_match(w->grid, nb, m->freqs, m->nfreq, true, w->bins);
		if (got != m->nfreq)
			return error_set(
			    cause, -EINVAL,
			    "foi: the %zu frequencies fall on %zu bins of a %zu-sample "
			    "toi window",
			    m->nfreq, got, n);
		for (size_t k = 0; k < m->k; k++) {
			const double *tw = set->w + k * stride;
			size_t row = p->keeptapers ? k : 0;
			for (size_t c = 0; c < nc; c++)
				for (size_t i = 0; i < n; i++) {
					size_t at = (a + i) * ld + c;
					double v = x->dtype == DSP_TRIAL_F32
						       ? (double)((const float *)x->data)[at]
						       : ((const double *)x->data)[at];
					w->buf[c * n + i] = v * tw[i];
				}
			fft_r2c_many(n, nc, w->buf, w->spec);
			for (size_t c = 0; c < nc; c++) {
				const double *sp = (const double *)(w->spec + c * nb);
				double *dst = out + ((j * ntap + row) * m->nfreq * nc + c) * cw;
				for (size_t f = 0; f < m->nfreq; f++)
					dsp_tfr_convert_add(p->output, scale * sp[2 * w->bins[f]],
							    scale * sp[2 * w->bins[f] + 1], wmean,
							    dst + f * nc * cw);
			}
		}
	}
	return rc;
}

int
dsp_mtmconvol_trial(const struct dsp_mtmconvol *m, const struct dsp_trial *x, double offset,
		    double *out, struct dsp_mtmconvol_work **wk, char **cause)
{
	size_t len = dsp_mtmconvol_ntime(m, x->nsamp) * dsp_mtmconvol_ntap(m) * m->nfreq *
		     x->nchan * dsp_tfr_width(m->p.output);

	if (x->nsamp < m->nperseg && m->p.toi_kind != DSP_TFR_TOI_LIST)
		return error_set(cause, -EINVAL,
				 "t_ftimwin: windows of %zu samples are longer than a trial of "
				 "%zu",
				 m->nperseg, x->nsamp);
	if (*wk == NULL)
		*wk = xcalloc(1, sizeof **wk);
	memset(out, 0, len * sizeof *out);
	if (x->nchan == 0)
		return 0;
	if (m->p.toi_kind == DSP_TFR_TOI_LIST)
		return dsp_mtmconvol_list(m, x, offset, out, *wk, cause);
	return dsp_mtmconvol_sliding(m, x, out, *wk, cause);
}
