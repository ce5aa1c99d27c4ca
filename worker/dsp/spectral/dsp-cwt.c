/* Wavelet and superlet transforms. Each (frequency, cycles) pair is one kernel sampled as the
 * reference samples it (ceil(M) taps at ((1 - M)/2 + i)/fs, M = 10 s fs, times c for the
 * superlet) and applied as a true "same" convolution by FFT: the trial's spectrum is taken
 * once per FFT length and multiplied by each kernel's cached spectrum. Kernels are grouped by
 * FFT length (a length serves kernels needing up to 1.5 times less) so a trial costs about one
 * inverse transform per kernel. The superlet's geometric mean of principal powers is summed as
 * exponent-weighted logarithms of modulus and argument. */
#include "worker/dsp/spectral/dsp-cwt.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/xmalloc.h"
#include "worker/dsp/core/fft-plan.h"

struct dsp_cwt_kern {
	size_t f;     /* frequency index */
	int cycles;   /* superlet cycles, 0 for a wavelet */
	double expo;  /* exponent in the geometric mean (1 for a wavelet) */
	size_t ntaps; /* ceil(M) */
};

struct dsp_cwt {
	struct dsp_cwt_params p;
	size_t nfreq;
	double *scales, *freqs;
	size_t nkern;
	struct dsp_cwt_kern *kern;
};

struct dsp_cwt_work {
	size_t nt;         /* trimmed length the kernel spectra were made for (0: none) */
	size_t ngroup;     /* FFT lengths */
	size_t nks;        /* kernel spectra held */
	size_t *glen;      /* ngroup lengths */
	size_t *kgroup;    /* group of each kernel */
	fftw_complex **ks; /* kernel spectra, nkern, each of its group's length */
	double *cols;      /* detrended trial, channel-major */
	size_t ncols;
	double *re;          /* group length: real input */
	fftw_complex *xs, *y, *z; /* longest group */
	double *lm, *ph;      /* ntime x nfreq: log modulus and argument sums (superlet) */
	size_t *keep;
};

void
dsp_cwt_params_init(struct dsp_cwt_params *p, double fs)
{
	memset(p, 0, sizeof *p);
	p->fs = fs;
	p->family = DSP_CWT_MORLET;
	p->toi_kind = DSP_TFR_TOI_ALL;
	p->output = DSP_MTMFFT_POW;
	p->order_min = 1;
	p->c_1 = 3;
}

/* scale_from_period and fourier_period of each family, in the reference's arithmetic. */
static double
dsp_cwt_scale(enum dsp_cwt_family fam, int m, double period)
{
	double w0 = 6, coeff = sqrt(w0 * w0 + 2);

	switch (fam) {
	case DSP_CWT_MORLET:
		return (period * (coeff + w0)) / (4.0 * M_PI);
	case DSP_CWT_PAUL:
		return period * (2 * m + 1) / (4 * M_PI);
	case DSP_CWT_DOG:
		return period * sqrt(m + 0.5) / (2 * M_PI);
	case DSP_CWT_SUPERLET:
		break;
	}
	return period / (2 * M_PI);
}

static double
dsp_cwt_period(enum dsp_cwt_family fam, int m, double s)
{
	double w0 = 6;

	switch (fam) {
	case DSP_CWT_MORLET:
		return 4 * M_PI * s / (w0 + pow(2 + w0 * w0, 0.5));
	case DSP_CWT_PAUL:
		return 4 * M_PI * s / (2 * m + 1);
	case DSP_CWT_DOG:
		return 2 * M_PI * s / pow(m + 0.5, 0.5);
	case DSP_CWT_SUPERLET:
		break;
	}
	return 2 * M_PI * s;
}

void
dsp_cwt_default_foi(enum dsp_cwt_family family, int order, double fs, size_t minlen,
		    double **out, size_t *n)
{
	double dt = 1 / fs, s0 = dsp_cwt_scale(family, order, 2 * dt);
	double jj = trunc((1 / 0.25) * log2((double)minlen * dt / s0));
	size_t nj = jj >= 0 ? (size_t)jj + 1 : 1;

	*out = xmalloc(nj * sizeof **out);
	*n = nj;
	for (size_t j = 0; j < nj; j++) {
		double s = s0 * pow(2, 0.25 * (double)(nj - 1 - j));
		(*out)[j] = 1 / dsp_cwt_period(family, order, s);
	}
}

