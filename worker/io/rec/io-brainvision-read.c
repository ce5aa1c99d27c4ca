/* Reading a BrainVision recording: the .vhdr's fields checked one by one (each refusal names the
 * file, the field and its line), the .eeg's size checked against them, the .vmrk's markers as
 * annotations, and one channel read at a time through the interleaved-binary reader. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common/error.h"
#include "common/xmalloc.h"
#include "worker/io/rec/io-brainvision.h"

#define IO_BRAINVISION_MAX_CHANNELS 65536

struct io_brainvision {
	struct io_rec_binary bin;
	char *data_path;
	double *scale; /* per channel: raw value × scale = volts (or the channel's unit) */
};

static int
io_brainvision_read(void *impl, const struct io_rec_header *h, size_t channel, size_t start,
		    size_t n, double *buf, char **cause)
{
	struct io_brainvision *bv = impl;

	return io_rec_binary_read(&bv->bin, channel, start, n, bv->scale[channel], buf, cause);
}

static void
io_brainvision_close(void *impl)
{
	struct io_brainvision *bv = impl;

	if (bv == NULL)
		return;
	if (bv->bin.fd >= 0)
		close(bv->bin.fd);
	free(bv->data_path);
	free(bv->scale);
	free(bv);
}

static const struct io_rec_ops io_brainvision_ops = {io_brainvision_read, io_brainvision_close};

static int
io_brainvision_need(const struct io_brainvision_ini *ini, const char *section, const char *key,
		    const struct io_brainvision_entry **e, char **cause)
{
	*e = io_brainvision_ini_get(ini, section, key);
	if (*e == NULL)
		return error_set(cause, -EINVAL, "%s: [%s] %s: missing", ini->path, section, key);
	return 0;
}

/* A whole number in [lo, hi]. */
static int
io_brainvision_count(const struct io_brainvision_ini *ini, const struct io_brainvision_entry *e,
		     long long lo, long long hi, long long *out, char **cause)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(e->value, &end, 10);
	if (errno != 0 || end == e->value || *end != '\0' || v < lo || v > hi)
		return error_set(cause, -EINVAL,
				 "%s: line %d: %s: \"%.40s\" is not a whole number from %lld to "
				 "%lld",
				 ini->path, e->line, e->key, e->value, lo, hi);
	*out = v;
	return 0;
}

static int
io_brainvision_real(const char *s, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(s, &end);
	return errno == 0 && end != s && *end == '\0' && isfinite(*out) ? 0 : -EINVAL;
}

/* DataFile and MarkerFile are named relative to the header's folder. */
static char *
io_brainvision_sibling(const char *vhdr, const char *name)
{
	const char *slash = strrchr(vhdr, '/');

	if (name[0] == '/' || slash == NULL)
		return xstrdup(name);
	return xasprintf("%.*s/%s", (int)(slash - vhdr), vhdr, name);
}

