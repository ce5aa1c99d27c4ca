/* Trigger-train analysis (artifact length, volume gaps) and the run-once aligners
 * (align_slices, align_subsample) that shift slice triggers by cross-correlation. */
#ifndef ND_DSP_TRIGGER_H
#define ND_DSP_TRIGGER_H

#include <stddef.h>
#include <stdint.h>

struct dsp_trigger_info {
	size_t artifact_len;      /* L, samples */
	int volume_gaps;          /* 1 when the spacing shows volume gaps */
	size_t slices_per_volume; /* median slice count between gaps; 0 without gaps */
};

/* The spacing rule: d = diff(t); if max(d) − min(d) <= 3, L = max(d), no gaps; else
 * m = (median(d) + max(d))/2, L = max(d[d < m]), gaps where d >= m, slices per volume =
 * int(median(slice counts between gaps, first and last run included)). Needs n >= 2 and
 * increasing triggers; returns 0 or -EINVAL. */
int dsp_trigger_analyze(const int64_t *t, size_t n, struct dsp_trigger_info *info, char **cause);

/* Every trigger t[0..nt) within the data [0, n), or -EINVAL naming the first outside, its
 * message led by `who` (the kernel's name). */
int dsp_trigger_in_range(const int64_t *t, size_t nt, size_t n, const char *who, char **cause);

/* After resampling by ratio: t[i] = trunc(t[i]·ratio). */
void dsp_trigger_scale(int64_t *t, size_t n, double ratio);

/* The span the slice artifacts of a trigger train cover, with one artifact length to spare:
 * [min(t) − len, max(t) + len) clipped to [0, n). Needs nt >= 1 and t within [0, n). */
void dsp_trigger_window(const int64_t *t, size_t nt, size_t len, size_t n, size_t *ws, size_t *we);

/* Search radius in working samples for `orig` samples at the original rate:
 * round(orig·scale), scale = working rate / original rate. */
size_t dsp_trigger_radius(double orig, double scale);

/* align_slices: R = x[t[ref] + s0 : +L]; for every other trigger,
 * seg = x[t[i] + s0 : t[i] + s0 + L + W] (zero outside the data), t[i] += shift(seg, R, W),
 * W = 3 original samples scaled. Then L is recomputed from the shifted triggers into *info
 * (which may be NULL). x is read only; t is updated in place. Returns 0 or -EINVAL. */
int dsp_trigger_align_slices(const double *x, size_t n, int64_t *t, size_t nt, size_t ref, size_t L,
			     long s0, double scale, struct dsp_trigger_info *info, char **cause);

/* align_subsample: pre = clamp(−round(off·fs), 0, L), post = L − pre;
 * R = x[t[ref] − pre : t[ref] + post]; the shift of each other trigger in [−r, r]
 * (r = 2 original samples scaled) maximises Σ x[t[i] − pre + k + n]·R[n] with the data
 * edge-padded; t[i] += shift, clipped to [0, n). Shifts (may be NULL) receive each offset. */
int dsp_trigger_align_subsample(const double *x, size_t n, int64_t *t, size_t nt, size_t ref,
				size_t L, double off, double fs, double scale, long *shifts,
				char **cause);

#endif
