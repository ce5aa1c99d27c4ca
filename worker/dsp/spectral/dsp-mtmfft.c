/* mtmfft: detrend, taper (single window or cached DPSS set), rfft to the padded length with the
 * reference's scaling, exact-bin frequency selection, output conversion, taper and trial means. */
#include "worker/dsp/spectral/dsp-mtmfft.h"

#include <complex.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/names.h"
#include "common/xmalloc.h"
#include "worker/dsp/core/fft-plan.h"

struct dsp_mtmfft {
	struct dsp_mtmfft_params p;
	size_t maxlen;
	size_t m; /* padded length */
	size_t nfreq;
	size_t *bins; /* selected rfft bins */
	double *freqs;
};

static const char *const dsp_mtmfft_output_names[] = {
    [DSP_MTMFFT_POW] = "pow",   [DSP_MTMFFT_ABS] = "abs",   [DSP_MTMFFT_FOURIER] = "fourier",
    [DSP_MTMFFT_REAL] = "real", [DSP_MTMFFT_IMAG] = "imag", [DSP_MTMFFT_ANGLE] = "angle",
    [DSP_MTMFFT_ABSREAL] = "absreal", [DSP_MTMFFT_ABSIMAG] = "absimag",
};

void
dsp_mtmfft_params_init(struct dsp_mtmfft_params *p, double fs)
{
	memset(p, 0, sizeof *p);
	p->fs = fs;
	p->taper = DSP_TAPER_HANN;
	p->pad = DSP_MTMFFT_PAD_MAXPERLEN;
	p->polyremoval = 0;
	p->output = DSP_MTMFFT_POW;
}

int
dsp_mtmfft_output_parse(const char *name, enum dsp_mtmfft_output *out, char **cause)
{
	int k = names_find(name, dsp_mtmfft_output_names, NAMES_COUNT(dsp_mtmfft_output_names));

	if (name != NULL && strcmp(name, "complex") == 0)
		k = DSP_MTMFFT_FOURIER;
	if (k < 0)
		return error_set(cause, -EINVAL,
				 "output: unknown '%s' (pow, abs, fourier, complex, real, "
				 "imag, angle, absreal, absimag)",
				 name != NULL ? name : "(null)");
	*out = (enum dsp_mtmfft_output)k;
	return 0;
}

static int
dsp_mtmfft_check(const struct dsp_mtmfft_params *p, size_t maxlen, char **cause)
{
	double nyq = p->fs / 2;

	if (!(p->fs > 0) || !isfinite(p->fs))
		return error_set(cause, -EINVAL, "samplerate must be positive and finite");
	if (maxlen == 0)
		return error_set(cause, -EINVAL, "trials must have at least one sample");
	if (p->taper == DSP_TAPER_DPSS)
		return error_set(cause, -EINVAL, "taper: select dpss through tapsmofrq");
	if ((size_t)p->taper > DSP_TAPER_DPSS)
		return error_set(cause, -EINVAL, "taper: unknown window");
	if (p->tapsmofrq != 0 && p->taper != DSP_TAPER_HANN)
		return error_set(cause, -EINVAL,
				 "tapsmofrq: multitapering (dpss) needs taper hann "
				 "(the default), not %s",
				 dsp_taper_window_name(p->taper));
	if (p->tapsmofrq != 0 && !(p->tapsmofrq > 0 && isfinite(p->tapsmofrq)))
		return error_set(cause, -EINVAL, "tapsmofrq must be positive, not %g",
				 p->tapsmofrq);
	if (p->ntaper != 0 && p->tapsmofrq == 0)
		return error_set(cause, -EINVAL, "nTaper needs tapsmofrq (multitapering)");
	if (p->taper == DSP_TAPER_KAISER && !(p->kaiser_beta >= 0 && p->kaiser_beta < 700))
		return error_set(cause, -EINVAL, "taper: kaiser beta %g out of [0, 700)",
				 p->kaiser_beta);
	if ((size_t)p->output > DSP_MTMFFT_ABSIMAG)
		return error_set(cause, -EINVAL, "output: unknown value");
	if (p->tapsmofrq > 0 && p->output != DSP_MTMFFT_POW && !p->keeptapers)
		return error_set(cause, -EINVAL,
				 "keeptapers must be true for multitaper output other than pow");
	if (p->nw_len != 0 && !(p->nw_len >= 1 && isfinite(p->nw_len)))
		return error_set(cause, -EINVAL, "tapsmofrq: mean trial length %g", p->nw_len);
	if (p->polyremoval < -1 || p->polyremoval > 1)
		return error_set(cause, -EINVAL, "polyremoval must be none, 0 or 1, not %d",
				 p->polyremoval);
	if (p->use_foilim && p->nfoi > 0)
		return error_set(cause, -EINVAL, "foi and foilim are mutually exclusive");
	if (p->use_foilim &&
	    !(p->foilim[0] >= 0 && p->foilim[1] <= nyq && p->foilim[0] <= p->foilim[1]))
		return error_set(cause, -EINVAL,
				 "foilim [%g, %g] must be ordered and within "
				 "[0, %g] (samplerate / 2)",
				 p->foilim[0], p->foilim[1], nyq);
	for (size_t i = 0; i < p->nfoi; i++)
		if (!(p->foi[i] >= 0 && p->foi[i] <= nyq))
			return error_set(cause, -EINVAL,
					 "foi: %g Hz is outside [0, %g] "
					 "(samplerate / 2)",
					 p->foi[i], nyq);
	return 0;
}