static int
dsp_cwt_check(const struct dsp_cwt_params *p, char **cause)
{
	if (!(p->fs > 0) || !isfinite(p->fs))
		return error_set(cause, -EINVAL, "samplerate must be positive");
	if (p->nfoi == 0)
		return error_set(cause, -EINVAL, "foi: no frequency to analyse");
	if (p->family == DSP_CWT_PAUL && p->order < 4)
		return error_set(cause, -EINVAL,
				 "order: Invalid value of `order`: '%d'; expected value to be "
				 "greater or equals 4 and less or equals inf",
				 p->order);
	if (p->family == DSP_CWT_DOG && p->order < 1)
		return error_set(cause, -EINVAL,
				 "order: Invalid value of `order`: '%d'; expected value to be "
				 "greater or equals 1 and less or equals inf",
				 p->order);
	if (p->family == DSP_CWT_SUPERLET) {
		if (p->order_max < 1)
			return error_set(cause, -EINVAL,
					 "order_max: Invalid value of `order_max`: '%d'; expected "
					 "value to be greater or equals 1 and less or equals inf",
					 p->order_max);
		if (p->order_min < 1 || p->order_min > p->order_max)
			return error_set(cause, -EINVAL,
					 "order_min: Invalid value of `order_min`: '%d'; expected "
					 "value to be greater or equals 1 and less or equals %d",
					 p->order_min, p->order_max);
		if (p->c_1 < 1)
			return error_set(cause, -EINVAL,
					 "c_1: Invalid value of `c_1`: '%d'; expected value to be "
					 "greater or equals 1 and less or equals inf",
					 p->c_1);
		if (p->adaptive && p->nfoi < 2)
			return error_set(cause, -EINVAL,
					 "foi: Invalid value of `foi`: 'Single frequency'; "
					 "expected A range of frequencies");
	}
	if (p->toi_kind == DSP_TFR_TOI_FRACTION || (p->toi_kind == DSP_TFR_TOI_LIST && p->ntoi == 0))
		return error_set(cause, -EINVAL,
				 "toi: Invalid value of `toi`; expected array of equidistant "
				 "time-points or 'all' for wavelet based methods");
	for (size_t i = 0; i + 2 < p->ntoi; i++) {
		double d2 = (p->toi[i + 2] - p->toi[i + 1]) - (p->toi[i + 1] - p->toi[i]);
		if (!(fabs(d2) <= 1e-8))
			return error_set(cause, -EINVAL,
					 "toi: Invalid value of `toi`; expected array of "
					 "equidistant time-points or 'all' for wavelet based "
					 "methods");
	}
	return 0;
}

static int
dsp_cmp_desc(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? 1 : x > y ? -1 : 0;
}

/* The superlet's (cycles, exponent) factors per frequency, as the reference builds them. */
static void
dsp_cwt_superlet_kernels(struct dsp_cwt *m)
{
	const struct dsp_cwt_params *p = &m->p;
	size_t nf = m->nfreq, cap = nf * (size_t)(p->order_max - p->order_min + 2) + 1;
	double omin = p->order_min, omax = p->order_max;

	m->kern = xcalloc(cap, sizeof *m->kern);
	if (!p->adaptive) {
		double e = 1.0 / (double)(p->order_max + 1 - p->order_min);
		for (size_t f = 0; f < nf; f++)
			for (int o = p->order_min; o <= p->order_max; o++)
				m->kern[m->nkern++] = (struct dsp_cwt_kern){f, p->c_1 * o, e, 0};
		return;
	}
	double *fo = xmalloc(nf * sizeof *fo), *ord = xmalloc(nf * sizeof *ord);
	int *oi = xmalloc(nf * sizeof *oi);
	for (size_t f = 0; f < nf; f++)
		fo[f] = 1 / (2 * M_PI * m->scales[f]);
	for (size_t f = 0; f < nf; f++) {
		ord[f] = omin + (omax - omin) * (fo[f] - fo[0]) / (fo[nf - 1] - fo[0]);
		oi[f] = (int)floor(ord[f]);
	}
	/* Order omin for all; at each change of the integer order the next one joins: with
	 * the fraction for the frequencies since the previous change, whole for the rest. */
	for (size_t f = 0; f < nf; f++)
		m->kern[m->nkern++] =
		    (struct dsp_cwt_kern){f, p->c_1 * oi[0], 1 / (ord[f] - omin + 1), 0};
	size_t last = 1;
	for (size_t j = 0; j + 1 < nf; j++) {
		if (oi[j + 1] == oi[j])
			continue;
		int cyc = p->c_1 * oi[j + 1];
		for (size_t f = last; f < nf; f++) {
			double e = 1 / (ord[f] - omin + 1);
			if (f <= j)
				e *= fmod(ord[f], (double)oi[f]);
			if (e != 0)
				m->kern[m->nkern++] = (struct dsp_cwt_kern){f, cyc, e, 0};
		}
		last = j + 1;
	}
	free(fo);
	free(ord);
	free(oi);
}

