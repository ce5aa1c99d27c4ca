/* A channel's working-rate steps in windows (op-rec-window.c, op-rec-window-align.c): when the
 * upsampled channel would be large, the steps from upsample to downsample (or to the end of a
 * run-once stage) walk the channel in windows of epochs instead of holding it at the working
 * rate, each window upsampled from the channel at its recorded rate with a margin either side
 * (dsp-resample-block.h) and its corrected samples downsampled straight into the output.
 * What needs the whole channel is computed first, by its own pass over the windows: the
 * channel mean the templates are taken from, and aas auto's choice (it scores the epochs at the
 * recording's rate). */
#ifndef ND_OP_REC_WINDOW_H
#define ND_OP_REC_WINDOW_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "worker/dsp/core/dsp-resample-block.h"
#include "worker/ops/rec/op-rec.h"

/* Input samples the upsampling of a window reads beyond it on either side, seconds at the
 * recorded rate, and the downsampling beyond each output stretch, seconds of the working rate
 * (measured against the whole-channel path: README, tests/integration/check-rec-windows.py). */
#define OP_REC_WINDOW_UP_MARGIN_S   32.0
#define OP_REC_WINDOW_DOWN_MARGIN_S 32.0

/* The working-rate signal, one window at a time. */
struct op_rec_win {
	const double *x0; /* the channel at its recorded rate (n0 samples) */
	size_t n0;
	unsigned k;    /* upsampling factor */
	size_t n;      /* working-rate samples: k·n0 */
	size_t budget;   /* working-rate samples a window aims at */
	size_t up_block; /* working-rate samples upsampled by one transform */
	struct dsp_resample_block_params up;
	double *w; /* working samples [a, b) */
	size_t cap;
	int64_t a, b;
	double first, last; /* working samples 0 and n − 1 (edge padding) */
};

/* Output samples per block of a block resampler (dsp-resample-block.h) with this margin (input
 * samples) and factor k, so that its transform is the power of two above `times` margins. */
size_t op_rec_win_block(size_t margin, size_t k, size_t times);
/* Output samples [p0, p1) of the working-rate stretch v (its sample 0 is sample a of the
 * signal) resampled by `down` (its input: the working rate), into out[p0..p1), one block at a
 * time. 0 or -errno with a cause. */
int op_rec_win_down(const struct op_rec_win *W, const struct dsp_resample_block_params *down,
		    const double *v, int64_t a, size_t p0, size_t p1, double *out, char **cause);
/* Load working samples [a, b) (clipped to [0, n)) into W->w. 0 or -errno with a cause. */
int op_rec_win_load(struct op_rec_win *W, int64_t a, int64_t b, char **cause);
/* out[j] = x[start + j] − sub for the working signal x where inside [0, n), else 0, or (edge)
 * the nearest end sample; the samples read must lie in the loaded window. */
void op_rec_win_epoch(const struct op_rec_win *W, int64_t start, size_t len, double sub, int edge,
		      double *out);
/* The span [*a, *b) within [0, n) of epochs [e0, e1) at triggers t: each from t + lo to t + hi. */
void op_rec_win_span(const struct op_rec_win *W, const int64_t *t, size_t e0, size_t e1,
		     int64_t lo, int64_t hi, int64_t *a, int64_t *b);
/* The end c1 > c0 of the chunk of epochs starting at c0 whose span, with mg epochs either side,
 * keeps within the window budget (at least one epoch). */
size_t op_rec_win_chunk(const struct op_rec_win *W, const int64_t *t, size_t nt, size_t c0,
			size_t mg, int64_t lo, int64_t hi);
/* The channel mean at the working rate, summed in order. */
int op_rec_win_mean(struct op_rec_win *W, double *mean, char **cause);

/* The run-once aligners in windows (op-rec-window-align.c), on c's trigger state at the working
 * rate, with the results and trigger changes the steps make on the whole channel. */
int op_rec_window_slices(struct op_run *run, struct rec_chan *c, struct op_rec_win *W,
			 const json_t *step, char **cause);
int op_rec_window_subsample(struct op_run *run, struct rec_chan *c, struct op_rec_win *W,
			    const json_t *step, char **cause);
int op_rec_window_realign(struct op_run *run, struct rec_chan *c, struct op_rec_win *W,
			  const json_t *step, char **cause);

/* aas in windows and the downsampling after it (op-rec-window-aas.c): channel c's data and
 * noise become the corrected output at the recorded rate, its choice and trigger state what the
 * whole-channel steps leave; fs is the working rate. */
int op_rec_window_aas(struct op_run *run, struct rec_chan *c, struct op_rec_win *W,
		      const json_t *step, const struct op_rec_aas_params *p, double fs, char **cause);

/* From channel c's upsample step `step` (parameters p): when the channel's working-rate array
 * would exceed 4·window_mb MB and the steps up to the next downsample by the same factor (or
 * the end of a run-once stage) are ones that run in windows (align_slices, align_subsample,
 * aas_realign, aas without a realignment file), run them all in windows and set
 * run->rec->window_through to the last one's index (each step times itself; their sum is in
 * run->rec->window_s): 1. Otherwise 0 (the whole-channel path
 * runs), or -errno with a cause. */
int op_rec_window_run(struct op_run *run, struct rec_chan *c, const json_t *step,
		      const struct op_rec_rate_params *p, char **cause);

#endif
