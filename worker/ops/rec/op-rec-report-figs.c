/* The figures of the correction report: the average artifact epoch before and after (and after
 * alone), the mean spectra to half the rate and around the slice frequency with the harmonics
 * marked, the artifact per channel as bars, the pulse-locked average; PNG files through
 * worker/report, captions kept for the page. */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/xmalloc.h"
#include "worker/ops/rec/op-rec-report.h"
#include "worker/report/report-plot.h"

static const double op_rec_report_figs_grey[3] = {0.45, 0.45, 0.45};
static const double op_rec_report_figs_red[3] = {0.80, 0.10, 0.10};

/* Two series, before (grey) and after (red), against a shared abscissa. */
static int
op_rec_report_figs_pair(const char *path, const char *title, const char *xlabel, const char *ylabel,
			const double *x, const double *before, const double *after, size_t n,
			bool log_y, const struct report_marks *marks, size_t nmarks, double xmax,
			char **cause)
{
	struct report_series s[2] = {{x, before, n, {0}, "before", false},
				     {x, after, n, {0}, "after", false}};
	struct report_plot p = {.title = title,
				.xlabel = xlabel,
				.ylabel = ylabel,
				.series = s,
				.nseries = before != NULL ? 2 : 1,
				.marks = marks,
				.nmarks = nmarks,
				.log_y = log_y,
				.xmin = xmax > 0 ? 0 : 0,
				.xmax = xmax};

	memcpy(s[0].rgb, op_rec_report_figs_grey, sizeof s[0].rgb);
	memcpy(s[1].rgb, op_rec_report_figs_red, sizeof s[1].rgb);
	if (before == NULL)
		p.series = s + 1;
	return report_plot_png(&p, path, cause);
}

/* µV of an epoch average, against ms from its start (minus `pre` samples). */
static int
op_rec_report_figs_epochs_png(const char *path, const char *title, const double *b, const double *f,
			      size_t len, size_t pre, double fs, char **cause)
{
	double *x = xmalloc(len * sizeof *x), *ub = xmalloc(len * sizeof *ub);
	double *uf = xmalloc(len * sizeof *uf);
	int rc;

	for (size_t k = 0; k < len; k++) {
		x[k] = 1e3 * ((double)k - (double)pre) / fs;
		ub[k] = b != NULL ? 1e6 * b[k] : 0;
		uf[k] = 1e6 * f[k];
	}
	rc = op_rec_report_figs_pair(path, title, "time (ms)", "amplitude (\xc2\xb5V)", x,
				     b != NULL ? ub : NULL, uf, len, false, NULL, 0, 0, cause);
	free(x);
	free(ub);
	free(uf);
	return rc;
}

/* The mean spectra up to xmax Hz, slice harmonics (red) and volume harmonics (grey) marked. */
static int
op_rec_report_figs_spectrum_png(const char *path, const struct op_rec_report_acc *a, double sf,
				double vf, double xmax, char **cause)
{
	size_t nb = a->nbins, ns = 0, nv = 0;
	double *x = xmalloc(nb * sizeof *x), *b = xmalloc(nb * sizeof *b);
	double *f = xmalloc(nb * sizeof *f), *sl = xmalloc(512 * sizeof *sl);
	double *vl = xmalloc(2048 * sizeof *vl);
	struct report_marks m[2] = {{sl, 0, {0.95, 0.55, 0.0}, "slice harmonics", false},
				    {vl, 0, {0.3, 0.3, 0.8}, "volume harmonics", true}};
	int rc;

	for (size_t k = 0; k < nb; k++) {
		x[k] = (double)k * a->fs / (double)a->nperseg;
		b[k] = 1e12 * a->psd_before[k] / (double)a->npsd;
		f[k] = 1e12 * a->psd_after[k] / (double)a->npsd;
	}
	for (size_t k = 1; sf > 0 && ns < 512 && (double)k * sf <= xmax; k++)
		sl[ns++] = (double)k * sf;
	for (size_t k = 1; vf > 0 && nv < 2048 && (double)k * vf <= xmax; k++)
		if (fabs(remainder((double)k * vf, sf)) > 1e-6 * sf)
			vl[nv++] = (double)k * vf;
	m[0].n = ns;
	m[1].n = nv;
	rc = op_rec_report_figs_pair(path, "Mean spectrum of the EEG channels", "frequency (Hz)",
				     "power (\xc2\xb5V\xc2\xb2/Hz)", x, b, f, nb, true, m,
				     vf > 0 ? 2 : 1, xmax, cause);
	free(x);
	free(b);
	free(f);
	free(sl);
	free(vl);
	return rc;
}