int
dsp_cwt_new(const struct dsp_cwt_params *p, struct dsp_cwt **out, char **cause)
{
	struct dsp_cwt *m;
	double *foi;
	int rc;

	*out = NULL;
	if ((rc = dsp_cwt_check(p, cause)) != 0)
		return rc;
	m = xcalloc(1, sizeof *m);
	m->p = *p;
	m->nfreq = p->nfoi;
	foi = xmalloc(p->nfoi * sizeof *foi);
	memcpy(foi, p->foi, p->nfoi * sizeof *foi);
	m->p.foi = foi;
	if (p->ntoi > 0) {
		double *toi = xmalloc(p->ntoi * sizeof *toi);
		memcpy(toi, p->toi, p->ntoi * sizeof *toi);
		m->p.toi = toi;
	} else {
		m->p.toi = NULL;
	}
	m->scales = xmalloc(m->nfreq * sizeof *m->scales);
	m->freqs = xmalloc(m->nfreq * sizeof *m->freqs);
	for (size_t f = 0; f < m->nfreq; f++)
		m->scales[f] = dsp_cwt_scale(p->family, p->order, 1.0 / (foi[f] < 0.01 ? 0.01 : foi[f]));
	/* The adaptive superlet runs from low to high frequencies (scales high to low). */
	if (p->family == DSP_CWT_SUPERLET && p->adaptive)
		qsort(m->scales, m->nfreq, sizeof *m->scales, dsp_cmp_desc);
	for (size_t f = 0; f < m->nfreq; f++)
		m->freqs[f] = 1 / dsp_cwt_period(p->family, p->order, m->scales[f]);
	if (p->family == DSP_CWT_SUPERLET) {
		dsp_cwt_superlet_kernels(m);
	} else {
		m->kern = xcalloc(m->nfreq, sizeof *m->kern);
		for (size_t f = 0; f < m->nfreq; f++)
			m->kern[m->nkern++] = (struct dsp_cwt_kern){f, 0, 1, 0};
	}
	for (size_t k = 0; k < m->nkern; k++)
		m->kern[k].ntaps = dsp_cwt_kernel_len(m, m->kern[k].f, m->kern[k].cycles);
	*out = m;
	return 0;
}

void
dsp_cwt_free(struct dsp_cwt *m)
{
	if (m == NULL)
		return;
	free((double *)m->p.foi);
	free((double *)m->p.toi);
	free(m->scales);
	free(m->freqs);
	free(m->kern);
	free(m);
}

size_t
dsp_cwt_nfreq(const struct dsp_cwt *m)
{
	return m->nfreq;
}

const double *
dsp_cwt_freqs(const struct dsp_cwt *m)
{
	return m->freqs;
}

size_t
dsp_cwt_ntime(const struct dsp_cwt *m, size_t nsamp)
{
	return m->p.toi_kind == DSP_TFR_TOI_LIST ? m->p.ntoi : nsamp;
}