static int
dsp_mtmfft_padlen_compute(const struct dsp_mtmfft_params *p, size_t maxlen, size_t *m, char **cause)
{
	double v;

	switch (p->pad) {
	case DSP_MTMFFT_PAD_MAXPERLEN:
		*m = maxlen;
		return 0;
	case DSP_MTMFFT_PAD_NEXTPOW2:
		for (*m = 1; *m < maxlen; *m *= 2)
			;
		return 0;
	case DSP_MTMFFT_PAD_SECONDS:
		v = round(p->pad_seconds * p->fs);
		if (!(v >= (double)maxlen) || v > 1e9)
			return error_set(cause, -EINVAL,
					 "pad: %g s (%g samples) is shorter than the "
					 "longest trial (%zu samples) or too long",
					 p->pad_seconds, v, maxlen);
		*m = (size_t)v;
		return 0;
	}
	return error_set(cause, -EINVAL, "pad: unknown mode");
}

/* The bin nearest to f on the ascending axis: the first bin >= f, or the one below it when that
 * one is strictly closer (numpy searchsorted, ties to the higher bin). */
static size_t
dsp_mtmfft_nearest(const double *axis, size_t nbins, double f)
{
	size_t lo = 0, hi = nbins;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (axis[mid] < f)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == nbins || (lo > 0 && fabs(f - axis[lo - 1]) < fabs(f - axis[lo])))
		return lo - 1;
	return lo;
}

/* Nearest bins for foi (in the order given, repeated bins dropped) or the foilim range. */
static int
dsp_mtmfft_select(struct dsp_mtmfft *m, const double *axis, size_t nbins, char **cause)
{
	const struct dsp_mtmfft_params *p = &m->p;

	m->bins = xmalloc((nbins + p->nfoi) * sizeof *m->bins);
	m->nfreq = 0;
	if (p->nfoi > 0) {
		char *used = xcalloc(nbins, 1);
		for (size_t i = 0; i < p->nfoi; i++) {
			size_t b = dsp_mtmfft_nearest(axis, nbins, p->foi[i]);
			if (!used[b])
				m->bins[m->nfreq++] = b;
			used[b] = 1;
		}
		free(used);
	} else {
		for (size_t b = 0; b < nbins; b++)
			if (!p->use_foilim || (axis[b] >= p->foilim[0] && axis[b] <= p->foilim[1]))
				m->bins[m->nfreq++] = b;
	}
	if (m->nfreq == 0)
		return error_set(cause, -EINVAL,
				 "foilim [%g, %g] contains no frequency bin "
				 "(resolution %g Hz)",
				 p->foilim[0], p->foilim[1], axis[1 < nbins ? 1 : 0]);
	m->freqs = xmalloc(m->nfreq * sizeof *m->freqs);
	for (size_t i = 0; i < m->nfreq; i++)
		m->freqs[i] = axis[m->bins[i]];
	return 0;
}