static int
op_rec_report_figs_residual_png(const char *path, const struct op_rec_report_acc *a, char **cause)
{
	const char **cat = xcalloc(a->neeg + 1, sizeof *cat);
	struct report_series s[2] = {{NULL, a->uv_before, a->neeg, {0}, "before", false},
				     {NULL, a->uv_after, a->neeg, {0}, "after", false}};
	struct report_plot p = {.title = "Average artifact per channel (RMS of the epoch average)",
				.ylabel = "\xc2\xb5V",
				.series = s,
				.nseries = 2,
				.log_y = true,
				.bars = true,
				.categories = cat};
	int rc;

	memcpy(s[0].rgb, op_rec_report_figs_grey, sizeof s[0].rgb);
	memcpy(s[1].rgb, op_rec_report_figs_red, sizeof s[1].rgb);
	for (size_t i = 0; i < a->neeg; i++)
		cat[i] = a->label[i];
	rc = report_plot_png(&p, path, cause);
	free(cat);
	return rc;
}

static int
op_rec_report_figs_fig(struct op_rec_report_out *out, const char *file, char *caption,
		       char **png_path)
{
	out->src[out->nfig] = xasprintf("%s/%s", out->base, file);
	out->cap[out->nfig] = caption;
	out->fig[out->nfig] = (struct report_page_figure){out->src[out->nfig], caption};
	*png_path = xasprintf("%s/%s", out->dir, file);
	out->nfig++;
	return 0;
}

int
op_rec_report_figs_draw(struct op_rec_report_acc *a, struct op_rec_report_out *out, double sf,
			double vf, char **cause)
{
	char *png;
	int rc = 0;

	if (a->ep != NULL) {
		op_rec_report_figs_fig(
		    out, "epoch.png",
		    xasprintf("Average artifact epoch of %s (the largest), before "
			      "and after correction",
			      a->best_label),
		    &png);
		rc = op_rec_report_figs_epochs_png(png, out->cap[out->nfig - 1], a->ep_before,
						   a->ep_after, a->ep->L, 0, a->fs, cause);
		free(png);
		op_rec_report_figs_fig(
		    out, "epoch-after.png",
		    xasprintf("The same average after correction alone (%s)", a->best_label), &png);
		if (rc == 0)
			rc = op_rec_report_figs_epochs_png(png, out->cap[out->nfig - 1], NULL,
							   a->ep_after, a->ep->L, 0, a->fs, cause);
		free(png);
	}
	op_rec_report_figs_fig(out, "spectrum.png",
			       xasprintf("Mean spectrum of the EEG channels before and after, to "
					 "%g Hz, slice harmonics (%.4g Hz) marked",
					 a->fs / 2, sf),
			       &png);
	if (rc == 0 && a->npsd > 0)
		rc = op_rec_report_figs_spectrum_png(png, a, sf, 0, a->fs / 2, cause);
	free(png);
	op_rec_report_figs_fig(
	    out, "spectrum-low.png",
	    xasprintf("The spectrum to %g Hz with the volume harmonics (%.4g Hz)",
		      sf > 0 ? 3 * sf : 50.0, vf),
	    &png);
	if (rc == 0 && a->npsd > 0)
		rc = op_rec_report_figs_spectrum_png(png, a, sf, vf, sf > 0 ? 3 * sf : 50.0, cause);
	free(png);
	if (a->ep != NULL) {
		op_rec_report_figs_fig(out, "residual.png",
				       xstrdup("Artifact per channel before and after (RMS of the "
					       "average artifact epoch)"),
				       &png);
		if (rc == 0)
			rc = op_rec_report_figs_residual_png(png, a, cause);
		free(png);
	}
	if (a->npeaks > 0 && a->pbest > 0) {
		op_rec_report_figs_fig(
		    out, "pulse.png",
		    xasprintf("Pulse-locked average of %s (%zu R peaks) before and "
			      "after",
			      a->pulse_label, a->npeaks),
		    &png);
		if (rc == 0)
			rc = op_rec_report_figs_epochs_png(png, out->cap[out->nfig - 1],
							   a->pl_before, a->pl_after,
							   a->pre + a->post, a->pre, a->fs, cause);
		free(png);
	}
	return rc;
}
