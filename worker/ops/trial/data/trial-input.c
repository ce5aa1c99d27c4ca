/* Trial inputs: the input object's keys, the layout of a .spy container or of generated trials,
 * and block reads (a .spy hyperslab per trial; synthetic trials generated on the spot, each from
 * its own random stream, so a block never needs the rest of the set). EDF epochs are in
 * trial-input-edf.c. */
#include "worker/ops/trial/data/trial-input.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/xmalloc.h"
#include "worker/io/io-spy-read.h"
#include "worker/ops/trial/data/trial-input-edf.h"
#include "worker/ops/trial/data/trial-run.h"
#include "worker/ops/spec/op-def.h"
#include "worker/ops/spec/op-param.h"
#include "worker/synth/synth-trials.h"

enum trial_input_kind {
	TRIAL_INPUT_SPY,
	TRIAL_INPUT_SYNTH,
	TRIAL_INPUT_EDF,
};

struct trial_input {
	enum trial_input_kind kind;
	struct trial_layout lay;
	struct io_spy_read *spy;
	struct synth_trials_gen gen;
	struct synth_trials_shape shape;
	double *adj;
	double *scratch; /* synth: one block of whole trials */
	size_t nscratch;
	float *rows; /* spy: one whole-width trial */
	size_t nrows;
	struct trial_input_edf *edf;
};

int
trial_input_claims(const json_t *input)
{
	const char *format = json_string_value(json_object_get(input, "format"));

	if (format == NULL)
		return 0;
	if (strcmp(format, "spy") == 0 || strcmp(format, "synth") == 0)
		return 1;
	return strcmp(format, "edf") == 0 && json_object_get(input, "trials") != NULL;
}

static void
trial_input_default_labels(struct trial_layout *lay)
{
	int width = snprintf(NULL, 0, "%zu", lay->nchan);

	lay->channel = xcalloc(lay->nchan, sizeof *lay->channel);
	for (size_t c = 0; c < lay->nchan; c++)
		lay->channel[c] = xasprintf("channel%0*zu", width, c + 1);
}

static int
trial_input_spy(struct trial_input *in, const json_t *input, unsigned flags, char **cause)
{
	static const char *const keys[] = {"format", "path", "checksum", NULL};
	const struct io_spy_read_info *info;
	struct trial_layout *lay = &in->lay;
	const char *path;
	json_t *ck = json_object_get(input, "checksum");
	int rc;

	if (op_param_keys(input, "input", keys, cause) != 0 ||
	    op_param_string(input, "input", "path", 1, NULL, &path, cause) != 0)
		return -EINVAL;
	if (ck != NULL && !json_is_boolean(ck))
		return error_set(cause, -EINVAL, "input.checksum: must be true or false");
	/* As the reference's spy.load: no check unless asked ("checksum": true, at submit). */
	if (!(flags & TRIAL_INPUT_VERIFY) || !json_is_true(ck))
		flags = IO_SPY_READ_NO_CHECKSUM;
	else
		flags = IO_SPY_READ_CHECKSUM_WARN;
	trial_run_h5_lock();
	rc = io_spy_read_open(&in->spy, path, flags, cause);
	trial_run_h5_unlock();
	if (rc != 0)
		return error_wrap(cause, rc, "input.path: ");
	info = io_spy_read_info(in->spy);
	lay->fs = info->samplerate;
	lay->ntrials = info->ntrials;
	lay->nchan = (size_t)info->nchan;
	lay->len = xcalloc(lay->ntrials, sizeof *lay->len);
	lay->offset = xcalloc(lay->ntrials, sizeof *lay->offset);
	lay->nextra = info->trl_cols - 3;
	lay->extra = xcalloc(lay->ntrials * lay->nextra + 1, sizeof *lay->extra);
	for (size_t t = 0; t < lay->ntrials; t++) {
		const double *row = info->trl + t * info->trl_cols;
		lay->len[t] = (size_t)(row[1] - row[0]);
		lay->offset[t] = row[2];
		memcpy(lay->extra + t * lay->nextra, row + 3, lay->nextra * sizeof *row);
		if (lay->len[t] == 0)
			return error_set(cause, -EINVAL, "input.path: trial %zu of %s is empty", t,
					 info->path);
	}
	lay->channel = xcalloc(lay->nchan, sizeof *lay->channel);
	for (size_t c = 0; c < lay->nchan; c++)
		lay->channel[c] = xstrdup(info->channel[c]);
	return 0;
}