/* The [Common Infos] and [Binary Infos] that say how the .eeg is laid out. */
static int
io_brainvision_layout(const struct io_brainvision_ini *ini, struct io_rec_binary *b, double *fs,
		      char **cause)
{
	static const struct {
		const char *name;
		enum io_rec_sample type;
	} types[] = {
	    {"INT_16", IO_REC_INT16}, {"INT_32", IO_REC_INT32}, {"IEEE_FLOAT_32", IO_REC_FLOAT32}};
	const struct io_brainvision_entry *e;
	const char *ci = "Common Infos";
	long long nch;
	size_t i;

	if ((e = io_brainvision_ini_get(ini, ci, "DataFormat")) != NULL &&
	    strcasecmp(e->value, "BINARY") != 0)
		return error_set(cause, strcasecmp(e->value, "ASCII") == 0 ? -ENOTSUP : -EINVAL,
				 "%s: line %d: DataFormat: \"%.40s\" is not supported (BINARY "
				 "only)",
				 ini->path, e->line, e->value);
	if ((e = io_brainvision_ini_get(ini, ci, "DataType")) != NULL &&
	    strcasecmp(e->value, "TIMEDOMAIN") != 0)
		return error_set(cause, -ENOTSUP,
				 "%s: line %d: DataType: \"%.40s\" is not supported (TIMEDOMAIN "
				 "only)",
				 ini->path, e->line, e->value);
	if (io_brainvision_need(ini, ci, "DataOrientation", &e, cause) != 0)
		return -EINVAL;
	if (strcasecmp(e->value, "MULTIPLEXED") != 0 && strcasecmp(e->value, "VECTORIZED") != 0)
		return error_set(cause, -EINVAL,
				 "%s: line %d: DataOrientation: \"%.40s\" (expected MULTIPLEXED "
				 "or VECTORIZED)",
				 ini->path, e->line, e->value);
	b->multiplexed = strcasecmp(e->value, "MULTIPLEXED") == 0;
	if (io_brainvision_need(ini, ci, "NumberOfChannels", &e, cause) != 0 ||
	    io_brainvision_count(ini, e, 1, IO_BRAINVISION_MAX_CHANNELS, &nch, cause) != 0)
		return -EINVAL;
	b->n_channels = (size_t)nch;
	if (io_brainvision_need(ini, ci, "SamplingInterval", &e, cause) != 0)
		return -EINVAL;
	if (io_brainvision_real(e->value, fs) != 0 || *fs <= 0 || *fs > 1e9)
		return error_set(cause, -EINVAL,
				 "%s: line %d: SamplingInterval: \"%.40s\" is not a positive "
				 "number of microseconds",
				 ini->path, e->line, e->value);
	*fs = 1e6 / *fs;
	if ((e = io_brainvision_ini_get(ini, "Binary Infos", "UseBigEndianOrder")) != NULL &&
	    strcasecmp(e->value, "NO") != 0)
		return error_set(cause, -ENOTSUP,
				 "%s: line %d: UseBigEndianOrder: big-endian data is not supported",
				 ini->path, e->line);
	if (io_brainvision_need(ini, "Binary Infos", "BinaryFormat", &e, cause) != 0)
		return -EINVAL;
	for (i = 0; i < sizeof types / sizeof types[0]; i++)
		if (strcasecmp(e->value, types[i].name) == 0)
			break;
	if (i == sizeof types / sizeof types[0])
		return error_set(cause, -ENOTSUP,
				 "%s: line %d: BinaryFormat: \"%.40s\" is not supported (INT_16, "
				 "INT_32 or IEEE_FLOAT_32)",
				 ini->path, e->line, e->value);
	b->type = types[i].type;
	return 0;
}

/* Ch<n>=<name>,<reference>,<resolution>,<unit>: resolution empty means 1, unit empty µV. */
static int
io_brainvision_channel(const struct io_brainvision_ini *ini, const struct io_brainvision_entry *e,
		       struct io_rec_channel *c, double *scale, char **cause)
{
	char *v = xstrdup(e->value), *f[4] = {"", "", "", ""};
	double res = 1;
	int rc = 0;

	io_brainvision_ini_split(v, f, 4);
	if (f[0][0] == '\0' || strlen(f[0]) >= sizeof c->label)
		rc = error_set(cause, -EINVAL,
			       "%s: line %d: %s: the channel name must have 1 to %zu bytes",
			       ini->path, e->line, e->key, sizeof c->label - 1);
	else if (f[2][0] != '\0' && (io_brainvision_real(f[2], &res) != 0 || res == 0))
		rc = error_set(cause, -EINVAL,
			       "%s: line %d: %s: resolution \"%.40s\" is not a non-zero number",
			       ini->path, e->line, e->key, f[2]);
	else if (strlen(f[3]) >= sizeof c->unit)
		rc = error_set(cause, -EINVAL, "%s: line %d: %s: unit \"%.40s\" is too long",
			       ini->path, e->line, e->key, f[3]);
	if (rc == 0) {
		snprintf(c->label, sizeof c->label, "%s", f[0]);
		io_rec_channel_unit(c, f[3][0] != '\0' ? f[3] : "\xc2\xb5V");
		*scale = res * c->volt_scale;
	}
	free(v);
	return rc;
}

static int
io_brainvision_channels(const struct io_brainvision_ini *ini, struct io_rec_header *h,
			struct io_brainvision *bv, char **cause)
{
	const char *ci = "Channel Infos";
	size_t n = bv->bin.n_channels;
	int rc;

