/* Trial data inside a task: the input's layout (every trial's length and offset, channels, rate)
 * that each task holds whole, and the task's own slice of trials × channels that the trial ops
 * (preprocessing, resampledata, freqanalysis) transform in turn. The runner for the trial input
 * formats loads the slice before the steps and writes the task's part after them; a final task
 * (op write_spy) stitches the parts into the output container or merges trial averages. */
#ifndef ND_TRIAL_RUN_H
#define ND_TRIAL_RUN_H

#include <jansson.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "worker/dsp/spectral/dsp-mtmfft.h"
#include "worker/dsp/core/dsp-trial.h"
#include "worker/ops/spec/op-run.h"
#include "worker/ops/task-format.h"

/* The whole data set as the steps so far have made it. Small (a few numbers per trial), so every
 * task and the submit check hold all of it and compute the same output shape. */
struct trial_layout {
	double fs;
	size_t ntrials;
	size_t nchan;
	size_t *len;    /* samples of each trial */
	double *offset; /* each trial's offset in samples (time of its first sample × fs) */
	size_t nextra;  /* extra trialdefinition columns after start, stop, offset */
	double *extra;  /* ntrials × nextra */
	char **channel; /* nchan labels */
};

void trial_layout_fini(struct trial_layout *lay);
void trial_layout_copy(struct trial_layout *dst, const struct trial_layout *src);
/* Shortest and longest trial. */
size_t trial_layout_minlen(const struct trial_layout *lay);
size_t trial_layout_maxlen(const struct trial_layout *lay);
/* Mean trial length (the reference's multitaper NW and K come from it). */
double trial_layout_meanlen(const struct trial_layout *lay);

enum trial_run_kind {
	TRIAL_RUN_ANALOG,   /* time series per trial */
	TRIAL_RUN_SPECTRAL, /* after freqanalysis */
};

/* freqanalysis output of the task. */
struct trial_spectral {
	bool keeptrials;
	bool complex;
	size_t ntap, nfreq;
	double *freqs;               /* nfreq */
	char *taper;                 /* taper label ("hann", "dpss", ...) */
	float *out;                  /* keeptrials: ntr × ntap × nfreq × nch (× 2 if complex) */
	struct dsp_mtmfft_accum acc; /* !keeptrials: the task's partial sums */
	bool has_acc;
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
	json_t *cfg;        /* {"op": {parameters}, ...} of the steps run, for the container */
	atomic_int *cancel; /* the task's cancellation flag (or NULL); checked between trials */
};

/* -ECANCELED with a cause when the task was cancelled, else 0. */
int trial_run_cancelled(const struct trial_run *t, char **cause);

/* The runners of the trial input formats (task-format.c's table). */
extern const struct task_format trial_run_format_spy;
extern const struct task_format trial_run_format_synth;
extern const struct task_format trial_run_format_edf;

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
int trial_run_slice(const json_t *grid, uint32_t index, size_t *trial0, size_t *ntr, size_t *chan0,
		    size_t *nch, char **cause);

/* trial-save.c: a unit task's output files "<workdir>/s<stage>-u<index>" (.h5 part or .npy
 * partial sums, plus .json describing the output container), and the final assembly. */
int trial_save_unit(const struct trial_run *t, const char *workdir, int stage, uint32_t index,
		    char **cause);
/* Staged mode: load task `index`'s block and the layout from stage `stage`'s output (time
 * series) instead of the input; t's slice must already be set. */
int trial_save_load_stage(struct trial_run *t, const char *workdir, int stage, uint32_t index,
			  char **cause);
/* Stitch or merge the `nparts` outputs of stage `stage` into the container `output`. */
int trial_save_final(const char *workdir, int stage, uint32_t nparts, const char *output,
		     json_t **result, char **cause);

#endif
