/* The mtmconvol and welch plan: parameters checked as the reference's frontend does, the
 * window length and step, the DPSS NW and K, the selected frequency bins, and the plan's
 * accessors. The windows of one trial are computed in dsp-mtmconvol-win.c. */
#include "worker/dsp/spectral/dsp-mtmconvol.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/xmalloc.h"
#include "worker/dsp/spectral/dsp-mtmconvol-priv.h"


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
