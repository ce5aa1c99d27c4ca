/* Trial data inside a task: the input's layout that each task holds whole, and the task's own
 * slice of trials × channels that the trial ops (preprocessing, resampledata, freqanalysis)
 * transform in turn. The runner (trial-runner.c) loads the slice before the steps and writes the
 * task's part after them (trial-save.c); a final task (op write_spy) stitches the parts into the
 * output container or merges trial averages. */
#ifndef ND_TRIAL_RUN_H
#define ND_TRIAL_RUN_H

#include <jansson.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "worker/dsp/spectral/dsp-mtmfft.h"
#include "worker/dsp/core/dsp-trial.h"
#include "worker/ops/spec/task-spec.h"
#include "worker/ops/trial/data/trial-layout.h"

enum trial_run_kind {
	TRIAL_RUN_ANALOG,   /* time series per trial */
	TRIAL_RUN_SPECTRAL, /* after freqanalysis */
	TRIAL_RUN_CROSS,    /* after connectivityanalysis: the task's part in `cross` */
	TRIAL_RUN_TIMELOCK, /* after timelockanalysis: the trials, and their statistics in `tl` */
};

struct trial_timelock;

struct trial_cross;
struct trial_run;

/* freqanalysis output of the task. Axis 0 holds each trial's rows (one for mtmfft and welch,
 * its times for the time-frequency methods) as the trial definition `trl` says. */
struct trial_spectral {
	bool keeptrials;
	bool complex;
	size_t ntap, nfreq;
	double *freqs;               /* nfreq */
	char *taper;                 /* taper label ("hann", "dpss", ...) */
	double srate;                /* the output's samplerate attribute */
	double *trl;                 /* trl_rows × trl_cols: the output's trial definition */
	size_t trl_rows, trl_cols;   /* keeptrials: one row per trial, else one */
	float *out;                  /* keeptrials: the task's trials' rows × ntap × nfreq × nch
					(× 2 if complex) */
	struct dsp_mtmfft_accum acc; /* !keeptrials: the task's partial sums */
	bool has_acc;
	/* mtmfft with keeptrials computes lazily: `pending` (owned) and the task's time series are
	 * kept until a step takes the spectra trial by trial (connectivityanalysis), or until the
	 * runner saves the task and calls compute to fill `out`. */
	struct dsp_mtmfft *pending;
	int (*compute)(struct trial_run *t, char **cause);
};

struct trial_run {
	struct trial_layout lay;
	size_t trial0, ntr; /* this task's trials */
	size_t chan0, nch;  /* this task's channels */
	bool loaded;        /* unit tasks hold data; final tasks only the layout */
	enum trial_run_kind kind;
	/* Analog data: local trial i is lay.len[trial0 + i] rows × nch channels, row-major, at
	 * element off[i] of data. */
	enum dsp_trial_dtype dtype;
	void *data;
	size_t *off;
	struct trial_spectral spec;
	struct trial_cross *cross; /* connectivity part (trial-cross.h) */
	struct trial_timelock *tl; /* timelockanalysis part (trial-timelock.h) */
	json_t *cfg;        /* {"op": {parameters}, ...} of the steps run, for the container */
	/* What the steps need of the task grid (set by their apply, also at submit): values a
	 * task holds per trial beyond its input block after the step (spectra, per-trial outputs;
	 * a step that consumes the ones before it resets it), whether a task needs every channel
	 * of its trials (cross-channel measures), and whether the step must run fused with the
	 * one before it (it takes spectra a stage could not pass on). */
	size_t values_per_trial;
	bool all_channels;
	bool all_trials;
	bool needs_fused;
	atomic_int *cancel; /* the task's cancellation flag (or NULL); checked between trials */
};

/* Frees everything t holds and t itself; accepts NULL. */
void trial_run_free(struct trial_run *t);
/* Frees everything t holds, not t (a trial_run on the stack). */
void trial_run_clear(struct trial_run *t);

/* -ECANCELED with a cause when the task was cancelled, else 0. */
int trial_run_cancelled(const struct trial_run *t, char **cause);

/* A view of local trial i of an analog task. */
void trial_run_view(const struct trial_run *t, size_t i, struct dsp_trial *x);
/* Replace the analog data by float32 `data` with trial offsets `off` (ownership of both passes
 * to t). */
void trial_run_set_f32(struct trial_run *t, float *data, size_t *off);
/* Record a step's parameters in t->cfg. */
void trial_run_log_step(struct trial_run *t, const json_t *step);

/* The HDF5 library is serial: every .spy call of the trial code holds this lock. */
void trial_run_h5_lock(void);
void trial_run_h5_unlock(void);

/* The slice of unit task `index` in a stage's grid (spec.stage.grid). */
int trial_run_slice(const struct task_grid *grid, uint32_t index, size_t *trial0, size_t *ntr,
		    size_t *chan0, size_t *nch, char **cause);

#endif
