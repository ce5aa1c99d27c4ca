/* Adaptive noise cancellation on one channel: the least-squares FIR high-pass used for
 * adaptation (scipy firls), the LMS and NLMS filters with a fused, vectorised update/output loop,
 * the step-size search when judged, and the windowed subtraction with its gain check. */
#include "worker/dsp/fmri/dsp-anc.h"

#include <errno.h>
#include <float.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/log.h"
#include "common/xmalloc.h"
#include "worker/dsp/core/dsp-clones.h"
#include "worker/dsp/fmri/dsp-trigger.h"

void
dsp_anc_params_init(struct dsp_anc_params *p)
{
	memset(p, 0, sizeof *p);
	p->hp = 6.0;
	p->mu_factor = 0.05;
	p->max_gain = 50.0;
	p->band = 70;
}

double
dsp_anc_cutoff(double slices_per_second)
{
	double fc = 0.75 * slices_per_second;
	return fc > 0.5 ? fc : 0.5;
}

size_t
dsp_anc_hp_length(double fs, double fc)
{
	long m = lround(1.2 * fs / (0.85 * fc));
	if (m < 3)
		m = 3;
	return (size_t)(m | 1);
}

static double
dsp_anc_sinc(double x)
{
	return x == 0 ? 1.0 : sin(M_PI * x) / (M_PI * x);
}

/* Solve the symmetric positive system q·a = b (order d); when q is ill-conditioned fall back to
 * a rank-revealing least-squares solve (scipy does the same). The solution replaces b. */
static int
dsp_anc_solve(double *q, double *b, size_t d, char **cause)
{
	double *qc = xmalloc(d * d * sizeof *qc), *bc = xmalloc(d * sizeof *bc), anorm = 0, rcond;
	lapack_int info, rank;
	lapack_int *jpvt;

	memcpy(qc, q, d * d * sizeof *qc);
	memcpy(bc, b, d * sizeof *bc);
	for (size_t j = 0; j < d; j++) {
		double s = 0;
		for (size_t i = 0; i < d; i++)
			s += fabs(q[j * d + i]);
		anorm = s > anorm ? s : anorm;
	}
	info = LAPACKE_dpotrf(LAPACK_COL_MAJOR, 'U', (lapack_int)d, qc, (lapack_int)d);
	if (info == 0)
		info = LAPACKE_dpocon(LAPACK_COL_MAJOR, 'U', (lapack_int)d, qc, (lapack_int)d,
				      anorm, &rcond);
	if (info == 0 && rcond >= DBL_EPSILON) {
		info = LAPACKE_dpotrs(LAPACK_COL_MAJOR, 'U', (lapack_int)d, 1, qc, (lapack_int)d, b,
				      (lapack_int)d);
		free(qc), free(bc);
		return info == 0 ? 0
				 : error_set(cause, -EINVAL, "firls: dpotrs info %d", (int)info);
	}
	jpvt = xcalloc(d, sizeof *jpvt);
	memcpy(qc, q, d * d * sizeof *qc);
	info = LAPACKE_dgelsy(LAPACK_COL_MAJOR, (lapack_int)d, (lapack_int)d, 1, qc, (lapack_int)d,
			      bc, (lapack_int)d, jpvt, DBL_EPSILON, &rank);
	if (info == 0)
		memcpy(b, bc, d * sizeof *b);
	free(qc), free(bc), free(jpvt);
	return info == 0 ? 0 : error_set(cause, -EINVAL, "firls: dgelsy info %d", (int)info);
}

