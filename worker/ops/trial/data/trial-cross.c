/* Connectivity results: the plan's JSON form, and the final reduction of the merged sums per
 * method (coherency and its outputs, Granger causality with the reference's info dict, PPC,
 * trial-averaged cross spectra, correlations), with the channelcmb sub-blocks. */
#include "worker/ops/trial/data/trial-cross.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "common/xmalloc.h"
#include "worker/dsp/connectivity/dsp-granger.h"

static const char *const trial_cross_names[] = {
    [TRIAL_CROSS_COH] = "coh", [TRIAL_CROSS_CORR] = "corr", [TRIAL_CROSS_GRANGER] = "granger",
    [TRIAL_CROSS_CSD] = "csd", [TRIAL_CROSS_PPC] = "ppc",
};

const char *
trial_cross_method_name(enum trial_cross_method m)
{
	return (size_t)m < sizeof trial_cross_names / sizeof trial_cross_names[0]
		   ? trial_cross_names[m]
		   : "?";
}

bool
trial_cross_is_complex(const struct trial_cross_plan *p)
{
	return p->method == TRIAL_CROSS_CSD ||
	       (p->method == TRIAL_CROSS_COH && p->output == DSP_COH_COMPLEX);
}

size_t
trial_cross_row_values(const struct trial_cross_plan *p)
{
	return p->nout_freq * p->nrow * p->ncol * (trial_cross_is_complex(p) ? 2 : 1);
}

void
trial_cross_plan_fini(struct trial_cross_plan *p)
{
	free(p->freq);
	free(p->chans);
	free(p->rows);
	free(p->cols);
	memset(p, 0, sizeof *p);
}

void
trial_cross_free(struct trial_cross *c)
{
	if (c == NULL)
		return;
	trial_cross_plan_fini(&c->plan);
	if (c->has_acc)
		dsp_csd_acc_fini(&c->acc);
	if (c->has_ppc)
		dsp_ppc_acc_fini(&c->ppc);
	free(c->out);
	free(c);
}

static json_t *
trial_cross_sizes(const size_t *v, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_integer((json_int_t)v[i]));
	return a;
}

json_t *
trial_cross_plan_json(const struct trial_cross_plan *p)
{
	json_t *freq = json_array();

	for (size_t i = 0; i < p->nout_freq; i++)
		json_array_append_new(freq, json_real(p->freq[i]));
	return json_pack("{s:s, s:s, s:b, s:I, s:o, s:I, s:I, s:o, s:o, s:o, s:b, s:{s:I, s:i},"
			 " s:I, s:f}",
			 "method", trial_cross_method_name(p->method), "output",
			 dsp_coh_output_name(p->output), "keeptrials", p->keeptrials, "nchan",
			 (json_int_t)p->nchan, "chans", trial_cross_sizes(p->chans, p->nchan),
			 "ntap", (json_int_t)p->ntap, "nfreq", (json_int_t)p->nfreq, "freq", freq,
			 "rows", trial_cross_sizes(p->rows, p->nrow), "cols",
			 trial_cross_sizes(p->cols, p->ncol), "pairs", p->pairs, "corr", "n",
			 (json_int_t)p->xc.n, "polyremoval", p->xc.polyremoval, "rows_per_trial",
			 (json_int_t)p->rows_per_trial, "offset0", p->offset0);
}

static size_t *
trial_cross_sizes_parse(const json_t *a, size_t nchan, size_t *n, bool *ok)
{
	size_t *v;

	*n = json_array_size(a);
	v = xcalloc(*n + 1, sizeof *v);
	for (size_t i = 0; i < *n; i++) {
		json_int_t x = json_integer_value(json_array_get(a, i));
		if (x < 0 || (size_t)x >= nchan)
			*ok = false;
		v[i] = (size_t)x;
	}
	return v;
}

