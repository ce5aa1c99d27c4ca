/* Correction-quality metrics: the Welch PSD, the reference / acquisition windows, each
 * channel's contribution to snr, rms_ratio, rms_residual, fft_allen and fft_niazy, their
 * aggregation, median_artifact, and the ground-truth quality measure. */
#include "worker/dsp/fmri/dsp-metrics.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/xmalloc.h"
#include "common/xsort.h"
#include "worker/dsp/core/dsp-filter.h"
#include "worker/dsp/core/fft-plan.h"
#include "worker/dsp/fmri/dsp-trigger.h"

const double dsp_metrics_allen_bands[DSP_METRICS_ALLEN_BANDS][2] = {
    {0.8, 4},
    {4, 8},
    {8, 12},
    {12, 24},
};

int
dsp_metrics_welch(const double *x, size_t n, double fs, size_t nperseg, double *psd, char **cause)
{
	size_t step, nseg, nb;
	double *w, *seg, wss = 0, scale;
	fftw_complex *spec;

	if (x == NULL || n == 0)
		return error_set(cause, -EINVAL, "welch: empty signal (x)");
	if (!(fs > 0))
		return error_set(cause, -EINVAL, "welch: fs must be positive (got %g)", fs);
	if (nperseg < 2 || nperseg > n)
		return error_set(cause, -EINVAL, "welch: nperseg %zu must lie in [2, n = %zu]",
				 nperseg, n);
	step = nperseg - nperseg / 2;
	nseg = (n - nperseg) / step + 1;
	nb = nperseg / 2 + 1;
	w = xmalloc(nperseg * sizeof *w);
	seg = fft_alloc_real(nperseg);
	spec = fft_alloc_complex(nb);
	for (size_t i = 0; i < nperseg; i++) {
		w[i] = 0.5 - 0.5 * cos(2 * M_PI * (double)i / (double)nperseg);
		wss += w[i] * w[i];
	}
	memset(psd, 0, nb * sizeof *psd);
	for (size_t s = 0; s < nseg; s++) {
		const double *xs = x + s * step;
		double mean = 0;
		for (size_t i = 0; i < nperseg; i++)
			mean += xs[i];
		mean /= (double)nperseg;
		for (size_t i = 0; i < nperseg; i++)
			seg[i] = (xs[i] - mean) * w[i];
		fft_r2c(nperseg, seg, spec);
		for (size_t k = 0; k < nb; k++)
			psd[k] += creal(spec[k]) * creal(spec[k]) + cimag(spec[k]) * cimag(spec[k]);
	}
	scale = 1.0 / (fs * wss * (double)nseg);
	for (size_t k = 0; k < nb; k++) {
		int edge = k == 0 || (nperseg % 2 == 0 && k == nb - 1);
		psd[k] *= edge ? scale : 2 * scale;
	}
	free(w);
	fft_free(seg);
	fft_free(spec);
	return 0;
}

static int
dsp_metrics_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

double
dsp_metrics_median(const double *v, size_t n)
{
	double *c = xmalloc((n ? n : 1) * sizeof *c), med;
	size_t m = 0;

	for (size_t i = 0; i < n; i++)
		if (isfinite(v[i]))
			c[m++] = v[i];
	if (m == 0) {
		free(c);
		return NAN;
	}
	xqsort(c, m, sizeof *c, dsp_metrics_cmp);
	med = m % 2 ? c[m / 2] : 0.5 * (c[m / 2 - 1] + c[m / 2]);
	free(c);
	return med;
}

static double
dsp_metrics_mean(const double *v, size_t n)
{
	double acc = 0;
	size_t m = 0;

	for (size_t i = 0; i < n; i++)
		if (isfinite(v[i]))
			acc += v[i], m++;
	return m ? acc / (double)m : NAN;
}

static int
dsp_metrics_check_trig(size_t n, const int64_t *trig, size_t ntrig, const char *who, char **cause)
{
	if (trig == NULL || ntrig == 0)
		return error_set(cause, -EINVAL, "%s: no triggers (trig)", who);
	if (dsp_trigger_in_range(trig, ntrig, n, who, cause) != 0)
		return -EINVAL;
	for (size_t i = 1; i < ntrig; i++)
		if (trig[i] < trig[i - 1])
			return error_set(cause, -EINVAL, "%s: triggers must be sorted (trig %zu)",
					 who, i);
	return 0;
}

