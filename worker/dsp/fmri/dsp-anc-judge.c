/* Whether an adaptive-noise-cancellation output helps, judged without a ground truth: the
 * residual artifact sits at the slice harmonics, so a good output brings their power nearer
 * the level the same channel has where there is no artifact (before the first trigger and
 * after the last); an output that takes the EEG pushes them below it, and takes power away
 * from the harmonics too. The EEG's own level changes between the artifact-free stretches and
 * the scan, so each harmonic is read against the bands 1-2 Hz beside it: the harmonic's
 * power against the reference's, less the neighbours' against theirs. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/xmalloc.h"
#include "worker/dsp/fmri/dsp-anc.h"
#include "worker/dsp/fmri/dsp-metrics.h"

/* The output may take up to this times the excess the harmonics show: the excess is estimated
 * from one stretch of data, its scatter is of this order. */
#define DSP_ANC_JUDGE_SLACK 1.5

/* 10·log10(a / b), NAN unless both are positive. */
static double
dsp_anc_judge_db(double a, double b)
{
	return a > 0 && b > 0 ? 10 * log10(a / b) : NAN;
}

/* The mean power of psd 1 to 2 Hz either side of f. */
static double
dsp_anc_judge_beside(const double *psd, size_t nper, double fs, double f)
{
	double lo = dsp_metrics_band(psd, nper, fs, f - 2, f - 1);
	double hi = dsp_metrics_band(psd, nper, fs, f + 1, f + 2);

	return isfinite(lo) && isfinite(hi) ? 0.5 * (lo + hi) : isfinite(lo) ? lo : hi;
}

/* Mean over the harmonics of |(harmonic vs reference) − (its neighbours vs theirs)| in dB,
 * the off-harmonic power of psd in [1, band], and the excess power at the harmonics over what
 * the reference predicts there (signed, so the EEG's scatter cancels; V²). */
static double
dsp_anc_judge_score(const double *psd, const double *ref, size_t nper, double fs, double sf,
		    double band, size_t *nh, double *off, double *excess)
{
	double acc = 0, df = fs / (double)nper, p = 0, ex = 0;
	size_t h, m = 0;

	for (h = 1; (double)h * sf + 0.5 <= band; h++) {
		double f = (double)h * sf;
		double a = dsp_metrics_band(psd, nper, fs, f - 0.5, f + 0.5);
		double r = dsp_metrics_band(ref, nper, fs, f - 0.5, f + 0.5);
		double na = dsp_anc_judge_beside(psd, nper, fs, f);
		double nr = dsp_anc_judge_beside(ref, nper, fs, f);
		double d = dsp_anc_judge_db(a, r) - dsp_anc_judge_db(na, nr);

		if (isfinite(d)) {
			/* The band's power: its mean density times the width its bins cover. */
			double bins = floor((f + 0.5) / df) - ceil((f - 0.5) / df) + 1;

			acc += fabs(d), m++;
			ex += (a - r * na / nr) * bins * df;
		}
	}
	*excess = ex;
	for (size_t k = 0; k <= nper / 2; k++) {
		double f = (double)k * df, d = fmod(f, sf);

		if (f >= 1 && f <= band && d > 0.5 && sf - d > 0.5)
			p += psd[k];
	}
	*nh = m;
	*off = p;
	return m ? acc / (double)m : NAN;
}

int
dsp_anc_judge(const double *x, size_t n, double fs, const int64_t *trig, size_t ntrig,
	      size_t len, size_t ws, const double *y, size_t wl, double band,
	      struct dsp_anc_judgement *j, char **cause)
{
	struct dsp_metrics_windows w;
	size_t pre, post, nref, nper, nb;
	double *ref, *a, *pa, *pb, *pr, *py, sf, off_a, off_b, ex_a, ex_b;
	int rc;

	memset(j, 0, sizeof *j);
	j->before_db = j->after_db = j->off_db = NAN;
	if ((rc = dsp_metrics_windows(n, fs, trig, ntrig, len, &w, cause)) != 0)
		return rc;
	sf = dsp_metrics_slice_freq(trig, ntrig, fs);
	pre = w.pre_end;
	post = n - w.post_start;
	nref = pre + post;
	if (nref < (size_t)fs || wl < 2 || !(sf > 0) || sf + 0.5 > band)
		return 0;
	nper = (size_t)(4 * fs);
	nper = nper < nref ? nper : nref;
	nper = nper < wl ? nper : wl;
	nb = nper / 2 + 1;
	ref = xmalloc(nref * sizeof *ref);
	memcpy(ref, x, pre * sizeof *ref);
	memcpy(ref + pre, x + w.post_start, post * sizeof *ref);
	a = xmalloc(wl * sizeof *a);
	pa = xmalloc(nb * sizeof *pa), pb = xmalloc(nb * sizeof *pb), pr = xmalloc(nb * sizeof *pr);
	py = xmalloc(nb * sizeof *py);
	if ((rc = dsp_metrics_welch(ref, nref, fs, nper, pr, cause)) == 0 &&
	    (rc = dsp_metrics_welch(x + ws, wl, fs, nper, pa, cause)) == 0) {
		for (size_t i = 0; i < wl; i++)
			a[i] = x[ws + i] - y[i];
		if ((rc = dsp_metrics_welch(a, wl, fs, nper, pb, cause)) == 0)
			rc = dsp_metrics_welch(y, wl, fs, nper, py, cause);
	}
	if (rc == 0) {
		j->before_db = dsp_anc_judge_score(pa, pr, nper, fs, sf, band, &j->harmonics, &off_a,
						   &ex_a);
		j->after_db = dsp_anc_judge_score(pb, pr, nper, fs, sf, band, &j->harmonics, &off_b,
						  &ex_b);
		j->off_db = off_a > 0 && off_b > 0 ? 10 * log10(off_b / off_a) : NAN;
		double py_h = 0, py_off, ex_y;
		size_t hy;

		/* What the output takes at the harmonics (the same bands), against the excess
		 * there; and it must take more there than away from them. */
		dsp_anc_judge_score(py, pr, nper, fs, sf, band, &hy, &py_off, &ex_y);
		for (size_t h = 1; (double)h * sf + 0.5 <= band; h++) {
			double f = (double)h * sf, df = fs / (double)nper;
			double bins = floor((f + 0.5) / df) - ceil((f - 0.5) / df) + 1;

			py_h += dsp_metrics_band(py, nper, fs, f - 0.5, f + 0.5) * bins * df;
		}
		py_off *= fs / (double)nper;
		j->excess_uv = ex_a > 0 ? 1e6 * sqrt(ex_a) : 0;
		j->output_uv = 1e6 * sqrt(py_h);
		j->accept = j->harmonics > 0 && j->after_db < j->before_db && j->off_db > -1.0 &&
			    py_h <= DSP_ANC_JUDGE_SLACK * ex_a && py_off <= py_h;
	}
	free(ref), free(a), free(pa), free(pb), free(pr), free(py);
	return rc;
}
