/* The wavelet and superlet transforms of a trial: every kernel of dsp-cwt.c applied as a true
 * "same" convolution by FFT. The trial's spectrum is taken once per FFT length and multiplied by
 * each kernel's cached spectrum; kernels are grouped by FFT length (a length serves kernels
 * needing up to 1.5 times less). When the kept samples are every d-th (an equidistant toi
 * list), the product spectrum is folded onto L/d bins with the kernel's shift as a phase, and an
 * L/d-point inverse gives exactly those samples (the aliasing of the decimated inverse), so a
 * kernel costs L multiply-adds and a transform d times shorter. The superlet's geometric mean of
 * principal powers is summed as exponent-weighted logarithms of modulus and argument. */
#include "worker/dsp/spectral/dsp-cwt.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/xmalloc.h"
#include "worker/dsp/core/dsp-clones.h"
#include "worker/dsp/core/fft-plan.h"

struct dsp_cwt_conv_work {
	size_t nt, decim, keep0; /* what the kernel spectra were made for (nt 0: none) */
	size_t nks, ngroup;
	size_t *glen;      /* FFT length of each group (a multiple of decim) */
	size_t *kgroup;    /* group of each kernel */
	fftw_complex **ks; /* kernel spectra / L (decimated: times the shift's phase) */
	double *cols;      /* detrended trial, channel-major */
	size_t ncols;
	double *re;
	fftw_complex *xs, *y, *z;
	double *lm, *ph; /* ntime x nfreq: log modulus and argument sums (superlet) */
	size_t *keep;
};

static void
dsp_cwt_conv_spectra_free(struct dsp_cwt_conv_work *w)
{
	for (size_t k = 0; w->ks != NULL && k < w->nks; k++)
		fft_free(w->ks[k]);
	free(w->ks);
	free(w->glen);
	free(w->kgroup);
	w->ks = NULL;
	w->glen = w->kgroup = NULL;
	w->nks = w->ngroup = w->nt = 0;
}

