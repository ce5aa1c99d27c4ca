/* A test plugin: per-channel z-score ((x - mean) / std), built against neurodag-op.h alone.
 * It takes no parameters, so validate rejects any key besides "op" (and neurodag's "index"). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "worker/ops/spec/neurodag-op.h"

static int
zscore_validate(const char *params, char *err, size_t errlen)
{
	/* Keys are the quoted strings followed by ':' in the flat step object. */
	for (const char *p = strchr(params, '"'); p != NULL; p = strchr(p, '"')) {
		const char *end = strchr(p + 1, '"');
		if (end == NULL)
			break;
		if (end[1] == ':' && strncmp(p, "\"op\"", 4) != 0 &&
		    strncmp(p, "\"index\"", 7) != 0) {
			snprintf(err, errlen, "zscore takes no parameters (got %.*s)",
				 (int)(end - p + 1), p);
			return 1;
		}
		p = end + 1;
	}
	return 0;
}

static int
zscore_run(struct neurodag_channel *ch, const char *params, char *err, size_t errlen)
{
	double mean = 0, var = 0, sd;

	if (ch->n < 2) {
		snprintf(err, errlen, "channel %s: fewer than 2 samples", ch->label);
		return 1;
	}
	for (size_t i = 0; i < ch->n; i++)
		mean += ch->samples[i];
	mean /= (double)ch->n;
	for (size_t i = 0; i < ch->n; i++)
		var += (ch->samples[i] - mean) * (ch->samples[i] - mean);
	sd = sqrt(var / (double)ch->n);
	for (size_t i = 0; i < ch->n; i++)
		ch->samples[i] = sd > 0 ? (ch->samples[i] - mean) / sd : 0.0;
	return 0;
}

static const struct neurodag_op zscore_op = {
    .abi = NEURODAG_OP_ABI,
    .name = "zscore",
    .flags = NEURODAG_OP_CHANNEL_WISE,
    .summary = "per-channel z-score",
    .validate = zscore_validate,
    .run = zscore_run,
};

const struct neurodag_op *const neurodag_op_table[] = {&zscore_op, NULL};
