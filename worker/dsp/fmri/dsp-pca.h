/* PCA optimal basis set (OBS) removal of residual gradient artifacts on one channel
 * (Niazy et al. 2005), plus the reference toolbox's variant for comparison. Thread-safe. */
#ifndef ND_DSP_PCA_H
#define ND_DSP_PCA_H

#include <stddef.h>
#include <stdint.h>

enum dsp_pca_variant {
	/* Textbook OBS: subtract the least-squares fit of the leading components. */
	DSP_PCA_OBS = 0,
	/* Reference toolbox: subtract what remains after removing the leading components, with a
	 * high-pass made of the numerator of a 5th-order Butterworth design (filtfilt). */
	DSP_PCA_REFERENCE = 1,
};

enum dsp_pca_solver {
	/* Gram matrix on the smaller dimension (dsyrk), all its eigenvalues and only the leading
	 * eigenvectors (dsytrd, dsterf, dstemr, dormtr). */
	DSP_PCA_SOLVER_GRAM = 0,
	/* Thin SVD of the z-scored epoch matrix (dgesdd, jobz='S'). */
	DSP_PCA_SOLVER_GESDD = 1,
};

struct dsp_pca_params {
	/* Variance fraction in (0, 1] (1: every component), or, when `exact` is set, the exact number of components. */
	double n_components;
	int exact;
	/* High-pass cut-off (Hz) applied to the window before the epochs are taken; <= 0: none. */
	double hp;
	enum dsp_pca_variant variant;
	enum dsp_pca_solver solver;
	/* Choose the count per channel (n_components ignored): two-fold cross-validation over
	 * the epochs (alternate volumes, or blocks of 10 epochs without volume information) of
	 * the artifact-band residual, each component kept while it removes more held-out energy
	 * than twice what a random direction would (0 to 20; zero is legal). */
	int choose;
	size_t slices_per_volume;
	/* Subtract only the fit's part above hp (the fit summed over the window, then high-passed
	 * by the same zero-phase FIR), so the EEG band is left as it was. */
	int band_only;
};

struct dsp_pca_result {
	size_t k;         /* components used (0: channel left unchanged) */
	size_t epochs;    /* epochs in the decomposition (constant ones dropped) */
	double explained; /* cumulative variance ratio of the k components */
	double cv_gain_db; /* choose: held-out residual with k components against none, dB */
	double removed_uv; /* RMS of what was subtracted on the window, µV */
};

/* Defaults: n_components 0.95, hp 1 Hz, OBS, Gram solver. */
void dsp_pca_params_init(struct dsp_pca_params *p);

/* Correct x[0..n) (rate fs) in place on the window [min(T) - len, max(T) + len) clipped to the
 * data, with epochs T[i] + round(0.1·len) .. + len. The subtracted signal is added to
 * noise[0..n) when noise is not NULL. Returns 0 or -EINVAL (cause names the parameter).
 * No ownership is transferred; res may be NULL. */
int dsp_pca_apply(double *x, size_t n, double fs, const int64_t *trig, size_t ntrig, size_t len,
		  const struct dsp_pca_params *p, double *noise, struct dsp_pca_result *res,
		  char **cause);

/* The reference's high-pass: numerator b[0..5] of a 5th-order Butterworth high-pass at fc. */
void dsp_pca_butter_numerator(double fs, double fc, double b[6]);
/* scipy.signal.filtfilt(b, [1], x) with odd padding of 3·nb samples, in place (n > 3·nb). */
int dsp_pca_filtfilt_fir(const double *b, size_t nb, double *x, size_t n, char **cause);

#endif
