/* The .spy AnalogData reader: validates a container against its `.info` (class, dimord, shape,
 * SHA-1), loads the trial definition and metadata, and reads hyperslabs of `data` as doubles. */
#include "worker/io/io-spy-read.h"

#include <errno.h>
#include <fcntl.h>
#include <hdf5.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/error.h"
#include "common/log.h"
#include "common/xmalloc.h"
#include "worker/io/io-spy-h5.h"
#include "worker/io/io-spy-info.h"

struct io_spy_read {
	struct io_spy_read_info info;
	char *path;
	char *info_path;
	json_t *json;
	hid_t file;
	hid_t data;
	double *trl;
	char **channel;
};

void
io_spy_read_close(struct io_spy_read *r)
{
	if (r == NULL)
		return;
	if (r->data >= 0)
		H5Dclose(r->data);
	if (r->file >= 0)
		H5Fclose(r->file);
	for (uint64_t i = 0; r->channel != NULL && i < r->info.nchan; i++)
		free(r->channel[i]);
	free(r->channel);
	free(r->trl);
	json_decref(r->json);
	free(r->info_path);
	free(r->path);
	free(r);
}

/* "x.spy" (a directory) → "x.spy/x.analog"; anything else is the data file itself. */
static char *
io_spy_read_resolve(const char *path)
{
	struct stat st;
	size_t len = strlen(path);
	const char *base;

	while (len > 1 && path[len - 1] == '/')
		len--;
	if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode) || len < 4 ||
	    strncmp(path + len - 4, ".spy", 4) != 0)
		return xstrdup(path);
	base = path + len;
	while (base > path && base[-1] != '/')
		base--;
	return xasprintf("%.*s/%.*s.analog", (int)len, path, (int)(path + len - 4 - base), base);
}

static int
io_spy_read_is(const json_t *v, const char *s)
{
	return json_is_string(v) && strcmp(json_string_value(v), s) == 0;
}

static int
io_spy_read_json(struct io_spy_read *r, unsigned flags, char **cause)
{
	json_error_t jerr;
	const char *cls, *want, *algo;
	json_t *v;
	char got[41];
	int rc;

	if (access(r->info_path, R_OK) != 0)
		return error_set(cause, -errno, "cannot read %s: %s", r->info_path,
				 strerror(errno));
	r->json = json_load_file(r->info_path, 0, &jerr);
	if (r->json == NULL || !json_is_object(r->json))
		return error_set(cause, -EBADMSG, "%s: not a JSON object (line %d: %s)",
				 r->info_path, jerr.line, jerr.text);
	cls = json_string_value(json_object_get(r->json, "dataclass"));
	if (cls == NULL)
		return error_set(cause, -EBADMSG, "%s: field 'dataclass' is missing", r->info_path);
	if (strcmp(cls, "AnalogData") != 0)
		return error_set(cause, -ENOTSUP, "%s: dataclass %s, only AnalogData is read",
				 r->info_path, cls);
	v = json_object_get(r->json, "dimord");
	if (v != NULL && (!json_is_array(v) || json_array_size(v) != 2 ||
			  !io_spy_read_is(json_array_get(v, 0), "time") ||
			  !io_spy_read_is(json_array_get(v, 1), "channel")))
		return error_set(cause, -ENOTSUP, "%s: dimord is not [\"time\", \"channel\"]",
				 r->info_path);
	v = json_object_get(r->json, "data_offset");
	r->info.data_offset = json_is_integer(v) ? (int64_t)json_integer_value(v) : -1;
	if (flags & IO_SPY_READ_NO_CHECKSUM)
		return 0;
	want = json_string_value(json_object_get(r->json, "file_checksum"));
	if (want == NULL)
		return error_set(cause, -EBADMSG, "%s: field 'file_checksum' is missing",
				 r->info_path);
	algo = json_string_value(json_object_get(r->json, "checksum_algorithm"));
	if (algo != NULL && strcmp(algo, IO_SPY_INFO_CHECKSUM_ALGORITHM) != 0 &&
	    strcmp(algo, "sha1") != 0)
		return error_set(cause, -ENOTSUP, "%s: checksum algorithm %s is not supported",
				 r->info_path, algo);
	rc = io_spy_info_sha1(r->path, got, cause);
	if (rc != 0)
		return rc;
	if (strcasecmp(want, got) != 0 && (flags & IO_SPY_READ_CHECKSUM_WARN)) {
		log_warn("checksum mismatch for %s: %s expects sha1 %s, the file has %s (read "
			 "anyway, as the reference toolbox does)",
			 r->path, r->info_path, want, got);
		r->info.checksum_mismatch = true;
	} else if (strcasecmp(want, got) != 0) {
		return error_set(cause, -EBADMSG,
				 "checksum mismatch for %s: %s expects sha1 %s, "
				 "the file has %s",
				 r->path, r->info_path, want, got);
	}
	return 0;
}

