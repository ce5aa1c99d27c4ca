/* Data tapers: symmetric windows (boxcar, hann, hamming, blackman, kaiser), DPSS (Slepian)
 * sequences, the tapsmofrq -> (NW, K) rule, and a process-wide cache of taper sets. */
#ifndef ND_DSP_TAPER_H
#define ND_DSP_TAPER_H

#include <stddef.h>

enum dsp_taper_window {
	DSP_TAPER_BOXCAR,
	DSP_TAPER_HANN,
	DSP_TAPER_HAMMING,
	DSP_TAPER_BLACKMAN,
	DSP_TAPER_KAISER, /* parameter: beta */
	DSP_TAPER_DPSS,   /* parameter: NW */
};

/* K tapers of length N, row-major w[k * n + i]. Immutable once published by the cache. */
struct dsp_taper_set {
	enum dsp_taper_window window;
	size_t n;
	size_t k;
	double param; /* NW (dpss), beta (kaiser), else 0 */
	double *w;    /* k x n */
	double *sum;  /* k sums of each taper */
	double *eig;  /* dpss concentration eigenvalues (largest first), else NULL */
};

/* "none"/"boxcar", "hann"/"hanning", "hamming", "blackman", "kaiser", "dpss". */
int dsp_taper_window_parse(const char *name, enum dsp_taper_window *w, char **cause);
const char *dsp_taper_window_name(enum dsp_taper_window w);

/* One symmetric window of length n into out[0..n) (not dpss). Returns 0 or -EINVAL. */
int dsp_taper_window_fill(enum dsp_taper_window w, size_t n, double beta, double *out,
			  char **cause);

/* The k DPSS sequences with the largest concentration for half-bandwidth nw/n, unit L2 norm,
 * signs as scipy.signal.windows.dpss, into out[j * n + i]; eig (may be NULL) gets the k
 * eigenvalues of the tridiagonal matrix, largest first. Returns 0, -EINVAL or -EIO (LAPACK). */
int dsp_taper_dpss(size_t n, double nw, size_t k, double *out, double *eig, char **cause);

/* Multitaper rule for trials of n samples at fs (n may be a mean length, not an integer):
 * tapsmofrq clamped to [fs/n, fs/2 - 1/n], NW = tapsmofrq * n / fs, K = ntaper if > 0 else
 * max(1, trunc(2 NW - 1)). *clamped (may be NULL) is set to 1 if tapsmofrq was clamped. Returns 0
 * or -EINVAL (naming tapsmofrq or nTaper). */
int dsp_taper_tapsmofrq(double tapsmofrq, double fs, double n, size_t ntaper, double *nw, size_t *k,
			int *clamped, char **cause);

/* The cached taper set for (window, n, param, k); k must be 1 for windows other than dpss.
 * The set stays valid until dsp_taper_cache_clear(); no ownership is transferred. Thread-safe. */
int dsp_taper_cache_get(enum dsp_taper_window w, size_t n, double param, size_t k,
			const struct dsp_taper_set **out, char **cause);
/* Free every cached set; no set obtained before may be used afterwards. */
void dsp_taper_cache_clear(void);

#endif