int
dsp_mtmfft_new(const struct dsp_mtmfft_params *p, size_t maxlen, struct dsp_mtmfft **out,
	       char **cause)
{
	struct dsp_mtmfft *m;
	double *axis, val;
	size_t nbins;
	int rc;

	*out = NULL;
	if ((rc = dsp_mtmfft_check(p, maxlen, cause)) != 0)
		return rc;
	m = xcalloc(1, sizeof *m);
	m->p = *p;
	m->maxlen = maxlen;
	if (p->nfoi > 0) {
		double *foi = xmalloc(p->nfoi * sizeof *foi);
		memcpy(foi, p->foi, p->nfoi * sizeof *foi);
		m->p.foi = foi;
	} else {
		m->p.foi = NULL;
	}
	if ((rc = dsp_mtmfft_padlen_compute(p, maxlen, &m->m, cause)) != 0) {
		dsp_mtmfft_free(m);
		return rc;
	}
	/* numpy.fft.rfftfreq(M, d=1/fs): arange(0, M//2+1) * (1.0 / (M * d)). */
	nbins = m->m / 2 + 1;
	axis = xmalloc(nbins * sizeof *axis);
	val = 1.0 / ((double)m->m * (1.0 / p->fs));
	for (size_t b = 0; b < nbins; b++)
		axis[b] = (double)b * val;
	rc = dsp_mtmfft_select(m, axis, nbins, cause);
	free(axis);
	if (rc != 0) {
		dsp_mtmfft_free(m);
		return rc;
	}
	*out = m;
	return 0;
}

void
dsp_mtmfft_free(struct dsp_mtmfft *m)
{
	if (m == NULL)
		return;
	free((double *)m->p.foi);
	free(m->bins);
	free(m->freqs);
	free(m);
}

const struct dsp_mtmfft_params *
dsp_mtmfft_params(const struct dsp_mtmfft *m)
{
	return &m->p;
}

size_t
dsp_mtmfft_padlen(const struct dsp_mtmfft *m)
{
	return m->m;
}

size_t
dsp_mtmfft_nfreq(const struct dsp_mtmfft *m)
{
	return m->nfreq;
}

const double *
dsp_mtmfft_freqs(const struct dsp_mtmfft *m)
{
	return m->freqs;
}

bool
dsp_mtmfft_is_complex(const struct dsp_mtmfft *m)
{
	return m->p.output == DSP_MTMFFT_FOURIER;
}

/* The taper set for a trial of n samples and the factor folding taper scaling and sqrt(2)/L. */
static int
dsp_mtmfft_tapers(const struct dsp_mtmfft *m, size_t n, const struct dsp_taper_set **set,
		  double *scale, char **cause)
{
	const struct dsp_mtmfft_params *p = &m->p;
	double mm = (double)m->m, l, nw;
	size_t k;
	int rc;

	if (n == 0 || n > m->m)
		return error_set(cause, -EINVAL,
				 "trial of %zu samples does not fit the padded "
				 "length %zu (pad)",
				 n, m->m);
	if (p->tapsmofrq > 0) {
		if ((rc = dsp_taper_tapsmofrq(p->tapsmofrq, p->fs,
					      p->nw_len > 0 ? p->nw_len : (double)n, p->ntaper,
					      &nw, &k, NULL, cause)) != 0)
			return rc;
		rc = dsp_taper_cache_get(DSP_TAPER_DPSS, n, nw, k, set, cause);
	} else {
		rc = dsp_taper_cache_get(p->taper, n, p->kaiser_beta, 1, set, cause);
	}
	if (rc != 0)
		return rc;
	l = p->ft_compat ? mm : sqrt((double)n * mm);
	if (p->tapsmofrq > 0)
		*scale = sqrt(mm);
	else if (p->taper == DSP_TAPER_BOXCAR)
		*scale = sqrt(mm / (*set)->sum[0]);
	else
		*scale = sqrt(4.0 / 3.0) * sqrt(mm / (*set)->sum[0]);
	*scale *= sqrt(2.0) / l;
	return 0;
}

