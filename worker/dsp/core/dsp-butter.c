/* Butterworth design through analog prototype, frequency transform and bilinear transform in
 * zero-pole-gain form, paired into second-order sections with scipy's 'nearest' rule; and the
 * sosfilt / sosfilt_zi / sosfiltfilt kernels. */
#include "worker/dsp/core/dsp-butter.h"

#include <complex.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/xmalloc.h"
#include "common/xsort.h"

/* A zero-pole-gain system with room for a few additions. */
struct dsp_butter_zpk {
	double complex *z;
	double complex *p;
	size_t nz, np;
	double k;
};

static void
dsp_butter_remove(double complex *v, size_t *n, size_t i)
{
	for (size_t j = i + 1; j < *n; j++)
		v[j - 1] = v[j];
	(*n)--;
}

static int
dsp_butter_isreal(double complex v)
{
	return cimag(v) == 0;
}

static int
dsp_butter_cmp_real(const void *a, const void *b)
{
	double x = creal(*(const double complex *)a), y = creal(*(const double complex *)b);
	double ax = fabs(cimag(*(const double complex *)a)),
	       ay = fabs(cimag(*(const double complex *)b));

	return x < y ? -1 : x > y ? 1 : ax < ay ? -1 : ax > ay ? 1 : 0;
}

/* scipy's _cplxreal: conjugate pairs (upper half, averaged) sorted by real part, then the real
 * values sorted, written back into v[0..*nout); -EINVAL if a value lacks its conjugate. */
static int
dsp_butter_cplxreal(double complex *v, size_t n, size_t *nout)
{
	double tol = 100 * 2.220446049250313e-16;
	double complex *pos = xmalloc((n + 1) * sizeof *pos), *neg = xmalloc((n + 1) * sizeof *neg);
	double complex *re = xmalloc((n + 1) * sizeof *re);
	size_t npos = 0, nneg = 0, nre = 0, o = 0;
	int rc = 0;

	xqsort(v, n, sizeof *v, dsp_butter_cmp_real);
	for (size_t i = 0; i < n; i++) {
		if (fabs(cimag(v[i])) <= tol * cabs(v[i]))
			re[nre++] = creal(v[i]);
		else if (cimag(v[i]) > 0)
			pos[npos++] = v[i];
		else
			neg[nneg++] = v[i];
	}
	if (npos != nneg) {
		rc = -EINVAL;
		goto out;
	}
	/* Runs with the same real part are ordered by |imag| (the sort did that already). */
	for (size_t i = 0; i < npos; i++) {
		if (cabs(pos[i] - conj(neg[i])) > tol * cabs(neg[i]))
			rc = -EINVAL;
		v[o++] = (pos[i] + conj(neg[i])) / 2;
	}
	for (size_t i = 0; i < nre; i++)
		v[o++] = re[i];
	*nout = o;
out:
	free(pos);
	free(neg);
	free(re);
	return rc;
}

static size_t
dsp_butter_count_real(const double complex *v, size_t n)
{
	size_t r = 0;

	for (size_t i = 0; i < n; i++)
		r += dsp_butter_isreal(v[i]);
	return r;
}

static size_t
dsp_butter_idx_worst(const double complex *p, size_t n, int real_only)
{
	size_t best = 0;
	double bd = INFINITY;

	for (size_t i = 0; i < n; i++) {
		double d = fabs(1 - cabs(p[i]));
		if (real_only && !dsp_butter_isreal(p[i]))
			continue;
		if (d < bd) {
			bd = d;
			best = i;
		}
	}
	return best;
}

/* Nearest element of fro to `to`; which: 0 any, 1 real, 2 complex. */
static size_t
dsp_butter_nearest(const double complex *fro, size_t n, double complex to, int which)
{
	size_t best = 0;
	double bd = INFINITY;

	for (size_t i = 0; i < n; i++) {
		int r = dsp_butter_isreal(fro[i]);
		if ((which == 1 && !r) || (which == 2 && r))
			continue;
		if (cabs(fro[i] - to) < bd) {
			bd = cabs(fro[i] - to);
			best = i;
		}
	}
	return best;
}

