/* freqanalysis method mtmfft: (multi-)tapered FFT spectra of trials, with the normalisation,
 * padding and frequency selection of the reference, and trial-average accumulators that a
 * reducer can merge across chunks. */
#ifndef ND_DSP_MTMFFT_H
#define ND_DSP_MTMFFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "worker/dsp/core/dsp-taper.h"
#include "worker/dsp/core/dsp-trial.h"

enum dsp_mtmfft_output {
	DSP_MTMFFT_POW,
	DSP_MTMFFT_ABS,
	DSP_MTMFFT_FOURIER, /* complex: interleaved (re, im) float pairs */
	DSP_MTMFFT_REAL,
	DSP_MTMFFT_IMAG,
	DSP_MTMFFT_ANGLE,
	DSP_MTMFFT_ABSREAL, /* |real| */
	DSP_MTMFFT_ABSIMAG, /* |imag| */
};

enum dsp_mtmfft_pad {
	DSP_MTMFFT_PAD_MAXPERLEN, /* M = longest trial */
	DSP_MTMFFT_PAD_SECONDS,   /* M = round(pad_seconds * fs) */
	DSP_MTMFFT_PAD_NEXTPOW2,  /* M = next power of two >= longest trial */
};

struct dsp_mtmfft_params {
	double fs;
	enum dsp_taper_window taper; /* default hann; not dpss (use tapsmofrq) */
	double kaiser_beta;
	double tapsmofrq;  /* > 0: DPSS multitaper (taper must stay hann) */
	size_t ntaper;     /* 0: K from tapsmofrq */
	double nw_len;     /* > 0: NW and K from this length (the mean trial length, as the
			    * reference does), else from each trial's own length */
	const double *foi; /* nearest bins (ties to the higher), duplicates dropped, in the
			    * order given; copied by dsp_mtmfft_new */
	size_t nfoi;
	bool use_foilim; /* all bins with foilim[0] <= f <= foilim[1] */
	double foilim[2];
	enum dsp_mtmfft_pad pad;
	double pad_seconds;
	int polyremoval; /* -1 none, 0 demean (default), 1 linear */
	enum dsp_mtmfft_output output;
	bool keeptapers; /* required by multitaper outputs other than pow */
	bool ft_compat;    /* L = M instead of sqrt(N M) */
	bool demean_taper; /* demean each tapered signal before the FFT */
};

struct dsp_mtmfft;
struct dsp_mtmfft_work;

/* Trial-average state: sum[len] of per-trial outputs (doubles; 2 per value if complex), kept
 * with its rounding error comp[len] (Knuth's two-sum), so the mean does not depend on the order
 * trials were added or partial accumulators merged. */
struct dsp_mtmfft_accum {
	double *sum;
	double *comp;
	size_t len;
	size_t ntap;
	size_t nchan;
	uint64_t count;
	double *scratch;              /* private */
	struct dsp_mtmfft_work *work; /* private */
};

/* Defaults of the reference: hann, pad maxperlen, demean, pow, all frequencies. */
void dsp_mtmfft_params_init(struct dsp_mtmfft_params *p, double fs);
int dsp_mtmfft_output_parse(const char *name, enum dsp_mtmfft_output *out, char **cause);

/* Validate p and prepare for trials of at most maxlen samples. On success *out is owned by the
 * caller (dsp_mtmfft_free). Causes name the offending parameter. Returns 0 or -EINVAL. */
int dsp_mtmfft_new(const struct dsp_mtmfft_params *p, size_t maxlen, struct dsp_mtmfft **out,
		   char **cause);
void dsp_mtmfft_free(struct dsp_mtmfft *m);

size_t dsp_mtmfft_padlen(const struct dsp_mtmfft *m);
/* The parameters m was made with (foi owned by m). */
const struct dsp_mtmfft_params *dsp_mtmfft_params(const struct dsp_mtmfft *m);
size_t dsp_mtmfft_nfreq(const struct dsp_mtmfft *m);
/* The selected frequencies (rfftfreq(M, 1/fs) entries), nfreq of them; owned by m. */
const double *dsp_mtmfft_freqs(const struct dsp_mtmfft *m);
bool dsp_mtmfft_is_complex(const struct dsp_mtmfft *m);
/* Taper rows in the output of a trial of nsamp samples: K with keeptapers, else 1. */
int dsp_mtmfft_ntapers(const struct dsp_mtmfft *m, size_t nsamp, size_t *ntap, char **cause);

/* One trial: out[(taper * nfreq + f) * nchan + c] as float32 (two floats per value for fourier).
 * Thread-safe: m is read-only. Returns 0 or -EINVAL (trial longer than M, bad length). */
int dsp_mtmfft_trial(const struct dsp_mtmfft *m, const struct dsp_trial *x, float *out,
		     char **cause);

/* The same as complex doubles: out[((taper * nfreq + f) * nchan + c) * 2 + {0, 1}] for
 * output fourier (one double per value for the real outputs). */
int dsp_mtmfft_trial_f64(const struct dsp_mtmfft *m, const struct dsp_trial *x, double *out,
			 char **cause);

/* Averaging over trials: init for ntap taper rows and nchan channels, add trials, merge partial
 * accumulators (same shape), finalize the mean (count > 0) into float32 like dsp_mtmfft_trial. */
void dsp_mtmfft_accum_init(struct dsp_mtmfft_accum *a, const struct dsp_mtmfft *m, size_t ntap,
			   size_t nchan);
int dsp_mtmfft_accum_add(struct dsp_mtmfft_accum *a, const struct dsp_mtmfft *m,
			 const struct dsp_trial *x, char **cause);
int dsp_mtmfft_accum_merge(struct dsp_mtmfft_accum *a, const struct dsp_mtmfft_accum *b,
			   char **cause);
int dsp_mtmfft_accum_finalize(const struct dsp_mtmfft_accum *a, float *out, char **cause);
void dsp_mtmfft_accum_fini(struct dsp_mtmfft_accum *a);

#endif
