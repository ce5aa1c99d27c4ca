/* The recording-reader interface: the table of formats with their extensions, the recording
 * handle the readers fill, and the checks every channel read goes through before its format's
 * reader. Opening (io-rec-open.c) picks the reader. */
#include "worker/io/rec/io-rec.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/error.h"
#include "common/xmalloc.h"
#include "worker/io/io-edf.h"

struct io_rec {
	struct io_rec_header hdr;
	const struct io_rec_ops *ops;
	void *impl;
};

static const struct {
	const char *name;
	const char *ext;
	enum io_rec_format format;
} io_rec_formats[] = {
    {"edf", ".edf", IO_REC_EDF},
    {"bdf", ".bdf", IO_REC_BDF},
    {"brainvision", ".vhdr", IO_REC_BRAINVISION},
    {"eeglab", ".set", IO_REC_EEGLAB},
};
#define IO_REC_NFORMATS (sizeof io_rec_formats / sizeof io_rec_formats[0])

int
io_rec_format_parse(const char *name, enum io_rec_format *out)
{
	for (size_t i = 0; name != NULL && i < IO_REC_NFORMATS; i++)
		if (strcmp(name, io_rec_formats[i].name) == 0) {
			*out = io_rec_formats[i].format;
			return 0;
		}
	return -EINVAL;
}

const char *
io_rec_format_name(enum io_rec_format f)
{
	for (size_t i = 0; i < IO_REC_NFORMATS; i++)
		if (io_rec_formats[i].format == f)
			return io_rec_formats[i].name;
	return "unknown";
}

const char *
io_rec_format_from_path(const char *path)
{
	const char *dot = path != NULL ? strrchr(path, '.') : NULL;

	if (dot == NULL || strchr(dot, '/') != NULL)
		return NULL;
	for (size_t i = 0; i < IO_REC_NFORMATS; i++)
		if (strcasecmp(dot, io_rec_formats[i].ext) == 0)
			return io_rec_formats[i].name;
	return NULL;
}

struct io_rec *
io_rec_new(const char *path, enum io_rec_format format)
{
	struct io_rec *r = xcalloc(1, sizeof *r);

	r->hdr.path = xstrdup(path);
	r->hdr.format = format;
	return r;
}

struct io_rec_header *
io_rec_header_mut(struct io_rec *r)
{
	return &r->hdr;
}

void
io_rec_set_impl(struct io_rec *r, const struct io_rec_ops *ops, void *impl)
{
	r->ops = ops;
	r->impl = impl;
}

void
io_rec_header_fini(struct io_rec_header *h)
{
	for (size_t i = 0; i < h->n_annotations; i++)
		free(h->annotations[i].text);
	free(h->annotations);
	free(h->channels);
	free(h->path);
	memset(h, 0, sizeof *h);
}

void
io_rec_close(struct io_rec *r)
{
	if (r == NULL)
		return;
	if (r->ops != NULL && r->ops->close != NULL)
		r->ops->close(r->impl);
	io_rec_header_fini(&r->hdr);
	free(r);
}

const struct io_rec_header *
io_rec_header(const struct io_rec *r)
{
	return &r->hdr;
}

void
io_rec_channel_unit(struct io_rec_channel *c, const char *unit)
{
	double s = io_edf_volt_scale(unit);

	snprintf(c->unit, sizeof c->unit, "%s", unit);
	c->is_voltage = s != 0;
	c->volt_scale = s != 0 ? s : 1.0;
}

int
io_rec_channel_find(const struct io_rec_header *h, const char *label)
{
	size_t n;

	while (*label == ' ')
		label++;
	n = strlen(label);
	while (n > 0 && label[n - 1] == ' ')
		n--;
	for (size_t i = 0; i < h->n_channels; i++) {
		const char *l = h->channels[i].label;
		size_t m;

		while (*l == ' ')
			l++;
		m = strlen(l);
		while (m > 0 && l[m - 1] == ' ')
			m--;
		if (m == n && memcmp(l, label, n) == 0)
			return (int)i;
	}
	return -ENOENT;
}

int
io_rec_read_range(struct io_rec *r, size_t channel, size_t start, size_t n, double *buf,
		  char **cause)
{
	const struct io_rec_header *h = &r->hdr;
	int rc;

	if (channel >= h->n_channels)
		return error_set(cause, -EINVAL, "%s: no channel %zu (%zu channels)", h->path,
				 channel, h->n_channels);
	if (start > h->channels[channel].n_samples || n > h->channels[channel].n_samples - start)
		return error_set(cause, -EINVAL,
				 "%s: channel %s: samples [%zu, %zu) are past its %zu samples",
				 h->path, h->channels[channel].label, start, start + n,
				 h->channels[channel].n_samples);
	if (n == 0)
		return 0;
	if ((rc = r->ops->read_range(r->impl, h, channel, start, n, buf, cause)) != 0)
		return rc;
	/* Whatever the format (float data can hold them): nothing downstream takes them. */
	for (size_t i = 0; i < n; i++)
		if (!isfinite(buf[i]))
			return error_set(cause, -EINVAL,
					 "%s: channel %s: sample %zu is not a finite number (%s)",
					 h->path, h->channels[channel].label, start + i,
					 isnan(buf[i]) ? "NaN" : "infinite");
	return 0;
}

int
io_rec_read_channel(struct io_rec *r, size_t channel, double **out, size_t *n, char **cause)
{
	size_t len;
	int rc;

	*out = NULL;
	*n = 0;
	if (channel >= r->hdr.n_channels)
		return error_set(cause, -EINVAL, "%s: no channel %zu (%zu channels)", r->hdr.path,
				 channel, r->hdr.n_channels);
	len = r->hdr.channels[channel].n_samples;
	*out = xmalloc((len > 0 ? len : 1) * sizeof **out);
	if ((rc = io_rec_read_range(r, channel, 0, len, *out, cause)) != 0) {
		free(*out);
		*out = NULL;
		return rc;
	}
	*n = len;
	return 0;
}
