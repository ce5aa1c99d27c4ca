/* Slice-trigger trains from the data (run once on the reference channel): slice_triggers turns
 * volume triggers into slice triggers (a no-op on slice triggers), complete_triggers finds the
 * slice triggers the recording misses; and the annotations the export writes for the completed
 * ones. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/log.h"
#include "common/xmalloc.h"
#include "common/xsort.h"
#include "worker/dsp/fmri/dsp-trigger.h"
#include "worker/ops/rec/op-rec.h"

static int
op_rec_slices_parse(const json_t *step, const char *path, void *params, char **cause)
{
	static const char *const keys[] = {"slices", "spacing", "min_corr", NULL};
	struct op_rec_slices_params *p = params;
	long long slices;
	double spacing;

	dsp_trigger_gen_params_init(&p->gen);
	if (op_param_keys(step, path, keys, cause) != 0 ||
	    op_param_int(step, path, "slices", 0, 0, 10000, 0, &slices, cause) != 0 ||
	    op_param_number(step, path, "spacing", 0, 0, 100, 0, &spacing, cause) != 0 ||
	    op_param_number(step, path, "min_corr", 0, 0.1, 0.99, 0.8, &p->gen.min_corr, cause) !=
		0)
		return -EINVAL;
	if (slices == 1)
		return error_set(cause, -EINVAL,
				 "%s.slices: 1 slice per volume is a slice trigger already; give "
				 "2 or more, or 0 to count them",
				 path);
	p->gen.slices = (size_t)slices;
	p->gen.spacing = spacing; /* seconds here; samples once the rate is known */
	return 0;
}

/* Replace the channel's triggers by t[0..n) (owned), recomputing L and the volume gaps. */
static int
op_rec_slices_adopt(struct rec_epochs *e, int64_t *t, size_t n, long step, char **cause)
{
	struct dsp_trigger_info info;
	int rc = dsp_trigger_analyze(t, n, &info, cause);

	if (rc != 0) {
		free(t);
		return rc;
	}
	free(e->t);
	free(e->t_sub);
	e->t = t;
	e->t_sub = NULL;
	e->n = n;
	e->L = info.artifact_len;
	e->slices_per_volume = info.slices_per_volume;
	e->volume_gaps = info.volume_gaps;
	e->step = step;
	return 0;
}

static int
op_rec_slices_cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* The median interval between the triggers, samples. */
static double
op_rec_slices_period(const struct rec_epochs *e)
{
	int64_t *d = xmalloc(e->n * sizeof *d), m;

	for (size_t i = 0; i + 1 < e->n; i++)
		d[i] = e->t[i + 1] - e->t[i];
	xqsort(d, e->n - 1, sizeof *d, op_rec_slices_cmp);
	m = d[(e->n - 1) / 2];
	free(d);
	return (double)m;
}

static int
op_rec_slices_run(struct op_run *run, struct rec_chan *c, const json_t *step, char **cause)
{
	const struct op_rec_slices_params *p = run->params;
	struct dsp_trigger_gen_params gp = p->gen;
	struct dsp_trigger_gen_result res;
	struct rec_epochs *e = &c->epochs;
	int64_t *t;
	size_t n;
	int rc;

	gp.spacing = p->gen.spacing * c->fs;
	if ((rc = dsp_trigger_gen_estimate(c->x, c->n, c->fs, e->t, e->n, &gp, &res, cause)) != 0)
		return rc;
	if (res.volumes && res.spacing <= 0) /* slices given, no periodicity: even spacing */
		res.spacing = op_rec_slices_period(e) / (double)res.slices;
	op_rec_result_set(run, "slice_triggers",
			  json_pack("{s:b, s:I, s:f, s:f}", "volumes", res.volumes, "slices",
				    (json_int_t)res.slices, "spacing_s", res.spacing / c->fs,
				    "corr", res.corr));
	if (!res.volumes) {
		log_info("slice_triggers: %zu triggers are slice triggers (the artifact does not "
			 "repeat between them)",
			 e->n);
		return 0;
	}
	if ((rc = dsp_trigger_gen_slices(e->t, e->n, res.slices, res.spacing, c->n, &t, &n,
					 cause)) != 0)
		return rc;
	log_info("slice_triggers: %zu volumes of %zu slices %.4f s apart: %zu slice triggers", e->n,
		 res.slices, res.spacing / c->fs, n);
	return op_rec_slices_adopt(e, t, n, op_rec_step_index(step), cause);
}