static int
io_spy_read_trialdefinition(struct io_spy_read *r, char **cause)
{
	hsize_t dims[2];
	hid_t d, s;
	int rc = 0;

	if (H5Lexists(r->file, "trialdefinition", H5P_DEFAULT) <= 0)
		return error_set(cause, -ENOENT, "%s: dataset 'trialdefinition' is missing",
				 r->path);
	d = H5Dopen2(r->file, "trialdefinition", H5P_DEFAULT);
	if (d < 0)
		return error_set(cause, -EIO, "%s: cannot open 'trialdefinition'", r->path);
	s = H5Dget_space(d);
	if (H5Sget_simple_extent_ndims(s) != 2 || H5Sget_simple_extent_dims(s, dims, NULL) < 0 ||
	    dims[0] == 0 || dims[1] < 3)
		rc = error_set(cause, -EBADMSG, "%s: 'trialdefinition' is not (ntrials, >= 3)",
			       r->path);
	if (rc == 0) {
		r->trl = xcalloc((size_t)(dims[0] * dims[1]), sizeof(double));
		if (H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, r->trl) < 0)
			rc = error_set(cause, -EIO, "%s: cannot read 'trialdefinition'", r->path);
		r->info.ntrials = (size_t)dims[0];
		r->info.trl_cols = (size_t)dims[1];
		r->info.trl = r->trl;
	}
	H5Sclose(s);
	H5Dclose(d);
	for (size_t t = 0; rc == 0 && t < r->info.ntrials; t++) {
		double a = r->trl[t * dims[1]], b = r->trl[t * dims[1] + 1];

		if (!(a >= 0 && b >= a && b <= (double)r->info.nsamples) || a != floor(a) ||
		    b != floor(b))
			rc = error_set(cause, -EBADMSG,
				       "%s: trial %zu [%g, %g) is outside the %llu "
				       "samples of 'data'",
				       r->path, t, a, b, (unsigned long long)r->info.nsamples);
	}
	return rc;
}

static int
io_spy_read_data(struct io_spy_read *r, char **cause)
{
	hsize_t dims[2];
	json_t *shape;
	hid_t s;
	int rc = 0;

	io_spy_h5_quiet();
	r->file = H5Fopen(r->path, H5F_ACC_RDONLY, H5P_DEFAULT);
	if (r->file < 0)
		return error_set(cause, -EIO, "cannot open HDF5 file %s", r->path);
	if (H5Lexists(r->file, "data", H5P_DEFAULT) <= 0)
		return error_set(cause, -ENOENT, "%s: dataset 'data' is missing", r->path);
	r->data = H5Dopen2(r->file, "data", H5P_DEFAULT);
	if (r->data < 0)
		return error_set(cause, -EIO, "%s: cannot open dataset 'data'", r->path);
	rc = io_spy_h5_dtype_of(r->data, r->path, &r->info.dtype, cause);
	if (rc == 0 && r->info.dtype == IO_SPY_COMPLEX64)
		rc = error_set(cause, -ENOTSUP, "%s: AnalogData 'data' is complex", r->path);
	if (rc != 0)
		return rc;
	s = H5Dget_space(r->data);
	if (H5Sget_simple_extent_ndims(s) != 2 || H5Sget_simple_extent_dims(s, dims, NULL) < 0)
		rc = error_set(cause, -EBADMSG, "%s: 'data' is not (samples, channels)", r->path);
	H5Sclose(s);
	if (rc != 0)
		return rc;
	r->info.nsamples = dims[0];
	r->info.nchan = dims[1];
	shape = json_object_get(r->json, "data_shape");
	if (shape != NULL && (json_array_size(shape) != 2 ||
			      json_integer_value(json_array_get(shape, 0)) != (json_int_t)dims[0] ||
			      json_integer_value(json_array_get(shape, 1)) != (json_int_t)dims[1]))
		return error_set(cause, -EBADMSG,
				 "%s: data_shape differs from the (%llu, %llu) of "
				 "%s",
				 r->info_path, (unsigned long long)dims[0],
				 (unsigned long long)dims[1], r->path);
	return io_spy_read_trialdefinition(r, cause);
}

/* samplerate and channel labels: from .info as Syncopy loads them, else the HDF5 attributes'
 * samplerate and default labels. */