int
dsp_anc_firls(size_t numtaps, const double *bands, const double *desired, size_t nbands, double *h,
	      char **cause)
{
	size_t m, d;
	double *q, *qm, *b;
	int rc;

	if (numtaps == 0 || numtaps % 2 == 0)
		return error_set(cause, -EINVAL, "firls: numtaps must be odd (got %zu)", numtaps);
	if (nbands == 0)
		return error_set(cause, -EINVAL, "firls: no bands");
	for (size_t i = 0; i < 2 * nbands; i++) {
		if (!(bands[i] >= 0 && bands[i] <= 1))
			return error_set(cause, -EINVAL, "firls: band edge %g outside [0, 1]",
					 bands[i]);
		if (i % 2 == 1 && !(bands[i] > bands[i - 1]))
			return error_set(cause, -EINVAL, "firls: band %zu has no width", i / 2);
		if (i % 2 == 0 && i > 0 && bands[i] < bands[i - 1])
			return error_set(cause, -EINVAL, "firls: bands overlap at %zu", i / 2);
		if (desired[i] < 0)
			return error_set(cause, -EINVAL, "firls: desired gain %g is negative",
					 desired[i]);
	}
	m = (numtaps - 1) / 2;
	d = m + 1;
	q = xcalloc(numtaps, sizeof *q);
	qm = xmalloc(d * d * sizeof *qm);
	b = xcalloc(d, sizeof *b);
	/* q(n) = Σ_bands [f·sinc(f·n)] over each band (unit weight). */
	for (size_t n = 0; n < numtaps; n++)
		for (size_t k = 0; k < nbands; k++) {
			double f1 = bands[2 * k], f2 = bands[2 * k + 1];
			q[n] +=
			    f2 * dsp_anc_sinc(f2 * (double)n) - f1 * dsp_anc_sinc(f1 * (double)n);
		}
	for (size_t j = 0; j < d; j++)
		for (size_t i = 0; i < d; i++)
			qm[j * d + i] = q[i > j ? i - j : j - i] + q[i + j];
	/* b(n) = Σ_bands ∫ (s·f + c)·cos(π·n·f) df with the gain linear across each band. */
	for (size_t k = 0; k < nbands; k++) {
		double f[2] = {bands[2 * k], bands[2 * k + 1]};
		double s = (desired[2 * k + 1] - desired[2 * k]) / (f[1] - f[0]);
		double c = desired[2 * k] - f[0] * s;
		for (size_t n = 0; n < d; n++) {
			double v[2];
			for (int e = 0; e < 2; e++) {
				v[e] = f[e] * (s * f[e] + c) * dsp_anc_sinc(f[e] * (double)n);
				if (n == 0)
					v[e] -= s * f[e] * f[e] / 2;
				else
					v[e] += s * cos((double)n * M_PI * f[e]) /
						pow(M_PI * (double)n, 2);
			}
			b[n] += v[1] - v[0];
		}
	}
	rc = dsp_anc_solve(qm, b, d, cause);
	if (rc == 0) {
		for (size_t i = 1; i <= m; i++) {
			h[m - i] = b[i];
			h[m + i] = b[i];
		}
		h[m] = 2 * b[0];
	}
	free(q), free(qm), free(b);
	return rc;
}

int
dsp_anc_hp_design(struct dsp_filter *f, double fs, double fc, char **cause)
{
	double nyq = fs / 2, bands[4], desired[4] = {0, 0, 1, 1};
	size_t nt;
	int rc;

	memset(f, 0, sizeof *f);
	if (!(fs > 0))
		return error_set(cause, -EINVAL, "anc: fs must be positive (got %g)", fs);
	if (!(fc > 0 && fc < 0.95 * nyq))
		return error_set(cause, -EINVAL, "anc: hp %g Hz must lie in (0, 0.95·fs/2)", fc);
	nt = dsp_anc_hp_length(fs, fc);
	bands[0] = 0;
	bands[1] = 0.85 * fc / nyq;
	bands[2] = fc / nyq;
	bands[3] = 1;
	f->taps = xcalloc(nt, sizeof *f->taps);
	f->ntaps = nt;
	if ((rc = dsp_anc_firls(nt, bands, desired, 2, f->taps, cause)) != 0)
		dsp_filter_fini(f);
	return rc;
}

/* Eight partial sums in one vector: the compiler's generic vector extension, so it builds
 * everywhere; target_clones adds AVX-512 and AVX2 builds picked at load time (the update and
 * the next output then run 8 or 4 lanes at a time, about 3× faster than scalar code). */
