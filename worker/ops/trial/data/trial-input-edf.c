/* Trials cut from an EDF/BDF recording around its annotations: `trials.regex` (POSIX extended)
 * picks the annotations, each trial spans [onset − pre, onset + post) seconds in whole samples,
 * with its offset at −pre. Channels (all, or the labels listed) must share one rate. An epoch
 * that does not fit inside the recording is refused, naming the annotation. */
#include "worker/ops/trial/data/trial-input-edf.h"

#include <errno.h>
#include <math.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/xmalloc.h"
#include "worker/io/io-edf.h"
#include "worker/ops/spec/op-def.h"
#include "worker/ops/spec/op-param.h"

struct trial_input_edf {
	struct io_edf_file *file;
	size_t *chan;   /* file channel of each input channel */
	size_t *start;  /* first sample of each trial */
	double *column; /* one channel of one trial */
};

static int
trial_input_edf_channels(struct trial_input_edf *e, const struct io_edf_header *h,
			 const json_t *labels, struct trial_layout *lay, char **cause)
{
	size_t n = labels != NULL ? json_array_size(labels) : h->n_channels;

	if (labels != NULL && (!json_is_array(labels) || n == 0))
		return error_set(cause, -EINVAL,
				 "input.channels: must be a list of channel labels");
	if (n == 0)
		return error_set(cause, -EINVAL, "input.path: %s has no data channels", h->path);
	e->chan = xcalloc(n, sizeof *e->chan);
	lay->nchan = n;
	lay->channel = xcalloc(n, sizeof *lay->channel);
	for (size_t i = 0; i < n; i++) {
		const char *l =
		    labels != NULL ? json_string_value(json_array_get(labels, i)) : NULL;
		int k = (int)i;

		if (labels != NULL && (l == NULL || (k = io_edf_channel_find(h, l)) < 0))
			return error_set(cause, -EINVAL,
					 "input.channels[%zu]: no channel '%s' in %s", i,
					 l != NULL ? l : "(not a string)", h->path);
		e->chan[i] = (size_t)k;
		lay->channel[i] = xstrdup(h->channels[k].label);
		if (h->channels[k].rate != h->channels[e->chan[0]].rate)
			return error_set(cause, -EINVAL,
					 "input.channels: %s runs at %g Hz, %s at %g Hz; trials "
					 "need channels of one rate (list them in input.channels)",
					 h->channels[k].label, h->channels[k].rate,
					 h->channels[e->chan[0]].label,
					 h->channels[e->chan[0]].rate);
	}
	lay->fs = h->channels[e->chan[0]].rate;
	return 0;
}