int
dsp_metrics_windows(size_t n, double fs, const int64_t *trig, size_t ntrig, size_t len,
		    struct dsp_metrics_windows *w, char **cause)
{
	size_t t0, t1, buf, half = len / 2, tail = len + len / 2;
	int rc;

	if ((rc = dsp_metrics_check_trig(n, trig, ntrig, "metrics", cause)) != 0)
		return rc;
	if (!(fs > 0))
		return error_set(cause, -EINVAL, "metrics: fs must be positive (got %g)", fs);
	t0 = (size_t)trig[0];
	t1 = (size_t)trig[ntrig - 1];
	buf = (size_t)lround(0.1 * fs);
	w->ref_start = 0;
	w->pre_end = t0 > buf ? t0 - buf : 0;
	w->post_start = t1 + len + buf < n ? t1 + len + buf : n;
	w->acq_start = t0 > half ? t0 - half : 0;
	w->acq_end = t1 + tail < n ? t1 + tail : n;
	return 0;
}

int
dsp_metrics_windows_reference(struct dsp_metrics_windows *w, size_t n, double fs, double t0,
			      double t1, char **cause)
{
	double a = t0 * fs, b = t1 * fs;

	a = a < 0 ? 0 : a > (double)n ? (double)n : a;
	b = b < 0 ? 0 : b > (double)n ? (double)n : b;
	if (!(b - a >= 2))
		return error_set(cause, -EINVAL,
				 "metrics: reference interval [%g, %g] s holds no data (recording "
				 "of %.3f s)",
				 t0, t1, (double)n / fs);
	w->ref_start = (size_t)llround(a);
	w->pre_end = (size_t)llround(b);
	w->post_start = n;
	return 0;
}

double
dsp_metrics_slice_freq(const int64_t *trig, size_t ntrig, double fs)
{
	if (ntrig < 2 || trig[ntrig - 1] == trig[0])
		return NAN;
	/* mean(diff(T)) telescopes to (T[-1] - T[0]) / (ntrig - 1). */
	return fs * (double)(ntrig - 1) / (double)(trig[ntrig - 1] - trig[0]);
}

/* Population variance of x[0..n). */
static double
dsp_metrics_var(const double *x, size_t n)
{
	double mean = 0, acc = 0;

	if (n == 0)
		return NAN;
	for (size_t i = 0; i < n; i++)
		mean += x[i];
	mean /= (double)n;
	for (size_t i = 0; i < n; i++)
		acc += (x[i] - mean) * (x[i] - mean);
	return acc / (double)n;
}

static double
dsp_metrics_rms(const double *x, size_t n)
{
	double acc = 0;

	if (n == 0)
		return NAN;
	for (size_t i = 0; i < n; i++)
		acc += x[i] * x[i];
	return sqrt(acc / (double)n);
}

double
dsp_metrics_band(const double *psd, size_t nperseg, double fs, double lo, double hi)
{
	double acc = 0, df = fs / (double)nperseg;
	size_t m = 0;

	for (size_t k = 0; k <= nperseg / 2; k++) {
		double f = (double)k * df;
		if (f >= lo && f <= hi)
			acc += psd[k], m++;
	}
	return m ? acc / (double)m : NAN;
}

/* Mean PSD at ±0.5 Hz of harmonics 1..5 of the slice and volume frequencies. */
static int
dsp_metrics_harmonics(const double *x, size_t n, double fs, const double freq[2],
		      double out[2][DSP_METRICS_HARMONICS], char **cause)
{
	size_t nper = (size_t)(4 * fs) < n ? (size_t)(4 * fs) : n;
	double *psd = xmalloc((nper / 2 + 1) * sizeof *psd);
	int rc;

	if ((rc = dsp_metrics_welch(x, n, fs, nper, psd, cause)) == 0)
		for (int t = 0; t < 2; t++)
			for (int h = 0; h < DSP_METRICS_HARMONICS; h++) {
				double f = freq[t] * (h + 1);
				out[t][h] = freq[t] > 0
						? dsp_metrics_band(psd, nper, fs, f - 0.5, f + 0.5)
						: NAN;
			}
	free(psd);
	return rc;
}