/* One section from up to two zeros and two poles (scipy _single_zpksos). */
static void
dsp_butter_section(double *s, double complex z1, double complex z2, size_t nz, double complex p1,
		   double complex p2)
{
	memset(s, 0, 6 * sizeof *s);
	if (nz == 2) {
		s[0] = 1;
		s[1] = creal(-(z1 + z2));
		s[2] = creal(z1 * z2);
	} else if (nz == 1) {
		s[1] = 1;
		s[2] = creal(-z1);
	} else {
		s[2] = 1;
	}
	s[3] = 1;
	s[4] = creal(-(p1 + p2));
	s[5] = creal(p1 * p2);
}

/* scipy.signal.zpk2sos(z, p, k, pairing='nearest') for a digital system. */
static int
dsp_butter_zpk2sos(const struct dsp_butter_zpk *f, double **sos_out, size_t *nsec_out)
{
	size_t n = f->np > f->nz ? f->np : f->nz, nsec = (n + 1) / 2, nz = n, np = n;
	double complex *z = xcalloc(n + 2, sizeof *z), *p = xcalloc(n + 2, sizeof *p);
	double *sos = xcalloc(nsec * 6, sizeof *sos);
	int rc;

	memcpy(z, f->z, f->nz * sizeof *z); /* the shorter one is padded with zeros */
	memcpy(p, f->p, f->np * sizeof *p);
	if (np % 2 == 1) {
		np++;
		nz++;
	}
	if ((rc = dsp_butter_cplxreal(z, nz, &nz)) != 0 ||
	    (rc = dsp_butter_cplxreal(p, np, &np)) != 0)
		goto out;
	for (size_t si = nsec; si-- > 0;) {
		double *s = sos + 6 * si;
		size_t i = dsp_butter_idx_worst(p, np, 0);
		double complex p1 = p[i], p2, z1, z2;

		dsp_butter_remove(p, &np, i);
		if (dsp_butter_isreal(p1) && dsp_butter_count_real(p, np) == 0) {
			/* The last remaining real pole, with the nearest real zero. */
			i = dsp_butter_nearest(z, nz, p1, 1);
			z1 = z[i];
			dsp_butter_remove(z, &nz, i);
			dsp_butter_section(s, z1, 0, 2, p1, 0);
		} else if (np + 1 == nz && !dsp_butter_isreal(p1) &&
			   dsp_butter_count_real(p, np) == 1 && dsp_butter_count_real(z, nz) == 1) {
			/* One real pole and one real zero left: pair with a complex zero. */
			i = dsp_butter_nearest(z, nz, p1, 2);
			z1 = z[i];
			dsp_butter_remove(z, &nz, i);
			dsp_butter_section(s, z1, conj(z1), 2, p1, conj(p1));
		} else {
			if (dsp_butter_isreal(p1)) {
				i = dsp_butter_idx_worst(p, np, 1);
				p2 = p[i];
				dsp_butter_remove(p, &np, i);
			} else {
				p2 = conj(p1);
			}
			if (nz == 0) {
				dsp_butter_section(s, 0, 0, 0, p1, p2);
				continue;
			}
			i = dsp_butter_nearest(z, nz, p1, 0);
			z1 = z[i];
			dsp_butter_remove(z, &nz, i);
			if (!dsp_butter_isreal(z1)) {
				dsp_butter_section(s, z1, conj(z1), 2, p1, p2);
			} else if (nz > 0) {
				i = dsp_butter_nearest(z, nz, p1, 1);
				z2 = z[i];
				dsp_butter_remove(z, &nz, i);
				dsp_butter_section(s, z1, z2, 2, p1, p2);
			} else {
				dsp_butter_section(s, z1, 0, 1, p1, p2);
			}
		}
	}
	for (int j = 0; j < 3; j++)
		sos[j] *= f->k;
out:
	free(z);
	free(p);
	if (rc != 0) {
		free(sos);
		return rc;
	}
	*sos_out = sos;
	*nsec_out = nsec;
	return 0;
}

/* The checks of a design, and the cut-offs prewarped for the bilinear transform (fs = 2). */
static int
dsp_butter_check(int order, enum dsp_filter_type type, const double *freq, double fs,
		 double warped[2], char **cause)
{
	int band = type == DSP_FILTER_BP || type == DSP_FILTER_BS;

	if (order < 1 || order > 64)
		return error_set(cause, -EINVAL, "order %d out of [1, 64] for a Butterworth filter",
				 order);
	if (!(fs > 0) || !isfinite(fs))
		return error_set(cause, -EINVAL, "samplerate must be positive");
	if ((size_t)type > DSP_FILTER_BS)
		return error_set(cause, -EINVAL, "filter_type: unknown");
	for (int i = 0; i < 1 + band; i++) {
		double wn = 2 * freq[i] / fs;
		if (!(wn > 0 && wn < 1))
			return error_set(cause, -EINVAL,
					 "freq %g Hz must lie strictly between 0 and "
					 "%g Hz (samplerate / 2)",
					 freq[i], fs / 2);
		warped[i] = 4 * tan(M_PI * wn / 2);
	}
	if (band && !(freq[0] < freq[1]))
		return error_set(cause, -EINVAL, "freq: band edges [%g, %g] must be increasing",
				 freq[0], freq[1]);
	return 0;
}

