/* Non-parametric spectral Granger causality (Dhamala, Rangarajan & Ding 2008) from trial-averaged
 * cross spectra, with the reference's settings: the cross-spectral matrices are regularised when
 * their largest 2-norm condition number over frequency reaches cond_max (1e4) by adding ε I for
 * the first ε of logspace(−10, −1, 15) that brings it below (reg. factor −1 if none does), then
 * factorised (dsp-wilson.h, rtol 5e-6, 100 steps), and
 *   G_{i→j}(f) = ln( S_jj / (S_jj − (Σ_ii − |Σ_ji|² / Σ_jj) |H_ji(f)|²) ),
 * the diagonal being 0. Pairwise mode factorises the 2 × 2 cross spectra of each (sender,
 * receiver) pair on its own. */
#ifndef ND_DSP_GRANGER_H
#define ND_DSP_GRANGER_H

#include <stdbool.h>
#include <stddef.h>

struct dsp_granger_params {
	double rtol;     /* 5e-6 */
	int niter;       /* 100 */
	double cond_max; /* 1e4 */
	int nthreads;    /* threads of the factorisation (1); the result does not depend on it */
};

/* What the reference reports in the output's info dict. */
struct dsp_granger_info {
	bool converged;
	double max_rel_err;
	double reg_factor; /* 0: none needed, ε, or −1 when cond_max was not reached */
	double initial_cond;
	int iterations;
};

void dsp_granger_params_init(struct dsp_granger_params *p);

/* Largest 2-norm condition number over the nfreq full row-major Hermitian matrices, and the ε
 * to add (0, an ε of the ladder, or eps_max with *factor −1). */
int dsp_granger_regularize(const double *csd, size_t nfreq, size_t nchan, double cond_max,
			   double *cond, double *eps, double *factor, char **cause);

/* All pairs of the nchan channels: out[(f * nchan + i) * nchan + j] = G_{i→j}(f) (doubles). */
int dsp_granger_all(const double *csd, size_t nfreq, size_t nchan,
		    const struct dsp_granger_params *p, double *out, struct dsp_granger_info *info,
		    char **cause);

/* Pairwise: out[(f * nsend + s) * nrecv + r] = G_{send[s]→recv[r]}(f), each pair from its own
 * 2-channel factorisation; senders and receivers must differ. */
int dsp_granger_pairs(const double *csd, size_t nfreq, size_t nchan, const size_t *send,
		      size_t nsend, const size_t *recv, size_t nrecv,
		      const struct dsp_granger_params *p, double *out, char **cause);

#endif
