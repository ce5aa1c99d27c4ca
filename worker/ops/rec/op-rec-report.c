/* The report step (global): per corrected recording an HTML page beside the output, with the
 * average artifact epoch before and after (the channel where it is largest), the mean spectrum
 * of the EEG channels before and after with the slice and volume harmonics marked, the residual
 * artifact per channel, and the pulse-locked average before and after when a step left R peaks
 * in the report input (rec-report.h). "Before" is the input; figures are PNG files drawn with
 * cairo (worker/report) in a folder beside the page. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "common/paths.h"
#include "common/xmalloc.h"
#include "worker/dsp/core/dsp-resample.h"
#include "worker/dsp/fmri/dsp-metrics.h"
#include "worker/io/io-npy.h"
#include "worker/ops/rec/op-rec.h"
#include "worker/ops/rec/op-rec-report.h"
#include "worker/ops/rec/data/rec-chan.h"
#include "worker/ops/rec/data/rec-out.h"
#include "worker/ops/rec/data/rec-report.h"
#include "worker/report/report-page.h"

#define OP_REC_REPORT_PRE  0.2 /* pulse-locked window: seconds before and after an R peak */
#define OP_REC_REPORT_POST 0.6

static int
op_rec_report_parse(const json_t *step, const char *path, void *params, char **cause)
{
	static const char *const keys[] = {"path", "r_peaks", NULL};
	struct op_rec_report_params *p = params;

	if (op_param_keys(step, path, keys, cause) != 0 ||
	    op_param_string(step, path, "path", 0, NULL, &p->path, cause) != 0 ||
	    op_param_string(step, path, "r_peaks", 0, NULL, &p->r_peaks, cause) != 0)
		return -EINVAL;
	return 0;
}

/* The mean of x over windows [t_i − pre, t_i + len − pre) that lie inside [0, n). */
static void
op_rec_report_locked(const double *x, size_t n, const int64_t *t, size_t nt, size_t pre, size_t len,
		     double *out)
{
	size_t used = 0;

	memset(out, 0, len * sizeof *out);
	for (size_t i = 0; i < nt; i++) {
		if (t[i] < (int64_t)pre || (uint64_t)(t[i] - (int64_t)pre) + len > n)
			continue;
		for (size_t k = 0; k < len; k++)
			out[k] += x[(size_t)(t[i] - (int64_t)pre) + k];
		used++;
	}
	for (size_t k = 0; used > 0 && k < len; k++)
		out[k] /= (double)used;
}

static double
op_rec_report_rms(const double *x, size_t n)
{
	double s = 0;

	for (size_t i = 0; i < n; i++)
		s += x[i] * x[i];
	return n > 0 ? sqrt(s / (double)n) : NAN;
}

/* The input channel at the output's rate and length ("before"). */
static int
op_rec_report_before(struct op_run *run, size_t c, const struct op_rec_report_acc *a, double **out,
		     char **cause)
{
	const struct io_rec_channel *ch = &run->rec->hdr->channels[c];
	double *x, *y;
	size_t len;
	int rc = io_rec_read_channel(run->rec->in, c, &x, &len, cause);

	if (rc != 0)
		return rc;
	if (ch->rate != a->fs) {
		size_t m = dsp_resample_length(len, a->fs / ch->rate);
		y = xcalloc(m + 1, sizeof *y);
		rc = dsp_resample_rate(x, len, ch->rate, a->fs, y, cause);
		free(x);
		x = y;
		len = m;
	}
	if (rc == 0 && len < a->n) {
		x = xreallocarray(x, a->n, sizeof *x);
		memset(x + len, 0, (a->n - len) * sizeof *x);
	}
	if (rc != 0)
		free(x);
	else
		*out = x;
	return rc;
}

/* The channel as it was before the pulse correction: that stage's file, else `input`. */
static double *
op_rec_report_pulse_before(struct op_run *run, size_t c, const struct op_rec_report_acc *a,
			   const double *input, double **owned)
{
	struct io_npy_header h;
	char *path;
	void *data = NULL;

	*owned = NULL;
	if (a->before_stage < 0)
		return (double *)input;
	path = rec_chan_path(run->spec.stage.workdir, a->before_stage, c, "c");
	if (io_npy_read(path, &h, &data, NULL) == 0 && h.dtype == IO_NPY_F8 && h.ndim == 1 &&
	    h.count >= a->n)
		*owned = data;
	else
		free(data);
	free(path);
	return *owned != NULL ? *owned : (double *)input;
}