/* The analog prototype of order n moved to the filter type (scipy's lp2lp, lp2hp, lp2bp, lp2bs
 * in zpk form): no zeros, poles -exp(j pi m / 2N) for m = -N+1, -N+3, ..., N-1, then scaled,
 * inverted or split around the centre frequency. */
static void
dsp_butter_analog(struct dsp_butter_zpk *f, size_t n, enum dsp_filter_type type,
		  const double warped[2])
{
	size_t deg = n; /* relative degree: no zeros */
	double complex num = 1, den = 1;
	double wo, bw;

	f->z = xcalloc(4 * n + 2, sizeof *f->z);
	f->p = xcalloc(4 * n + 2, sizeof *f->p);
	f->nz = 0;
	f->np = n;
	f->k = 1;
	for (size_t i = 0; i < n; i++)
		f->p[i] = -cexp(I * M_PI * (double)(-(int)n + 1 + 2 * (int)i) / (2.0 * (double)n));
	switch (type) {
	case DSP_FILTER_LP:
		for (size_t i = 0; i < n; i++)
			f->p[i] *= warped[0];
		f->k = pow(warped[0], (double)deg);
		break;
	case DSP_FILTER_HP:
		for (size_t i = 0; i < n; i++) {
			den *= -f->p[i];
			f->p[i] = warped[0] / f->p[i];
		}
		f->k = creal(num / den);
		for (size_t i = 0; i < deg; i++)
			f->z[f->nz++] = 0;
		break;
	case DSP_FILTER_BP:
		bw = warped[1] - warped[0];
		wo = sqrt(warped[0] * warped[1]);
		for (size_t i = 0; i < n; i++) {
			double complex pl = f->p[i] * bw / 2, r = csqrt(pl * pl - wo * wo);
			f->p[i] = pl + r;
			f->p[n + i] = pl - r;
		}
		f->np = 2 * n;
		for (size_t i = 0; i < deg; i++)
			f->z[f->nz++] = 0;
		f->k = pow(bw, (double)deg);
		break;
	case DSP_FILTER_BS:
		bw = warped[1] - warped[0];
		wo = sqrt(warped[0] * warped[1]);
		for (size_t i = 0; i < n; i++) {
			double complex ph, r;
			den *= -f->p[i];
			ph = (bw / 2) / f->p[i];
			r = csqrt(ph * ph - wo * wo);
			f->p[i] = ph + r;
			f->p[n + i] = ph - r;
		}
		f->np = 2 * n;
		for (size_t i = 0; i < deg; i++)
			f->z[f->nz++] = I * wo;
		for (size_t i = 0; i < deg; i++)
			f->z[f->nz++] = -I * wo;
		f->k = creal(num / den);
		break;
	}
}

/* Bilinear transform with fs = 2 (frequencies were normalised to Nyquist); zeros at infinity
 * go to z = -1. */
static void
dsp_butter_bilinear(struct dsp_butter_zpk *f)
{
	double complex num = 1, den = 1;

	for (size_t i = 0; i < f->nz; i++) {
		num *= 4 - f->z[i];
		f->z[i] = (4 + f->z[i]) / (4 - f->z[i]);
	}
	for (size_t i = 0; i < f->np; i++) {
		den *= 4 - f->p[i];
		f->p[i] = (4 + f->p[i]) / (4 - f->p[i]);
	}
	f->k *= creal(num / den);
	while (f->nz < f->np)
		f->z[f->nz++] = -1;
}

