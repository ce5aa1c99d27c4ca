/* Wavelet and superlet kernels: the families' scales and Fourier periods in the reference's
 * arithmetic, the reference's default scales, the superlet's (cycles, exponent) factors per
 * frequency (multiplicative, or fractional adaptive), and each (frequency, cycles) kernel
 * sampled as the reference samples it: ceil(M) taps at ((1 - M)/2 + i)/fs, M = 10 s fs (times c
 * for the superlet). The convolution itself is in dsp-cwt-conv.c. */
#include "worker/dsp/spectral/dsp-cwt.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/xmalloc.h"
#include "common/xsort.h"
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
		xqsort(m->scales, m->nfreq, sizeof *m->scales, dsp_cmp_desc);
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


size_t
dsp_cwt_nkern(const struct dsp_cwt *m)
{
	return m->nkern;
}

void
dsp_cwt_kern(const struct dsp_cwt *m, size_t k, size_t *f, int *cycles, double *expo,
	     size_t *ntaps)
{
	*f = m->kern[k].f;
	*cycles = m->kern[k].cycles;
	*expo = m->kern[k].expo;
	*ntaps = m->kern[k].ntaps;
}

const struct dsp_cwt_params *
dsp_cwt_params(const struct dsp_cwt *m)
{
	return &m->p;
}
