/* A recording pipeline's rates at submit: each corrected channel's rate and length followed
 * through the steps (upsample, downsample and resample change them; pick_channels and
 * drop_channels change which channels the steps touch), so that a filter edge at or above a
 * channel's Nyquist frequency, or a rate change that leaves no sample or a channel too large
 * to hold, refuses the job naming the step and its parameter, instead of failing every attempt
 * of its tasks on the workers. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/xmalloc.h"
#include "scheduler/graph/graph-input.h"
#include "scheduler/graph/graph.h"
#include "worker/ops/op-registry.h"
#include "worker/ops/rec/op-rec-params.h"

/* A step's typed parameters, parsed by the op's own parse, or NULL. Caller frees. */
static void *
graph_rates_params(const json_t *step)
{
	const struct op_def *op = op_registry_find(json_string_value(json_object_get(step, "op")));
	void *params = NULL;

	if (op != NULL && op_def_parse(op, step, "steps", &params, NULL) != 0)
		params = NULL;
	return params;
}

static void
graph_rates_pick(struct graph_rec_chan *ch, size_t n, const struct op_rec_pick_params *p)
{
	for (size_t c = 0; c < n; c++) {
		bool listed = false;

		for (size_t i = 0; i < p->n && !listed; i++)
			listed = strcmp(p->labels[i], ch[c].label) == 0;
		ch[c].corrected = p->drop ? ch[c].corrected && !listed : listed;
	}
}

/* Every corrected channel's Nyquist frequency is above f (the worker's own test). */
static int
graph_rates_below_nyquist(const struct graph_rec_chan *ch, size_t n, size_t step,
			  const char *key, double f, char **cause)
{
	for (size_t c = 0; c < n; c++)
		if (ch[c].corrected && f >= ch[c].rate / 2)
			return error_set(cause, -EINVAL,
					 "steps[%zu].%s: %g Hz is not below the Nyquist frequency "
					 "(%g Hz) of channel %s, sampled at %g Hz at this step",
					 step, key, f, ch[c].rate / 2, ch[c].label, ch[c].rate);
	return 0;
}

static int
graph_rates_filter(const struct graph_rec_chan *ch, size_t n, size_t i, const char *op,
		   const json_t *step, char **cause)
{
	void *params = graph_rates_params(step);
	int rc = 0;

	if (params == NULL)
		return 0;
	if (strcmp(op, "notch") == 0) {
		const struct op_rec_notch_params *p = params;
		for (size_t k = 0; k < p->n && rc == 0; k++)
			rc = graph_rates_below_nyquist(ch, n, i, "freqs", p->freqs[k], cause);
	} else {
		const struct op_rec_band_params *p = params;
		rc = strcmp(op, "bandpass") == 0
			 ? graph_rates_below_nyquist(ch, n, i, "high", p->hi, cause)
			 : graph_rates_below_nyquist(ch, n, i, "freq", p->lo + p->hi, cause);
	}
	free(params);
	return rc;
}

/* One corrected channel through a rate change to fs_new: at least one sample, at most
 * GRAPH_REC_MAX_SAMPLES, at a rate of at most GRAPH_REC_MAX_RATE. */
static int
graph_rates_change_one(struct graph_rec_chan *c, size_t i, const char *op, const char *key,
		       double fs_new, char **cause)
{
	double m = nearbyint(fs_new / c->rate * (double)c->n); /* dsp_resample_length */

	if (m < 1)
		return error_set(cause, -EINVAL,
				 "steps[%zu].%s: %s leaves no sample of channel %s (%zu samples at "
				 "%g Hz to %g Hz)",
				 i, key, op, c->label, c->n, c->rate, fs_new);
	if (m > (double)GRAPH_REC_MAX_SAMPLES)
		return error_set(cause, -EINVAL,
				 "steps[%zu].%s: %s makes channel %s %.4g samples (%zu at %g Hz to "
				 "%g Hz, %.1f GB as float64); a channel may have at most %llu "
				 "samples (%.1f GB) after a rate change",
				 i, key, op, c->label, m, c->n, c->rate, fs_new, m * 8 / 1e9,
				 (unsigned long long)GRAPH_REC_MAX_SAMPLES,
				 (double)GRAPH_REC_MAX_SAMPLES * 8 / 1e9);
	if (fs_new > GRAPH_REC_MAX_RATE)
		return error_set(cause, -EINVAL,
				 "steps[%zu].%s: %s takes channel %s from %g Hz to %g Hz, above "
				 "%g Hz, the highest rate a step may make",
				 i, key, op, c->label, c->rate, fs_new, GRAPH_REC_MAX_RATE);
	c->n = (size_t)m;
	c->rate = fs_new;
	return 0;
}

static int
graph_rates_change(struct graph_rec_chan *ch, size_t n, size_t i, const char *op,
		   const json_t *step, char **cause)
{
	const struct op_rec_rate_params *p = graph_rates_params(step);
	const char *key = strcmp(op, "resample") == 0 ? "rate" : "factor";
	int rc = 0;

	if (p == NULL)
		return 0;
	for (size_t c = 0; c < n && rc == 0; c++) {
		double fs = strcmp(op, "upsample") == 0     ? ch[c].rate * (double)p->factor
			    : strcmp(op, "downsample") == 0 ? ch[c].rate / (double)p->factor
							    : p->rate;
		if (ch[c].corrected && fs != ch[c].rate)
			rc = graph_rates_change_one(&ch[c], i, op, key, fs, cause);
	}
	free((void *)p);
	return rc;
}

int
graph_input_rec_rates(struct graph *g, const json_t *steps, char **cause)
{
	struct graph_rec_chan *ch = g->rec_chans;
	size_t n = g->n_rec_chans, i;
	const json_t *s;
	int rc = 0;

	json_array_foreach(steps, i, s)
	{
		const char *op = json_string_value(json_object_get(s, "op"));

		if (strcmp(op, "pick_channels") == 0 || strcmp(op, "drop_channels") == 0) {
			struct op_rec_pick_params *p = graph_rates_params(s);
			if (p != NULL)
				graph_rates_pick(ch, n, p);
			free(p);
		} else if (strcmp(op, "highpass") == 0 || strcmp(op, "lowpass") == 0 ||
			   strcmp(op, "bandpass") == 0 || strcmp(op, "notch") == 0) {
			rc = graph_rates_filter(ch, n, i, op, s, cause);
		} else if (strcmp(op, "upsample") == 0 || strcmp(op, "downsample") == 0 ||
			   strcmp(op, "resample") == 0) {
			rc = graph_rates_change(ch, n, i, op, s, cause);
		}
		if (rc != 0)
			return rc;
	}
	return 0;
}
