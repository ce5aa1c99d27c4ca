/* The layout of a trial data set: every trial's length and offset, the channels and the rate,
 * with the copy and free every holder of a layout (inputs, tasks, the submit check) shares. */
#include "worker/ops/trial/data/trial-layout.h"

#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"

void
trial_layout_fini(struct trial_layout *lay)
{
	for (size_t c = 0; lay->channel != NULL && c < lay->nchan; c++)
		free(lay->channel[c]);
	free(lay->channel);
	free(lay->len);
	free(lay->offset);
	free(lay->extra);
	memset(lay, 0, sizeof *lay);
}

void
trial_layout_copy(struct trial_layout *dst, const struct trial_layout *src)
{
	*dst = *src;
	dst->len = xreallocarray(NULL, src->ntrials + 1, sizeof *dst->len);
	memcpy(dst->len, src->len, src->ntrials * sizeof *dst->len);
	dst->offset = xreallocarray(NULL, src->ntrials + 1, sizeof *dst->offset);
	memcpy(dst->offset, src->offset, src->ntrials * sizeof *dst->offset);
	dst->extra = xreallocarray(NULL, src->ntrials * src->nextra + 1, sizeof *dst->extra);
	if (src->ntrials * src->nextra > 0) /* extra may be NULL when there are no extra columns */
		memcpy(dst->extra, src->extra, src->ntrials * src->nextra * sizeof *dst->extra);
	dst->channel = xcalloc(src->nchan, sizeof *dst->channel);
	for (size_t c = 0; c < src->nchan; c++)
		dst->channel[c] = xstrdup(src->channel[c]);
}

size_t
trial_layout_minlen(const struct trial_layout *lay)
{
	size_t m = lay->ntrials > 0 ? lay->len[0] : 0;

	for (size_t t = 1; t < lay->ntrials; t++)
		if (lay->len[t] < m)
			m = lay->len[t];
	return m;
}

size_t
trial_layout_maxlen(const struct trial_layout *lay)
{
	size_t m = 0;

	for (size_t t = 0; t < lay->ntrials; t++)
		if (lay->len[t] > m)
			m = lay->len[t];
	return m;
}

double
trial_layout_meanlen(const struct trial_layout *lay)
{
	double sum = 0;

	for (size_t t = 0; t < lay->ntrials; t++)
		sum += (double)lay->len[t];
	return lay->ntrials > 0 ? sum / (double)lay->ntrials : 0;
}