int
dsp_mtmfft_ntapers(const struct dsp_mtmfft *m, size_t nsamp, size_t *ntap, char **cause)
{
	const struct dsp_taper_set *set;
	double scale;
	int rc;

	if ((rc = dsp_mtmfft_tapers(m, nsamp, &set, &scale, cause)) != 0)
		return rc;
	*ntap = m->p.keeptapers ? set->k : 1;
	return 0;
}

/* Add wmean * output(scale * spec[bins[f]]) to dst[f * stride] (two values for fourier). */
static void
dsp_mtmfft_convert(enum dsp_mtmfft_output out, const fftw_complex *spec, const size_t *bins,
		   size_t nfreq, double scale, double wmean, double *dst, size_t stride)
{
	const double *s = (const double *)spec;
	double s2 = scale * scale * wmean, sw = scale * wmean;

	switch (out) {
	case DSP_MTMFFT_POW:
		for (size_t f = 0; f < nfreq; f++) {
			double re = s[2 * bins[f]], im = s[2 * bins[f] + 1];
			dst[f * stride] += s2 * (re * re + im * im);
		}
		break;
	case DSP_MTMFFT_ABS:
		for (size_t f = 0; f < nfreq; f++)
			dst[f * stride] += sw * hypot(s[2 * bins[f]], s[2 * bins[f] + 1]);
		break;
	case DSP_MTMFFT_FOURIER:
		for (size_t f = 0; f < nfreq; f++) {
			dst[f * stride] += sw * s[2 * bins[f]];
			dst[f * stride + 1] += sw * s[2 * bins[f] + 1];
		}
		break;
	case DSP_MTMFFT_REAL:
		for (size_t f = 0; f < nfreq; f++)
			dst[f * stride] += sw * s[2 * bins[f]];
		break;
	case DSP_MTMFFT_IMAG:
		for (size_t f = 0; f < nfreq; f++)
			dst[f * stride] += sw * s[2 * bins[f] + 1];
		break;
	case DSP_MTMFFT_ANGLE:
		for (size_t f = 0; f < nfreq; f++)
			dst[f * stride] += wmean * atan2(s[2 * bins[f] + 1], s[2 * bins[f]]);
		break;
	case DSP_MTMFFT_ABSREAL:
		for (size_t f = 0; f < nfreq; f++)
			dst[f * stride] += sw * fabs(s[2 * bins[f]]);
		break;
	case DSP_MTMFFT_ABSIMAG:
		for (size_t f = 0; f < nfreq; f++)
			dst[f * stride] += sw * fabs(s[2 * bins[f] + 1]);
		break;
	}
}

/* Scratch buffers, grown on demand; one per accumulator (or per dsp_mtmfft_trial call). */
struct dsp_mtmfft_work {
	size_t ncols, nbuf, nspec, ndet;
	double *cols; /* mean[nchan], slope[nchan] */
	double *buf;
	fftw_complex *spec;
	double *det; /* multitaper: detrended channel-major trial, tapered K times */
};

static void
dsp_mtmfft_work_reserve(struct dsp_mtmfft_work *w, size_t ncols, size_t nbuf, size_t nspec)
{
	if (ncols > w->ncols) {
		free(w->cols);
		w->cols = xmalloc(ncols * sizeof *w->cols);
		w->ncols = ncols;
	}
	if (nbuf > w->nbuf) {
		fft_free(w->buf);
		w->buf = fft_alloc_real(nbuf);
		w->nbuf = nbuf;
	}
	if (nspec > w->nspec) {
		fft_free(w->spec);
		w->spec = fft_alloc_complex(nspec);
		w->nspec = nspec;
	}
}

