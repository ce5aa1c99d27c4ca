/* Taper construction: the symmetric cosine-sum and Kaiser windows, DPSS sequences from the
 * tridiagonal eigenproblem solved by LAPACK (dstebz + dstein, as scipy does), the multitaper
 * parameter rule, and a mutex-guarded cache of immutable taper sets. */
#include "worker/dsp/core/dsp-taper.h"

#include <errno.h>
#include <lapacke.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/names.h"
#include "common/xmalloc.h"

struct dsp_taper_entry {
	struct dsp_taper_set set;
	struct dsp_taper_entry *next;
};

static const char *const dsp_taper_names[] = {
    [DSP_TAPER_BOXCAR] = "boxcar",   [DSP_TAPER_HANN] = "hann",
    [DSP_TAPER_HAMMING] = "hamming", [DSP_TAPER_BLACKMAN] = "blackman",
    [DSP_TAPER_KAISER] = "kaiser",   [DSP_TAPER_DPSS] = "dpss",
};

static pthread_mutex_t dsp_taper_lock = PTHREAD_MUTEX_INITIALIZER;
static struct dsp_taper_entry *dsp_taper_list;

int
dsp_taper_window_parse(const char *name, enum dsp_taper_window *w, char **cause)
{
	if (name == NULL || strcmp(name, "none") == 0 || strcmp(name, "boxcar") == 0) {
		*w = DSP_TAPER_BOXCAR;
		return 0;
	}
	if (strcmp(name, "hanning") == 0) {
		*w = DSP_TAPER_HANN;
		return 0;
	}
	int k = names_find(name, dsp_taper_names, NAMES_COUNT(dsp_taper_names));

	if (k < 0)
		return error_set(cause, -EINVAL,
				 "taper: unknown window '%s' (none, boxcar, hann, hamming, "
				 "blackman, kaiser, dpss)",
				 name);
	*w = (enum dsp_taper_window)k;
	return 0;
}

const char *
dsp_taper_window_name(enum dsp_taper_window w)
{
	return (size_t)w < sizeof dsp_taper_names / sizeof dsp_taper_names[0] ? dsp_taper_names[w]
									      : "?";
}

/* Modified Bessel function of the first kind, order 0, by its power series. */
static double
dsp_taper_bessel_i0(double x)
{
	double sum = 1, term = 1, q = 0.25 * x * x;

	for (int k = 1; k < 1000; k++) {
		term *= q / ((double)k * (double)k);
		sum += term;
		if (term < 1e-17 * sum)
			break;
	}
	return sum;
}

int
dsp_taper_window_fill(enum dsp_taper_window w, size_t n, double beta, double *out, char **cause)
{
	double den = (double)n - 1;

	if (n == 0)
		return error_set(cause, -EINVAL, "taper: window length must be positive");
	if (w == DSP_TAPER_KAISER && !(beta >= 0 && beta < 700))
		return error_set(cause, -EINVAL, "taper: kaiser beta %g out of [0, 700)", beta);
	if (n == 1 || w == DSP_TAPER_BOXCAR) {
		for (size_t i = 0; i < n; i++)
			out[i] = 1;
		return w == DSP_TAPER_DPSS ? error_set(cause, -EINVAL,
						       "taper: dpss is not a "
						       "single window")
					   : 0;
	}
	for (size_t i = 0; i < n; i++) {
		double a = 2 * M_PI * (double)i / den, r;
		switch (w) {
		case DSP_TAPER_HANN:
			out[i] = 0.5 - 0.5 * cos(a);
			break;
		case DSP_TAPER_HAMMING:
			out[i] = 0.54 - 0.46 * cos(a);
			break;
		case DSP_TAPER_BLACKMAN:
			out[i] = 0.42 - 0.5 * cos(a) + 0.08 * cos(2 * a);
			break;
		case DSP_TAPER_KAISER:
			r = ((double)i - 0.5 * den) / (0.5 * den);
			out[i] = dsp_taper_bessel_i0(beta * sqrt(fmax(0, 1 - r * r))) /
				 dsp_taper_bessel_i0(beta);
			break;
		default:
			return error_set(cause, -EINVAL, "taper: %s is not a single window",
					 dsp_taper_window_name(w));
		}
	}
	return 0;
}

