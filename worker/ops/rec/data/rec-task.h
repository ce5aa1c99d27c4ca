/* What a task of an EEG-fMRI pipeline holds while its steps run: the input open for the task,
 * its channels (one at a time in memory, with their estimated noise), the task-level trigger
 * state that travels between tasks as inline results, and its per-op timing. */
#ifndef ND_REC_TASK_H
#define ND_REC_TASK_H

#include <jansson.h>
#include <stddef.h>

#include "worker/io/rec/io-rec.h"
#include "worker/ops/rec/data/rec-chan.h"
#include "worker/ops/rec/data/rec-epochs.h"
#include "worker/ops/spec/op-run.h"

struct rec_task {
	struct io_rec *in; /* the input, open for the whole task */
	const struct io_rec_header *hdr;
	const char *path;
	int src_stage;         /* unit stage whose files this task loads, -1: the input */
	int stage;             /* this task's stage number */
	enum op_kind kind;     /* the stage's kind */
	struct rec_chan *chan; /* the task's channels (unit: its group; run once: reference) */
	size_t nchan;
	size_t cur;               /* the channel being processed (loaded one at a time) */
	/* Index of the last step the current channel ran in windows (op-rec-window.h), -1 none:
	 * the steps up to it are done. */
	long window_through;
	double window_s; /* seconds those steps took (timed by each), not the upsample's */
	struct rec_epochs epochs; /* task-level state (global and run-once tasks) */
	json_t *timing;           /* {"op": seconds} of this task */
	/* {"op": MB}: the process's peak resident memory at the end of each op that raised it
	 * (the largest such in this task). */
	json_t *peak;
};

/* Open the input recording as `format` (NULL: by its extension), waiting while another task of
 * this process has the same EDF open (EDFlib allows one handle per file). 0 or -errno with a
 * cause. */
int rec_task_open(const char *path, const char *format, struct io_rec **out, char **cause);
/* Add seconds to the task's timing entry for `op`. */
void rec_task_time(struct op_run *run, const char *op, double seconds);
/* The "KEY: N kB" field of a /proc file (/proc/self/status, /proc/meminfo), kB; 0 when unknown. */
size_t rec_task_proc_kb(const char *path, const char *key);
/* The process's peak resident memory so far (VmHWM), kB; 0 when unknown. */
size_t rec_task_hwm_kb(void);
/* After op `op`: when the process's peak rose above before_kb during it, record the new peak
 * under `op` in the task's peaks. */
void rec_task_peak(struct op_run *run, const char *op, size_t before_kb);

#endif