/* Power of the corrected acquisition data and of the reference data in the harmonic bands,
 * with the same Welch segment length for both. */
static int
dsp_metrics_harmonics_ref(const double *acq, size_t nacq, const double *ref, size_t nref,
			  double fs, const double freq[2], struct dsp_metrics_channel *m,
			  char **cause)
{
	size_t nper = (size_t)(4 * fs);
	double *pa, *pr;
	int rc;

	nper = nper < nref ? nper : nref;
	nper = nper < nacq ? nper : nacq;
	pa = xmalloc((nper / 2 + 1) * sizeof *pa);
	pr = xmalloc((nper / 2 + 1) * sizeof *pr);
	if ((rc = dsp_metrics_welch(acq, nacq, fs, nper, pa, cause)) == 0 &&
	    (rc = dsp_metrics_welch(ref, nref, fs, nper, pr, cause)) == 0)
		for (int t = 0; t < 2; t++)
			for (int h = 0; h < DSP_METRICS_HARMONICS; h++) {
				double f = freq[t] * (h + 1);

				if (!(freq[t] > 0))
					continue;
				m->harm_acq[t][h] = dsp_metrics_band(pa, nper, fs, f - 0.5, f + 0.5);
				m->harm_ref[t][h] = dsp_metrics_band(pr, nper, fs, f - 0.5, f + 0.5);
			}
	free(pa), free(pr);
	return rc;
}

/* Reference data: the stretches of w outside the acquisition, concatenated (*nref samples). */
static double *
dsp_metrics_reference(const double *x, size_t n, const struct dsp_metrics_windows *w,
		      size_t *nref)
{
	size_t pre = w->pre_end > w->ref_start ? w->pre_end - w->ref_start : 0;
	size_t post = n > w->post_start ? n - w->post_start : 0;
	double *ref = xmalloc((pre + post ? pre + post : 1) * sizeof *ref);

	memcpy(ref, x + w->ref_start, pre * sizeof *ref);
	memcpy(ref + pre, x + w->post_start, post * sizeof *ref);
	*nref = pre + post;
	return ref;
}

static void
dsp_metrics_channel_clear(struct dsp_metrics_channel *m)
{
	for (int t = 0; t < 2; t++)
		for (int h = 0; h < DSP_METRICS_HARMONICS; h++)
			m->niazy_orig[t][h] = m->niazy_corr[t][h] = m->harm_acq[t][h] =
			    m->harm_ref[t][h] = NAN;
	for (int b = 0; b < DSP_METRICS_ALLEN_BANDS; b++)
		m->allen[b] = NAN;
	m->var_ref = m->var_acq = m->rms_orig = m->rms_corr = m->std_ref = m->std_acq = NAN;
}

int
dsp_metrics_channel(const double *orig, const double *corr, size_t n, double fs,
		    const int64_t *trig, size_t ntrig, size_t len, double slice_freq,
		    double volume_freq, struct dsp_metrics_channel *m, char **cause)
{
	struct dsp_metrics_windows w;
	int rc;

	dsp_metrics_channel_clear(m);
	if (len == 0)
		return error_set(cause, -EINVAL, "metrics: artifact length len must be positive");
	if ((rc = dsp_metrics_windows(n, fs, trig, ntrig, len, &w, cause)) != 0)
		return rc;
	return dsp_metrics_channel_at(orig, corr, n, fs, &w, slice_freq, volume_freq, m, cause);
}

int
dsp_metrics_channel_at(const double *orig, const double *corr, size_t n, double fs,
		       const struct dsp_metrics_windows *w, double slice_freq, double volume_freq,
		       struct dsp_metrics_channel *m, char **cause)
{
	size_t nref, nacq;
	double *ref, *pr = NULL, *pc = NULL, freq[2] = {slice_freq, volume_freq};
	const double *acq;
	int rc = 0;