void
dsp_cwt_conv_work_free(struct dsp_cwt_conv_work *w)
{
	if (w == NULL)
		return;
	dsp_cwt_conv_spectra_free(w);
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

static size_t
dsp_cwt_conv_taps(const struct dsp_cwt *m, size_t k)
{
	size_t f, n;
	int c;
	double e;

	dsp_cwt_kern(m, k, &f, &c, &e, &n);
	return n;
}

/* Group the kernels by FFT length, longest first (insertion sort: a few hundred at most). */
static size_t
dsp_cwt_conv_groups(const struct dsp_cwt *m, struct dsp_cwt_conv_work *w, size_t nt, size_t d)
{
	size_t nk = dsp_cwt_nkern(m), *ord = xmalloc((nk + 1) * sizeof *ord), lmax = 0, cur = 0;

	w->glen = xmalloc((nk + 1) * sizeof *w->glen);
	w->kgroup = xmalloc((nk + 1) * sizeof *w->kgroup);
	for (size_t k = 0; k < nk; k++)
		ord[k] = k;
	for (size_t i = 1; i < nk; i++)
		for (size_t j = i; j > 0 && dsp_cwt_conv_taps(m, ord[j]) > dsp_cwt_conv_taps(m, ord[j - 1]);
		     j--) {
			size_t t = ord[j];
			ord[j] = ord[j - 1];
			ord[j - 1] = t;
		}
	for (size_t i = 0; i < nk; i++) {
		size_t need = nt + dsp_cwt_conv_taps(m, ord[i]) - 1;
		if (w->ngroup == 0 || (double)cur > 1.5 * (double)need) {
			cur = d * fft_good_size((need + d - 1) / d);
			w->glen[w->ngroup++] = cur;
		}
		w->kgroup[ord[i]] = w->ngroup - 1;
		lmax = cur > lmax ? cur : lmax;
	}
	free(ord);
	return lmax;
}

/* Kernel spectra for a trimmed length nt, kept samples keep0 + d * t (d 1: all, unshifted). */
static void
dsp_cwt_conv_spectra(const struct dsp_cwt *m, struct dsp_cwt_conv_work *w, size_t nt, size_t d,
		     size_t keep0)
{
	size_t nk = dsp_cwt_nkern(m), lmax, maxtaps = 0;
	double *taps;

	dsp_cwt_conv_spectra_free(w);
	lmax = dsp_cwt_conv_groups(m, w, nt, d);
	w->ks = xcalloc(nk + 1, sizeof *w->ks);
	w->nks = nk;
	fft_free(w->re);
	fft_free(w->xs);
	fft_free(w->y);
	fft_free(w->z);
	w->re = fft_alloc_real(lmax + 2);
	w->xs = fft_alloc_complex(lmax);
	w->y = fft_alloc_complex(lmax);
	w->z = fft_alloc_complex(lmax);
	for (size_t k = 0; k < nk; k++)
		maxtaps = dsp_cwt_conv_taps(m, k) > maxtaps ? dsp_cwt_conv_taps(m, k) : maxtaps;
	taps = xmalloc(2 * (maxtaps + 1) * sizeof *taps);
	for (size_t k = 0; k < nk; k++) {
		size_t l = w->glen[w->kgroup[k]], n, f, sh;
		double e, *ks;
		int c;
		dsp_cwt_kern(m, k, &f, &c, &e, &n);
		dsp_cwt_kernel(m, f, c, taps, &n);
		memset(w->y, 0, l * sizeof *w->y);
		memcpy(w->y, taps, 2 * n * sizeof *taps);
		w->ks[k] = fft_alloc_complex(l);
		fft_c2c(l, -1, w->y, w->ks[k]);
		ks = (double *)w->ks[k];
		sh = (n - 1) / 2 + keep0;
		for (size_t j = 0; j < l; j++) {
			/* exp(2 pi i j (shift) / l) / l, the angle reduced exactly first */
			double a = d > 1 ? 2 * M_PI * (double)((j * sh) % l) / (double)l : 0;
			double re = ks[2 * j], im = ks[2 * j + 1], c0 = cos(a) / (double)l,
			       s0 = sin(a) / (double)l;
			ks[2 * j] = re * c0 - im * s0;
			ks[2 * j + 1] = re * s0 + im * c0;
		}
	}
	free(taps);
	w->nt = nt;
	w->decim = d;
	w->keep0 = keep0;
}

/* The full spectrum of the real x[0..nt) zero-padded to l, into w->xs. */
static void
dsp_cwt_conv_data(struct dsp_cwt_conv_work *w, const double *x, size_t nt, size_t l)
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

/* y = the product x h (l bins), folded onto lp = l / d bins when d > 1: the hottest loop. */
DSP_CLONES static void
dsp_cwt_conv_product(const double *restrict x, const double *restrict h, double *restrict y,
		     size_t l, size_t d)
{
	size_t lp = l / d;

	if (d == 1) {
		for (size_t i = 0; i < l; i++) {
			double ar = x[2 * i], ai = x[2 * i + 1], br = h[2 * i], bi = h[2 * i + 1];
			y[2 * i] = ar * br - ai * bi;
			y[2 * i + 1] = ar * bi + ai * br;
		}
		return;
	}
	memset(y, 0, 2 * lp * sizeof *y);
	for (size_t r = 0; r < d; r++) {
		const double *restrict xr = x + 2 * r * lp, *restrict hr = h + 2 * r * lp;
		for (size_t j = 0; j < lp; j++) {
			double ar = xr[2 * j], ai = xr[2 * j + 1], br = hr[2 * j], bi = hr[2 * j + 1];
			y[2 * j] += ar * br - ai * bi;
			y[2 * j + 1] += ar * bi + ai * br;
		}
	}
}

/* Kernel k on the channel whose spectrum is in w->xs (length l): its convolution at the kept
 * samples (interleaved complex; decimated: sample t at index t, else at the sample index). */
static const double *
dsp_cwt_conv_apply(struct dsp_cwt_conv_work *w, size_t k, size_t l)
{
	dsp_cwt_conv_product((const double *)w->xs, (const double *)w->ks[k], (double *)w->y, l,
			     w->decim);
	fft_c2c(w->decim > 1 ? l / w->decim : l, 1, w->y, w->z);
	return (const double *)w->z;
}

/* One channel: every kernel's convolution at the kept samples, combined per frequency into
 * out[(time * nfreq + f) * nc + c]. */
static void
dsp_cwt_conv_channel(const struct dsp_cwt *m, struct dsp_cwt_conv_work *w, const double *x,
		     size_t nt, size_t ntime, double *out, size_t c, size_t nc)
{
	const struct dsp_cwt_params *p = dsp_cwt_params(m);
	enum dsp_mtmfft_output o = p->output;
	bool sl = p->family == DSP_CWT_SUPERLET, phase = o != DSP_MTMFFT_POW && o != DSP_MTMFFT_ABS;
	size_t cw = dsp_tfr_width(o), nf = dsp_cwt_nfreq(m);

	if (sl) {
		memset(w->lm, 0, ntime * nf * sizeof *w->lm);
		memset(w->ph, 0, ntime * nf * sizeof *w->ph);
	}
	for (size_t g = 0; g < w->ngroup; g++) {
		size_t l = w->glen[g];
		dsp_cwt_conv_data(w, x, nt, l);
		for (size_t k = 0; k < w->nks; k++) {
			size_t f, ntaps, sh;
			double e;
			int cyc;
			if (w->kgroup[k] != g)
				continue;
			dsp_cwt_kern(m, k, &f, &cyc, &e, &ntaps);
			sh = (ntaps - 1) / 2;
			const double *y = dsp_cwt_conv_apply(w, k, l);
			for (size_t t = 0; t < ntime; t++) {
				size_t at = w->decim > 1 ? t : (w->keep != NULL ? w->keep[t] : t) + sh;
				double re = y[2 * at], im = y[2 * at + 1];
				double *dst = out + ((t * nf + f) * nc + c) * cw;
				if (!sl) {
					dst[0] = 0;
					if (cw == 2)
						dst[1] = 0;
					dsp_tfr_convert_add(o, re, im, 1, dst);
					continue;
				}
				w->lm[t * nf + f] += e * 0.5 * log(re * re + im * im);
				if (phase)
					w->ph[t * nf + f] += e * atan2(im, re);
			}
		}
	}
	for (size_t i = 0; sl && i < ntime * nf; i++) {
		double mod = exp(w->lm[i]), *dst = out + (i * nc + c) * cw;
		dst[0] = 0;
		if (cw == 2)
			dst[1] = 0;
		dsp_tfr_convert_add(o, mod * cos(w->ph[i]), mod * sin(w->ph[i]), 1, dst);
	}
}

/* The decimation of the kept samples: d when keep[t] = keep[0] + d t for all t (d >= 2). */
static size_t
dsp_cwt_conv_stride(const size_t *keep, size_t n)
{
	size_t d;

	if (keep == NULL || n < 2 || keep[1] <= keep[0])
		return 1;
	d = keep[1] - keep[0];
	for (size_t t = 2; t < n; t++)
		if (keep[t] != keep[0] + d * t)
			return 1;
	return d;
}

int
dsp_cwt_conv_trial(const struct dsp_cwt *m, const struct dsp_trial *x, double offset, double *out,
		   struct dsp_cwt_conv_work **wk, char **cause)
{
	const struct dsp_cwt_params *p = dsp_cwt_params(m);
	size_t n = x->nsamp, nc = x->nchan, a = 0, b = n, ntime = dsp_cwt_ntime(m, n), d, k0;
	struct dsp_cwt_conv_work *w;
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
	d = dsp_cwt_conv_stride(w->keep, ntime);
	k0 = d > 1 ? w->keep[0] : 0;
	if (w->nt != b - a || w->decim != d || w->keep0 != k0)
		dsp_cwt_conv_spectra(m, w, b - a, d, k0);
	if (n * nc > w->ncols) {
		free(w->cols);
		w->cols = xmalloc(n * nc * sizeof *w->cols);
		w->ncols = n * nc;
	}
	free(w->lm);
	free(w->ph);
	w->lm = xmalloc((ntime * dsp_cwt_nfreq(m) + 1) * sizeof *w->lm);
	w->ph = xmalloc((ntime * dsp_cwt_nfreq(m) + 1) * sizeof *w->ph);
	dsp_trial_to_columns(x, w->cols);
	for (size_t c = 0; c < nc && rc == 0; c++) {
		rc = dsp_trial_polyremoval(w->cols + c * n, n, p->polyremoval, cause);
		if (rc == 0)
			dsp_cwt_conv_channel(m, w, w->cols + c * n + a, b - a, ntime, out, c, nc);
	}
	return rc;
}
