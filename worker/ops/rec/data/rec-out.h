/* A channel as the pipeline left it, for global steps (metrics, export): mapped from the last
 * unit stage's .npy, or read from the input when no unit stage ran. */
#ifndef ND_REC_OUT_H
#define ND_REC_OUT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "worker/io/io-npy.h"
#include "worker/io/rec/io-rec.h"
#include "worker/ops/rec/data/rec-epochs.h"
#include "worker/ops/spec/op-run.h"

struct rec_out {
	double fs;
	size_t n;
	const double *x;
	bool eeg;       /* a scalp EEG channel */
	bool corrected; /* the correction ran on it (else it is the input) */
	char label[IO_REC_LABEL];
	struct rec_epochs epochs; /* the channel's trigger state (step -1 when it has none) */
	json_t *choices;          /* what the data-driven steps chose (rec_chan), or NULL */
	struct io_npy_map map;
	double *owned;
};

int rec_out_open(struct op_run *run, size_t chan, struct rec_out *o, char **cause);
/* Whether global steps measure and show the channel: a corrected EEG channel, or, in a
 * recording without EEG (an ECG recorded alone), a corrected ECG, EOG or EMG channel. */
bool rec_out_measured(const struct op_run *run, const struct rec_out *o);
void rec_out_close(struct rec_out *o);

#endif
