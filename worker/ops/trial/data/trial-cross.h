/* Connectivity results of trial tasks (connectivityanalysis): what a step computes and how its
 * CrossSpectralData container looks (the plan, the same in every task of a stage and written
 * beside each part), a unit task's partial result (trial sums, PPC phasor sums, or per-trial
 * rows), and the final reduction of the merged sums into the container's data (coherency,
 * Wilson/Granger, PPC, correlations). */
#ifndef ND_TRIAL_CROSS_H
#define ND_TRIAL_CROSS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "worker/dsp/connectivity/dsp-coh.h"
#include "worker/dsp/connectivity/dsp-csd.h"
#include "worker/dsp/connectivity/dsp-ppc.h"
#include "worker/dsp/connectivity/dsp-xcov.h"

enum trial_cross_method {
	TRIAL_CROSS_COH,
	TRIAL_CROSS_CORR,
	TRIAL_CROSS_GRANGER,
	TRIAL_CROSS_CSD,
	TRIAL_CROSS_PPC,
};

struct trial_cross_plan {
	enum trial_cross_method method;
	enum dsp_coh_output output; /* coh */
	bool keeptrials;            /* csd, corr */
	size_t nchan;               /* channels of the cross spectra (all, or channelcmb's) */
	size_t *chans;              /* the input channel of each of them */
	size_t ntap;                /* tapers of each trial's spectra */
	size_t nfreq;               /* frequencies of the cross spectra (corr: of its FFT) */
	double *freq;               /* the container's freq axis (nout_freq values) */
	size_t nout_freq;           /* nfreq, or 1 for corr */
	size_t nrow, ncol;          /* the container's channel_i × channel_j */
	size_t *rows, *cols;        /* their indices among the nchan cross-spectral channels */
	bool pairs;                 /* granger with channelcmb: one factorisation per pair */
	struct dsp_xcov xc;         /* corr */
	size_t rows_per_trial;      /* keeptrials rows of axis 0 per trial: 1, or the lags */
	double offset0;             /* ppc: trial 0's offset (the container's trial row) */
};

/* A unit task's part. */
struct trial_cross {
	struct trial_cross_plan plan;
	struct dsp_csd_acc acc; /* coh, granger, csd and corr averages */
	bool has_acc;
	struct dsp_ppc_acc ppc;
	bool has_ppc;
	float *out; /* keeptrials: the task's rows (complex pairs for csd) */
	size_t out_len;
};

const char *trial_cross_method_name(enum trial_cross_method m);
/* The container's dtype: complex64 for csd and complex coherency, else float32. */
bool trial_cross_is_complex(const struct trial_cross_plan *p);
/* Values (floats) per row of axis 0. */
size_t trial_cross_row_values(const struct trial_cross_plan *p);

void trial_cross_plan_fini(struct trial_cross_plan *p);
void trial_cross_free(struct trial_cross *c);

/* The plan as JSON and back. */
json_t *trial_cross_plan_json(const struct trial_cross_plan *p);
int trial_cross_plan_parse(const json_t *j, struct trial_cross_plan *p, char **cause);

/* The container's data from the merged trial sums (acc for coh, granger, csd, corr; ppc for
 * ppc): *data (float32, complex pairs when complex; caller frees) of one row block, and for
 * all-channel granger *info (the reference's info dict; caller frees, else NULL). */
int trial_cross_finalize(const struct trial_cross_plan *p, const struct dsp_csd_acc *acc,
			 const struct dsp_ppc_acc *ppc, float **data, json_t **info, char **cause);

#endif