int
trial_cross_plan_parse(const json_t *j, struct trial_cross_plan *p, char **cause)
{
	const char *method = json_string_value(json_object_get(j, "method"));
	const char *output = json_string_value(json_object_get(j, "output"));
	json_t *freq = json_object_get(j, "freq"), *corr = json_object_get(j, "corr");
	bool ok = method != NULL && output != NULL && json_is_array(freq);
	size_t m, nchans = 0;

	memset(p, 0, sizeof *p);
	for (m = 0; ok && m < sizeof trial_cross_names / sizeof trial_cross_names[0]; m++)
		if (strcmp(method, trial_cross_names[m]) == 0)
			break;
	if (!ok || m == sizeof trial_cross_names / sizeof trial_cross_names[0] ||
	    dsp_coh_output_parse(output, &p->output, NULL) != 0)
		return error_set(cause, -EBADMSG, "not a connectivity part description");
	p->method = (enum trial_cross_method)m;
	p->keeptrials = json_is_true(json_object_get(j, "keeptrials"));
	p->nchan = (size_t)json_integer_value(json_object_get(j, "nchan"));
	p->ntap = (size_t)json_integer_value(json_object_get(j, "ntap"));
	p->nfreq = (size_t)json_integer_value(json_object_get(j, "nfreq"));
	p->nout_freq = json_array_size(freq);
	p->freq = xcalloc(p->nout_freq + 1, sizeof *p->freq);
	for (size_t i = 0; i < p->nout_freq; i++)
		p->freq[i] = json_number_value(json_array_get(freq, i));
	p->chans = trial_cross_sizes_parse(json_object_get(j, "chans"), SIZE_MAX, &nchans, &ok);
	ok = ok && nchans == p->nchan;
	p->rows = trial_cross_sizes_parse(json_object_get(j, "rows"), p->nchan, &p->nrow, &ok);
	p->cols = trial_cross_sizes_parse(json_object_get(j, "cols"), p->nchan, &p->ncol, &ok);
	p->pairs = json_is_true(json_object_get(j, "pairs"));
	p->rows_per_trial = (size_t)json_integer_value(json_object_get(j, "rows_per_trial"));
	p->offset0 = json_number_value(json_object_get(j, "offset0"));
	if (ok && p->method == TRIAL_CROSS_CORR)
		ok = dsp_xcov_init(&p->xc, (size_t)json_integer_value(json_object_get(corr, "n")),
				   p->nchan,
				   (int)json_integer_value(json_object_get(corr, "polyremoval")),
				   NULL) == 0 &&
		     p->xc.nfreq == p->nfreq;
	if (!ok || p->nchan == 0 || p->nfreq == 0 || p->nrow == 0 || p->ncol == 0) {
		trial_cross_plan_fini(p);
		return error_set(cause, -EBADMSG, "a connectivity part description is damaged");
	}
	return 0;
}

/* The plan's sub-block (rows × cols) of full matrices, as floats (pairs when complex). */
static float *
trial_cross_block(const struct trial_cross_plan *p, const double *full, bool cplx)
{
	size_t n = p->nfreq * p->nrow * p->ncol;
	double *sel = xmalloc(2 * n * sizeof *sel + 1);
	float *out = xmalloc((cplx ? 2 : 1) * n * sizeof *out + 1);

	dsp_csd_select(full, p->nfreq, p->nchan, p->rows, p->nrow, p->cols, p->ncol, sel);
	for (size_t i = 0; i < n; i++) {
		if (cplx) {
			out[2 * i] = (float)sel[2 * i];
			out[2 * i + 1] = (float)sel[2 * i + 1];
		} else {
			out[i] = (float)sel[2 * i];
		}
	}
	free(sel);
	return out;
}

/* Real float matrices (nfreq × nchan × nchan) through the plan's sub-block. */
static float *
trial_cross_block_real(const struct trial_cross_plan *p, const float *full)
{
	float *out = xmalloc(p->nfreq * p->nrow * p->ncol * sizeof *out + 1);

	for (size_t f = 0; f < p->nfreq; f++)
		for (size_t r = 0; r < p->nrow; r++)
			for (size_t c = 0; c < p->ncol; c++)
				out[(f * p->nrow + r) * p->ncol + c] =
				    full[(f * p->nchan + p->rows[r]) * p->nchan + p->cols[c]];
	return out;
}

