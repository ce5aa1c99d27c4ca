/* Rate changes of trials: decimation by an integer factor with an optional zero-phase FIR
 * anti-alias filter, and polyphase up/down resampling matching scipy.signal.resample_poly
 * (zero padding outside the trial). */
#include "worker/dsp/spectral/dsp-resampledata.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/intmath.h"
#include "common/xmalloc.h"
#include "worker/dsp/core/dsp-firws.h"
#include "worker/dsp/core/dsp-taper.h"

struct dsp_resampledata {
	struct dsp_resampledata_params p;
	size_t up, down;
	double *kernel; /* downsample anti-alias FIR, or NULL */
	size_t klen;
};

/* Smallest up/down (down <= 100000) with up/down == r to 1e-9 relative. */
static int
dsp_resampledata_rational(double r, size_t *up, size_t *down)
{
	for (size_t d = 1; d <= 100000; d++) {
		double u = round(r * (double)d);
		if (u >= 1 && fabs(u / (double)d - r) <= 1e-9 * r) {
			size_t g = intmath_gcd((size_t)u, d);
			*up = (size_t)u / g;
			*down = d / g;
			return 0;
		}
	}
	return -EINVAL;
}

int
dsp_resampledata_new(const struct dsp_resampledata_params *p, size_t shortest_trial,
		     struct dsp_resampledata **out, char **cause)
{
	struct dsp_resampledata *rs;
	double ratio;
	int rc;

	*out = NULL;
	if (!(p->fs > 0) || !isfinite(p->fs))
		return error_set(cause, -EINVAL, "samplerate must be positive");
	if (!(p->resamplefs > 0) || !isfinite(p->resamplefs))
		return error_set(cause, -EINVAL, "resamplefs must be positive");
	rs = xcalloc(1, sizeof *rs);
	rs->p = *p;
	if (p->method == DSP_RESAMPLEDATA_DOWNSAMPLE) {
		ratio = p->fs / p->resamplefs;
		if (p->resamplefs > p->fs || fabs(ratio - round(ratio)) > 1e-9 * ratio) {
			dsp_resampledata_free(rs);
			return error_set(cause, -EINVAL,
					 "resamplefs %g must divide the samplerate %g "
					 "by an integer for downsample (use method resample)",
					 p->resamplefs, p->fs);
		}
		rs->up = 1;
		rs->down = (size_t)round(ratio);
		if (p->lpfreq != 0) {
			size_t order =
			    p->order ? p->order : dsp_firws_default_order(shortest_trial);
			if (!(p->lpfreq > 0)) {
				dsp_resampledata_free(rs);
				return error_set(cause, -EINVAL,
						 "lpfreq must be positive or 0 (none)");
			}
			rc = dsp_firws_design(DSP_FILTER_LP, &p->lpfreq, p->fs, order,
					      DSP_TAPER_HAMMING, &rs->kernel, cause);
			if (rc != 0) {
				dsp_resampledata_free(rs);
				return error_wrap(cause, rc, "lpfreq: ");
			}
			rs->klen = order + 1;
		}
	} else if (p->method == DSP_RESAMPLEDATA_RESAMPLE) {
		if (dsp_resampledata_rational(p->resamplefs / p->fs, &rs->up, &rs->down) != 0) {
			dsp_resampledata_free(rs);
			return error_set(cause, -EINVAL,
					 "resamplefs %g / samplerate %g is not a "
					 "ratio of integers up to 100000",
					 p->resamplefs, p->fs);
		}
	} else {
		dsp_resampledata_free(rs);
		return error_set(cause, -EINVAL, "method must be downsample or resample");
	}
	*out = rs;
	return 0;
}

void
dsp_resampledata_free(struct dsp_resampledata *rs)
{
	if (rs == NULL)
		return;
	free(rs->kernel);
	free(rs);
}

size_t
dsp_resampledata_outlen(const struct dsp_resampledata *rs, size_t n)
{
	return (n * rs->up + rs->down - 1) / rs->down;
}

void
dsp_resampledata_ratio(const struct dsp_resampledata *rs, size_t *up, size_t *down)
{
	*up = rs->up;
	*down = rs->down;
}

