/* Correction-quality metrics: a Welch PSD, per-channel parts (each computed on one channel,
 * thread-safe) and the aggregations over channels that go into the job report. */
#ifndef ND_DSP_METRICS_H
#define ND_DSP_METRICS_H

#include <stddef.h>
#include <stdint.h>

#define DSP_METRICS_ALLEN_BANDS 4
#define DSP_METRICS_HARMONICS   5

/* Windows on the data (half-open sample ranges, clipped to [0, n)): reference data is
 * [ref_start, pre_end) ∪ [post_start, n), by default (ref_start 0) outside [T[0], T[-1] + L]
 * minus 0.1 s on each side, or an interval the user gives (post_start = n); acquisition data
 * is [T[0] - L/2, T[-1] + 3L/2). */
struct dsp_metrics_windows {
	size_t ref_start, pre_end, post_start;
	size_t acq_start, acq_end;
};

/* What one channel contributes. Values that cannot be computed are NAN. */
struct dsp_metrics_channel {
	double var_ref, var_acq;               /* corrected data (snr) */
	double rms_orig, rms_corr;             /* RMS on the acquisition window (rms_ratio) */
	double std_ref, std_acq;               /* corrected data (rms_residual) */
	double allen[DSP_METRICS_ALLEN_BANDS]; /* |P_corr - P_ref| / P_ref in % */
	/* Mean PSD within ±0.5 Hz of harmonics 1..5 of [0] the slice and [1] the volume
	 * frequency, original and corrected acquisition data. */
	double niazy_orig[2][DSP_METRICS_HARMONICS], niazy_corr[2][DSP_METRICS_HARMONICS];
	/* The same bands of the corrected acquisition data and of the reference data, both with
	 * Welch segments of min(4·fs, reference, acquisition) samples (harmonics_vs_reference). */
	double harm_acq[2][DSP_METRICS_HARMONICS], harm_ref[2][DSP_METRICS_HARMONICS];
};

struct dsp_metrics_summary {
	double snr;                            /* mean of var_ref / max(var_acq - var_ref, 1e-10) */
	double rms_ratio;                      /* median of rms_orig / rms_corr */
	double rms_residual;                   /* mean of std_acq / std_ref (ideal 1) */
	double allen[DSP_METRICS_ALLEN_BANDS]; /* median over channels, % */
	double niazy[2][DSP_METRICS_HARMONICS]; /* 10·log10(median P_orig / median P_corr), dB */
	/* Median over channels of 10·log10(P_acq / P_ref) at each harmonic, dB: 0 when the
	 * corrected data hold as much power there as the artifact-free data, above 0 residual
	 * artifact, below 0 signal taken with it. */
	double harm_vs_ref[2][DSP_METRICS_HARMONICS];
};

/* Band edges of fft_allen: 0.8-4, 4-8, 8-12, 12-24 Hz (inclusive). */
extern const double dsp_metrics_allen_bands[DSP_METRICS_ALLEN_BANDS][2];

/* Welch PSD like scipy.signal.welch(x, fs, nperseg=nperseg) defaults: periodic Hann window,
 * noverlap nperseg/2, constant detrend, density scaling, one-sided, mean of segments. Writes
 * nperseg/2 + 1 values (bin k at k·fs/nperseg) to psd. Returns 0 or -EINVAL. */
int dsp_metrics_welch(const double *x, size_t n, double fs, size_t nperseg, double *psd,
		      char **cause);

/* Mean of psd bins (from dsp_metrics_welch with nperseg) whose frequency k·fs/nperseg lies in
 * [lo, hi]; NAN when there are none. */
double dsp_metrics_band(const double *psd, size_t nperseg, double fs, double lo, double hi);

/* Median of the finite values in v[0..n) (v is not modified); NAN when there are none. */
double dsp_metrics_median(const double *v, size_t n);

int dsp_metrics_windows(size_t n, double fs, const int64_t *trig, size_t ntrig, size_t len,
			struct dsp_metrics_windows *w, char **cause);
/* Replace the reference data of w by the interval [t0, t1) seconds (clipped to the data).
 * -EINVAL when fewer than 2 samples are left. */
int dsp_metrics_windows_reference(struct dsp_metrics_windows *w, size_t n, double fs, double t0,
				  double t1, char **cause);
/* Slice frequency fs / mean(diff(T)); the volume frequency is that / slices_per_volume. */
double dsp_metrics_slice_freq(const int64_t *trig, size_t ntrig, double fs);

/* One channel's parts. orig (the uncorrected channel) may be NULL: rms_orig and niazy_orig are
 * then NAN. slice_freq / volume_freq <= 0 leave their harmonics NAN. Returns 0 or -EINVAL. */
int dsp_metrics_channel(const double *orig, const double *corr, size_t n, double fs,
			const int64_t *trig, size_t ntrig, size_t len, double slice_freq,
			double volume_freq, struct dsp_metrics_channel *m, char **cause);
/* The same on windows w given by the caller (from dsp_metrics_windows, perhaps with a
 * reference interval). */
int dsp_metrics_channel_at(const double *orig, const double *corr, size_t n, double fs,
			   const struct dsp_metrics_windows *w, double slice_freq,
			   double volume_freq, struct dsp_metrics_channel *m, char **cause);
void dsp_metrics_aggregate(const struct dsp_metrics_channel *ch, size_t nch,
			   struct dsp_metrics_summary *s);
/* 10·log10(acq / ref) of one channel's harmonic band, NAN when either is not positive. */
double dsp_metrics_harm_db(double acq, double ref);

/* Peak-to-peak of x in [T[i] + off, + len) for each trigger (NAN when outside the data). */
void dsp_metrics_p2p(const double *x, size_t n, const int64_t *trig, size_t ntrig, size_t len,
		     int64_t off, double *p2p);
/* Peak-to-peak of the reference data of w cut into whole epochs of len samples (the two
 * stretches concatenated, as the toolbox does); writes up to max values to p2p and returns how
 * many epochs there are (at most max). */
size_t dsp_metrics_p2p_reference(const double *x, size_t n, const struct dsp_metrics_windows *w,
				 size_t len, double *p2p, size_t max);
/* median_artifact: p2p[c·nepochs + e] for nch channels; median over epochs of the channel mean
 * (epochs with any NAN are left out). */
double dsp_metrics_median_artifact(const double *p2p, size_t nch, size_t nepochs);

/* Quality against ground truth on [T[0], T[-1] + 300): clean_bl = clean through the zero-phase
 * FIR high-pass hp and low-pass lp (<= 0: skipped); *db = 20·log10(RMS(rec - clean) /
 * RMS(corr - clean_bl)) and *resid_uv = RMS(corr - clean_bl) in µV (data in volts).
 * Medians over channels: dsp_metrics_median. Returns 0 or -EINVAL. */
int dsp_metrics_truth(const double *rec, const double *corr, const double *clean, size_t n,
		      double fs, const int64_t *trig, size_t ntrig, double hp, double lp,
		      double *db, double *resid_uv, char **cause);

#endif
