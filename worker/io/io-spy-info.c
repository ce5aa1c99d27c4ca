/* The `.info` JSON of .spy containers (field names and order as Syncopy writes them) and the
 * SHA-1 file checksum recorded in it, computed with OpenSSL's EVP interface. */
#include "worker/io/io-spy-info.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "common/paths.h"
#include "common/xmalloc.h"

int
io_spy_info_sha1(const char *path, char hex[41], char **cause)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx;
	unsigned char *buf;
	ssize_t n;
	int fd, rc = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return error_set(cause, -errno, "cannot open %s: %s", path, strerror(errno));
	ctx = EVP_MD_CTX_new();
	if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) != 1) {
		EVP_MD_CTX_free(ctx);
		close(fd);
		return error_set(cause, -EIO, "cannot start SHA-1 for %s", path);
	}
	buf = xmalloc(1 << 16);
	for (;;) {
		n = read(fd, buf, 1 << 16);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = error_set(cause, -errno, "cannot read %s: %s", path, strerror(errno));
			break;
		}
		if (n == 0)
			break;
		EVP_DigestUpdate(ctx, buf, (size_t)n);
	}
	if (rc == 0 && (EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 || mdlen != 20))
		rc = error_set(cause, -EIO, "cannot finish SHA-1 for %s", path);
	for (unsigned int i = 0; rc == 0 && i < mdlen; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	free(buf);
	EVP_MD_CTX_free(ctx);
	close(fd);
	return rc;
}

const char *const *
io_spy_info_dimord(enum io_spy_class dataclass)
{
	static const char *const analog[] = {"time", "channel", NULL};
	static const char *const spectral[] = {"time", "taper", "freq", "channel", NULL};
	static const char *const cross[] = {"time", "freq", "channel_i", "channel_j", NULL};

	return dataclass == IO_SPY_SPECTRAL	   ? spectral
	       : dataclass == IO_SPY_CROSSSPECTRAL ? cross
						   : analog;
}

static json_t *
io_spy_info_strings(const char *const *v, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

static json_t *
io_spy_info_u64s(const uint64_t *v, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_integer((json_int_t)v[i]));
	return a;
}

/* A JSON object from `text` (NULL: an empty object); NULL with a cause if it is not one. */
static json_t *
io_spy_info_object(const char *text, const char *what, char **cause)
{
	json_error_t jerr;
	json_t *v;

	if (text == NULL)
		return json_object();
	v = json_loads(text, 0, &jerr);
	if (v == NULL || !json_is_object(v)) {
		json_decref(v);
		error_set(cause, -EINVAL, "%s is not a JSON object: %s", what, jerr.text);
		return NULL;
	}
	return v;
}

static json_t *
io_spy_info_doubles(const double *v, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_real(v[i]));
	return a;
}

/* The class's axis labels: channel (or channel_i and channel_j), taper, freq. */
static void
io_spy_info_axes(json_t *o, const struct io_spy_meta *meta)
{
	int rank = io_spy_rank(meta->dataclass), fax = io_spy_freq_axis(meta->dataclass);

	if (meta->dataclass == IO_SPY_CROSSSPECTRAL) {
		json_object_set_new(o, "channel_i",
				    io_spy_info_strings(meta->channel, (size_t)meta->shape[2]));
		json_object_set_new(o, "channel_j",
				    io_spy_info_strings(meta->channel_j, (size_t)meta->shape[3]));
	} else {
		json_object_set_new(o, "channel", io_spy_info_strings(meta->channel,
								      (size_t)meta->shape[rank - 1]));
	}
	if (meta->dataclass == IO_SPY_SPECTRAL)
		json_object_set_new(o, "taper",
				    io_spy_info_strings(meta->taper, (size_t)meta->shape[1]));
	if (fax >= 0)
		json_object_set_new(o, "freq",
				    io_spy_info_doubles(meta->freq, (size_t)meta->shape[fax]));
}

static json_t *
io_spy_info_build(const char *h5path, const struct io_spy_meta *meta, int64_t data_offset,
		  const char *sha1, const char *const *extra, size_t nextra, char **cause)
{
	const char *base = strrchr(h5path, '/');
	int rank = io_spy_rank(meta->dataclass);
	uint64_t trl_shape[2] = {meta->ntrials, meta->trl_cols};
	const char *const *dimord = io_spy_info_dimord(meta->dataclass);
	json_t *o, *cfg, *info, *props;
	size_t ndim = 0;

	while (dimord[ndim] != NULL)
		ndim++;
	if ((cfg = io_spy_info_object(meta->cfg_json, "cfg", cause)) == NULL)
		return NULL;
	if ((info = io_spy_info_object(meta->info_json, "info", cause)) == NULL) {
		json_decref(cfg);
		return NULL;
	}
	o = json_object();
	json_object_set_new(o, "filename", json_string(base != NULL ? base + 1 : h5path));
	json_object_set_new(o, "dataclass", json_string(io_spy_class_name(meta->dataclass)));
	json_object_set_new(o, "data_dtype", json_string(io_spy_dtype_name(meta->dtype)));
	json_object_set_new(o, "data_shape", io_spy_info_u64s(meta->shape, (size_t)rank));
	json_object_set_new(o, "data_offset",
			    data_offset >= 0 ? json_integer(data_offset) : json_null());
	json_object_set_new(o, "trl_dtype", json_string("float64"));
	json_object_set_new(o, "trl_shape", io_spy_info_u64s(trl_shape, 2));
	/* h5py reports no offset for a chunked dataset; Syncopy then writes null. */
	json_object_set_new(o, "trl_offset", json_null());
	json_object_set_new(o, "file_checksum", json_string(sha1));
	json_object_set_new(o, "order", json_string("C"));
	json_object_set_new(o, "checksum_algorithm", json_string(IO_SPY_INFO_CHECKSUM_ALGORITHM));
	json_object_set_new(o, "dimord", io_spy_info_strings(dimord, ndim));
	json_object_set_new(o, "_version", json_string(IO_SPY_VERSION));
	json_object_set_new(o, "_log", json_string(meta->log != NULL ? meta->log : ""));
	json_object_set_new(o, "cfg", cfg);
	json_object_set_new(o, "info", info);
	json_object_set_new(o, "samplerate", json_real(meta->samplerate));
	io_spy_info_axes(o, meta);
	props = json_array();
	json_array_append_new(props, json_string("data"));
	for (size_t i = 0; i < nextra; i++)
		json_array_append_new(props, json_string(extra[i]));
	json_object_set_new(o, "_hdfFileDatasetProperties", props);
	return o;
}

int
io_spy_info_write(const char *h5path, const struct io_spy_meta *meta, int64_t data_offset,
		  const char *sha1, const char *const *extra, size_t nextra, char **cause)
{
	char *path = xasprintf("%s.info", h5path);
	json_t *o = io_spy_info_build(h5path, meta, data_offset, sha1, extra, nextra, cause);
	int rc = o == NULL ? -EINVAL
			   : paths_publish_json(o, path, JSON_INDENT(4) | JSON_REAL_PRECISION(17),
						PATHS_OUTPUT, cause);

	json_decref(o);
	free(path);
	return rc;
}
