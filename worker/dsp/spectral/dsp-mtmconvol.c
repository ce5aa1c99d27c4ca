/* mtmconvol and welch. For a fraction or "all", a trial is zero-extended by half a window at
 * both ends and cut into windows every `step` samples (window i centred on trial sample
 * i*step), each detrended, tapered and transformed; for a sparse toi list one window of
 * 2*halfwin+1 samples per time, tapered without detrending (the reference's mtmfft path).
 * Tapers come from the process-wide cache; all windows of one channel and taper go through one
 * batched FFT. */
#include "worker/dsp/spectral/dsp-mtmconvol.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
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
	size_t ncols, nseg, nspec;
	double *cols, *seg, *buf;
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
	double n = p->mean_len, lo = p->fs / n, hi = fmin(p->fs / 2 - 1 / n, p->fs * (n + 1) / (2 * n));
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
dsp_mtmconvol_reserve(struct dsp_mtmconvol_work *w, size_t ncols, size_t nseg, size_t nspec)
{
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
	fft_free(w->buf);
	fft_free(w->spec);
	free(w->bins);
	free(w->grid);
	free(w);
}

/* Sliding windows of one channel column col[0..n): nt windows, detrended, in w->seg. */
static int
dsp_mtmconvol_segments(const struct dsp_mtmconvol *m, const double *col, size_t n, size_t nt,
		       struct dsp_mtmconvol_work *w, char **cause)
{
	size_t pp = m->nperseg;
	int rc = 0;

	for (size_t i = 0; i < nt && rc == 0; i++) {
		double *s = w->seg + i * pp;
		long long first = (long long)(i * m->step) - (long long)m->half;
		for (size_t j = 0; j < pp; j++) {
			long long idx = first + (long long)j;
			s[j] = idx >= 0 && idx < (long long)n ? col[idx] : 0.0;
		}
		rc = dsp_trial_polyremoval(s, pp, m->p.polyremoval, cause);
	}
	return rc;
}

/* buf[i * pp + j] = seg[i * pp + j] * w[j] for nt windows: a hot loop, built per CPU. */
DSP_CLONES static void
dsp_mtmconvol_taper_windows(const double *restrict seg, const double *restrict w,
			    double *restrict buf, size_t nt, size_t pp)
{
	for (size_t i = 0; i < nt; i++)
		for (size_t j = 0; j < pp; j++)
			buf[i * pp + j] = seg[i * pp + j] * w[j];
}

static int
dsp_mtmconvol_sliding(const struct dsp_mtmconvol *m, const struct dsp_trial *x, double *out,
		      struct dsp_mtmconvol_work *w, char **cause)
{
	const struct dsp_mtmconvol_params *p = &m->p;
	size_t n = x->nsamp, nc = x->nchan, pp = m->nperseg, nb = pp / 2 + 1, stride;
	size_t nt = (n + m->step - 1) / m->step, ntap = dsp_mtmconvol_ntap(m), cw;
	const struct dsp_taper_set *set;
	double scale, wmean;
	int rc;

	if ((rc = dsp_mtmconvol_tapers(m, pp, true, &set, &stride, &scale, cause)) != 0)
		return rc;
	cw = dsp_tfr_width(p->output);
	wmean = (p->keeptapers ? 1.0 : 1.0 / (double)m->k) / (p->welch ? (double)nt : 1.0);
	dsp_mtmconvol_reserve(w, n * nc, nt * pp, nt * nb);
	dsp_trial_to_columns(x, w->cols);
	for (size_t c = 0; c < nc && rc == 0; c++) {
		if ((rc = dsp_mtmconvol_segments(m, w->cols + c * n, n, nt, w, cause)) != 0)
			break;
		for (size_t k = 0; k < m->k; k++) {
			size_t row = p->keeptapers ? k : 0;
			dsp_mtmconvol_taper_windows(w->seg, set->w + k * stride, w->buf, nt, pp);
			fft_r2c_many(pp, nt, w->buf, w->spec);
			for (size_t i = 0; i < nt; i++) {
				const double *sp = (const double *)(w->spec + i * nb);
				size_t t = p->welch ? 0 : i;
				double *dst = out + ((t * ntap + row) * m->nfreq * nc + c) * cw;
				for (size_t f = 0; f < m->nfreq; f++)
					dsp_tfr_convert_add(p->output, scale * sp[2 * m->bins[f]],
							    scale * sp[2 * m->bins[f] + 1], wmean,
							    dst + f * nc * cw);
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
	double lo = trunc(p->fs * (p->toi[j] - t0) - hw), hi = trunc(p->fs * (p->toi[j] - t0) + hw + 1);

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
		dsp_mtmconvol_reserve(w, 0, n * nc, nb * nc);
		free(w->grid);
		free(w->bins);
		w->grid = xmalloc(nb * sizeof *w->grid);
		w->bins = xmalloc((m->nfreq + 1) * sizeof *w->bins);
		dsp_tfr_rfftfreq(n, p->fs, w->grid);
		got = dsp_tfr_best_match(w->grid, nb, m->freqs, m->nfreq, true, w->bins);
		if (got != m->nfreq)
			return error_set(cause, -EINVAL,
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