/* AR(2) coupling: "adjacency" is nchan rows of nchan numbers (from row channel to column). */
static int
trial_input_adjacency(struct trial_input *in, const json_t *v, char **cause)
{
	size_t n = in->shape.nchan;

	if (v == NULL)
		return 0;
	if (!json_is_array(v) || json_array_size(v) != n)
		return error_set(cause, -EINVAL, "input.adjacency: must be %zu rows of %zu numbers",
				 n, n);
	in->adj = xcalloc(n * n, sizeof *in->adj);
	for (size_t i = 0; i < n; i++) {
		json_t *row = json_array_get(v, i);
		if (!json_is_array(row) || json_array_size(row) != n)
			return error_set(cause, -EINVAL,
					 "input.adjacency[%zu]: must be %zu numbers", i, n);
		for (size_t j = 0; j < n; j++) {
			json_t *x = json_array_get(row, j);
			if (!json_is_number(x))
				return error_set(cause, -EINVAL,
						 "input.adjacency[%zu][%zu]: must be a number", i,
						 j);
			in->adj[i * n + j] = json_number_value(x);
		}
	}
	in->gen.adj = in->adj;
	return 0;
}

static int
trial_input_synth(struct trial_input *in, const json_t *input, char **cause)
{
	static const char *const keys[] = {"format",   "synth",      "trials",    "samples",
					   "channels", "samplerate", "seed",      "sigma",
					   "freq",     "amplitude",  "eps",       "rand_ini",
					   "alpha1",   "alpha2",     "adjacency", NULL};
	struct trial_layout *lay = &in->lay;
	const char *name;
	enum synth_trials_kind kind;
	long long nt, ns, nc, seed;
	json_t *ri = json_object_get(input, "rand_ini");
	struct synth_trials_gen *g = &in->gen;

	if (op_param_keys(input, "input", keys, cause) != 0 ||
	    op_param_string(input, "input", "synth", 1, NULL, &name, cause) != 0)
		return -EINVAL;
	if (synth_trials_kind_parse(name, &kind, cause) != 0)
		return error_wrap(cause, -EINVAL, "input.synth: ");
	synth_trials_gen_init(g, kind);
	if (op_param_int(input, "input", "trials", 1, 1, 10000000, 0, &nt, cause) != 0 ||
	    op_param_int(input, "input", "samples", 1, 1, 100000000, 0, &ns, cause) != 0 ||
	    op_param_int(input, "input", "channels", 0, 1, 100000, 2, &nc, cause) != 0 ||
	    op_param_number(input, "input", "samplerate", 1, 1e-6, 1e9, 0, &in->shape.samplerate,
			    cause) != 0 ||
	    op_param_int(input, "input", "seed", 0, 0, INT64_MAX, 42, &seed, cause) != 0 ||
	    op_param_number(input, "input", "sigma", 0, 0, 1e30, g->sigma, &g->sigma, cause) != 0 ||
	    op_param_number(input, "input", "freq", 0, 0, 1e9, g->freq, &g->freq, cause) != 0 ||
	    op_param_number(input, "input", "amplitude", 0, -1e30, 1e30, g->amplitude,
			    &g->amplitude, cause) != 0 ||
	    op_param_number(input, "input", "eps", 0, 0, 1e9, g->eps, &g->eps, cause) != 0 ||
	    op_param_number(input, "input", "alpha1", 0, -1e3, 1e3, g->alpha1, &g->alpha1, cause) !=
		0 ||
	    op_param_number(input, "input", "alpha2", 0, -1e3, 1e3, g->alpha2, &g->alpha2, cause) !=
		0)
		return -EINVAL;
	if (ri != NULL && !json_is_boolean(ri))
		return error_set(cause, -EINVAL, "input.rand_ini: must be true or false");
	g->rand_ini = json_is_true(ri);
	in->shape.ntrials = (size_t)nt;
	in->shape.nsamples = (size_t)ns;
	in->shape.nchan = (size_t)nc;
	in->shape.seed = (uint64_t)seed;
	if ((uint64_t)nt * (uint64_t)ns * (uint64_t)nc > (1ull << 36))
		return error_set(cause, -EINVAL,
				 "input: %lld trials × %lld samples × %lld channels "
				 "is too large",
				 nt, ns, nc);
	if (trial_input_adjacency(in, json_object_get(input, "adjacency"), cause) != 0)
		return -EINVAL;
	if (synth_trials_gen_check(g, &in->shape, cause) != 0)
		return error_wrap(cause, -EINVAL, "input: ");
	lay->fs = in->shape.samplerate;
	lay->ntrials = in->shape.ntrials;
	lay->nchan = in->shape.nchan;
	lay->len = xcalloc(lay->ntrials, sizeof *lay->len);
	lay->offset = xcalloc(lay->ntrials, sizeof *lay->offset);
	lay->extra = xcalloc(1, sizeof *lay->extra);
	for (size_t t = 0; t < lay->ntrials; t++)
		lay->len[t] = in->shape.nsamples;
	trial_input_default_labels(lay);
	return 0;
}