int
dsp_butter_design(int order, enum dsp_filter_type type, const double *freq, double fs, double **sos,
		  size_t *nsec, char **cause)
{
	struct dsp_butter_zpk f;
	double warped[2] = {0, 0};
	int rc;

	*sos = NULL;
	*nsec = 0;
	if ((rc = dsp_butter_check(order, type, freq, fs, warped, cause)) != 0)
		return rc;
	dsp_butter_analog(&f, (size_t)order, type, warped);
	dsp_butter_bilinear(&f);
	rc = dsp_butter_zpk2sos(&f, sos, nsec);
	free(f.z);
	free(f.p);
	if (rc != 0)
		return error_set(cause, rc, "Butterworth design: unmatched conjugate pole or zero");
	return 0;
}

void
dsp_butter_sosfilt(const double *sos, size_t nsec, double *x, size_t n, double *zi)
{
	for (size_t s = 0; s < nsec; s++) {
		const double *c = sos + 6 * s;
		double a0 = c[3], b0 = c[0] / a0, b1 = c[1] / a0, b2 = c[2] / a0;
		double a1 = c[4] / a0, a2 = c[5] / a0;
		double z0 = zi != NULL ? zi[2 * s] : 0, z1 = zi != NULL ? zi[2 * s + 1] : 0;

		for (size_t i = 0; i < n; i++) {
			double in = x[i], y = b0 * in + z0;
			z0 = b1 * in - a1 * y + z1;
			z1 = b2 * in - a2 * y;
			x[i] = y;
		}
		if (zi != NULL) {
			zi[2 * s] = z0;
			zi[2 * s + 1] = z1;
		}
	}
}

void
dsp_butter_sosfilt_zi(const double *sos, size_t nsec, double *zi)
{
	double scale = 1;

	for (size_t s = 0; s < nsec; s++) {
		const double *c = sos + 6 * s;
		double a0 = c[3], b0 = c[0] / a0, b1 = c[1] / a0, b2 = c[2] / a0;
		double a1 = c[4] / a0, a2 = c[5] / a0;
		/* lfilter_zi: solve (I - companion(a)^T) zi = b[1:] - a[1:] b0. */
		double r0 = b1 - a1 * b0, r1 = b2 - a2 * b0, z0 = (r0 + r1) / (1 + a1 + a2);

		zi[2 * s] = scale * z0;
		zi[2 * s + 1] = scale * (r1 - a2 * z0);
		scale *= (c[0] + c[1] + c[2]) / (c[3] + c[4] + c[5]);
	}
}

size_t
dsp_butter_padlen(const double *sos, size_t nsec)
{
	size_t zb = 0, za = 0, ntaps = 2 * nsec + 1;

	for (size_t s = 0; s < nsec; s++) {
		zb += sos[6 * s + 2] == 0;
		za += sos[6 * s + 5] == 0;
	}
	return 3 * (ntaps - (zb < za ? zb : za));
}

int
dsp_butter_sosfiltfilt(const double *sos, size_t nsec, double *x, size_t n, char **cause)
{
	size_t edge = dsp_butter_padlen(sos, nsec), m;
	double *ext, *zi, *z;

	if (n <= edge)
		return error_set(cause, -EINVAL,
				 "trial of %zu samples is too short for two-pass "
				 "filtering (padlen %zu)",
				 n, edge);
	m = n + 2 * edge;
	ext = xmalloc(m * sizeof *ext);
	zi = xmalloc(2 * nsec * sizeof *zi);
	z = xmalloc(2 * nsec * sizeof *z);
	/* Odd extension: 2 x[0] - x[edge..1] and 2 x[n-1] - x[n-2..n-1-edge]. */
	for (size_t i = 0; i < edge; i++) {
		ext[i] = 2 * x[0] - x[edge - i];
		ext[edge + n + i] = 2 * x[n - 1] - x[n - 2 - i];
	}
	memcpy(ext + edge, x, n * sizeof *x);
	dsp_butter_sosfilt_zi(sos, nsec, zi);
	for (size_t i = 0; i < 2 * nsec; i++)
		z[i] = zi[i] * ext[0];
	dsp_butter_sosfilt(sos, nsec, ext, m, z);
	for (size_t i = 0; i < m / 2; i++) {
		double t = ext[i];
		ext[i] = ext[m - 1 - i];
		ext[m - 1 - i] = t;
	}
	for (size_t i = 0; i < 2 * nsec; i++)
		z[i] = zi[i] * ext[0];
	dsp_butter_sosfilt(sos, nsec, ext, m, z);
	for (size_t i = 0; i < n; i++)
		x[i] = ext[m - 1 - edge - i];
	free(ext);
	free(zi);
	free(z);
	return 0;
}