int
dsp_taper_dpss(size_t n, double nw, size_t k, double *out, double *eig, char **cause)
{
	double *d, *e, *wv, *z, w, cw, thresh;
	lapack_int *iblock, *isplit, *ifail, m = 0, nsplit = 0, info, nn = (lapack_int)n;
	int rc = 0;

	if (n == 0 || k == 0 || k > n)
		return error_set(cause, -EINVAL, "nTaper: need 1 <= K (%zu) <= N (%zu)", k, n);
	if (!(nw > 0) || !isfinite(nw) || nw >= 0.5 * (double)n)
		return error_set(cause, -EINVAL, "tapsmofrq: NW %g out of (0, N/2)", nw);
	if (n == 1) {
		out[0] = 1;
		if (eig != NULL)
			eig[0] = 1;
		return 0;
	}
	w = nw / (double)n;
	cw = cos(2 * M_PI * w);
	d = xmalloc(n * sizeof *d);
	e = xcalloc(n, sizeof *e);
	wv = xcalloc(n, sizeof *wv); /* LAPACKE_dstein NaN-checks all n */
	z = xmalloc(n * k * sizeof *z);
	iblock = xmalloc(n * sizeof *iblock);
	isplit = xmalloc(n * sizeof *isplit);
	ifail = xmalloc(k * sizeof *ifail);
	for (size_t t = 0; t < n; t++) {
		double h = ((double)n - 1 - 2 * (double)t) / 2;
		d[t] = h * h * cw;
	}
	for (size_t t = 1; t < n; t++)
		e[t - 1] = (double)t * (double)(n - t) / 2;
	info = LAPACKE_dstebz('I', 'B', nn, 0, 0, nn - (lapack_int)k + 1, nn, 0, d, e, &m, &nsplit,
			      wv, iblock, isplit);
	if (info != 0 || m != (lapack_int)k) {
		rc = error_set(cause, -EIO, "dpss: dstebz failed (info %d, %d of %zu eigenvalues)",
			       (int)info, (int)m, k);
		goto out;
	}
	info = LAPACKE_dstein(LAPACK_COL_MAJOR, nn, d, e, m, wv, iblock, isplit, z, nn, ifail);
	if (info != 0) {
		rc = error_set(cause, -EIO, "dpss: dstein failed (info %d)", (int)info);
		goto out;
	}
	/* Eigenvalues come ascending: taper j is column k-1-j. */
	thresh = fmax(1e-7, 1.0 / (double)n);
	for (size_t j = 0; j < k; j++) {
		const double *col = z + (k - 1 - j) * n;
		double *row = out + j * n, norm = 0, s = 0, sign = 1;
		for (size_t i = 0; i < n; i++)
			norm += col[i] * col[i];
		norm = sqrt(norm);
		for (size_t i = 0; i < n; i++) {
			row[i] = col[i] / norm;
			s += row[i];
		}
		if (j % 2 == 0) {
			sign = s < 0 ? -1 : 1;
		} else {
			for (size_t i = 0; i < n; i++)
				if (row[i] * row[i] > thresh) {
					sign = row[i] < 0 ? -1 : 1;
					break;
				}
		}
		if (sign < 0)
			for (size_t i = 0; i < n; i++)
				row[i] = -row[i];
		if (eig != NULL)
			eig[j] = wv[k - 1 - j];
	}
out:
	free(d);
	free(e);
	free(wv);
	free(z);
	free(iblock);
	free(isplit);
	free(ifail);
	return rc;
}