static int
trial_cross_granger(const struct trial_cross_plan *p, const double *mean, float **data,
		    json_t **info, char **cause)
{
	struct dsp_granger_params gp;
	struct dsp_granger_info gi;
	size_t n = p->nfreq * (p->pairs ? p->nrow * p->ncol : p->nchan * p->nchan);
	double *g = xmalloc(n * sizeof *g + 1);
	int rc;

	dsp_granger_params_init(&gp);
	/* The final task runs alone once the unit tasks are done: the factorisation of all
	 * channels takes the machine's cores (up to 4; 2 × 2 pairs are too small to share). */
	if (!p->pairs) {
		long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
		gp.nthreads = ncpu > 4 ? 4 : ncpu > 1 ? (int)ncpu : 1;
	}
	if (p->pairs)
		rc = dsp_granger_pairs(mean, p->nfreq, p->nchan, p->rows, p->nrow, p->cols,
				       p->ncol, &gp, g, cause);
	else
		rc = dsp_granger_all(mean, p->nfreq, p->nchan, &gp, g, &gi, cause);
	if (rc == 0) {
		*data = xmalloc(n * sizeof **data + 1);
		for (size_t i = 0; i < n; i++)
			(*data)[i] = (float)g[i];
	}
	if (rc == 0 && !p->pairs)
		*info = json_pack("{s:b, s:f, s:f, s:f}", "converged", gi.converged,
				  "max rel. err", gi.max_rel_err, "reg. factor", gi.reg_factor,
				  "initial cond. num", gi.initial_cond);
	free(g);
	return rc;
}

int
trial_cross_finalize(const struct trial_cross_plan *p, const struct dsp_csd_acc *acc,
		     const struct dsp_ppc_acc *ppc, float **data, json_t **info, char **cause)
{
	size_t nc = p->nchan;
	double *mean = NULL;
	float *tmp;
	int rc = 0;

	*data = NULL;
	*info = NULL;
	if (p->method == TRIAL_CROSS_PPC) {
		tmp = xmalloc(p->nfreq * nc * nc * sizeof *tmp);
		dsp_ppc_acc_finalize(ppc, tmp);
		*data = trial_cross_block_real(p, tmp);
		free(tmp);
		return 0;
	}
	if (acc->count == 0)
		return error_set(cause, -EINVAL, "%s: no trial was accumulated",
				 trial_cross_method_name(p->method));
	if (p->method == TRIAL_CROSS_CORR) {
		double *cc = xmalloc(p->xc.nlag * nc * nc * sizeof *cc), *u;
		u = xmalloc(2 * p->nfreq * nc * nc * sizeof *u);
		dsp_csd_acc_total(acc, 1.0, u);
		dsp_xcov_lags(&p->xc, u, 1.0 / (double)acc->count, cc);
		*data = xmalloc(p->xc.nlag * nc * nc * sizeof **data);
		dsp_xcov_norm_average(&p->xc, cc, *data);
		free(u);
		free(cc);
		return 0;
	}
	mean = xmalloc(2 * p->nfreq * nc * nc * sizeof *mean);
	dsp_csd_acc_mean(acc, mean);
	switch (p->method) {
	case TRIAL_CROSS_CSD:
		*data = trial_cross_block(p, mean, true);
		break;
	case TRIAL_CROSS_COH: {
		bool cplx = p->output == DSP_COH_COMPLEX;
		float *coh = xmalloc((cplx ? 2 : 1) * p->nfreq * nc * nc * sizeof *coh);
		dsp_coh_compute(mean, p->nfreq, nc, p->output, coh);
		if (cplx) { /* back through doubles to share the sub-block selection */
			for (size_t i = 0; i < 2 * p->nfreq * nc * nc; i++)
				mean[i] = coh[i];
			*data = trial_cross_block(p, mean, true);
		} else {
			*data = trial_cross_block_real(p, coh);
		}
		free(coh);
		break;
	}
	case TRIAL_CROSS_GRANGER:
		rc = trial_cross_granger(p, mean, data, info, cause);
		break;
	default:
		break;
	}
	free(mean);
	return rc;
}
