/* Recording ops (EEG-fMRI correction): how each op of the op-rec-*.c families plugs into the
 * registry. An op_rec embeds its op_def first; its def.run is op_rec_run, which syncs the
 * trigger state, times the step, and calls the op's per-channel or per-task function. */
#ifndef ND_OP_REC_H
#define ND_OP_REC_H

#include <jansson.h>
#include <stdbool.h>

#include "worker/ops/spec/op-def.h"
#include "worker/ops/spec/op-param.h"
#include "worker/ops/spec/op-run.h"
#include "worker/ops/rec/op-rec-params.h"
#include "worker/ops/rec/data/rec-task.h"

enum op_rec_flags {
	OP_REC_ALL_CHANNELS = 1 << 0,   /* also runs on passed-through channels */
	OP_REC_NEEDS_TRIGGERS = 1 << 1, /* fails without a trigger state */
	OP_REC_NOISE_PENDING = 1 << 2,  /* adds the channel's pending noise itself */
};

struct op_rec {
	struct op_def def; /* first member: the registry hands out &def */
	unsigned flags;
	/* Unit and run-once ops: one channel (c->epochs synced to this step). */
	int (*chan)(struct op_run *run, struct rec_chan *c, const json_t *step, char **cause);
	/* Global ops: the whole task. */
	int (*task)(struct op_run *run, const json_t *step, char **cause);
	const void *data; /* op-specific (plugins: their neurodag_op) */
};

/* The op_def of a recording op with typed parameters P read by `parse`. */
#define OP_REC_DEF(name_, kind_, summary_, P, parse_)                                              \
	{                                                                                          \
		.name = (name_), .kind = (kind_), .summary = (summary_), .run = op_rec_run,        \
		.params_size = sizeof(P), .parse = (parse_)                                        \
	}

/* The def.run of every recording op. */
int op_rec_run(struct op_run *run, const json_t *step, char **cause);
/* The step's index in the pipeline. */
long op_rec_step_index(const json_t *step);
/* Set key in the task's inline result (created on first use); takes the reference to v. */
void op_rec_result_set(struct op_run *run, const char *key, json_t *v);
/* Bytes of memory available to this process now (MemAvailable), or 0 when unknown. */
size_t op_rec_mem_available(void);

/* The newest inline result under `key` (an object with a "step" member) that a step with
 * index <= `step` produced, from the task's dependencies; NULL when there is none. Borrowed. */
const json_t *op_rec_dep_newest(const struct op_run *run, const char *key, long step);

/* Keep the triggers whose artifact lies inside a crop result {"tmin", "tmax"} (seconds; tmax 0:
 * to the end), and recompute the artifact length and volume gaps (op-rec-channels.c).
 * 0, or -EINVAL when fewer than 2 triggers are left. */
int op_rec_crop_epochs(const json_t *crop, struct rec_epochs *e, char **cause);

/* The annotations of the triggers complete_triggers found (op-rec-slices.c), from the task's
 * dependencies: *out (texts borrowed from the dependencies) is the caller's to free. Returns
 * their count. */
size_t op_rec_completed_annotations(const struct op_run *run, struct io_rec_annotation **out);

/* Record aas's choice for channel c as the whole-channel step reports it: what it chose (ch),
 * the RMS in µV of the templates it subtracted, and the step's parameters (op-rec-artifact.c). */
void op_rec_aas_choice_set(struct rec_chan *c, const struct dsp_aas_choice *ch, double removed_uv,
			   const struct dsp_aas_params *p);
/* The parse of aas, shared by aas_realign (op-rec-artifact.c): struct op_rec_aas_params. */
int op_rec_aas_parse(const json_t *step, const char *path, void *params, char **cause);

extern const struct op_def *const op_rec_table[];

#endif
