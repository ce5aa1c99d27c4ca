/* Between the report step (op-rec-report.c: what it gathers from the channels) and its figures
 * (op-rec-report-figs.c: the PNG files and their captions). */
#ifndef ND_OP_REC_REPORT_H
#define ND_OP_REC_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "worker/io/rec/io-rec.h"
#include "worker/ops/rec/data/rec-epochs.h"
#include "worker/report/report-page.h"

struct op_rec_report_acc {
	double fs;
	size_t n;              /* samples of the output channels */
	struct rec_epochs *ep; /* the artifact epochs at fs, or NULL */
	size_t nbins, nperseg, npsd;
	double *psd_before, *psd_after;
	size_t neeg;
	char (*label)[IO_REC_LABEL];
	double *uv_before, *uv_after; /* RMS of the average epoch per EEG channel */
	double best;                  /* the largest uv_before so far, and its epochs */
	char best_label[IO_REC_LABEL];
	double *ep_before, *ep_after;
	int64_t *peaks; /* R peaks at fs */
	size_t npeaks, pre, post;
	int before_stage;
	double pbest;
	char pulse_label[IO_REC_LABEL];
	double *pl_before, *pl_after;
};

struct op_rec_report_out {
	char *page, *dir, *base; /* page path, figure folder, its name relative to the page */
	struct report_page_figure fig[6];
	char *src[6], *cap[6];
	size_t nfig;
};

/* Draw every figure the gathered data allow into out->dir, with their captions in out. */
int op_rec_report_figs_draw(struct op_rec_report_acc *a, struct op_rec_report_out *out, double sf,
			    double vf, char **cause);

#endif
