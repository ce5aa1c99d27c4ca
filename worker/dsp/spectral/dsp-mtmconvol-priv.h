/* What the mtmconvol plan (dsp-mtmconvol.c) and its per-trial windows (dsp-mtmconvol-win.c)
 * share: the plan's resolved parameters and one thread's scratch. Not part of the mtmconvol
 * interface. */
#ifndef ND_DSP_MTMCONVOL_PRIV_H
#define ND_DSP_MTMCONVOL_PRIV_H

#include <stddef.h>

#include "worker/dsp/core/fft-plan.h"
#include "worker/dsp/spectral/dsp-mtmconvol.h"

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

#endif