static void
op_rec_report_pulse(struct op_run *run, size_t c, struct op_rec_report_acc *a, const double *before,
		    const struct rec_out *o)
{
	size_t len = a->pre + a->post;
	double *b = xmalloc(len * sizeof *b), *f = xmalloc(len * sizeof *f), *owned, r;
	const double *pb = op_rec_report_pulse_before(run, c, a, before, &owned);

	op_rec_report_locked(pb, a->n, a->peaks, a->npeaks, a->pre, len, b);
	op_rec_report_locked(o->x, o->n, a->peaks, a->npeaks, a->pre, len, f);
	r = op_rec_report_rms(b, len);
	if (r > a->pbest) {
		a->pbest = r;
		memcpy(a->pl_before, b, len * sizeof *b);
		memcpy(a->pl_after, f, len * sizeof *f);
		snprintf(a->pulse_label, sizeof a->pulse_label, "%s", o->label);
	}
	free(owned);
	free(b);
	free(f);
}

/* The R peaks a step left in the report input, else the step's r_peaks file (new reference),
 * or NULL. */
static json_t *
op_rec_report_peaks(struct op_run *run)
{
	const char *file = ((const struct op_rec_report_params *)run->params)->r_peaks;
	const char *slash = strrchr(run->rec->path, '/');
	json_t *rp = rec_report_get(run->spec.stage.workdir, "r_peaks");
	char *path;

	if (rp != NULL || file == NULL)
		return rp;
	path = file[0] == '/' || slash == NULL
		   ? xstrdup(file)
		   : xasprintf("%.*s/%s", (int)(slash - run->rec->path), run->rec->path, file);
	rp = json_load_file(path, 0, NULL);
	free(path);
	return rp;
}

/* From the first EEG channel: rate, length, epochs (the channel's, else the task's), spectrum
 * segments of 4 s (a power of two, at most the recording), and the R peaks at this rate. */
static void
op_rec_report_acc_init(struct op_run *run, struct op_rec_report_acc *a, const struct rec_out *o)
{
	const struct rec_epochs *t = o->epochs.step >= 0 ? &o->epochs : &run->rec->epochs;
	size_t nc = run->rec->hdr->n_channels, seg = 1;
	json_t *rp = op_rec_report_peaks(run), *v;
	double pfs = json_number_value(json_object_get(rp, "fs"));

	a->fs = o->fs;
	a->n = o->n;
	if (t->n > 0 && t->L > 0 && fabs(t->fs - o->fs) <= 1e-9 * o->fs) {
		json_t *j = rec_epochs_to_json(t);
		a->ep = xcalloc(1, sizeof *a->ep);
		if (rec_epochs_from_json(j, a->ep, NULL) != 0) {
			rec_epochs_fini(a->ep);
			free(a->ep);
			a->ep = NULL;
		}
		json_decref(j);
	}
	while (seg * 2 <= a->n && (double)seg < 4 * a->fs)
		seg *= 2;
	a->nperseg = seg;
	a->nbins = seg / 2 + 1;
	a->psd_before = xcalloc(a->nbins, sizeof(double));
	a->psd_after = xcalloc(a->nbins, sizeof(double));
	a->label = xcalloc(nc, sizeof *a->label);
	a->uv_before = xcalloc(nc, sizeof(double));
	a->uv_after = xcalloc(nc, sizeof(double));
	a->ep_before = xcalloc(a->ep != NULL ? a->ep->L : 1, sizeof(double));
	a->ep_after = xcalloc(a->ep != NULL ? a->ep->L : 1, sizeof(double));
	a->before_stage = -1;
	if (json_is_array(v = json_object_get(rp, "samples")) && pfs > 0) {
		a->peaks = xcalloc(json_array_size(v) + 1, sizeof *a->peaks);
		for (size_t i = 0; i < json_array_size(v); i++)
			a->peaks[a->npeaks++] =
			    llround(json_number_value(json_array_get(v, i)) * a->fs / pfs);
		a->pre = (size_t)lround(OP_REC_REPORT_PRE * a->fs);
		a->post = (size_t)lround(OP_REC_REPORT_POST * a->fs);
		a->pl_before = xcalloc(a->pre + a->post, sizeof(double));
		a->pl_after = xcalloc(a->pre + a->post, sizeof(double));
		if (json_is_integer(json_object_get(rp, "before_stage")))
			a->before_stage =
			    (int)json_integer_value(json_object_get(rp, "before_stage"));
	}
	json_decref(rp);
}

static void
op_rec_report_acc_fini(struct op_rec_report_acc *a)
{
	if (a->ep != NULL)
		rec_epochs_fini(a->ep);
	free(a->ep);
	free(a->psd_before);
	free(a->psd_after);
	free(a->label);
	free(a->uv_before);
	free(a->uv_after);
	free(a->ep_before);
	free(a->ep_after);
	free(a->peaks);
	free(a->pl_before);
	free(a->pl_after);
}

