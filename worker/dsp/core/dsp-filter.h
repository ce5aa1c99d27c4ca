/* Zero-phase linear-phase FIR filters (window design, Hamming) applied by FFT overlap-add with
 * "reflect-limited" edge padding. All functions work on one channel and are thread-safe. */
#ifndef ND_DSP_FILTER_H
#define ND_DSP_FILTER_H

#include <stddef.h>

enum dsp_filter_kind {
	DSP_FILTER_HIGHPASS,
	DSP_FILTER_LOWPASS,
	DSP_FILTER_BANDPASS,
};

/* A designed filter: odd-length symmetric taps, owned by the struct (free with fini). */
struct dsp_filter {
	double *taps;
	size_t ntaps;
};

/* Automatic transition widths (Hz) for a lower / upper pass-band edge. */
double dsp_filter_trans_lo(double lo);
double dsp_filter_trans_hi(double fs, double hi);
/* Filter length for a transition width: odd(round(3.3·fs/trans)). */
size_t dsp_filter_length(double fs, double trans);

/* Design a high-pass (lo), low-pass (hi) or band-pass (lo, hi) filter at rate fs; the unused
 * edge is ignored. Returns 0 or -EINVAL (cause names the bad parameter). On success *f holds
 * taps the caller releases with dsp_filter_fini. */
int dsp_filter_design(struct dsp_filter *f, enum dsp_filter_kind kind, double fs, double lo,
		      double hi, char **cause);
/* Design a band-stop at each of freqs (stop band width `width` Hz, or freq/200 when width <= 0,
 * transition 0.5 Hz on each side). Same ownership as dsp_filter_design. */
int dsp_filter_design_notch(struct dsp_filter *f, double fs, const double *freqs, size_t nfreqs,
			    double width, char **cause);
/* Release the taps; accepts a zeroed or already-finished struct. */
void dsp_filter_fini(struct dsp_filter *f);

/* Filter x[0..n) in place, zero-phase (centred), edges padded by reflect-limited.
 * No ownership is transferred; f may be shared by concurrent callers. */
int dsp_filter_apply(const struct dsp_filter *f, double *x, size_t n, char **cause);

/* Convenience: design then apply. */
int dsp_filter_highpass(double *x, size_t n, double fs, double fc, char **cause);
int dsp_filter_lowpass(double *x, size_t n, double fs, double fc, char **cause);
int dsp_filter_bandpass(double *x, size_t n, double fs, double lo, double hi, char **cause);
int dsp_filter_notch(double *x, size_t n, double fs, const double *freqs, size_t nfreqs,
		     double width, char **cause);

#endif