	h->n_channels = n;
	h->channels = xcalloc(n, sizeof *h->channels);
	bv->scale = xcalloc(n, sizeof *bv->scale);
	for (size_t i = 0; i < ini->n; i++) { /* no channel past NumberOfChannels */
		const struct io_brainvision_entry *e = &ini->e[i];
		char *end;
		unsigned long k;

		if (strcasecmp(e->section, ci) != 0)
			continue;
		k = strncasecmp(e->key, "Ch", 2) == 0 ? strtoul(e->key + 2, &end, 10) : 0;
		if (k == 0 || *end != '\0' || k > n)
			return error_set(cause, -EINVAL,
					 "%s: line %d: [%s] %s: expected Ch1 to Ch%zu "
					 "(NumberOfChannels)",
					 ini->path, e->line, ci, e->key, n);
	}
	for (size_t c = 0; c < n; c++) {
		char key[32];
		const struct io_brainvision_entry *e;

		snprintf(key, sizeof key, "Ch%zu", c + 1);
		if ((rc = io_brainvision_need(ini, ci, key, &e, cause)) != 0)
			return rc;
		if ((rc = io_brainvision_channel(ini, e, &h->channels[c], &bv->scale[c], cause)) !=
		    0)
			return rc;
	}
	return 0;
}

static int
io_brainvision_data(const struct io_brainvision_ini *ini, struct io_brainvision *bv, char **cause)
{
	const struct io_brainvision_entry *e, *dp;
	long long points = 0;

	if (io_brainvision_need(ini, "Common Infos", "DataFile", &e, cause) != 0)
		return -EINVAL;
	bv->data_path = io_brainvision_sibling(ini->path, e->value);
	bv->bin.path = bv->data_path;
	bv->bin.fd = open(bv->data_path, O_RDONLY | O_CLOEXEC);
	if (bv->bin.fd < 0)
		return error_set(cause, -errno, "%s: line %d: DataFile: cannot open %s: %s",
				 ini->path, e->line, bv->data_path, strerror(errno));
	dp = io_brainvision_ini_get(ini, "Common Infos", "DataPoints");
	if (dp != NULL && io_brainvision_count(ini, dp, 0, (long long)1 << 48, &points, cause) != 0)
		return -EINVAL;
	bv->bin.n_samples = (size_t)points;
	if (dp != NULL && points > 0) {
		char *what = xasprintf("DataPoints (%s line %d)", ini->path, dp->line);
		int rc = io_rec_binary_size(&bv->bin, what, cause);

		free(what);
		return rc;
	}
	return io_rec_binary_size(&bv->bin, "", cause);
}

static int
io_brainvision_parse(struct io_rec *r, struct io_brainvision *bv, char **cause)
{
	struct io_rec_header *h = io_rec_header_mut(r);
	struct io_brainvision_ini ini;
	const struct io_brainvision_entry *mk;
	double fs;
	int rc = io_brainvision_ini_load(h->path, "Header", &ini, cause);

	if (rc == 0)
		rc = io_brainvision_layout(&ini, &bv->bin, &fs, cause);
	if (rc == 0)
		rc = io_brainvision_channels(&ini, h, bv, cause);
	if (rc == 0)
		rc = io_brainvision_data(&ini, bv, cause);
	if (rc == 0) {
		for (size_t c = 0; c < h->n_channels; c++) {
			h->channels[c].rate = fs;
			h->channels[c].n_samples = bv->bin.n_samples;
		}
		h->duration = (double)bv->bin.n_samples / fs;
		mk = io_brainvision_ini_get(&ini, "Common Infos", "MarkerFile");
		if (mk != NULL && mk->value[0] != '\0') {
			char *mpath = io_brainvision_sibling(h->path, mk->value);
			rc = io_brainvision_markers_read(mpath, fs, bv->bin.n_samples, h, cause);
			if (rc != 0)
				error_wrap(cause, rc, "%s: line %d: MarkerFile: ", h->path,
					   mk->line);
			free(mpath);
		}
	}
	io_brainvision_ini_fini(&ini);
	return rc;
}

int
io_brainvision_open(const char *path, struct io_rec **out, char **cause)
{
	struct io_rec *r = io_rec_new(path, IO_REC_BRAINVISION);
	struct io_brainvision *bv = xcalloc(1, sizeof *bv);
	int rc;

	*out = NULL;
	bv->bin.fd = -1;
	io_rec_set_impl(r, &io_brainvision_ops, bv);
	if ((rc = io_brainvision_parse(r, bv, cause)) != 0) {
		io_rec_close(r);
		return rc;
	}
	*out = r;
	return 0;
}