size_t
dsp_cwt_factors(const struct dsp_cwt *m, size_t f, int *cycles, double *expo, size_t max)
{
	size_t n = 0;

	for (size_t k = 0; k < m->nkern; k++)
		if (m->kern[k].f == f) {
			if (n < max) {
				cycles[n] = m->kern[k].cycles;
				expo[n] = m->kern[k].expo;
			}
			n++;
		}
	return n;
}

/* numpy.arange((1 - M)/2, (M + 1)/2) has ceil(M) entries. */
static double
dsp_cwt_support(const struct dsp_cwt *m, size_t f, int cycles)
{
	double s = m->scales[f];

	return m->p.family == DSP_CWT_SUPERLET ? 10 * s * cycles / (1 / m->p.fs)
					       : 10 * s / (1 / m->p.fs);
}

size_t
dsp_cwt_kernel_len(const struct dsp_cwt *m, size_t f, int cycles)
{
	double mm = dsp_cwt_support(m, f, cycles), lo = (-mm + 1) / 2.0, hi = (mm + 1) / 2.0;
	double n = ceil(hi - lo);

	return n > 0 ? (size_t)n : 0;
}

/* He_m(x), the probabilists' Hermite polynomial, by its recurrence. */
static double
dsp_cwt_hermite(int m, double x)
{
	double h0 = 1, h1 = x;

	if (m == 0)
		return 1;
	for (int k = 1; k < m; k++) {
		double h2 = x * h1 - k * h0;
		h0 = h1;
		h1 = h2;
	}
	return h1;
}

/* psi(t) of the family at scale s (superlet: with c cycles), complex. */
static double complex
dsp_cwt_psi(const struct dsp_cwt *m, double t, double s, int cycles)
{
	int mo = m->p.order;
	double x = t / s;

	switch (m->p.family) {
	case DSP_CWT_MORLET: {
		double w0 = 6;
		return pow(M_PI, -0.25) * (cexp(I * w0 * x) - exp(-0.5 * w0 * w0)) *
		       exp(-0.5 * x * x);
	}
	case DSP_CWT_PAUL: {
		static const double complex ipow[4] = {1, I, -1, -I};
		double complex im = ipow[mo % 4];
		double c = pow(2, mo) * tgamma(mo + 1) / pow(M_PI * tgamma(2 * mo + 1), 0.5);
		return c * im * cpow(1 - I * x, -(mo + 1));
	}
	case DSP_CWT_DOG:
		return (((mo + 1) % 2 == 0) ? 1.0 : -1.0) / pow(tgamma(mo + 0.5), 0.5) *
		       dsp_cwt_hermite(mo, x) * exp(-x * x / 2);
	case DSP_CWT_SUPERLET: {
		double b = 5 / (s * cycles * pow(2 * M_PI, 1.5)), g = 5 * x / (2 * M_PI * cycles);
		return b * cexp(I * x) * exp(-0.5 * g * g);
	}
	}
	return 0;
}

void
dsp_cwt_kernel(const struct dsp_cwt *m, size_t f, int cycles, double *taps, size_t *ntaps)
{
	double mm = dsp_cwt_support(m, f, cycles), lo = (-mm + 1) / 2.0, dt = 1 / m->p.fs;
	double s = m->scales[f];
	double norm = m->p.family == DSP_CWT_SUPERLET ? pow(dt, 0.5) / (4 * M_PI)
						     : pow(dt, 0.5) / (s * 8 * M_PI);

	*ntaps = dsp_cwt_kernel_len(m, f, cycles);
	for (size_t i = 0; i < *ntaps; i++) {
		double complex v = norm * dsp_cwt_psi(m, (lo + (double)i) * dt, s, cycles);
		taps[2 * i] = creal(v);
		taps[2 * i + 1] = cimag(v);
	}
}

void
dsp_cwt_work_free(struct dsp_cwt_work *w)
{
	if (w == NULL)
		return;
	for (size_t k = 0; w->ks != NULL && k < w->nks; k++)
		fft_free(w->ks[k]);
	free(w->ks);
	free(w->glen);
	free(w->kgroup);
	free(w->cols);
	fft_free(w->re);
	fft_free(w->xs);
	fft_free(w->y);
	fft_free(w->z);
	free(w->lm);
	free(w->ph);
	free(w->keep);
	free(w);
}