	dsp_metrics_channel_clear(m);
	if (corr == NULL || n == 0)
		return error_set(cause, -EINVAL, "metrics: empty corrected channel (corr)");
	if (!(fs > 0))
		return error_set(cause, -EINVAL, "metrics: fs must be positive (got %g)", fs);
	if (w->acq_end > n || w->acq_end <= w->acq_start + 1)
		return error_set(cause, -EINVAL, "metrics: acquisition window is empty");
	ref = dsp_metrics_reference(corr, n, w, &nref);
	acq = corr + w->acq_start;
	nacq = w->acq_end - w->acq_start;

	m->var_acq = dsp_metrics_var(acq, nacq);
	m->std_acq = sqrt(m->var_acq);
	m->rms_corr = dsp_metrics_rms(acq, nacq);
	if (orig != NULL)
		m->rms_orig = dsp_metrics_rms(orig + w->acq_start, nacq);
	if (nref >= 2) {
		size_t nper = (size_t)(3 * fs);
		nper = nper < nref ? nper : nref;
		nper = nper < nacq ? nper : nacq;
		m->var_ref = dsp_metrics_var(ref, nref);
		m->std_ref = sqrt(m->var_ref);
		pr = xmalloc((nper / 2 + 1) * sizeof *pr);
		pc = xmalloc((nper / 2 + 1) * sizeof *pc);
		if ((rc = dsp_metrics_welch(ref, nref, fs, nper, pr, cause)) == 0 &&
		    (rc = dsp_metrics_welch(acq, nacq, fs, nper, pc, cause)) == 0)
			for (int b = 0; b < DSP_METRICS_ALLEN_BANDS; b++) {
				double lo = dsp_metrics_allen_bands[b][0];
				double hi = dsp_metrics_allen_bands[b][1];
				double r = dsp_metrics_band(pr, nper, fs, lo, hi);
				double c = dsp_metrics_band(pc, nper, fs, lo, hi);
				m->allen[b] = r > 0 ? 100 * fabs(c - r) / r : NAN;
			}
		if (rc == 0)
			rc = dsp_metrics_harmonics_ref(acq, nacq, ref, nref, fs, freq, m, cause);
	}
	if (rc == 0)
		rc = dsp_metrics_harmonics(acq, nacq, fs, freq, m->niazy_corr, cause);
	if (rc == 0 && orig != NULL)
		rc = dsp_metrics_harmonics(orig + w->acq_start, nacq, fs, freq, m->niazy_orig,
					   cause);
	free(ref), free(pr), free(pc);
	return rc;
}

double
dsp_metrics_harm_db(double acq, double ref)
{
	return acq > 0 && ref > 0 ? 10 * log10(acq / ref) : NAN;
}

void
dsp_metrics_aggregate(const struct dsp_metrics_channel *ch, size_t nch,
		      struct dsp_metrics_summary *s)
{
	double *v = xmalloc((nch ? nch : 1) * sizeof *v);
	double *u = xmalloc((nch ? nch : 1) * sizeof *u);

	for (size_t c = 0; c < nch; c++) {
		double d = ch[c].var_acq - ch[c].var_ref;
		v[c] = ch[c].var_ref / (d > 1e-10 ? d : 1e-10);
	}
	s->snr = dsp_metrics_mean(v, nch);
	for (size_t c = 0; c < nch; c++)
		v[c] = ch[c].rms_orig / ch[c].rms_corr;
	s->rms_ratio = dsp_metrics_median(v, nch);
	for (size_t c = 0; c < nch; c++)
		v[c] = ch[c].std_acq / ch[c].std_ref;
	s->rms_residual = dsp_metrics_mean(v, nch);
	for (int b = 0; b < DSP_METRICS_ALLEN_BANDS; b++) {
		for (size_t c = 0; c < nch; c++)
			v[c] = ch[c].allen[b];
		s->allen[b] = dsp_metrics_median(v, nch);
	}
	for (int t = 0; t < 2; t++)
		for (int h = 0; h < DSP_METRICS_HARMONICS; h++) {
			double po, pc;
			for (size_t c = 0; c < nch; c++) {
				v[c] = ch[c].niazy_orig[t][h];
				u[c] = ch[c].niazy_corr[t][h];
			}
			po = dsp_metrics_median(v, nch);
			pc = dsp_metrics_median(u, nch);
			s->niazy[t][h] = pc > 0 ? 10 * log10(po / pc) : NAN;
			for (size_t c = 0; c < nch; c++)
				v[c] = dsp_metrics_harm_db(ch[c].harm_acq[t][h], ch[c].harm_ref[t][h]);
			s->harm_vs_ref[t][h] = dsp_metrics_median(v, nch);
		}
	free(v), free(u);
}

