/* R-peak (QRS) detection on one ECG channel recorded in the scanner, robust to missed and extra
 * beats: band-pass, squared slope integrated over a QRS width, the heart period from its
 * autocorrelation, locally adaptive amplitude thresholds, then an RR-interval check that drops
 * the worse-shaped member of a too-short interval and searches a too-long one again with a
 * lower threshold and the QRS template (after Pan & Tompkins 1985 and the search-back and
 * RR correction of Christov 2004 / Niazy et al. 2005). Thread-safe. */
#ifndef ND_DSP_RPEAK_H
#define ND_DSP_RPEAK_H

#include <stddef.h>
#include <stdint.h>

struct dsp_rpeak_params {
	double lo, hi;     /* detection band, Hz (5, 25) */
	double refractory; /* shortest accepted RR interval, s (0.25: 240 bpm) */
};

struct dsp_rpeak_result {
	int64_t *peaks; /* R-peak samples, sorted; owned (dsp_rpeak_result_fini) */
	size_t n;
	double rr_median; /* s; 0 with fewer than two beats */
	double period;    /* heart period from the autocorrelation, s */
	int polarity;     /* +1: R upwards, -1: the lead sees the QRS inverted */
	size_t removed;   /* beats dropped from too-short intervals */
	size_t added;     /* beats found again in too-long intervals */
};

/* Defaults: 5-25 Hz, 0.25 s. */
void dsp_rpeak_params_init(struct dsp_rpeak_params *p);

/* Detect the R peaks of x[0..n) sampled at fs. x is read only. On success res owns its peaks
 * (zero beats is a success with n = 0). Returns 0 or -EINVAL (cause names the parameter). */
int dsp_rpeak_detect(const double *x, size_t n, double fs, const struct dsp_rpeak_params *p,
		     struct dsp_rpeak_result *res, char **cause);
/* Release the peaks; accepts a zeroed or finished result. */
void dsp_rpeak_result_fini(struct dsp_rpeak_result *res);

/* The feature the detector thresholds: (y[i+1] − y[i−1])² of the band-passed signal y,
 * averaged over an odd window of round(0.08·fs) samples centred on i (for tests). f[0..n). */
void dsp_rpeak_feature(const double *y, size_t n, double fs, double *f);

/* The heart period (s) of a feature series: the first local maximum of its autocorrelation (f
 * decimated to about 100 Hz) in [0.3, 2] s that reaches 0.7 of the largest there; 1 s when no
 * lag correlates positively. */
double dsp_rpeak_period(const double *f, size_t n, double fs);

#endif
