/* freqanalysis methods mtmconvol and welch: (multi-)tapered sliding-window FFTs of trials as the
 * reference computes them (zero-extended edge windows, per-window detrending, windows on a list
 * of times), and welch's mean over each trial's windows. */
#ifndef ND_DSP_MTMCONVOL_H
#define ND_DSP_MTMCONVOL_H

#include <stdbool.h>
#include <stddef.h>

#include "worker/dsp/core/dsp-trial.h"
#include "worker/dsp/spectral/dsp-tfr.h"

struct dsp_mtmconvol_params {
	double fs;
	enum dsp_taper_window taper; /* default hann; boxcar for the reference's None */
	double kaiser_beta;
	double tapsmofrq; /* > 0: DPSS multitaper (NW and K from mean_len) */
	size_t ntaper;    /* 0: K from tapsmofrq */
	double t_ftimwin; /* window length (s) */
	enum dsp_tfr_toi toi_kind;
	double toi_frac;   /* overlap fraction in [0, 1] */
	const double *toi; /* list (s, ascending); copied by dsp_mtmconvol_new */
	size_t ntoi;
	const double *foi; /* nearest bins of the window's grid; copied */
	size_t nfoi;
	bool use_foilim;
	double foilim[2];
	int polyremoval; /* per window: -1 none, 0 demean (default), 1 linear */
	enum dsp_mtmfft_output output;
	bool keeptapers;
	bool welch;      /* mean over each trial's windows (output pow, toi a fraction) */
	double mean_len; /* mean trial length (samples): DPSS NW and K */
	size_t min_len;  /* shortest trial (samples): the window must fit */
};

struct dsp_mtmconvol;
struct dsp_mtmconvol_work;

void dsp_mtmconvol_params_init(struct dsp_mtmconvol_params *p, double fs);
/* Validate p (causes name the parameter, in the reference's words) and prepare. */
int dsp_mtmconvol_new(const struct dsp_mtmconvol_params *p, struct dsp_mtmconvol **out,
		      char **cause);
void dsp_mtmconvol_free(struct dsp_mtmconvol *m);

size_t dsp_mtmconvol_nperseg(const struct dsp_mtmconvol *m);
/* Window step in samples (fraction and all; 0 for a toi list). */
size_t dsp_mtmconvol_step(const struct dsp_mtmconvol *m);
size_t dsp_mtmconvol_ntap(const struct dsp_mtmconvol *m);
size_t dsp_mtmconvol_nfreq(const struct dsp_mtmconvol *m);
/* The frequency attribute: the selected bins of the nperseg grid. */
const double *dsp_mtmconvol_freqs(const struct dsp_mtmconvol *m);
/* Taper label ("hann", "dpss", ...). */
const char *dsp_mtmconvol_taper(const struct dsp_mtmconvol *m);
/* Output rows (times) of a trial of nsamp samples (1 for welch). */
size_t dsp_mtmconvol_ntime(const struct dsp_mtmconvol *m, size_t nsamp);

/* One trial whose first sample is at `offset` samples: out[((time * ntap + taper) * nfreq + f)
 * * nchan + c] (x2 for fourier), doubles, overwritten. *wk holds scratch buffers across calls
 * (NULL at first; free with dsp_mtmconvol_work_free). m is read-only: thread-safe. */
int dsp_mtmconvol_trial(const struct dsp_mtmconvol *m, const struct dsp_trial *x, double offset,
			double *out, struct dsp_mtmconvol_work **wk, char **cause);
void dsp_mtmconvol_work_free(struct dsp_mtmconvol_work *w);

#endif