/* upfirdn output length (scipy _output_len). */
static size_t
dsp_resampledata_upfirdn_len(size_t len_h, size_t n_in, size_t up, size_t down)
{
	size_t nt = (n_in + (len_h + (up - len_h % up) % up) / up - 1) * up;

	return nt / down + (nt % down > 0);
}

void
dsp_resampledata_poly_filter(size_t up, size_t down, double **h, size_t *len, size_t *pre_remove,
			     size_t n_in)
{
	size_t g = intmath_gcd(up, down), mr, half, taps, pre, post = 0, n_out;
	double fc, sum = 0, *w, *f;

	up /= g;
	down /= g;
	mr = up > down ? up : down;
	fc = 1.0 / (double)mr;
	half = 10 * mr;
	taps = 2 * half + 1;
	w = xmalloc(taps * sizeof *w);
	dsp_taper_window_fill(DSP_TAPER_KAISER, taps, 5.0, w, NULL);
	pre = down - half % down;
	n_out = (n_in * up + down - 1) / down;
	*pre_remove = (half + pre) / down;
	while (dsp_resampledata_upfirdn_len(taps + pre + post, n_in, up, down) <
	       n_out + *pre_remove)
		post++;
	f = xcalloc(taps + pre + post, sizeof *f);
	for (size_t i = 0; i < taps; i++) {
		double m = (double)i - (double)half, x = fc * m;
		double sinc = x == 0 ? 1 : sin(M_PI * x) / (M_PI * x);
		f[pre + i] = fc * sinc * w[i];
		sum += f[pre + i];
	}
	for (size_t i = 0; i < taps; i++)
		f[pre + i] *= (double)up / sum;
	free(w);
	*h = f;
	*len = taps + pre + post;
}

void
dsp_resampledata_poly(const double *x, size_t n, size_t up, size_t down, const double *h,
		      size_t len, size_t pre_remove, double *out)
{
	size_t g = intmath_gcd(up, down), n_out;

	up /= g;
	down /= g;
	n_out = (n * up + down - 1) / down;
	/* y[t] = sum_j x[j] h[t down - j up], over the taps that land on input samples. */
	for (size_t o = 0; o < n_out; o++) {
		size_t t = (o + pre_remove) * down, jmin, jmax;
		double acc = 0;
		jmax = t / up;
		if (jmax >= n)
			jmax = n - 1;
		jmin = t >= len ? (t - len) / up + 1 : 0;
		for (size_t j = jmin; j <= jmax && n > 0; j++)
			acc += x[j] * h[t - j * up];
		out[o] = acc;
	}
}

int
dsp_resampledata_trial(const struct dsp_resampledata *rs, const struct dsp_trial *x, float *out,
		       char **cause)
{
	size_t n = x->nsamp, nc = x->nchan, no = dsp_resampledata_outlen(rs, n);
	double *cols, *y;

	if (n == 0)
		return error_set(cause, -EINVAL, "trial has no samples");
	cols = xmalloc(n * nc * sizeof *cols);
	y = xmalloc((no ? no : 1) * nc * sizeof *y);
	dsp_trial_to_columns(x, cols);
	if (rs->p.method == DSP_RESAMPLEDATA_DOWNSAMPLE) {
		if (rs->kernel != NULL)
			dsp_firws_apply(rs->kernel, rs->klen, DSP_FIRWS_ONEPASS, cols, n, nc);
		for (size_t c = 0; c < nc; c++)
			for (size_t i = 0; i < no; i++)
				y[c * no + i] = cols[c * n + i * rs->down];
	} else {
		double *h;
		size_t len, pre;
		dsp_resampledata_poly_filter(rs->up, rs->down, &h, &len, &pre, n);
		for (size_t c = 0; c < nc; c++)
			dsp_resampledata_poly(cols + c * n, n, rs->up, rs->down, h, len, pre,
					      y + c * no);
		free(h);
	}
	dsp_trial_from_columns(y, no, nc, out, nc);
	free(cols);
	free(y);
	return 0;
}