static void
dsp_mtmfft_work_free(struct dsp_mtmfft_work *w)
{
	if (w == NULL)
		return;
	free(w->det);
	free(w->cols);
	fft_free(w->buf);
	fft_free(w->spec);
	free(w);
}

/* Compute one trial into acc[(taper * nfreq + f) * nchan + c] (x2 for complex), zeroed here.
 * All channels of one taper go through a single batched FFT. */
static int
dsp_mtmfft_compute(const struct dsp_mtmfft *m, const struct dsp_trial *x, double *acc,
		   size_t ntap_expect, struct dsp_mtmfft_work *wk, char **cause)
{
	const struct dsp_mtmfft_params *p = &m->p;
	const struct dsp_taper_set *set;
	size_t n = x->nsamp, nc = x->nchan, mm = m->m, nb = m->m / 2 + 1, ntap, cw;
	double scale, wmean;
	int rc;

	if ((rc = dsp_mtmfft_tapers(m, n, &set, &scale, cause)) != 0)
		return rc;
	ntap = p->keeptapers ? set->k : 1;
	if (ntap_expect != 0 && ntap != ntap_expect)
		return error_set(cause, -EINVAL,
				 "keeptapers: trial of %zu samples gives %zu tapers, "
				 "the accumulator holds %zu",
				 n, ntap, ntap_expect);
	cw = p->output == DSP_MTMFFT_FOURIER ? 2 : 1;
	memset(acc, 0, ntap * m->nfreq * nc * cw * sizeof *acc);
	if (nc == 0)
		return 0;
	dsp_mtmfft_work_reserve(wk, 2 * nc, mm * nc, nb * nc);
	dsp_trial_poly_coeffs(x, p->polyremoval, wk->cols, wk->cols + nc, NULL);
	wmean = p->keeptapers ? 1 : 1.0 / (double)set->k;
	if (set->k > 1) {
		/* Detrend and transpose once; each taper is then a contiguous product (the same
		 * arithmetic as tapering while transposing: (x - fit) * w). */
		if (n * nc > wk->ndet) {
			free(wk->det);
			wk->det = xmalloc(n * nc * sizeof *wk->det);
			wk->ndet = n * nc;
		}
		dsp_trial_fill_tapered(x, wk->cols, wk->cols + nc, NULL, wk->det, n);
	}
	for (size_t j = 0; j < set->k; j++) {
		const double *w = set->w + j * n;
		double *dst = acc + (p->keeptapers ? j : 0) * m->nfreq * nc * cw;
		if (set->k > 1)
			for (size_t c = 0; c < nc; c++) {
				const double *restrict d = wk->det + c * n;
				const double *restrict wr = w;
				double *restrict b = wk->buf + c * mm;
				for (size_t i = 0; i < n; i++)
					b[i] = d[i] * wr[i];
			}
		else
			dsp_trial_fill_tapered(x, wk->cols, wk->cols + nc, w, wk->buf, mm);
		for (size_t c = 0; c < nc; c++) {
			double *b = wk->buf + c * mm;
			if (p->demean_taper)
				dsp_trial_polyremoval(b, n, 0, NULL);
			memset(b + n, 0, (mm - n) * sizeof *b);
		}
		fft_r2c_many(mm, nc, wk->buf, wk->spec);
		for (size_t c = 0; c < nc; c++)
			dsp_mtmfft_convert(p->output, wk->spec + c * nb, m->bins, m->nfreq, scale,
					   wmean, dst + c * cw, nc * cw);
	}
	return 0;
}

