/* Reading a channel's samples straight from the data records of an EDF/BDF file that EDFlib has
 * opened and validated: the raw signal layout, matched against EDFlib's header, and pread of each
 * record's slice (or of whole blocks of records when slices are small). See io-edf-direct.h for
 * why this is not left to EDFlib. */
#include "worker/io/io-edf-direct.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/xmalloc.h"

/* Below this many bytes per record slice, whole blocks of records are read instead. */
#define IO_EDF_DIRECT_MIN_SLICE 256
#define IO_EDF_DIRECT_BLOCK     (1u << 20)

struct io_edf_direct_chan {
	size_t spr;    /* samples per record */
	size_t offset; /* byte offset of the slice inside a record */
	double bitvalue, phys_offset;
};

struct io_edf_direct {
	int fd;
	size_t bps; /* bytes per sample: 2 (EDF) or 3 (BDF) */
	size_t header_bytes, record_bytes;
	long long n_records;
	size_t n_channels;
	struct io_edf_direct_chan *chan;
};

long long
io_edf_raw_field(const char *raw, size_t len)
{
	char buf[32];

	memcpy(buf, raw, len);
	buf[len] = '\0';
	return strtoll(buf, NULL, 10);
}

/* The raw label, trailing spaces removed, into out (17 bytes). */
static void
io_edf_direct_label(const char *raw, char *out)
{
	size_t n = 16;

	memcpy(out, raw, 16);
	while (n > 0 && out[n - 1] == ' ')
		n--;
	out[n] = '\0';
}

static int
io_edf_direct_read_all(int fd, void *buf, size_t len, off_t at)
{
	size_t done = 0;

	while (done < len) {
		ssize_t got = pread(fd, (char *)buf + done, len - done, at + (off_t)done);

		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			return got < 0 ? -errno : -EIO;
		done += (size_t)got;
	}
	return 0;
}

/* Fill d->chan from the raw signal headers; 0 when they match EDFlib's view h. */
static int
io_edf_direct_layout(struct io_edf_direct *d, const char *sig, long long ns,
		     const struct io_edf_header *h)
{
	int plus = h->type == IO_EDF_TYPE_EDFPLUS || h->type == IO_EDF_TYPE_BDFPLUS;
	size_t offset = 0, out = 0;

	for (long long i = 0; i < ns; i++) {
		char label[17];
		long long spr = io_edf_raw_field(sig + ns * 216 + i * 8, 8);

		if (spr < 1)
			return -EINVAL;
		io_edf_direct_label(sig + i * 16, label);
		if (!(plus && (strcmp(label, "EDF Annotations") == 0 ||
			       strcmp(label, "BDF Annotations") == 0))) {
			const struct io_edf_channel *c;

			if (out >= h->n_channels)
				return -EINVAL;
			c = &h->channels[out];
			if (strcmp(label, c->label) != 0 ||
			    (long long)c->samples_per_record != spr || c->dig_max <= c->dig_min)
				return -EINVAL;
			d->chan[out].spr = (size_t)spr;
			d->chan[out].offset = offset;
			/* EDFlib's scaling, in its order of operations. */
			d->chan[out].bitvalue =
			    (c->phys_max - c->phys_min) / (double)(c->dig_max - c->dig_min);
			d->chan[out].phys_offset =
			    c->phys_max / d->chan[out].bitvalue - (double)c->dig_max;
			out++;
		}
		offset += (size_t)spr * d->bps;
	}
	d->record_bytes = offset;
	return out == h->n_channels ? 0 : -EINVAL;
}

struct io_edf_direct *
io_edf_direct_open(const char *path, const struct io_edf_header *h)
{
	struct io_edf_direct *d = xcalloc(1, sizeof *d);
	char raw[256], *sig = NULL;
	long long ns;

	d->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (d->fd < 0 || io_edf_direct_read_all(d->fd, raw, sizeof raw, 0) != 0)
		goto fail;
	ns = io_edf_raw_field(raw + 252, 4);
	if (ns < 1 || ns > 4096)
		goto fail;
	d->bps = h->type == IO_EDF_TYPE_BDF || h->type == IO_EDF_TYPE_BDFPLUS ? 3 : 2;
	d->header_bytes = 256 * (size_t)(ns + 1);
	d->n_records = h->n_records;
	d->n_channels = h->n_channels;
	d->chan = xcalloc(h->n_channels ? h->n_channels : 1, sizeof *d->chan);
	sig = xmalloc((size_t)ns * 256);
	if (io_edf_direct_read_all(d->fd, sig, (size_t)ns * 256, 256) != 0 ||
	    io_edf_direct_layout(d, sig, ns, h) != 0)
		goto fail;
	free(sig);
	return d;
fail:
	free(sig);
	io_edf_direct_close(d);
	return NULL;
}

void
io_edf_direct_close(struct io_edf_direct *d)
{
	if (d == NULL)
		return;
	if (d->fd >= 0)
		close(d->fd);
	free(d->chan);
	free(d);
}

/* Little-endian 16- or 24-bit two's complement samples to physical values. */
static void
io_edf_direct_convert(const unsigned char *p, size_t bps, size_t n,
		      const struct io_edf_direct_chan *c, double *out)
{
	for (size_t i = 0; i < n; i++, p += bps) {
		int32_t v;

		if (bps == 2) {
			v = (int16_t)(uint16_t)(p[0] | p[1] << 8);
		} else {
			uint32_t u = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16;

			v = (int32_t)(u ^ 0x800000u) - 0x800000;
		}
		out[i] = c->bitvalue * (c->phys_offset + (double)v);
	}
}

int
io_edf_direct_read(const struct io_edf_direct *d, size_t channel, size_t start, size_t n,
		   double *buf)
{
	const struct io_edf_direct_chan *c = &d->chan[channel];
	size_t slice = c->spr * d->bps, per_block, nrec, done = 0;
	int whole = slice < IO_EDF_DIRECT_MIN_SLICE;
	unsigned char *tmp;
	int rc = 0;

	/* Whole records when the slices are small, else one record's slice at a time. */
	per_block = whole ? IO_EDF_DIRECT_BLOCK / d->record_bytes : 1;
	if (per_block == 0)
		per_block = 1;
	tmp = xmalloc(whole ? per_block * d->record_bytes : slice);
	while (done < n && rc == 0) {
		size_t s = start + done, rec = s / c->spr, within = s % c->spr;
		off_t at = (off_t)d->header_bytes + (off_t)rec * (off_t)d->record_bytes;

		if ((long long)rec >= d->n_records) {
			rc = -EIO;
			break;
		}
		if (!whole) {
			size_t take = c->spr - within < n - done ? c->spr - within : n - done;

			rc = io_edf_direct_read_all(d->fd, tmp, take * d->bps,
						    at + (off_t)(c->offset + within * d->bps));
			if (rc == 0)
				io_edf_direct_convert(tmp, d->bps, take, c, buf + done);
			done += take;
			continue;
		}
		nrec = per_block;
		if ((long long)(rec + nrec) > d->n_records)
			nrec = (size_t)(d->n_records - (long long)rec);
		rc = io_edf_direct_read_all(d->fd, tmp, nrec * d->record_bytes, at);
		for (size_t r = 0; rc == 0 && r < nrec && done < n; r++) {
			size_t take = c->spr - within < n - done ? c->spr - within : n - done;

			io_edf_direct_convert(tmp + r * d->record_bytes + c->offset +
						  within * d->bps,
					      d->bps, take, c, buf + done);
			done += take;
			within = 0;
		}
	}
	free(tmp);
	return rc;
}
