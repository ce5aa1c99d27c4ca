/* Counting a job's units (channels × trials) from its pipeline's input object. */
#ifndef ND_GRAPH_INPUT_H
#define ND_GRAPH_INPUT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "worker/io/rec/io-rec.h"

#define GRAPH_INPUT_FORMATS "tasks, grid, edf, bdf, brainvision, eeglab"

struct graph;
struct trial_input;

/* Whether `format` names a recording (edf, bdf, brainvision, eeglab). */
bool graph_input_is_recording(const char *format);
/* input.format and output.format from their paths' extensions (.edf, .bdf, .vhdr, .set) when
 * they are omitted, or when the command line gave the path (`*_given`). */
void graph_input_formats(json_t *root, bool input_given, bool output_given);
/* g->nchan and g->ntrial from the input (and g->rec_chans for a recording, whose header is
 * read: a missing, unreadable or broken file refuses the job). */
int graph_input_units(const json_t *input, struct graph *g, char **cause);
/* After validation, for inputs other than trials: the default grid (one unit per task), and the
 * input format's implicit steps (graph-input-rec.c for recordings: an aas_realign before each
 * aas, export_edf at the end when there is an output, the run-once reference channel). Steps
 * get their "index" (position in the user's file) before any step is inserted. */
int graph_input_prepare(struct graph *g, json_t *pipeline, char **cause);
int graph_input_rec_prepare(struct graph *g, json_t *pipeline, char **cause);

/* A recording's channel as the steps see it at submit. */
struct graph_rec_chan {
	char label[IO_REC_LABEL];
	double rate; /* Hz, after the steps so far */
	size_t n;    /* samples, after the steps so far */
	bool corrected;
};
/* No step may take a channel above this rate (Hz; the resample op's own bound) ... */
#define GRAPH_REC_MAX_RATE 1e7
/* ... or past this many samples (16 GiB as float64, the FFT resampling needing more again). */
#define GRAPH_REC_MAX_SAMPLES (1ull << 31)
/* graph-input-rates.c: follow each corrected channel's rate through the user's steps (before
 * any implicit step is added); refuse a filter edge at or above a Nyquist frequency, and a rate
 * change leaving no sample or more than GRAPH_REC_MAX_SAMPLES. */
int graph_input_rec_rates(struct graph *g, const json_t *steps, char **cause);

/* graph-input-trials.c: trial inputs (spy, synth, edf with "trials"; trial_input_claims). Open
 * and check the input, and count its units; then, after the steps' own validation, choose the
 * default grid, check the steps against the input and add the final write_spy step. */
int graph_input_trials_open(const json_t *input, struct trial_input **in, uint32_t *nchan,
			    uint32_t *ntrial, char **cause);
int graph_input_trials_prepare(struct graph *g, json_t *root, struct trial_input *in, char **cause);
/* For other inputs: refuse the trial ops (after the steps' own validation). */
int graph_input_trials_reject(const json_t *steps, char **cause);

#endif