int
dsp_taper_tapsmofrq(double tapsmofrq, double fs, double n, size_t ntaper, double *nw, size_t *k,
		    int *clamped, char **cause)
{
	double lo, hi, f = tapsmofrq, v;

	if (!(fs > 0) || !isfinite(fs))
		return error_set(cause, -EINVAL, "samplerate must be positive");
	if (!(tapsmofrq > 0) || !isfinite(tapsmofrq))
		return error_set(cause, -EINVAL, "tapsmofrq must be positive, not %g", tapsmofrq);
	if (n < 2)
		return error_set(cause, -EINVAL, "tapsmofrq: trials need at least 2 samples");
	lo = fs / n;
	hi = fs / 2 - 1 / n;
	if (clamped != NULL)
		*clamped = f < lo || f > hi;
	f = f < lo ? lo : f > hi ? hi : f;
	*nw = f * n / fs;
	if (ntaper > 0) {
		if ((double)ntaper > n)
			return error_set(cause, -EINVAL, "nTaper %zu exceeds the trial length %g",
					 ntaper, n);
		*k = ntaper;
	} else {
		v = trunc(2 * *nw - 1);
		*k = v < 1 ? 1 : v > floor(n) ? (size_t)floor(n) : (size_t)v;
	}
	return 0;
}

static int
dsp_taper_build(struct dsp_taper_set *s, char **cause)
{
	int rc;

	s->w = xmalloc(s->n * s->k * sizeof *s->w);
	s->sum = xcalloc(s->k, sizeof *s->sum);
	s->eig = NULL;
	if (s->window == DSP_TAPER_DPSS) {
		s->eig = xmalloc(s->k * sizeof *s->eig);
		rc = dsp_taper_dpss(s->n, s->param, s->k, s->w, s->eig, cause);
	} else {
		rc = dsp_taper_window_fill(s->window, s->n, s->param, s->w, cause);
	}
	if (rc != 0)
		return rc;
	for (size_t j = 0; j < s->k; j++)
		for (size_t i = 0; i < s->n; i++)
			s->sum[j] += s->w[j * s->n + i];
	return 0;
}

static void
dsp_taper_entry_free(struct dsp_taper_entry *e)
{
	free(e->set.w);
	free(e->set.sum);
	free(e->set.eig);
	free(e);
}

static const struct dsp_taper_set *
dsp_taper_cache_find(enum dsp_taper_window w, size_t n, double param, size_t k)
{
	for (struct dsp_taper_entry *e = dsp_taper_list; e != NULL; e = e->next)
		if (e->set.window == w && e->set.n == n && e->set.k == k && e->set.param == param)
			return &e->set;
	return NULL;
}

int
dsp_taper_cache_get(enum dsp_taper_window w, size_t n, double param, size_t k,
		    const struct dsp_taper_set **out, char **cause)
{
	struct dsp_taper_entry *e;
	const struct dsp_taper_set *s;
	int rc;

	if (w != DSP_TAPER_DPSS && k != 1)
		return error_set(cause, -EINVAL, "taper: %s gives one taper, not %zu",
				 dsp_taper_window_name(w), k);
	if (w != DSP_TAPER_DPSS && w != DSP_TAPER_KAISER)
		param = 0;
	pthread_mutex_lock(&dsp_taper_lock);
	s = dsp_taper_cache_find(w, n, param, k);
	pthread_mutex_unlock(&dsp_taper_lock);
	if (s != NULL) {
		*out = s;
		return 0;
	}
	/* Build outside the lock (DPSS takes milliseconds); the first insert wins a race. */
	e = xcalloc(1, sizeof *e);
	e->set.window = w;
	e->set.n = n;
	e->set.k = k;
	e->set.param = param;
	if ((rc = dsp_taper_build(&e->set, cause)) != 0) {
		dsp_taper_entry_free(e);
		return rc;
	}
	pthread_mutex_lock(&dsp_taper_lock);
	s = dsp_taper_cache_find(w, n, param, k);
	if (s == NULL) {
		e->next = dsp_taper_list;
		dsp_taper_list = e;
		s = &e->set;
		e = NULL;
	}
	pthread_mutex_unlock(&dsp_taper_lock);
	if (e != NULL)
		dsp_taper_entry_free(e);
	*out = s;
	return 0;
}

void
dsp_taper_cache_clear(void)
{
	pthread_mutex_lock(&dsp_taper_lock);
	while (dsp_taper_list != NULL) {
		struct dsp_taper_entry *e = dsp_taper_list;
		dsp_taper_list = e->next;
		dsp_taper_entry_free(e);
	}
	pthread_mutex_unlock(&dsp_taper_lock);
}