static void
dsp_cwt_spectra_free(struct dsp_cwt_work *w)
{
	for (size_t k = 0; w->ks != NULL && k < w->nks; k++)
		fft_free(w->ks[k]);
	free(w->ks);
	w->ks = NULL;
	w->nks = 0;
	free(w->glen);
	free(w->kgroup);
	w->glen = NULL;
	w->kgroup = NULL;
	w->ngroup = 0;
	w->nt = 0;
}

/* Group the kernels by FFT length for a trimmed length nt and take their spectra. */
static void
dsp_cwt_spectra(const struct dsp_cwt *m, struct dsp_cwt_work *w, size_t nt)
{
	size_t *ord = xmalloc(m->nkern * sizeof *ord), lmax = 0, cur = 0;
	double *taps;

	dsp_cwt_spectra_free(w);
	w->glen = xmalloc((m->nkern + 1) * sizeof *w->glen);
	w->kgroup = xmalloc((m->nkern + 1) * sizeof *w->kgroup);
	w->ks = xcalloc(m->nkern + 1, sizeof *w->ks);
	w->nks = m->nkern;
	for (size_t k = 0; k < m->nkern; k++)
		ord[k] = k;
	/* longest kernels first (insertion sort: a few hundred kernels at most) */
	for (size_t i = 1; i < m->nkern; i++)
		for (size_t j = i; j > 0 && m->kern[ord[j]].ntaps > m->kern[ord[j - 1]].ntaps; j--) {
			size_t t = ord[j];
			ord[j] = ord[j - 1];
			ord[j - 1] = t;
		}
	for (size_t i = 0; i < m->nkern; i++) {
		size_t need = nt + m->kern[ord[i]].ntaps - 1;
		if (w->ngroup == 0 || (double)cur > 1.5 * (double)need) {
			cur = fft_good_size(need);
			w->glen[w->ngroup++] = cur;
		}
		w->kgroup[ord[i]] = w->ngroup - 1;
		lmax = cur > lmax ? cur : lmax;
	}
	fft_free(w->re);
	fft_free(w->xs);
	fft_free(w->y);
	fft_free(w->z);
	w->re = fft_alloc_real(lmax + 2);
	w->xs = fft_alloc_complex(lmax);
	w->y = fft_alloc_complex(lmax);
	w->z = fft_alloc_complex(lmax);
	taps = xmalloc(2 * (m->kern[ord[0]].ntaps + 1) * sizeof *taps);
	for (size_t k = 0; k < m->nkern; k++) {
		size_t l = w->glen[w->kgroup[k]], n;
		dsp_cwt_kernel(m, m->kern[k].f, m->kern[k].cycles, taps, &n);
		memset(w->y, 0, l * sizeof *w->y);
		memcpy(w->y, taps, 2 * n * sizeof *taps);
		w->ks[k] = fft_alloc_complex(l);
		fft_c2c(l, -1, w->y, w->ks[k]);
	}
	free(taps);
	free(ord);
	w->nt = nt;
}

/* The full spectrum of the real x[0..nt) zero-padded to l, into w->xs. */
static void
dsp_cwt_data_spectrum(struct dsp_cwt_work *w, const double *x, size_t nt, size_t l)
{
	double *xs = (double *)w->xs;

	memcpy(w->re, x, nt * sizeof *x);
	memset(w->re + nt, 0, (l - nt) * sizeof *w->re);
	fft_r2c(l, w->re, w->xs);
	for (size_t k = l / 2 + 1; k < l; k++) {
		xs[2 * k] = xs[2 * (l - k)];
		xs[2 * k + 1] = -xs[2 * (l - k) + 1];
	}
}

/* One channel: every kernel's "same" convolution at the kept samples, combined per frequency
 * into out[(time * nfreq + f) * nc + c]. */
