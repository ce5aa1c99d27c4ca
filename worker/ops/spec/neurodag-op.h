/* neurodag custom ops: the stable C ABI a plugin (a shared object given to the worker and to
 * `neurodag run` with --plugin FILE.so) implements. It depends on nothing but the C library.
 *
 * A plugin exports one symbol, a NULL-terminated table:
 *
 *	const struct neurodag_op *const neurodag_op_table[] = {&my_op, NULL};
 *
 * Each op is a pipeline step {"op": name, ...params}. Channel-wise ops run on every EEG channel
 * of the recording, one channel at a time, inside the fused per-channel tasks; run-once ops run
 * once on the reference channel (the first EEG channel). Parameters arrive as the step's JSON
 * text, as written in the pipeline (with its "op" key); run may also see an "index" key.
 *
 * Rules: validate and run may be called from several threads at once (keep no global state);
 * they return 0 on success, or non-zero with a message written into err (NUL-terminated, at
 * most errlen bytes), which neurodag reports with the step's position. Bump NEURODAG_OP_ABI
 * when anything below changes; neurodag refuses plugins built for another version. */
#ifndef NEURODAG_OP_H
#define NEURODAG_OP_H

#include <stddef.h>
#include <stdint.h>

#define NEURODAG_OP_ABI 1

enum neurodag_op_flags {
	NEURODAG_OP_CHANNEL_WISE = 1 << 0, /* runs on each channel alone */
	NEURODAG_OP_RUN_ONCE = 1 << 1,     /* runs once, on the reference channel */
};

/* One channel and its metadata. The samples may be changed in place; n cannot change. */
struct neurodag_channel {
	double *samples; /* n samples, volts */
	size_t n;
	double fs;               /* samples per second */
	const char *label;       /* channel label, e.g. "Fp1" */
	const int64_t *triggers; /* slice triggers (samples at fs), or NULL before detection */
	size_t ntriggers;
	size_t artifact_len; /* artifact length in samples at fs, 0 when unknown */
};

struct neurodag_op {
	unsigned abi;        /* NEURODAG_OP_ABI */
	const char *name;    /* the "op" of a pipeline step; must not clash with a built-in */
	unsigned flags;      /* enum neurodag_op_flags */
	const char *summary; /* one line for listings */
	/* Check the step's parameters (JSON text); may be NULL when the op takes none. */
	int (*validate)(const char *params_json, char *err, size_t errlen);
	/* Process one channel. */
	int (*run)(struct neurodag_channel *ch, const char *params_json, char *err, size_t errlen);
};

#endif
