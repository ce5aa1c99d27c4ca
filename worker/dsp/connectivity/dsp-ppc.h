/* Pairwise phase consistency (Vinck et al. 2010) of trials' cross spectra without visiting the
 * trial pairs: with unit phasors u_k = S_k / |S_k| of the K trials' cross spectra,
 * Σ_{k<l} cos(arg(S_k conj(S_l))) = (|Σ_k u_k|^2 − K) / 2, so the PPC,
 * 2 / (K (K − 1)) Σ_{k<l} cos(·), needs only the sum of the phasors: it reduces over trials
 * like a sum, in O(K) instead of O(K^2). An exactly zero cross spectrum (a flat channel) has no
 * phase: its pairs add 0. (The reference takes the angle of a product with zero, whose value,
 * 0 or π, depends on the signs of the zeros.) */
#ifndef ND_DSP_PPC_H
#define ND_DSP_PPC_H

#include <stddef.h>
#include <stdint.h>

struct dsp_ppc_acc {
	size_t nfreq, nchan;
	size_t len;     /* 3 × nfreq × nchan × nchan: phasor sums, then phasor counts */
	double *sum;    /* upper triangles (dsp-csd.h layout) of Σ u_k; counts of nonzero u_k */
	uint64_t count; /* trials */
};

void dsp_ppc_acc_init(struct dsp_ppc_acc *a, size_t nfreq, size_t nchan);
/* One trial's cross spectra (upper triangles, dsp_csd_trial). */
void dsp_ppc_acc_add(struct dsp_ppc_acc *a, const double *s);
/* Add the partial sums (a's layout, a->len doubles) of `count` trials. */
void dsp_ppc_acc_add_sums(struct dsp_ppc_acc *a, const double *sum, uint64_t count);
/* Packed form (upper triangles only, as dsp_csd_packed_len: phasor sums then counts):
 * 3 × nfreq × nchan (nchan + 1) / 2 doubles. */
size_t dsp_ppc_packed_len(size_t nfreq, size_t nchan);
void dsp_ppc_acc_pack(const struct dsp_ppc_acc *a, double *out);
void dsp_ppc_acc_add_packed(struct dsp_ppc_acc *a, const double *packed, uint64_t count);
/* PPC as full row-major float32 matrices (symmetric); count >= 2. */
void dsp_ppc_acc_finalize(const struct dsp_ppc_acc *a, float *out);
void dsp_ppc_acc_fini(struct dsp_ppc_acc *a);

#endif