typedef double dsp_anc_v8 __attribute__((vector_size(64)));

/* One step of the fused loop: the taps w (nt of them) move by g along this sample's window r,
 * and the next sample's output, the taps against the window one sample on, is returned. One
 * pass over the taps; inlined into each per-CPU build of its callers. */
static inline __attribute__((always_inline)) double
dsp_anc_step(double *restrict w, const double *restrict r, size_t nt, double g)
{
	const double *restrict r1 = r + 1;
	size_t nv = nt / 8;
	dsp_anc_v8 a = {0}, gv = {g, g, g, g, g, g, g, g};
	double tail = 0;

	for (size_t v = 0; v < nv; v++) {
		dsp_anc_v8 rv, r1v, wj;

		/* memcpy: unaligned vector loads, no alignment assumed of any array */
		memcpy(&rv, r + 8 * v, sizeof rv);
		memcpy(&r1v, r1 + 8 * v, sizeof r1v);
		memcpy(&wj, w + 8 * v, sizeof wj);
		wj += gv * rv;
		memcpy(w + 8 * v, &wj, sizeof wj);
		a += wj * r1v;
	}
	for (size_t j = nv * 8; j < nt; j++) {
		w[j] += g * r[j];
		tail += w[j] * r1[j];
	}
	return (((a[0] + a[4]) + (a[1] + a[5])) + ((a[2] + a[6]) + (a[3] + a[7]))) + tail;
}

DSP_CLONES void
dsp_anc_lms(const double *ref, const double *d, size_t n, size_t order, double mu, double *y)
{
	size_t nt = order + 1;
	double *restrict w = xcalloc(nt, sizeof *w), acc = 0;

	memset(y, 0, (n < order ? n : order) * sizeof *y);
	/* Update with this sample's window while accumulating the next sample's output. */
	for (size_t i = order; i < n; i++) {
		y[i] = acc;
		if (i + 1 == n)
			break;
		acc = dsp_anc_step(w, ref + (i - order), nt, 2 * mu * (d[i] - acc));
	}
	free(w);
}

DSP_CLONES void
dsp_anc_nlms(const double *ref, const double *d, size_t n, size_t order, double mu, double eps,
	     double *y)
{
	size_t nt = order + 1;
	double *restrict w = xcalloc(nt, sizeof *w), acc = 0, energy = 0;

	memset(y, 0, (n < order ? n : order) * sizeof *y);
	for (size_t j = 0; j < nt && j < n; j++)
		energy += ref[j] * ref[j];
	/* As dsp_anc_lms, the step divided by the power in this sample's window of taps. */
	for (size_t i = order; i < n; i++) {
		const double *r = ref + (i - order);

		y[i] = acc;
		if (i + 1 == n)
			break;
		acc = dsp_anc_step(w, r, nt, mu * (d[i] - acc) / (eps + energy));
		/* The next window: drop r[0], take r[nt]. */
		energy += r[nt] * r[nt] - r[0] * r[0];
		if (energy < 0)
			energy = 0;
	}
	free(w);
}

static int
dsp_anc_check(const double *x, size_t n, double fs, const double *ref, const int64_t *trig,
	      size_t ntrig, size_t len, const struct dsp_anc_params *p, char **cause)
{
	if (x == NULL || ref == NULL || n == 0)
		return error_set(cause, -EINVAL, "anc: empty channel or reference (x, ref)");
	if (!(fs > 0))
		return error_set(cause, -EINVAL, "anc: fs must be positive (got %g)", fs);
	if (trig == NULL || ntrig == 0)
		return error_set(cause, -EINVAL, "anc: no triggers (trig)");
	if (len == 0)
		return error_set(cause, -EINVAL, "anc: artifact length len must be positive");
	if (!(p->mu_factor > 0))
		return error_set(cause, -EINVAL, "anc: mu_factor must be positive (got %g)",
				 p->mu_factor);
	if (!(p->max_gain > 0))
		return error_set(cause, -EINVAL, "anc: max_gain must be positive (got %g)",
				 p->max_gain);
	return dsp_trigger_in_range(trig, ntrig, n, "anc", cause);
}