/* One EEG channel: its average epochs, spectra and pulse-locked averages. */
static int
op_rec_report_channel(struct op_run *run, size_t c, struct op_rec_report_acc *a, char **cause)
{
	struct rec_out o;
	double *before = NULL, *psd;
	int rc = rec_out_open(run, c, &o, cause);

	bool shown = rc == 0 && rec_out_measured(run, &o);

	if (shown && a->n == 0)
		op_rec_report_acc_init(run, a, &o);
	psd = xmalloc((a->nbins > 0 ? a->nbins : 1) * sizeof *psd);
	if (shown && o.n == a->n && o.fs == a->fs)
		rc = op_rec_report_before(run, c, a, &before, cause);
	if (rc != 0 || before == NULL)
		goto out;
	if (dsp_metrics_welch(before, a->n, a->fs, a->nperseg, psd, NULL) == 0) {
		for (size_t k = 0; k < a->nbins; k++)
			a->psd_before[k] += psd[k];
		if (dsp_metrics_welch(o.x, o.n, a->fs, a->nperseg, psd, NULL) == 0) {
			for (size_t k = 0; k < a->nbins; k++)
				a->psd_after[k] += psd[k];
			a->npsd++;
		}
	}
	snprintf(a->label[a->neeg], sizeof a->label[0], "%s", o.label);
	if (a->ep != NULL) {
		size_t L = a->ep->L;
		double *b = xmalloc(L * sizeof *b), *f = xmalloc(L * sizeof *f);

		op_rec_report_locked(before, a->n, a->ep->t, a->ep->n, 0, L, b);
		op_rec_report_locked(o.x, o.n, a->ep->t, a->ep->n, 0, L, f);
		a->uv_before[a->neeg] = 1e6 * op_rec_report_rms(b, L);
		a->uv_after[a->neeg] = 1e6 * op_rec_report_rms(f, L);
		if (a->uv_before[a->neeg] > a->best) {
			a->best = a->uv_before[a->neeg];
			memcpy(a->ep_before, b, L * sizeof *b);
			memcpy(a->ep_after, f, L * sizeof *f);
			snprintf(a->best_label, sizeof a->best_label, "%s", o.label);
		}
		free(b);
		free(f);
	}
	a->neeg++;
	if (a->npeaks > 0)
		op_rec_report_pulse(run, c, a, before, &o);
out:
	free(before);
	free(psd);
	rec_out_close(&o);
	return rc;
}

static int
op_rec_report_page(struct op_run *run, struct op_rec_report_acc *a, struct op_rec_report_out *out,
		   const char *output, double sf, char **cause)
{
	char *facts_v[7], **cells = xcalloc(4 * a->neeg + 1, sizeof *cells);
	double *db = xcalloc(a->neeg + 1, sizeof *db);
	const char *facts[14];
	static const char *const cols[] = {"channel", "before (\xc2\xb5V)", "after (\xc2\xb5V)",
					   "reduction (dB)"};
	struct report_page p = {.title = "Correction report",
				.facts = facts,
				.nfacts = 7,
				.figures = out->fig,
				.nfigures = out->nfig,
				.columns = cols,
				.ncolumns = a->ep != NULL ? 4 : 0,
				.cells = (const char *const *)cells,
				.nrows = a->neeg};
	int rc;

	for (size_t i = 0; i < a->neeg; i++) {
		db[i] = 20 * log10(a->uv_before[i] / a->uv_after[i]);
		cells[4 * i] = xstrdup(a->label[i]);
		cells[4 * i + 1] = xasprintf("%.2f", a->uv_before[i]);
		cells[4 * i + 2] = xasprintf("%.3f", a->uv_after[i]);
		cells[4 * i + 3] = xasprintf("%.1f", db[i]);
	}
	facts_v[0] = xstrdup(run->rec->path);
	facts_v[1] = xstrdup(output);
	facts_v[2] = xasprintf("%zu", a->neeg);
	facts_v[3] = xasprintf("%g Hz, %zu samples", a->fs, a->n);
	facts_v[4] = xasprintf("%zu, %zu samples long", a->ep != NULL ? a->ep->n : 0,
			       a->ep != NULL ? a->ep->L : 0);
	facts_v[5] = xasprintf("%.4g Hz, %zu slices per volume", sf,
			       a->ep != NULL ? a->ep->slices_per_volume : 0);
	facts_v[6] = xasprintf("%.1f dB", a->ep != NULL ? dsp_metrics_median(db, a->neeg) : NAN);
	for (size_t i = 0; i < 7; i++) {
		static const char *const names[] = {"input",
						    "output",
						    "EEG channels",
						    "rate",
						    "artifact epochs",
						    "slice frequency",
						    "median artifact reduction"};
		facts[2 * i] = names[i];
		facts[2 * i + 1] = facts_v[i];
	}
	rc = report_page_write(out->page, &p, cause);
	for (size_t i = 0; i < 7; i++)
		free(facts_v[i]);
	for (size_t i = 0; i < 4 * a->neeg; i++)
		free(cells[i]);
	free(cells);
	free(db);
	return rc;
}