static void
dsp_cwt_channel(const struct dsp_cwt *m, struct dsp_cwt_work *w, const double *x, size_t nt,
		size_t ntime, const size_t *keep, double *out, size_t c, size_t nc)
{
	enum dsp_mtmfft_output o = m->p.output;
	bool superlet = m->p.family == DSP_CWT_SUPERLET, phase = o != DSP_MTMFFT_POW && o != DSP_MTMFFT_ABS;
	size_t cw = dsp_tfr_width(o), nf = m->nfreq;

	if (superlet) {
		memset(w->lm, 0, ntime * nf * sizeof *w->lm);
		memset(w->ph, 0, ntime * nf * sizeof *w->ph);
	}
	for (size_t g = 0; g < w->ngroup; g++) {
		size_t l = w->glen[g];
		dsp_cwt_data_spectrum(w, x, nt, l);
		for (size_t k = 0; k < m->nkern; k++) {
			const struct dsp_cwt_kern *kn = &m->kern[k];
			size_t sh = (kn->ntaps - 1) / 2;
			const double *y = (const double *)w->z;
			if (w->kgroup[k] != g)
				continue;
			memcpy(w->y, w->xs, l * sizeof *w->y);
			fft_spectrum_mul(w->y, w->ks[k], l);
			fft_c2c(l, 1, w->y, w->z);
			for (size_t t = 0; t < ntime; t++) {
				size_t at = keep != NULL ? keep[t] : t;
				double re = y[2 * (at + sh)] / (double)l, im = y[2 * (at + sh) + 1] / (double)l;
				if (!superlet) {
					out[((t * nf + kn->f) * nc + c) * cw] = 0;
					if (cw == 2)
						out[((t * nf + kn->f) * nc + c) * cw + 1] = 0;
					dsp_tfr_convert_add(o, re, im, 1, out + ((t * nf + kn->f) * nc + c) * cw);
					continue;
				}
				w->lm[t * nf + kn->f] += kn->expo * 0.5 * log(re * re + im * im);
				if (phase)
					w->ph[t * nf + kn->f] += kn->expo * atan2(im, re);
			}
		}
	}
	for (size_t i = 0; superlet && i < ntime * nf; i++) {
		double mod = exp(w->lm[i]);
		double *dst = out + (i * nc + c) * cw;
		dst[0] = 0;
		if (cw == 2)
			dst[1] = 0;
		dsp_tfr_convert_add(o, mod * cos(w->ph[i]), mod * sin(w->ph[i]), 1, dst);
	}
}

int
dsp_cwt_trial(const struct dsp_cwt *m, const struct dsp_trial *x, double offset, double *out,
	      struct dsp_cwt_work **wk, char **cause)
{
	const struct dsp_cwt_params *p = &m->p;
	size_t n = x->nsamp, nc = x->nchan, a = 0, b = n, ntime = dsp_cwt_ntime(m, n);
	struct dsp_cwt_work *w;
	int rc = 0;

	if (*wk == NULL)
		*wk = xcalloc(1, sizeof **wk);
	w = *wk;
	free(w->keep);
	w->keep = NULL;
	if (p->toi_kind == DSP_TFR_TOI_LIST) {
		w->keep = xmalloc(p->ntoi * sizeof *w->keep);
		if ((rc = dsp_tfr_trim(p->toi, p->ntoi, p->fs, offset / p->fs, n, &a, &b, w->keep,
				       cause)) != 0)
			return rc;
	}
	if (n == 0 || nc == 0)
		return 0;
	if (w->nt != b - a)
		dsp_cwt_spectra(m, w, b - a);
	if (n * nc > w->ncols) {
		free(w->cols);
		w->cols = xmalloc(n * nc * sizeof *w->cols);
		w->ncols = n * nc;
	}
	free(w->lm);
	free(w->ph);
	w->lm = xmalloc((ntime * m->nfreq + 1) * sizeof *w->lm);
	w->ph = xmalloc((ntime * m->nfreq + 1) * sizeof *w->ph);
	dsp_trial_to_columns(x, w->cols);
	for (size_t c = 0; c < nc && rc == 0; c++) {
		rc = dsp_trial_polyremoval(w->cols + c * n, n, p->polyremoval, cause);
		if (rc == 0)
			dsp_cwt_channel(m, w, w->cols + c * n + a, b - a, ntime, w->keep, out, c, nc);
	}
	return rc;
}
