/* One channel of a recording task (its samples, estimated noise and trigger state), and its
 * files in the job's work dir between unit stages: a float64 .npy per array and a JSON sidecar. */
#ifndef ND_REC_CHAN_H
#define ND_REC_CHAN_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "worker/io/rec/io-rec.h"
#include "worker/ops/rec/data/rec-epochs.h"

/* What a channel of the input is to the correction. */
enum rec_chan_role {
	REC_CHAN_EEG,   /* a scalp EEG channel: corrected and measured */
	REC_CHAN_BODY,  /* ECG/EKG, EOG, EMG: electrodes that pick the artifact up, corrected */
	REC_CHAN_OTHER, /* status, stimulus, respiration, non-voltages: passed through */
};

/* Estimated noise a step has computed but not yet written into the channel's noise array (AAS
 * keeps its templates and adds them when a later step needs the noise, so the working-rate
 * noise and the templates are not held at once): add(ctx, noise, n) adds it to noise[0..n),
 * release(ctx) frees ctx. */
struct rec_noise_pending {
	void *ctx;
	void (*add)(void *ctx, double *noise, size_t n);
	void (*release)(void *ctx);
};

struct rec_chan {
	size_t index; /* in the input file */
	char label[IO_REC_LABEL];
	bool eeg;       /* a scalp EEG channel (REC_CHAN_EEG) */
	bool corrected; /* the steps run on it; false: passed through as read */
	double fs;
	double *x; /* n samples, volts; owned */
	size_t n;
	double *noise;            /* estimated artifact (AAS, PCA, ANC add to it), or NULL */
	struct rec_noise_pending pending; /* noise still to add to `noise` (ctx NULL: none) */
	struct rec_epochs epochs; /* the trigger state this channel's data matches */
	/* What the data-driven steps chose for this channel ({"aas": {..}, "pca": {..}, ..}),
	 * kept in the sidecar from stage to stage for the metrics report, or NULL. Owned. */
	json_t *choices;
};

/* A channel's role: not a voltage (a unit other than a voltage or blank), or a label naming
 * status, stimulus, trigger, event or respiration signals: passed through; a label naming
 * ECG/EKG, EOG or EMG: a body channel; else scalp EEG. */
enum rec_chan_role rec_chan_role(const struct io_rec_channel *c);
/* rec_chan_role(c) == REC_CHAN_EEG. */
bool rec_chan_is_eeg(const struct io_rec_channel *c);
/* Whether the correction runs on the channel by default (EEG and body channels); pick_channels
 * and drop_channels change it per pipeline. */
bool rec_chan_is_corrected(const struct io_rec_channel *c);
/* Per-channel files of unit stage `stage` in the job's work dir (caller frees). */
char *rec_chan_path(const char *workdir, int stage, size_t chan, const char *what);
/* The most recent unit stage before `stage` whose files exist, or -1. */
int rec_chan_find_source(const char *workdir, int stage);
/* Read channel `chan`'s sidecar after unit stage `src`: its rate into *fs and its trigger state,
 * when it has one, into *epochs (which the caller finalises, also on failure). On success *meta
 * is the parsed sidecar, owned by the caller; on failure it is NULL. 0 or -errno with a cause. */
int rec_chan_meta_load(const char *workdir, int src, size_t chan, double *fs,
		       struct rec_epochs *epochs, json_t **meta, char **cause);
/* Load channel `index` as it is after stage `src` (-1: from the input). */
int rec_chan_load(struct io_rec *in, const char *workdir, size_t index, int src,
		  struct rec_chan *c, char **cause);
/* Write the channel as unit stage `stage` leaves it (temporary names, then renamed, so a
 * retried task never leaves half a file). 0 or -errno with a cause. */
int rec_chan_save(const char *workdir, int stage, const struct rec_chan *c, char **cause);
/* Write the pending noise into the noise array (created zeroed when there is none), then drop
 * it; nothing when none is pending. */
void rec_chan_noise_settle(struct rec_chan *c);
void rec_chan_fini(struct rec_chan *c);

#endif