/* The filter's output for one step size (mu_factor), LMS or normalised; returns the step. */
static double
dsp_anc_output(const double *rf, const double *d, size_t wl, size_t order, double var,
	       const struct dsp_anc_params *p, double mu_factor, double *y)
{
	double mu;

	if (p->normalised) {
		/* eps: a thousandth of the window's mean power, against division by silence. */
		mu = 2 * mu_factor;
		dsp_anc_nlms(rf, d, wl, order, mu, 1e-3 * (double)(order + 1) * var, y);
	} else {
		mu = mu_factor / ((double)order * var);
		dsp_anc_lms(rf, d, wl, order, mu, y);
	}
	return mu;
}

/* Judged: the step sizes mu_factor / 10, / 3 and itself, each output judged; y gets the one
 * whose harmonics end nearest the artifact-free level among those accepted (r->judged.accept
 * 0 when none is). */
static int
dsp_anc_search(const double *x, size_t n, double fs, const int64_t *trig, size_t ntrig,
	       size_t len, size_t ws, const double *rf, const double *d, size_t wl, size_t order,
	       double var, const struct dsp_anc_params *p, double *y, struct dsp_anc_result *r,
	       char **cause)
{
	static const double frac[] = {0.1, 1.0 / 3, 1.0};
	double *tmp = xmalloc(wl * sizeof *tmp);
	int rc = 0, have = 0;

	for (size_t k = 0; k < sizeof frac / sizeof frac[0] && rc == 0; k++) {
		struct dsp_anc_judgement j;
		double mu = dsp_anc_output(rf, d, wl, order, var, p, frac[k] * p->mu_factor, tmp);

		if ((rc = dsp_anc_judge(x, n, fs, trig, ntrig, len, ws, tmp, wl, p->band, &j,
					cause)) != 0)
			break;
		if (!have || (j.accept && (!r->judged.accept || j.after_db < r->judged.after_db))) {
			memcpy(y, tmp, wl * sizeof *y);
			r->judged = j;
			r->mu = mu;
			have = 1;
		}
	}
	free(tmp);
	return rc;
}

/* d = x high-passed for adaptation on the window [ws, ws + wl), filtered with a margin of one
 * filter length where the data allow (caller frees). */
static int
dsp_anc_adapt_input(const double *x, size_t n, size_t ws, size_t wl, struct dsp_filter *hp,
		    double **d_out, char **cause)
{
	size_t we = ws + wl, fs0 = ws > hp->ntaps ? ws - hp->ntaps : 0;
	size_t fe = we + hp->ntaps < n ? we + hp->ntaps : n;
	double *d = xmalloc((fe - fs0) * sizeof *d);
	int rc;

	memcpy(d, x + fs0, (fe - fs0) * sizeof *d);
	if ((rc = dsp_filter_apply(hp, d, fe - fs0, cause)) != 0) {
		free(d);
		return error_wrap(cause, rc, "anc: high-pass: ");
	}
	memmove(d, d + (ws - fs0), wl * sizeof *d);
	*d_out = d;
	return 0;
}

/* rf = the reference on the window scaled by its least-squares fit to d (r->alpha), with its
 * variance in *var; 0 when it has no energy or variance there (the channel is skipped). */
static int
dsp_anc_reference(const double *ref, size_t ws, size_t wl, const double *d, double *rf,
		  struct dsp_anc_result *r, double *var)
{
	double dr = 0, rr = 0, mean = 0, v = 0;