static int
op_rec_slices_parse_complete(const json_t *step, const char *path, void *params, char **cause)
{
	static const char *const keys[] = {"min_corr", "search",     "template_epochs",
					   "edges",    "annotation", NULL};
	struct op_rec_complete_params *p = params;
	long long k;
	bool edges;

	dsp_trigger_fill_params_init(&p->fill);
	if (op_param_keys(step, path, keys, cause) != 0 ||
	    op_param_number(step, path, "min_corr", 0, 0.1, 0.999, 0.9, &p->fill.min_corr, cause) !=
		0 ||
	    op_param_number(step, path, "search", 0, 0, 0.45, 0.1, &p->fill.search, cause) != 0 ||
	    op_param_int(step, path, "template_epochs", 0, 1, 1000, 8, &k, cause) != 0 ||
	    op_param_bool(step, path, "edges", true, &edges, cause) != 0 ||
	    op_param_string(step, path, "annotation", 0, "completed_trigger", &p->annotation,
			    cause) != 0)
		return -EINVAL;
	p->fill.template_epochs = (size_t)k;
	p->fill.edges = edges;
	return 0;
}

static int
op_rec_slices_run_complete(struct op_run *run, struct rec_chan *c, const json_t *step, char **cause)
{
	const struct op_rec_complete_params *p = run->params;
	struct rec_epochs *e = &c->epochs;
	struct dsp_trigger_fill_result res;
	json_t *added = json_array();
	int rc;

	if (e->n < 3) {
		json_decref(added);
		return error_set(cause, -EINVAL, "complete_triggers: %zu triggers, 3 needed", e->n);
	}
	if ((rc = dsp_trigger_fill(c->x, c->n, e->t, e->n, rec_epochs_s0(e), &p->fill, &res,
				   cause)) != 0) {
		json_decref(added);
		return rc;
	}
	for (size_t i = 0; i < res.n_added; i++)
		json_array_append_new(added, json_integer(res.added[i]));
	op_rec_result_set(run, "completed_triggers",
			  json_pack("{s:I, s:f, s:I, s:s, s:f, s:f, s:I, s:I, s:f, s:o}", "step",
				    (json_int_t)op_rec_step_index(step), "fs", c->fs, "count",
				    (json_int_t)res.n_added, "annotation", p->annotation,
				    "spacing_s", res.spacing / c->fs, "boundary_s",
				    res.boundary / c->fs, "slices_per_volume",
				    (json_int_t)res.slices, "radius", (json_int_t)res.radius,
				    "threshold", res.threshold, "samples", added));
	log_info("complete_triggers: %zu triggers found in the data (%zu marked)", res.n_added,
		 e->n);
	if (res.n_added > 0) {
		rc = op_rec_slices_adopt(e, res.t, res.n, op_rec_step_index(step), cause);
		res.t = NULL;
	}
	dsp_trigger_fill_result_fini(&res);
	return rc;
}

size_t
op_rec_completed_annotations(const struct op_run *run, struct io_rec_annotation **out)
{
	const json_t *v;
	const char *key;
	size_t n = 0, cap = 0;

	*out = NULL;
	json_object_foreach((json_t *)run->deps, key, v)
	{
		const json_t *c = json_object_get(v, "completed_triggers"), *s;
		double fs = json_number_value(json_object_get(c, "fs"));
		const char *text = json_string_value(json_object_get(c, "annotation"));
		size_t i;

		if (!json_is_object(c) || !(fs > 0) || text == NULL)
			continue;
		json_array_foreach(json_object_get(c, "samples"), i, s)
		{
			if (n == cap)
				*out = xreallocarray(*out, cap = cap ? 2 * cap : 64, sizeof **out);
			(*out)[n++] = (struct io_rec_annotation){(double)json_integer_value(s) / fs,
								 -1, (char *)text};
		}
	}
	return n;
}

const struct op_rec op_rec_slice_triggers = {
    .def = OP_REC_DEF("slice_triggers", OP_RUN_ONCE,
		      "slice triggers from volume triggers: `slices` per volume and their "
		      "`spacing` (s) from the artifact's periodicity when not given (run once)",
		      struct op_rec_slices_params, op_rec_slices_parse),
    .flags = OP_REC_NEEDS_TRIGGERS,
    .chan = op_rec_slices_run,
};
const struct op_rec op_rec_complete_triggers = {
    .def = OP_REC_DEF("complete_triggers", OP_RUN_ONCE,
		      "find the slice triggers the recording misses by template correlation "
		      "(`min_corr`), annotated `annotation` in the output (run once)",
		      struct op_rec_complete_params, op_rec_slices_parse_complete),
    .flags = OP_REC_NEEDS_TRIGGERS,
    .chan = op_rec_slices_run_complete,
};
