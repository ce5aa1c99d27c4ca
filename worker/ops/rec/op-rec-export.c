/* The export_edf step (global): streams every channel as the pipeline left it (corrected, or
 * passed through) into an EDF+ or BDF+ record by record, or into BrainVision a block at a time,
 * from the mapped per-channel arrays, with the input's annotations (and one per trigger that
 * complete_triggers found) and start time; and sums the tasks' per-op timings into the
 * report. */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "common/log.h"
#include "common/paths.h"
#include "common/xmalloc.h"
#include "common/xsort.h"
#include "worker/io/io-edf.h"
#include "worker/io/rec/io-brainvision.h"
#include "worker/ops/rec/op-rec.h"
#include "worker/ops/rec/data/rec-out.h"

static int
op_rec_export_parse(const json_t *step, const char *path, void *params, char **cause)
{
	static const char *const keys[] = {"path", NULL};
	struct op_rec_export_params *p = params;

	if (op_param_keys(step, path, keys, cause) != 0 ||
	    op_param_string(step, path, "path", 0, NULL, &p->path, cause) != 0)
		return -EINVAL;
	return 0;
}

struct op_rec_export_src {
	struct rec_out *ch;
	size_t nch;
	struct io_rec_annotation *ann; /* the input's and the completed triggers' */
	size_t nann;
};

static int
op_rec_export_cmp_onset(const void *a, const void *b)
{
	double x = ((const struct io_rec_annotation *)a)->onset;
	double y = ((const struct io_rec_annotation *)b)->onset;

	return (x > y) - (x < y);
}

/* The input's annotations and those of the triggers complete_triggers found, by onset. */
static void
op_rec_export_annotations(struct op_run *run, struct op_rec_export_src *src)
{
	const struct io_rec_header *h = run->rec->hdr;
	struct io_rec_annotation *done;
	size_t nd = op_rec_completed_annotations(run, &done);

	src->nann = h->n_annotations + nd;
	src->ann = xcalloc(src->nann + 1, sizeof *src->ann);
	if (h->n_annotations > 0)
		memcpy(src->ann, h->annotations, h->n_annotations * sizeof *src->ann);
	if (nd > 0) {
		memcpy(src->ann + h->n_annotations, done, nd * sizeof *done);
		xqsort(src->ann, src->nann, sizeof *src->ann, op_rec_export_cmp_onset);
	}
	free(done);
}

static int
op_rec_export_cb(void *arg, size_t channel, size_t start, size_t n, double *out, char **cause)
{
	const struct rec_out *o = &((struct op_rec_export_src *)arg)->ch[channel];
	size_t k = start < o->n ? (o->n - start < n ? o->n - start : n) : 0;

	memcpy(out, o->x + start, k * sizeof *out);
	memset(out + k, 0, (n - k) * sizeof *out);
	return 0;
}

/* {"op": value} over every task's file in the work dir's `what` folder: seconds summed
 * (timing), or the largest peak (memory). */
static json_t *
op_rec_export_timing(const char *workdir, const char *what)
{
	char *dir = xasprintf("%s/%s", workdir, what);
	bool largest = strcmp(what, "memory") == 0;
	DIR *d = opendir(dir);
	json_t *sum = json_object();
	struct dirent *e;

	while (d != NULL && (e = readdir(d)) != NULL) {
		char *p;
		json_t *t, *v;
		const char *k;

		if (e->d_name[0] == '.')
			continue;
		p = xasprintf("%s/%s", dir, e->d_name);
		t = json_load_file(p, 0, NULL);
		free(p);
		json_object_foreach(t, k, v)
		{
			json_t *s = json_object_get(sum, k);
			double a = s ? json_number_value(s) : 0, b = json_number_value(v);

			json_object_set_new(sum, k, json_real(largest ? (a > b ? a : b) : a + b));
		}
		json_decref(t);
	}
	if (d != NULL)
		closedir(d);
	free(dir);
	return sum;
}

/* Write beside the target and rename: a retried task never leaves half a file. */
static int
op_rec_export_to_edf(struct op_run *run, const char *path, const char *fmt,
		     struct op_rec_export_src *src, char **cause)
{
	const struct io_rec_header *h = run->rec->hdr;
	struct io_edf_writer_channel *wc = xcalloc(src->nch, sizeof *wc);
	struct io_edf_annotation *an = xcalloc(src->nann + 1, sizeof *an);
	struct io_edf_writer_spec spec = {0};
	char *tmp;
	int rc;