/* Page and figure folder beside the output: corrected.edf → corrected.report.html and
 * corrected.report/ (absolute paths, so the job's report can name them). */
static int
op_rec_report_paths(const char *output, const char *page, struct op_rec_report_out *out,
		    char **cause)
{
	char cwd[PATH_MAX], *stem, *dot, *slash;
	int rc;

	if (page != NULL)
		stem = xstrdup(page);
	else
		stem = output[0] == '/' || getcwd(cwd, sizeof cwd) == NULL
			   ? xstrdup(output)
			   : xasprintf("%s/%s", cwd, output);
	dot = strrchr(stem, '.');
	slash = strrchr(stem, '/');
	if (dot != NULL && (slash == NULL || dot > slash))
		*dot = '\0';
	if (page != NULL && strlen(stem) > 7 && strcmp(stem + strlen(stem) - 7, ".report") == 0)
		stem[strlen(stem) - 7] = '\0';
	out->page = page != NULL ? xstrdup(page) : xasprintf("%s.report.html", stem);
	out->dir = xasprintf("%s.report", stem);
	slash = strrchr(out->dir, '/');
	out->base = xstrdup(slash != NULL ? slash + 1 : out->dir);
	free(stem);
	rc = paths_mkdirs(out->dir, 0755, cause);
	return rc;
}

static int
op_rec_report_run(struct op_run *run, const json_t *step, char **cause)
{
	const struct op_rec_report_params *p = run->params;
	const char *output = json_string_value(json_object_get(run->spec.stage.output, "path"));
	struct op_rec_report_acc a = {0};
	struct op_rec_report_out out = {0};
	double sf = 0, vf = 0;
	int rc = 0;

	if (output == NULL && p->path == NULL)
		return error_set(cause, -EINVAL,
				 "steps[%ld]: report: no output path to write "
				 "beside (set output.path or the step's path)",
				 op_rec_step_index(step));
	if (p->r_peaks != NULL) { /* a file named by the user must be there */
		json_t *rp = op_rec_report_peaks(run);
		if (!json_is_array(json_object_get(rp, "samples")) ||
		    !(json_number_value(json_object_get(rp, "fs")) > 0))
			rc = error_set(cause, -EINVAL,
				       "steps[%ld].r_peaks: %s: unreadable, or not {\"fs\": Hz, "
				       "\"samples\": [...]}",
				       op_rec_step_index(step), p->r_peaks);
		json_decref(rp);
	}
	for (size_t c = 0; c < run->rec->hdr->n_channels && rc == 0; c++)
		rc = op_rec_report_channel(run, c, &a, cause);
	if (rc == 0 && a.neeg == 0)
		rc = error_set(cause, -EINVAL, "report: no EEG channel in %s", run->rec->path);
	if (rc == 0 && a.ep != NULL) {
		sf = dsp_metrics_slice_freq(a.ep->t, a.ep->n, a.fs);
		vf = a.ep->slices_per_volume > 0 ? sf / (double)a.ep->slices_per_volume : 0;
	}
	if (rc == 0)
		rc = op_rec_report_paths(output != NULL ? output : p->path, p->path, &out, cause);
	if (rc == 0)
		rc = op_rec_report_figs_draw(&a, &out, sf, vf, cause);
	if (rc == 0)
		rc = op_rec_report_page(run, &a, &out, output != NULL ? output : "", sf, cause);
	if (rc == 0)
		op_rec_result_set(run, "report", json_string(out.page));
	for (size_t i = 0; i < out.nfig; i++) {
		free(out.src[i]);
		free(out.cap[i]);
	}
	free(out.page);
	free(out.dir);
	free(out.base);
	op_rec_report_acc_fini(&a);
	return rc != 0 ? error_wrap(cause, rc, "report: ") : 0;
}

const struct op_rec op_rec_report = {
    .def = OP_REC_DEF("report", OP_GLOBAL,
		      "an HTML page with plots beside the output: average artifact epoch, spectra "
		      "with slice and volume harmonics, artifact per channel, pulse-locked "
		      "average (when R peaks are known)",
		      struct op_rec_report_params, op_rec_report_parse),
    .task = op_rec_report_run,
};