static int
trial_input_edf_epochs(struct trial_input_edf *e, const struct io_edf_header *h,
		       const json_t *trials, struct trial_layout *lay, char **cause)
{
	static const char *const keys[] = {"regex", "pre", "post", NULL};
	const char *re;
	double pre, post;
	size_t npre, npost, nsamp = h->channels[e->chan[0]].n_samples, n = 0;
	regex_t rx;
	int err;

	if (!json_is_object(trials))
		return error_set(cause, -EINVAL,
				 "input.trials: must be an object {regex, pre, post}");
	if (op_param_keys(trials, "input.trials", keys, cause) != 0 ||
	    op_param_string(trials, "input.trials", "regex", 1, NULL, &re, cause) != 0 ||
	    op_param_number(trials, "input.trials", "pre", 0, 0, 1e6, 0, &pre, cause) != 0 ||
	    op_param_number(trials, "input.trials", "post", 1, 0, 1e6, 0, &post, cause) != 0)
		return -EINVAL;
	npre = (size_t)llround(pre * lay->fs);
	npost = (size_t)llround(post * lay->fs);
	if (npre + npost == 0)
		return error_set(cause, -EINVAL,
				 "input.trials: pre + post is shorter than a sample "
				 "at %g Hz",
				 lay->fs);
	if ((err = regcomp(&rx, re, REG_EXTENDED | REG_NOSUB)) != 0) {
		char msg[128];
		regerror(err, &rx, msg, sizeof msg);
		return error_set(cause, -EINVAL, "input.trials.regex: %s", msg);
	}
	e->start = xcalloc(h->n_annotations + 1, sizeof *e->start);
	lay->offset = xcalloc(h->n_annotations + 1, sizeof *lay->offset);
	lay->len = xcalloc(h->n_annotations + 1, sizeof *lay->len);
	lay->extra = xcalloc(h->n_annotations + 1, sizeof *lay->extra);
	lay->nextra = 1; /* the annotation's index, as the reference's trialinfo would hold it */
	for (size_t a = 0; a < h->n_annotations; a++) {
		const struct io_edf_annotation *an = &h->annotations[a];
		long long on = llround(an->onset * lay->fs);

		if (regexec(&rx, an->text, 0, NULL, 0) != 0)
			continue;
		if (on < (long long)npre || (unsigned long long)on + npost > nsamp) {
			regfree(&rx);
			return error_set(cause, -EINVAL,
					 "input.trials: the trial around annotation %zu ('%s' at "
					 "%.3f s) spans [%.3f, %.3f) s, outside the recording's "
					 "[0, %.3f) s",
					 a, an->text, an->onset, an->onset - pre, an->onset + post,
					 (double)nsamp / lay->fs);
		}
		e->start[n] = (size_t)on - npre;
		lay->offset[n] = -(double)npre;
		lay->len[n] = npre + npost;
		lay->extra[n] = (double)a;
		n++;
	}
	regfree(&rx);
	if (n == 0)
		return error_set(cause, -EINVAL,
				 "input.trials.regex: no annotation of %s matches '%s' (%zu "
				 "annotations)",
				 h->path, re, h->n_annotations);
	lay->ntrials = n;
	e->column = xcalloc(npre + npost, sizeof *e->column);
	return 0;
}

int
trial_input_edf_open(const json_t *input, struct trial_layout *lay, struct trial_input_edf **out,
		     char **cause)
{
	static const char *const keys[] = {"format", "path", "trials", "channels", NULL};
	struct trial_input_edf *e = xcalloc(1, sizeof *e);
	const struct io_edf_header *h;
	const char *path;
	int rc;

	*out = NULL;
	if (op_param_keys(input, "input", keys, cause) != 0 ||
	    op_param_string(input, "input", "path", 1, NULL, &path, cause) != 0) {
		free(e);
		return -EINVAL;
	}
	rc = io_edf_open(path, &e->file, cause);
	if (rc != 0) {
		free(e);
		return error_wrap(cause, rc, "input.path: ");
	}
	h = io_edf_header(e->file);
	rc = trial_input_edf_channels(e, h, json_object_get(input, "channels"), lay, cause);
	if (rc == 0)
		rc = trial_input_edf_epochs(e, h, json_object_get(input, "trials"), lay, cause);
	if (rc != 0) {
		trial_input_edf_close(e);
		return rc;
	}
	*out = e;
	return 0;
}

int
trial_input_edf_read(struct trial_input_edf *e, const struct trial_layout *lay, size_t trial0,
		     size_t ntr, size_t chan0, size_t nch, double *buf, char **cause)
{
	for (size_t t = trial0; t < trial0 + ntr; t++) {
		size_t n = lay->len[t];

		for (size_t c = 0; c < nch; c++) {
			int rc = io_edf_read_range(e->file, e->chan[chan0 + c], e->start[t], n,
						   e->column, cause);
			if (rc != 0)
				return rc;
			for (size_t i = 0; i < n; i++)
				buf[i * nch + c] = e->column[i];
		}
		buf += n * nch;
	}
	return 0;
}

void
trial_input_edf_close(struct trial_input_edf *e)
{
	if (e == NULL)
		return;
	io_edf_close(e->file);
	free(e->chan);
	free(e->start);
	free(e->column);
	free(e);
}