int
dsp_mtmfft_trial(const struct dsp_mtmfft *m, const struct dsp_trial *x, float *out, char **cause)
{
	struct dsp_mtmfft_work *wk;
	size_t ntap, len;
	double *acc;
	int rc;

	if ((rc = dsp_mtmfft_ntapers(m, x->nsamp, &ntap, cause)) != 0)
		return rc;
	len = ntap * m->nfreq * x->nchan * (dsp_mtmfft_is_complex(m) ? 2 : 1);
	acc = xmalloc(len * sizeof *acc);
	wk = xcalloc(1, sizeof *wk);
	rc = dsp_mtmfft_compute(m, x, acc, ntap, wk, cause);
	dsp_mtmfft_work_free(wk);
	if (rc == 0)
		for (size_t i = 0; i < len; i++)
			out[i] = (float)acc[i];
	free(acc);
	return rc;
}

int
dsp_mtmfft_trial_f64(const struct dsp_mtmfft *m, const struct dsp_trial *x, double *out,
		     char **cause)
{
	struct dsp_mtmfft_work *wk = xcalloc(1, sizeof *wk);
	size_t ntap;
	int rc;

	if ((rc = dsp_mtmfft_ntapers(m, x->nsamp, &ntap, cause)) == 0)
		rc = dsp_mtmfft_compute(m, x, out, ntap, wk, cause);
	dsp_mtmfft_work_free(wk);
	return rc;
}

/* sum += x exactly: the rounding error of the addition goes to comp (two-sum). */
static inline void
dsp_mtmfft_two_sum(double *sum, double *comp, double x)
{
	double s = *sum + x, bp = s - *sum;

	*comp += (*sum - (s - bp)) + (x - bp);
	*sum = s;
}

void
dsp_mtmfft_accum_init(struct dsp_mtmfft_accum *a, const struct dsp_mtmfft *m, size_t ntap,
		      size_t nchan)
{
	a->ntap = ntap;
	a->nchan = nchan;
	a->len = ntap * m->nfreq * nchan * (dsp_mtmfft_is_complex(m) ? 2 : 1);
	a->sum = xcalloc(a->len, sizeof *a->sum);
	a->comp = xcalloc(a->len, sizeof *a->comp);
	a->scratch = xmalloc(a->len * sizeof *a->scratch);
	a->work = xcalloc(1, sizeof *a->work);
	a->count = 0;
}

int
dsp_mtmfft_accum_add(struct dsp_mtmfft_accum *a, const struct dsp_mtmfft *m,
		     const struct dsp_trial *x, char **cause)
{
	int rc;

	if (x->nchan != a->nchan)
		return error_set(cause, -EINVAL, "trial has %zu channels, the accumulator %zu",
				 x->nchan, a->nchan);
	if ((rc = dsp_mtmfft_compute(m, x, a->scratch, a->ntap, a->work, cause)) == 0) {
		for (size_t i = 0; i < a->len; i++)
			dsp_mtmfft_two_sum(&a->sum[i], &a->comp[i], a->scratch[i]);
		a->count++;
	}
	return rc;
}

int
dsp_mtmfft_accum_merge(struct dsp_mtmfft_accum *a, const struct dsp_mtmfft_accum *b, char **cause)
{
	if (a->len != b->len || a->ntap != b->ntap || a->nchan != b->nchan)
		return error_set(cause, -EINVAL, "cannot merge accumulators of different shapes");
	for (size_t i = 0; i < a->len; i++) {
		dsp_mtmfft_two_sum(&a->sum[i], &a->comp[i], b->sum[i]);
		a->comp[i] += b->comp[i];
	}
	a->count += b->count;
	return 0;
}

int
dsp_mtmfft_accum_finalize(const struct dsp_mtmfft_accum *a, float *out, char **cause)
{
	if (a->count == 0)
		return error_set(cause, -EINVAL, "keeptrials=false: no trial was accumulated");
	for (size_t i = 0; i < a->len; i++)
		out[i] = (float)((a->sum[i] + a->comp[i]) / (double)a->count);
	return 0;
}

void
dsp_mtmfft_accum_fini(struct dsp_mtmfft_accum *a)
{
	if (a == NULL)
		return;
	free(a->sum);
	free(a->comp);
	free(a->scratch);
	dsp_mtmfft_work_free(a->work);
	a->sum = NULL;
	a->comp = NULL;
	a->scratch = NULL;
	a->work = NULL;
}