void
dsp_metrics_p2p(const double *x, size_t n, const int64_t *trig, size_t ntrig, size_t len,
		int64_t off, double *p2p)
{
	for (size_t i = 0; i < ntrig; i++) {
		int64_t s = trig[i] + off;
		double lo, hi;

		if (s < 0 || len == 0 || (uint64_t)s + len > n) {
			p2p[i] = NAN;
			continue;
		}
		lo = hi = x[s];
		for (size_t t = 1; t < len; t++) {
			double v = x[(size_t)s + t];
			lo = v < lo ? v : lo;
			hi = v > hi ? v : hi;
		}
		p2p[i] = hi - lo;
	}
}

size_t
dsp_metrics_p2p_reference(const double *x, size_t n, const struct dsp_metrics_windows *w,
			  size_t len, double *p2p, size_t max)
{
	size_t nref, nep;
	double *ref = dsp_metrics_reference(x, n, w, &nref);

	nep = len > 0 ? nref / len : 0;
	nep = nep < max ? nep : max;
	for (size_t e = 0; e < nep; e++) {
		const double *v = ref + e * len;
		double lo = v[0], hi = v[0];

		for (size_t t = 1; t < len; t++) {
			lo = v[t] < lo ? v[t] : lo;
			hi = v[t] > hi ? v[t] : hi;
		}
		p2p[e] = hi - lo;
	}
	free(ref);
	return nep;
}

double
dsp_metrics_median_artifact(const double *p2p, size_t nch, size_t nepochs)
{
	double *mean = xmalloc((nepochs ? nepochs : 1) * sizeof *mean), med;

	for (size_t e = 0; e < nepochs; e++) {
		double acc = 0;
		for (size_t c = 0; c < nch; c++)
			acc += p2p[c * nepochs + e];
		mean[e] = nch ? acc / (double)nch : NAN;
	}
	med = dsp_metrics_median(mean, nepochs);
	free(mean);
	return med;
}

int
dsp_metrics_truth(const double *rec, const double *corr, const double *clean, size_t n, double fs,
		  const int64_t *trig, size_t ntrig, double hp, double lp, double *db,
		  double *resid_uv, char **cause)
{
	size_t a, b;
	double *bl, num = 0, den = 0;
	int rc = 0;

	*db = *resid_uv = NAN;
	if (rec == NULL || corr == NULL || clean == NULL || n == 0)
		return error_set(cause, -EINVAL, "truth: empty channel (rec, corr or clean)");
	if ((rc = dsp_metrics_check_trig(n, trig, ntrig, "truth", cause)) != 0)
		return rc;
	if (!(fs > 0))
		return error_set(cause, -EINVAL, "truth: fs must be positive (got %g)", fs);
	a = (size_t)trig[0];
	b = (size_t)trig[ntrig - 1] + 300 < n ? (size_t)trig[ntrig - 1] + 300 : n;
	bl = xmalloc(n * sizeof *bl);
	memcpy(bl, clean, n * sizeof *bl);
	if (hp > 0)
		rc = dsp_filter_highpass(bl, n, fs, hp, cause);
	if (rc == 0 && lp > 0)
		rc = dsp_filter_lowpass(bl, n, fs, lp, cause);
	if (rc != 0) {
		free(bl);
		return error_wrap(cause, rc, "truth: clean pass band: ");
	}
	for (size_t i = a; i < b; i++) {
		num += (rec[i] - clean[i]) * (rec[i] - clean[i]);
		den += (corr[i] - bl[i]) * (corr[i] - bl[i]);
	}
	free(bl);
	*resid_uv = 1e6 * sqrt(den / (double)(b - a));
	*db = 10 * log10(num / den);
	return 0;
}
