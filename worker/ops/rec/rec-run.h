/* The recording ("edf") input runner: what a task of an EEG-fMRI pipeline holds while its steps
 * run (its channels, one at a time in memory, with their estimated noise), the trigger state
 * that travels between tasks as inline results, and where per-channel arrays live on disk. */
#ifndef ND_REC_RUN_H
#define ND_REC_RUN_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "worker/io/io-edf.h"
#include "worker/io/io-npy.h"
#include "worker/ops/spec/op-run.h"

/* Trigger state at one working rate. `step` is the index of the pipeline step that produced it,
 * so a task adopts an upstream state only when it is newer than its own. */
struct rec_trig {
	long step;      /* -1: none yet */
	double fs;      /* rate the samples refer to */
	double fs0;     /* rate of the recording (search radii are in its samples) */
	double offset;  /* artifact-to-trigger offset, seconds */
	int64_t *t;     /* trigger samples (templates and windows) */
	int64_t *t_sub; /* realigned triggers for AAS subtraction, or NULL (= t) */
	size_t n;
	size_t L; /* artifact length, samples at fs */
	size_t slices_per_volume;
	int volume_gaps;
};

/* One channel of the task. */
struct rec_chan {
	size_t index; /* in the input file */
	char label[17];
	bool eeg; /* false: carried through (only rate changes apply) */
	double fs;
	double *x; /* n samples, volts; owned */
	size_t n;
	double *noise;        /* estimated artifact (AAS, PCA, ANC add to it), n samples, or NULL */
	struct rec_trig trig; /* the trigger state this channel's data matches */
};

struct rec_run {
	struct io_edf_file *edf; /* the input, open for the whole task */
	const struct io_edf_header *hdr;
	const char *path;
	int src_stage;         /* unit stage whose files this task loads, -1: the EDF */
	int stage;             /* this task's stage number */
	enum op_kind kind;     /* the stage's kind */
	struct rec_chan *chan; /* the task's channels (unit: its group; run once: reference) */
	size_t nchan;
	size_t cur;           /* the channel being processed (loaded one at a time) */
	struct rec_trig trig; /* task-level state (global and run-once tasks) */
	json_t *timing;       /* {"op": seconds} of this task */
};

extern const struct task_format rec_run_format;
extern const struct task_format rec_run_format_bdf;

/* Whether a channel of the input is EEG (processed) or carried through: a voltage (or a blank
 * dimension) whose label does not name EMG, ECG/EKG, EOG, respiration, status, stimulus or
 * trigger signals. */
bool rec_run_is_eeg(const struct io_edf_channel *c);
/* Open an EDF for reading, waiting while another task of this process has it open (EDFlib
 * allows one handle per file). 0 or -errno with a cause. */
int rec_run_open_edf(const char *path, struct io_edf_file **out, char **cause);

/* Trigger states (rec-trig.c). */
void rec_trig_fini(struct rec_trig *t);
void rec_trig_copy(struct rec_trig *dst, const struct rec_trig *src);
json_t *rec_trig_to_json(const struct rec_trig *t);
int rec_trig_from_json(const json_t *j, struct rec_trig *t, char **cause);
/* Adopt the newest upstream state (from run->deps) produced by a step with index <= `step`
 * when it is newer than *t. 0, or -EINVAL when the adopted state's rate does not match fs. */
int rec_trig_sync(const struct op_run *run, long step, double fs, struct rec_trig *t, char **cause);
/* Scale a state after resampling from t->fs to fs_new (triggers truncated, L rounded). */
void rec_trig_rescale(struct rec_trig *t, double fs_new, long step);
/* Samples of an offset: trunc(offset·fs). */
long rec_trig_s0(const struct rec_trig *t);

/* Per-channel files of unit stage `stage` in the job's work dir (caller frees). */
char *rec_run_chan_path(const char *workdir, int stage, size_t chan, const char *what);
/* The most recent unit stage before `stage` whose files exist, or -1. */
int rec_run_find_source(const char *workdir, int stage);
/* Read channel `chan`'s sidecar after unit stage `src`: its rate into *fs and its trigger state,
 * when it has one, into *trig (which the caller finalises, also on failure). On success *meta is
 * the parsed sidecar, owned by the caller; on failure it is NULL. 0 or -errno with a cause. */
int rec_run_meta_load(const char *workdir, int src, size_t chan, double *fs, struct rec_trig *trig,
		      json_t **meta, char **cause);
/* Load channel `index` as it is after stage `src` (-1: from the EDF). */
int rec_run_chan_load(struct op_run *run, size_t index, int src, struct rec_chan *c, char **cause);
void rec_run_chan_fini(struct rec_chan *c);
/* Add seconds to the task's timing entry for `op`. */
void rec_run_time(struct op_run *run, const char *op, double seconds);

#endif

/* A channel as the pipeline left it, for global steps (rec-out.c): mapped from the last unit
 * stage's .npy, or read from the EDF when no unit stage ran. */
struct rec_out {
	double fs;
	size_t n;
	const double *x;
	bool eeg;
	char label[17];
	struct rec_trig trig; /* the channel's trigger state (step -1 when it has none) */
	struct io_npy_map map;
	double *owned;
};

int rec_out_open(struct op_run *run, size_t chan, struct rec_out *o, char **cause);
void rec_out_close(struct rec_out *o);