static int
io_spy_read_meta(struct io_spy_read *r, char **cause)
{
	json_t *v = json_object_get(r->json, "samplerate"), *ch;
	int width = snprintf(NULL, 0, "%llu", (unsigned long long)r->info.nchan);
	int rc;

	if (json_is_number(v))
		r->info.samplerate = json_number_value(v);
	else {
		rc = io_spy_h5_attr_read_doubles(r->file, r->path, "samplerate",
						 &r->info.samplerate, 1, cause);
		if (rc != 0)
			return error_wrap(cause, rc, "%s has no samplerate and ", r->info_path);
	}
	if (!(r->info.samplerate > 0))
		return error_set(cause, -EBADMSG, "%s: samplerate %g is not positive", r->info_path,
				 r->info.samplerate);
	ch = json_object_get(r->json, "channel");
	if (ch != NULL && (!json_is_array(ch) || json_array_size(ch) != r->info.nchan))
		return error_set(cause, -EBADMSG, "%s: 'channel' does not list %llu labels",
				 r->info_path, (unsigned long long)r->info.nchan);
	r->channel = xcalloc((size_t)r->info.nchan, sizeof(char *));
	for (size_t i = 0; i < r->info.nchan; i++) {
		const char *s = json_string_value(json_array_get(ch, i));

		r->channel[i] = s != NULL ? xstrdup(s) : xasprintf("channel%0*zu", width, i + 1);
	}
	r->info.channel = (const char *const *)r->channel;
	return 0;
}

int
io_spy_read_open(struct io_spy_read **rp, const char *path, unsigned flags, char **cause)
{
	struct io_spy_read *r = xcalloc(1, sizeof(*r));
	int rc;

	*rp = NULL;
	r->file = r->data = H5I_INVALID_HID;
	r->path = io_spy_read_resolve(path);
	r->info_path = xasprintf("%s.info", r->path);
	r->info.path = r->path;
	if (access(r->path, R_OK) != 0)
		rc = error_set(cause, -errno, "cannot read %s: %s", r->path, strerror(errno));
	else
		rc = io_spy_read_json(r, flags, cause);
	if (rc == 0)
		rc = io_spy_read_data(r, cause);
	if (rc == 0)
		rc = io_spy_read_meta(r, cause);
	if (rc != 0) {
		io_spy_read_close(r);
		return rc;
	}
	*rp = r;
	return 0;
}

const struct io_spy_read_info *
io_spy_read_info(const struct io_spy_read *r)
{
	return &r->info;
}

uint64_t
io_spy_read_trial_samples(const struct io_spy_read *r, size_t trial0, size_t ntrials)
{
	uint64_t n = 0;

	if (trial0 > r->info.ntrials || ntrials > r->info.ntrials - trial0)
		return 0;
	for (size_t t = trial0; t < trial0 + ntrials; t++)
		n += (uint64_t)(r->trl[t * r->info.trl_cols + 1] - r->trl[t * r->info.trl_cols]);
	return n;
}

/* pread exactly n bytes at off. */
static int
io_spy_read_pread(int fd, void *buf, size_t n, off_t off)
{
	char *p = buf;

	while (n > 0) {
		ssize_t k = pread(fd, p, n, off);
		if (k <= 0)
			return k == 0 ? -EIO : -errno;
		p += k;
		n -= (size_t)k;
		off += k;
	}
	return 0;
}

/* Contiguous, unfiltered data in the memory type is read straight from the file: a task that
 * takes a few columns of many rows spends more in HDF5's hyperslab machinery than in the copy.
 * Returns 1 when done, 0 when this path does not apply (HDF5 reads instead), -errno on I/O. */
