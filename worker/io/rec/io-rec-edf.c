/* EDF/EDF+/BDF/BDF+ behind the recording-reader interface: the EDFlib-based reader's header
 * copied into the common one, its reads passed through. */
#include <stdio.h>
#include <string.h>

#include "common/xmalloc.h"
#include "worker/io/io-edf.h"
#include "worker/io/rec/io-rec.h"

static int
io_rec_edf_read(void *impl, const struct io_rec_header *h, size_t channel, size_t start, size_t n,
		double *buf, char **cause)
{
	return io_edf_read_range(impl, channel, start, n, buf, cause);
}

static void
io_rec_edf_close(void *impl)
{
	io_edf_close(impl);
}

static const struct io_rec_ops io_rec_edf_ops = {io_rec_edf_read, io_rec_edf_close};

static void
io_rec_edf_fill(struct io_rec_header *h, const struct io_edf_header *e)
{
	h->n_channels = e->n_channels;
	h->channels = xcalloc(e->n_channels > 0 ? e->n_channels : 1, sizeof *h->channels);
	for (size_t i = 0; i < e->n_channels; i++) {
		struct io_rec_channel *c = &h->channels[i];
		const struct io_edf_channel *ec = &e->channels[i];

		snprintf(c->label, sizeof c->label, "%s", ec->label);
		snprintf(c->unit, sizeof c->unit, "%s", ec->dimension);
		c->rate = ec->rate;
		c->n_samples = ec->n_samples;
		c->volt_scale = ec->volt_scale;
		c->is_voltage = ec->is_voltage;
		snprintf(c->transducer, sizeof c->transducer, "%s", ec->transducer);
		snprintf(c->prefilter, sizeof c->prefilter, "%s", ec->prefilter);
	}
	h->duration = e->duration;
	h->start_year = e->start_year;
	h->start_month = e->start_month;
	h->start_day = e->start_day;
	h->start_hour = e->start_hour;
	h->start_minute = e->start_minute;
	h->start_second = e->start_second;
	snprintf(h->patient_name, sizeof h->patient_name, "%s", e->patient_name);
	snprintf(h->equipment, sizeof h->equipment, "%s", e->equipment);
	snprintf(h->patient_code, sizeof h->patient_code, "%s", e->patient_code);
	snprintf(h->gender, sizeof h->gender, "%s", e->gender);
	snprintf(h->birthdate, sizeof h->birthdate, "%s", e->birthdate);
	snprintf(h->patient_additional, sizeof h->patient_additional, "%s", e->patient_additional);
	snprintf(h->admincode, sizeof h->admincode, "%s", e->admincode);
	snprintf(h->technician, sizeof h->technician, "%s", e->technician);
	snprintf(h->recording_additional, sizeof h->recording_additional, "%s",
		 e->recording_additional);
	h->n_annotations = e->n_annotations;
	h->annotations =
	    xcalloc(e->n_annotations > 0 ? e->n_annotations : 1, sizeof *h->annotations);
	for (size_t i = 0; i < e->n_annotations; i++) {
		h->annotations[i].onset = e->annotations[i].onset;
		h->annotations[i].duration = e->annotations[i].duration;
		h->annotations[i].text = xstrdup(e->annotations[i].text);
	}
}

int
io_rec_edf_open(const char *path, struct io_rec **out, char **cause)
{
	struct io_edf_file *f;
	const struct io_edf_header *e;
	struct io_rec *r;
	int rc = io_edf_open(path, &f, cause);

	*out = NULL;
	if (rc != 0)
		return rc;
	e = io_edf_header(f);
	r = io_rec_new(path, e->type == IO_EDF_TYPE_BDF || e->type == IO_EDF_TYPE_BDFPLUS
				 ? IO_REC_BDF
				 : IO_REC_EDF);
	io_rec_edf_fill(io_rec_header_mut(r), e);
	io_rec_set_impl(r, &io_rec_edf_ops, f);
	*out = r;
	return 0;
}