	for (size_t c = 0; c < src->nch; c++) {
		wc[c].label = src->ch[c].label;
		wc[c].rate = src->ch[c].fs;
		wc[c].n_samples = src->ch[c].n;
		wc[c].dimension = h->channels[c].is_voltage ? "uV" : h->channels[c].unit;
		wc[c].transducer = h->channels[c].transducer;
		wc[c].prefilter = h->channels[c].prefilter;
	}
	for (size_t i = 0; i < src->nann; i++)
		an[i] = (struct io_edf_annotation){src->ann[i].onset, src->ann[i].duration,
						   src->ann[i].text};
	spec.type =
	    fmt != NULL && strcmp(fmt, "bdf") == 0 ? IO_EDF_TYPE_BDFPLUS : IO_EDF_TYPE_EDFPLUS;
	spec.n_channels = src->nch;
	spec.channels = wc;
	spec.n_annotations = src->nann;
	spec.annotations = an;
	spec.start_year = h->start_year;
	spec.start_month = h->start_month;
	spec.start_day = h->start_day;
	spec.start_hour = h->start_hour;
	spec.start_minute = h->start_minute;
	spec.start_second = h->start_second;
	spec.patient_code = h->patient_code;
	spec.gender = h->gender;
	spec.birthdate = h->birthdate;
	spec.patient_name = h->patient_name;
	spec.patient_additional = h->patient_additional;
	spec.admincode = h->admincode;
	spec.technician = h->technician;
	spec.equipment = h->equipment;
	/* The input's own note is kept; a recording without one says what made the file. */
	spec.recording_additional =
	    h->recording_additional[0] != '\0' ? h->recording_additional : "corrected by neurodag";
	tmp = paths_hidden_temp(path, spec.type == IO_EDF_TYPE_BDFPLUS ? "bdf" : "edf");
	rc = io_edf_write(tmp, &spec, op_rec_export_cb, src, cause);
	rc = paths_publish(tmp, path, rc, PATHS_OUTPUT, cause);
	free(tmp);
	free(an);
	free(wc);
	return rc;
}

/* BrainVision: one rate for all channels; IEEE_FLOAT_32 unless output.binary_format says
 * INT_16. The writer renames its own three files into place. */
static int
op_rec_export_to_brainvision(struct op_run *run, const char *path, const json_t *output,
			     struct op_rec_export_src *src, char **cause)
{
	const struct io_rec_header *h = run->rec->hdr;
	const char *bf = json_string_value(json_object_get(output, "binary_format"));
	struct io_brainvision_writer_channel *wc = xcalloc(src->nch, sizeof *wc);
	struct io_brainvision_spec spec = {
	    .n_channels = src->nch,
	    .channels = wc,
	    .rate = src->ch[0].fs,
	    .n_samples = src->ch[0].n,
	    .type = bf != NULL && strcmp(bf, "INT_16") == 0 ? IO_REC_INT16 : IO_REC_FLOAT32,
	    .n_annotations = src->nann,
	    .annotations = src->ann,
	    .start_year = h->start_year,
	    .start_month = h->start_month,
	    .start_day = h->start_day,
	    .start_hour = h->start_hour,
	    .start_minute = h->start_minute,
	    .start_second = h->start_second};
	int rc = 0;

	for (size_t c = 0; c < src->nch && rc == 0; c++) {
		wc[c].label = src->ch[c].label;
		wc[c].unit = h->channels[c].is_voltage ? NULL : h->channels[c].unit;
		if (src->ch[c].fs != spec.rate || src->ch[c].n != spec.n_samples)
			rc = error_set(cause, -EINVAL,
				       "BrainVision holds channels of one rate and length: %s has "
				       "%zu samples at %g Hz, %s %zu at %g Hz",
				       src->ch[0].label, spec.n_samples, spec.rate,
				       src->ch[c].label, src->ch[c].n, src->ch[c].fs);
	}
	if (rc == 0)
		rc = io_brainvision_write(path, &spec, op_rec_export_cb, src, cause);
	free(wc);
	return rc;
}

static int
op_rec_export_run(struct op_run *run, const json_t *step, char **cause)
{
	struct rec_task *r = run->rec;
	const json_t *output = run->spec.stage.output;
	const char *path = ((const struct op_rec_export_params *)run->params)->path;
	const char *fmt = json_string_value(json_object_get(output, "format"));
	struct op_rec_export_src src = {0};
	int rc = 0;

	if (path == NULL)
		path = json_string_value(json_object_get(output, "path"));
	if (path == NULL)
		return error_set(cause, -EINVAL, "steps[%ld]: no output path (set output.path)",
				 op_rec_step_index(step));
	if (fmt == NULL)
		fmt = io_rec_format_from_path(path);
	src.nch = r->hdr->n_channels;
	src.ch = xcalloc(src.nch, sizeof *src.ch);
	for (size_t c = 0; c < src.nch && rc == 0; c++)
		rc = rec_out_open(run, c, &src.ch[c], cause);
	op_rec_export_annotations(run, &src);
	if (rc == 0 && fmt != NULL && strcmp(fmt, "brainvision") == 0)
		rc = op_rec_export_to_brainvision(run, path, output, &src, cause);
	else if (rc == 0)
		rc = op_rec_export_to_edf(run, path, fmt, &src, cause);
	for (size_t c = 0; c < src.nch; c++)
		rec_out_close(&src.ch[c]);
	free(src.ch);
	free(src.ann);
	if (rc != 0)
		return error_wrap(cause, rc, "output %s: ", path);
	op_rec_result_set(run, "output", json_string(path));
	op_rec_result_set(run, "timing_s", op_rec_export_timing(run->spec.stage.workdir, "timing"));
	op_rec_result_set(run, "peak_rss_mb",
			  op_rec_export_timing(run->spec.stage.workdir, "memory"));
	return 0;
}

const struct op_rec op_rec_export_edf = {
    .def = OP_REC_DEF(
	"export_edf", OP_GLOBAL,
	"write the corrected recording as EDF+, BDF+ or BrainVision (output.format), annotations "
	"kept",
	struct op_rec_export_params, op_rec_export_parse),
    .task = op_rec_export_run,
};