static int
io_spy_read_direct(struct io_spy_read *r, uint64_t sample0, uint64_t nsamples, uint64_t chan0,
		   uint64_t nchan, hid_t mtype, void *buf, char **cause)
{
	haddr_t addr = H5Dget_offset(r->data);
	hid_t ftype, fcpl;
	hsize_t userblock = 0;
	size_t esize, rowbytes, outbytes;
	int same, fd, rc = 0;

	if (addr == HADDR_UNDEF)
		return 0;
	ftype = H5Dget_type(r->data);
	same = H5Tequal(ftype, mtype) > 0;
	H5Tclose(ftype);
	if (!same)
		return 0;
	fcpl = H5Fget_create_plist(r->file);
	if (fcpl >= 0) {
		H5Pget_userblock(fcpl, &userblock);
		H5Pclose(fcpl);
	}
	fd = open(r->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	esize = H5Tget_size(mtype);
	rowbytes = (size_t)r->info.nchan * esize;
	outbytes = (size_t)nchan * esize;
	addr += userblock + sample0 * rowbytes;
	if (nchan == r->info.nchan) {
		rc = io_spy_read_pread(fd, buf, nsamples * rowbytes, (off_t)addr);
	} else {
		size_t blk = rowbytes >= (1u << 20) ? 1 : (1u << 20) / rowbytes;
		char *tmp = xmalloc(blk * rowbytes);

		for (uint64_t row = 0; row < nsamples && rc == 0; row += blk) {
			size_t n = nsamples - row < blk ? (size_t)(nsamples - row) : blk;
			rc = io_spy_read_pread(fd, tmp, n * rowbytes,
					       (off_t)(addr + row * rowbytes));
			for (size_t i = 0; rc == 0 && i < n; i++)
				memcpy((char *)buf + (row + i) * outbytes,
				       tmp + i * rowbytes + chan0 * esize, outbytes);
		}
		free(tmp);
	}
	close(fd);
	if (rc != 0)
		return error_set(cause, rc, "%s: cannot read 'data': %s", r->path, strerror(-rc));
	return 1;
}

/* Rows × channels into buf as `mtype` (native double or float). */
static int
io_spy_read_slab_as(struct io_spy_read *r, uint64_t sample0, uint64_t nsamples, uint64_t chan0,
		    uint64_t nchan, hid_t mtype, void *buf, char **cause)
{
	hsize_t off[2] = {sample0, chan0}, cnt[2] = {nsamples, nchan};
	hid_t fspace, mspace;
	herr_t err;
	int rc;

	if (nsamples == 0 || nchan == 0)
		return 0;
	if (sample0 > r->info.nsamples || nsamples > r->info.nsamples - sample0 ||
	    chan0 > r->info.nchan || nchan > r->info.nchan - chan0)
		return error_set(cause, -EINVAL,
				 "%s: [%llu, +%llu) × [%llu, +%llu) is outside "
				 "'data' (%llu, %llu)",
				 r->path, (unsigned long long)sample0, (unsigned long long)nsamples,
				 (unsigned long long)chan0, (unsigned long long)nchan,
				 (unsigned long long)r->info.nsamples,
				 (unsigned long long)r->info.nchan);
	rc = io_spy_read_direct(r, sample0, nsamples, chan0, nchan, mtype, buf, cause);
	if (rc != 0)
		return rc < 0 ? rc : 0;
	fspace = H5Dget_space(r->data);
	H5Sselect_hyperslab(fspace, H5S_SELECT_SET, off, NULL, cnt, NULL);
	mspace = H5Screate_simple(2, cnt, NULL);
	err = H5Dread(r->data, mtype, mspace, fspace, H5P_DEFAULT, buf);
	H5Sclose(mspace);
	H5Sclose(fspace);
	if (err < 0)
		return error_set(cause, -EIO, "%s: cannot read a hyperslab of 'data'", r->path);
	return 0;
}

static int
io_spy_read_trials_as(struct io_spy_read *r, size_t trial0, size_t ntrials, size_t chan0,
		      size_t nchan, hid_t mtype, size_t esize, void *out, char **cause)
{
	size_t cols = r->info.trl_cols;
	char *buf = out;
	int rc = 0;

	if (trial0 > r->info.ntrials || ntrials > r->info.ntrials - trial0)
		return error_set(cause, -EINVAL, "%s: trials [%zu, +%zu) outside [0, %zu)", r->path,
				 trial0, ntrials, r->info.ntrials);
	for (size_t t = trial0; t < trial0 + ntrials && rc == 0; t++) {
		uint64_t a = (uint64_t)r->trl[t * cols], n = (uint64_t)r->trl[t * cols + 1] - a;

		rc = io_spy_read_slab_as(r, a, n, chan0, nchan, mtype, buf, cause);
		buf += n * nchan * esize;
	}
	return rc;
}

int
io_spy_read_trials(struct io_spy_read *r, size_t trial0, size_t ntrials, size_t chan0, size_t nchan,
		   double *buf, char **cause)
{
	return io_spy_read_trials_as(r, trial0, ntrials, chan0, nchan, H5T_NATIVE_DOUBLE,
				     sizeof(double), buf, cause);
}

int
io_spy_read_trials_f32(struct io_spy_read *r, size_t trial0, size_t ntrials, size_t chan0,
		       size_t nchan, float *buf, char **cause)
{
	return io_spy_read_trials_as(r, trial0, ntrials, chan0, nchan, H5T_NATIVE_FLOAT,
				     sizeof(float), buf, cause);
}