	memcpy(rf, ref + ws, wl * sizeof *rf);
	for (size_t i = 0; i < wl; i++) {
		dr += d[i] * rf[i];
		rr += rf[i] * rf[i];
	}
	if (!(rr > DBL_MIN) || !isfinite(rr)) {
		log_warn("anc: reference has no energy on the window; channel skipped");
		return 0;
	}
	r->alpha = dr / rr;
	for (size_t i = 0; i < wl; i++) {
		rf[i] *= r->alpha;
		mean += rf[i];
	}
	mean /= (double)wl;
	for (size_t i = 0; i < wl; i++)
		v += (rf[i] - mean) * (rf[i] - mean);
	v /= (double)wl;
	if (!(v > DBL_MIN)) {
		log_warn("anc: scaled reference has zero variance; channel skipped");
		return 0;
	}
	*var = v;
	return 1;
}

/* The gain check (and the judgement when judged), then x −= y on the window, noise += y. */
static void
dsp_anc_subtract(double *x, size_t ws, size_t wl, const double *y, const struct dsp_anc_params *p,
		 double *noise, struct dsp_anc_result *r)
{
	double ymax = 0, xmax = 0, e2 = 0;

	for (size_t i = 0; i < wl; i++) {
		ymax = fabs(y[i]) > ymax ? fabs(y[i]) : ymax;
		xmax = fabs(x[ws + i]) > xmax ? fabs(x[ws + i]) : xmax;
	}
	r->gain = xmax > 0 ? ymax / xmax : (ymax > 0 ? INFINITY : 0);
	if (!(r->gain <= p->max_gain)) {
		log_warn("anc: output/input gain %.3g exceeds %g; channel skipped", r->gain,
			 p->max_gain);
		r->skipped = 1;
		return;
	}
	if (p->judge && !r->judged.accept) {
		r->skipped = 1;
		return;
	}
	for (size_t i = 0; i < wl; i++)
		e2 += y[i] * y[i];
	r->removed_uv = 1e6 * sqrt(e2 / (double)wl);
	for (size_t i = 0; i < wl; i++) {
		x[ws + i] -= y[i];
		if (noise != NULL)
			noise[ws + i] += y[i];
	}
}

int
dsp_anc_apply(double *x, size_t n, double fs, const double *ref, const int64_t *trig, size_t ntrig,
	      size_t len, const struct dsp_anc_params *p, double *noise, struct dsp_anc_result *res,
	      char **cause)
{
	struct dsp_anc_result r = {0};
	struct dsp_filter hp = {0};
	size_t ws, we, wl, order;
	double *d = NULL, *rf, *y, var = 0;
	int rc;

	if (res != NULL)
		memset(res, 0, sizeof *res);
	if ((rc = dsp_anc_check(x, n, fs, ref, trig, ntrig, len, p, cause)) != 0)
		return rc;
	if ((rc = dsp_anc_hp_design(&hp, fs, p->hp, cause)) != 0)
		return rc;
	dsp_trigger_window(trig, ntrig, len, n, &ws, &we);
	wl = we - ws;
	order = p->order ? p->order : len;
	r.ntaps = hp.ntaps;
	if (wl <= order) {
		dsp_filter_fini(&hp);
		return error_set(cause, -EINVAL,
				 "anc: window of %zu samples is not longer than the "
				 "order %zu",
				 wl, order);
	}
	rc = dsp_anc_adapt_input(x, n, ws, wl, &hp, &d, cause);
	dsp_filter_fini(&hp);
	if (rc != 0)
		return rc;
	rf = xmalloc(wl * sizeof *rf);
	if (!dsp_anc_reference(ref, ws, wl, d, rf, &r, &var)) {
		r.skipped = 1;
	} else {
		y = xmalloc(wl * sizeof *y);
		if (p->judge)
			rc = dsp_anc_search(x, n, fs, trig, ntrig, len, ws, rf, d, wl, order, var,
					    p, y, &r, cause);
		else
			r.mu = dsp_anc_output(rf, d, wl, order, var, p, p->mu_factor, y);
		if (rc == 0)
			dsp_anc_subtract(x, ws, wl, y, p, noise, &r);
		free(y);
	}
	free(d);
	free(rf);
	if (res != NULL)
		*res = r;
	return rc;
}