int
trial_input_open(const json_t *input, unsigned flags, struct trial_input **out, char **cause)
{
	struct trial_input *in = xcalloc(1, sizeof *in);
	const char *format = json_string_value(json_object_get(input, "format"));
	int rc;

	*out = NULL;
	if (format == NULL || !trial_input_claims(input)) {
		free(in);
		return error_set(cause, -EINVAL, "input.format: not a trial input");
	}
	if (strcmp(format, "spy") == 0) {
		in->kind = TRIAL_INPUT_SPY;
		rc = trial_input_spy(in, input, flags, cause);
	} else if (strcmp(format, "synth") == 0) {
		in->kind = TRIAL_INPUT_SYNTH;
		rc = trial_input_synth(in, input, cause);
	} else {
		in->kind = TRIAL_INPUT_EDF;
		rc = trial_input_edf_open(input, &in->lay, &in->edf, cause);
	}
	if (rc != 0) {
		trial_input_close(in);
		return rc;
	}
	*out = in;
	return 0;
}

const struct trial_layout *
trial_input_layout(const struct trial_input *in)
{
	return &in->lay;
}

static int
trial_input_read_synth(struct trial_input *in, size_t trial0, size_t ntr, size_t chan0, size_t nch,
		       double *buf, char **cause)
{
	size_t ns = in->shape.nsamples, nc = in->shape.nchan, need = ntr * ns * nc;
	int rc;

	if (chan0 == 0 && nch == nc)
		return synth_trials_gen_block(&in->gen, &in->shape, trial0, ntr, buf, cause);
	/* Every channel of a trial comes from one stream: generate whole trials, keep a slice. */
	if (need > in->nscratch) {
		free(in->scratch);
		in->scratch = xreallocarray(NULL, need, sizeof *in->scratch);
		in->nscratch = need;
	}
	if ((rc = synth_trials_gen_block(&in->gen, &in->shape, trial0, ntr, in->scratch, cause)) !=
	    0)
		return rc;
	for (size_t r = 0; r < ntr * ns; r++)
		memcpy(buf + r * nch, in->scratch + r * nc + chan0, nch * sizeof *buf);
	return 0;
}

enum dsp_trial_dtype
trial_input_dtype(const struct trial_input *in)
{
	if (in->kind == TRIAL_INPUT_SPY && io_spy_read_info(in->spy)->dtype == IO_SPY_FLOAT32)
		return DSP_TRIAL_F32;
	return DSP_TRIAL_F64;
}

/* float32 .spy data: HDF5 reads whole rows fastest, so a channel slice is read as whole-width
 * trials and cut here (a strided selection costs more than reading the other channels). */
static int
trial_input_read_spy_f32(struct trial_input *in, size_t trial0, size_t ntr, size_t chan0,
			 size_t nch, float *buf, char **cause)
{
	size_t nc = in->lay.nchan;
	int rc = 0;

	if (nch == nc)
		return io_spy_read_trials_f32(in->spy, trial0, ntr, 0, nc, buf, cause);
	for (size_t t = trial0; t < trial0 + ntr && rc == 0; t++) {
		size_t n = in->lay.len[t];
		if (n * nc > in->nrows) {
			free(in->rows);
			in->rows = xreallocarray(NULL, n * nc, sizeof *in->rows);
			in->nrows = n * nc;
		}
		rc = io_spy_read_trials_f32(in->spy, t, 1, 0, nc, in->rows, cause);
		for (size_t r = 0; rc == 0 && r < n; r++)
			memcpy(buf + r * nch, in->rows + r * nc + chan0, nch * sizeof *buf);
		buf += n * nch;
	}
	return rc;
}

int
trial_input_read(struct trial_input *in, size_t trial0, size_t ntr, size_t chan0, size_t nch,
		 void *buf, char **cause)
{
	int rc;

	if (trial0 > in->lay.ntrials || ntr > in->lay.ntrials - trial0 || chan0 > in->lay.nchan ||
	    nch > in->lay.nchan - chan0)
		return error_set(cause, -EINVAL,
				 "trials [%zu, +%zu) × channels [%zu, +%zu) are "
				 "outside the input's %zu × %zu",
				 trial0, ntr, chan0, nch, in->lay.ntrials, in->lay.nchan);
	switch (in->kind) {
	case TRIAL_INPUT_SPY:
		trial_run_h5_lock();
		if (trial_input_dtype(in) == DSP_TRIAL_F32)
			rc = trial_input_read_spy_f32(in, trial0, ntr, chan0, nch, buf, cause);
		else
			rc = io_spy_read_trials(in->spy, trial0, ntr, chan0, nch, buf, cause);
		trial_run_h5_unlock();
		return rc;
	case TRIAL_INPUT_SYNTH:
		return trial_input_read_synth(in, trial0, ntr, chan0, nch, buf, cause);
	case TRIAL_INPUT_EDF:
		return trial_input_edf_read(in->edf, &in->lay, trial0, ntr, chan0, nch, buf, cause);
	}
	return -EINVAL;
}

void
trial_input_close(struct trial_input *in)
{
	if (in == NULL)
		return;
	if (in->spy != NULL) {
		trial_run_h5_lock();
		io_spy_read_close(in->spy);
		trial_run_h5_unlock();
	}
	trial_input_edf_close(in->edf);
	trial_layout_fini(&in->lay);
	free(in->adj);
	free(in->scratch);
	free(in->rows);
	free(in);
}
