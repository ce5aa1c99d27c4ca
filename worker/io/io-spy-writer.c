/* The .spy container writer: creates the HDF5 data file (contiguous `data`, chunked
 * `trialdefinition`, Syncopy's attributes, extra datasets) or a part file, writes hyperslabs,
 * and finalizes the container with its SHA-1 checked `.info` file. */
#include "worker/io/io-spy-writer.h"

#include <errno.h>
#include <hdf5.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/error.h"
#include "common/paths.h"
#include "common/xmalloc.h"
#include "worker/io/io-spy-h5.h"
#include "worker/io/io-spy-info.h"

struct io_spy_file {
	hid_t file;
	hid_t data;
	char *path;
	int part;
	int rank;
	uint64_t origin[IO_SPY_MAX_RANK]; /* hyperslab this file holds, container coordinates */
	uint64_t dims[IO_SPY_MAX_RANK];
	struct io_spy_meta meta; /* resolved: points into the owned copies below */
	double *trl;
	char **channel;
	char **channel_j;
	char **taper;
	double *freq;
	char *log;
	char *cfg_json;
	char *info_json;
	char **extra; /* names of the datasets added after `data` */
	size_t nextra;
};

static int
io_spy_meta_check(const struct io_spy_meta *m, char **cause)
{
	int rank;

	bool timed = m->dataclass == IO_SPY_ANALOG || m->dataclass == IO_SPY_TIMELOCK;

	if ((unsigned)m->dataclass > IO_SPY_TIMELOCK || (unsigned)m->dtype > IO_SPY_COMPLEX64)
		return error_set(cause, -EINVAL, "unknown data class or dtype");
	if (timed && m->dtype == IO_SPY_COMPLEX64)
		return error_set(cause, -EINVAL, "%s is float32 or float64, not complex64",
				 io_spy_class_name(m->dataclass));
	if (!timed && m->dtype == IO_SPY_FLOAT64)
		return error_set(cause, -EINVAL, "%s is float32 or complex64",
				 io_spy_class_name(m->dataclass));
	rank = io_spy_rank(m->dataclass);
	for (int i = 0; i < rank; i++)
		if (m->shape[i] == 0)
			return error_set(cause, -EINVAL, "data shape has a zero axis %d", i);
	if (!(m->samplerate > 0))
		return error_set(cause, -EINVAL, "samplerate must be positive");
	if (!timed && m->freq == NULL)
		return error_set(cause, -EINVAL, "%s needs a freq axis",
				 io_spy_class_name(m->dataclass));
	if (m->trl == NULL) {
		if (timed)
			return error_set(cause, -EINVAL, "%s needs a trial definition",
					 io_spy_class_name(m->dataclass));
		return 0;
	}
	if (m->ntrials == 0 || m->trl_cols < 3)
		return error_set(cause, -EINVAL,
				 "trial definition needs >= 1 row and >= 3 columns");
	for (size_t t = 0; t < m->ntrials; t++) {
		double a = m->trl[t * m->trl_cols], b = m->trl[t * m->trl_cols + 1];

		if (!(a >= 0 && b >= a && b <= (double)m->shape[0]) || a != floor(a) ||
		    b != floor(b))
			return error_set(cause, -EINVAL,
					 "trial %zu: [%g, %g) is not a sample range of [0, %llu)",
					 t, a, b, (unsigned long long)m->shape[0]);
	}
	return 0;
}

static char **
io_spy_labels(const char *const *given, const char *prefix, size_t n)
{
	char **v = xcalloc(n, sizeof(*v));
	int width = snprintf(NULL, 0, "%zu", n);

	for (size_t i = 0; i < n; i++)
		v[i] =
		    given != NULL ? xstrdup(given[i]) : xasprintf("%s%0*zu", prefix, width, i + 1);
	return v;
}

static void
io_spy_labels_free(char **v, size_t n)
{
	for (size_t i = 0; v != NULL && i < n; i++)
		free(v[i]);
	free(v);
}

/* A new handle holding a resolved copy of meta (default labels and trial rows filled in). */
static struct io_spy_file *
io_spy_file_new(const char *path, const struct io_spy_meta *m)
{
	struct io_spy_file *f = xcalloc(1, sizeof(*f));
	int rank = io_spy_rank(m->dataclass);
	size_t ntrl = m->trl != NULL ? m->ntrials : (size_t)m->shape[0];
	size_t cols = m->trl != NULL ? m->trl_cols : 3;

	f->file = f->data = H5I_INVALID_HID;
	f->path = xstrdup(path);
	f->rank = rank;
	f->meta = *m;
	f->trl = xcalloc(ntrl * cols, sizeof(double));
	if (m->trl != NULL)
		memcpy(f->trl, m->trl, ntrl * cols * sizeof(double));
	else
		for (size_t t = 0; t < ntrl; t++) {
			f->trl[t * 3] = (double)t;
			f->trl[t * 3 + 1] = (double)(t + 1);
		}
	if (m->dataclass == IO_SPY_CROSSSPECTRAL) {
		f->channel = io_spy_labels(m->channel, "channel", (size_t)m->shape[2]);
		f->channel_j = io_spy_labels(m->channel_j, "channel", (size_t)m->shape[3]);
	} else {
		f->channel = io_spy_labels(m->channel, "channel", (size_t)m->shape[rank - 1]);
	}
	if (m->dataclass == IO_SPY_SPECTRAL || m->dataclass == IO_SPY_CROSSSPECTRAL) {
		size_t nf = (size_t)m->shape[io_spy_freq_axis(m->dataclass)];
		f->freq = xcalloc(nf + 1, sizeof(double));
		memcpy(f->freq, m->freq, nf * sizeof(double));
	}
	if (m->dataclass == IO_SPY_SPECTRAL)
		f->taper = io_spy_labels(m->taper, "taper", (size_t)m->shape[1]);
	f->log = xstrdup(m->log != NULL ? m->log : "");
	f->cfg_json = m->cfg_json != NULL ? xstrdup(m->cfg_json) : NULL;
	f->info_json = m->info_json != NULL ? xstrdup(m->info_json) : NULL;
	f->meta.trl = f->trl;
	f->meta.ntrials = ntrl;
	f->meta.trl_cols = cols;
	f->meta.channel = (const char *const *)f->channel;
	f->meta.channel_j = (const char *const *)f->channel_j;
	f->meta.taper = (const char *const *)f->taper;
	f->meta.freq = f->freq;
	f->meta.log = f->log;
	f->meta.cfg_json = f->cfg_json;
	f->meta.info_json = f->info_json;
	return f;
}

void
io_spy_discard(struct io_spy_file *f)
{
	if (f == NULL)
		return;
	if (f->data >= 0)
		H5Dclose(f->data);
	if (f->file >= 0)
		H5Fclose(f->file);
	io_spy_labels_free(f->channel, (size_t)f->meta.shape[f->meta.dataclass ==
								     IO_SPY_CROSSSPECTRAL
								 ? 2
								 : f->rank - 1]);
	if (f->channel_j != NULL)
		io_spy_labels_free(f->channel_j, (size_t)f->meta.shape[3]);
	io_spy_labels_free(f->extra, f->nextra);
	if (f->taper != NULL)
		io_spy_labels_free(f->taper, (size_t)f->meta.shape[1]);
	free(f->freq);
	free(f->trl);
	free(f->log);
	free(f->cfg_json);
	free(f->info_json);
	free(f->path);
	free(f);
}

/* Create the HDF5 file and its contiguous, early-allocated `data` of f->dims. */
static int
io_spy_file_open(struct io_spy_file *f, char **cause)
{
	hsize_t dims[IO_SPY_MAX_RANK];
	hid_t fapl, fcpl, dcpl, space, type;

	io_spy_h5_quiet();
	for (int i = 0; i < f->rank; i++)
		dims[i] = f->dims[i];
	/* The 1.8 format stores large attributes (many channel labels) densely. */
	fapl = H5Pcreate(H5P_FILE_ACCESS);
	H5Pset_libver_bounds(fapl, H5F_LIBVER_V18, H5F_LIBVER_V18);
	H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG);
	/* No object timestamps: the same content gives the same bytes and checksum. */
	fcpl = H5Pcreate(H5P_FILE_CREATE);
	H5Pset_obj_track_times(fcpl, 0);
	f->file = H5Fcreate(f->path, H5F_ACC_TRUNC, fcpl, fapl);
	H5Pclose(fcpl);
	H5Pclose(fapl);
	if (f->file < 0)
		return error_set(cause, -EIO, "cannot create HDF5 file %s", f->path);
	dcpl = H5Pcreate(H5P_DATASET_CREATE);
	H5Pset_layout(dcpl, H5D_CONTIGUOUS);
	H5Pset_alloc_time(dcpl, H5D_ALLOC_TIME_EARLY);
	H5Pset_obj_track_times(dcpl, 0);
	space = H5Screate_simple(f->rank, dims, NULL);
	type = io_spy_h5_file_type(f->meta.dtype);
	f->data = H5Dcreate2(f->file, "data", type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
	H5Tclose(type);
	H5Sclose(space);
	H5Pclose(dcpl);
	if (f->data < 0)
		return error_set(cause, -EIO, "%s: cannot create dataset 'data'", f->path);
	return 0;
}

static int
io_spy_write_trialdefinition(struct io_spy_file *f, char **cause)
{
	hsize_t dims[2] = {f->meta.ntrials, f->meta.trl_cols};
	hsize_t maxdims[2] = {H5S_UNLIMITED, f->meta.trl_cols};
	hsize_t chunk[2] = {f->meta.ntrials < 1024 ? f->meta.ntrials : 1024, f->meta.trl_cols};
	hid_t space = H5Screate_simple(2, dims, maxdims);
	hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
	hid_t d;
	int rc = 0;

	H5Pset_chunk(dcpl, 2, chunk);
	H5Pset_obj_track_times(dcpl, 0);
	d = H5Dcreate2(f->file, "trialdefinition", H5T_IEEE_F64LE, space, H5P_DEFAULT, dcpl,
		       H5P_DEFAULT);
	if (d < 0 || H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, f->trl) < 0)
		rc = error_set(cause, -EIO, "%s: cannot write dataset 'trialdefinition'", f->path);
	if (d >= 0)
		H5Dclose(d);
	H5Pclose(dcpl);
	H5Sclose(space);
	return rc;
}

static int
io_spy_write_attrs(struct io_spy_file *f, char **cause)
{
	const struct io_spy_meta *m = &f->meta;
	const char *const *dimord = io_spy_info_dimord(m->dataclass);
	int rc;

	rc = io_spy_h5_attr_strings(f->file, "dimord", dimord, (size_t)f->rank, cause);
	if (rc == 0)
		rc = io_spy_h5_attr_string(f->file, "_version", IO_SPY_VERSION, cause);
	if (rc == 0)
		rc = io_spy_h5_attr_string(f->file, "_log", m->log, cause);
	if (rc == 0)
		rc = io_spy_h5_attr_doubles(f->file, "samplerate", &m->samplerate, 0, cause);
	if (rc == 0 && m->dataclass == IO_SPY_CROSSSPECTRAL) {
		rc = io_spy_h5_attr_strings(f->file, "channel_i", m->channel, (size_t)m->shape[2],
					    cause);
		if (rc == 0)
			rc = io_spy_h5_attr_strings(f->file, "channel_j", m->channel_j,
						    (size_t)m->shape[3], cause);
	} else if (rc == 0) {
		rc = io_spy_h5_attr_strings(f->file, "channel", m->channel,
					    (size_t)m->shape[f->rank - 1], cause);
	}
	if (rc == 0 && m->freq != NULL && m->dataclass != IO_SPY_ANALOG &&
	    m->dataclass != IO_SPY_TIMELOCK)
		rc = io_spy_h5_attr_doubles(f->file, "freq", m->freq,
					    (size_t)m->shape[io_spy_freq_axis(m->dataclass)], cause);
	if (rc == 0 && m->dataclass == IO_SPY_SPECTRAL)
		rc = io_spy_h5_attr_strings(f->file, "taper", m->taper, (size_t)m->shape[1], cause);
	return rc != 0 ? error_wrap(cause, rc, "%s: ", f->path) : 0;
}

int
io_spy_create(struct io_spy_file **fp, const char *path, const struct io_spy_meta *meta,
	      char **cause)
{
	struct io_spy_file *f;
	int rc;

	*fp = NULL;
	rc = io_spy_meta_check(meta, cause);
	if (rc != 0)
		return rc;
	f = io_spy_file_new(path, meta);
	memcpy(f->dims, meta->shape, sizeof(f->dims));
	rc = io_spy_file_open(f, cause);
	if (rc == 0)
		rc = io_spy_write_trialdefinition(f, cause);
	if (rc == 0)
		rc = io_spy_write_attrs(f, cause);
	if (rc != 0) {
		io_spy_discard(f);
		return rc;
	}
	*fp = f;
	return 0;
}

int
io_spy_part_create(struct io_spy_file **fp, const char *path, const struct io_spy_meta *meta,
		   const uint64_t *start, const uint64_t *count, char **cause)
{
	struct io_spy_file *f;
	int rc, rank;

	*fp = NULL;
	rc = io_spy_meta_check(meta, cause);
	if (rc != 0)
		return rc;
	rank = io_spy_rank(meta->dataclass);
	for (int i = 0; i < rank; i++)
		if (count[i] == 0 || start[i] > meta->shape[i] ||
		    count[i] > meta->shape[i] - start[i])
			return error_set(cause, -EINVAL,
					 "%s: part axis %d [%llu, +%llu) is outside "
					 "[0, %llu)",
					 path, i, (unsigned long long)start[i],
					 (unsigned long long)count[i],
					 (unsigned long long)meta->shape[i]);
	f = io_spy_file_new(path, meta);
	f->part = 1;
	memcpy(f->origin, start, (size_t)rank * sizeof(uint64_t));
	memcpy(f->dims, count, (size_t)rank * sizeof(uint64_t));
	rc = io_spy_file_open(f, cause);
	if (rc == 0)
		rc = io_spy_h5_attr_u64s(f->data, "part_start", start, (size_t)rank, cause);
	if (rc == 0)
		rc = io_spy_h5_attr_u64s(f->data, "part_full_shape", meta->shape, (size_t)rank,
					 cause);
	if (rc != 0) {
		io_spy_discard(f);
		return rc;
	}
	*fp = f;
	return 0;
}

int
io_spy_trials_slab(const struct io_spy_meta *m, size_t trial0, size_t ntrials, size_t chan0,
		   size_t nchan, uint64_t *start, uint64_t *count, char **cause)
{
	int rank = io_spy_rank(m->dataclass);
	size_t ntrl = m->trl != NULL ? m->ntrials : (size_t)m->shape[0];
	bool cross = m->dataclass == IO_SPY_CROSSSPECTRAL;

	if (ntrials == 0 || trial0 > ntrl || ntrials > ntrl - trial0)
		return error_set(cause, -EINVAL, "trials [%zu, +%zu) outside [0, %zu)", trial0,
				 ntrials, ntrl);
	if (!cross &&
	    (nchan == 0 || chan0 > m->shape[rank - 1] || nchan > m->shape[rank - 1] - chan0))
		return error_set(cause, -EINVAL, "channels [%zu, +%zu) outside [0, %llu)", chan0,
				 nchan, (unsigned long long)m->shape[rank - 1]);
	for (int i = 0; i < rank; i++) {
		start[i] = 0;
		count[i] = m->shape[i];
	}
	if (!cross) { /* cross-spectral parts hold every channel pair */
		start[rank - 1] = chan0;
		count[rank - 1] = nchan;
	}
	if ((m->dataclass == IO_SPY_ANALOG || m->dataclass == IO_SPY_TIMELOCK) && m->trl == NULL)
		return error_set(cause, -EINVAL, "%s needs a trial definition",
				 io_spy_class_name(m->dataclass));
	if ((m->dataclass == IO_SPY_SPECTRAL || cross) && m->trl == NULL) {
		start[0] = trial0;
		count[0] = ntrials;
		return 0;
	}
	double lo = INFINITY, hi = 0;

	for (size_t t = trial0; t < trial0 + ntrials; t++) {
		lo = fmin(lo, m->trl[t * m->trl_cols]);
		hi = fmax(hi, m->trl[t * m->trl_cols + 1]);
	}
	if (!(hi > lo))
		return error_set(cause, -EINVAL, "trials [%zu, +%zu) hold no samples", trial0,
				 ntrials);
	start[0] = (uint64_t)lo;
	count[0] = (uint64_t)(hi - lo);
	return 0;
}

int
io_spy_write_slab(struct io_spy_file *f, const uint64_t *start, const uint64_t *count,
		  const void *buf, char **cause)
{
	hsize_t off[IO_SPY_MAX_RANK], cnt[IO_SPY_MAX_RANK];
	hid_t fspace, mspace, mtype;
	herr_t err;

	for (int i = 0; i < f->rank; i++) {
		if (count[i] == 0)
			return 0;
		if (start[i] < f->origin[i] || start[i] - f->origin[i] > f->dims[i] ||
		    count[i] > f->dims[i] - (start[i] - f->origin[i]))
			return error_set(
			    cause, -EINVAL,
			    "%s: axis %d [%llu, +%llu) outside the file's [%llu, +%llu)", f->path,
			    i, (unsigned long long)start[i], (unsigned long long)count[i],
			    (unsigned long long)f->origin[i], (unsigned long long)f->dims[i]);
		off[i] = start[i] - f->origin[i];
		cnt[i] = count[i];
	}
	fspace = H5Dget_space(f->data);
	H5Sselect_hyperslab(fspace, H5S_SELECT_SET, off, NULL, cnt, NULL);
	mspace = H5Screate_simple(f->rank, cnt, NULL);
	mtype = io_spy_h5_mem_type(f->meta.dtype);
	err = H5Dwrite(f->data, mtype, mspace, fspace, H5P_DEFAULT, buf);
	H5Tclose(mtype);
	H5Sclose(mspace);
	H5Sclose(fspace);
	if (err < 0)
		return error_set(cause, -EIO, "%s: cannot write a hyperslab of 'data'", f->path);
	return 0;
}

int
io_spy_write_trials(struct io_spy_file *f, size_t trial0, size_t ntrials, size_t chan0,
		    size_t nchan, const void *buf, char **cause)
{
	const struct io_spy_meta *m = &f->meta;
	uint64_t start[IO_SPY_MAX_RANK], count[IO_SPY_MAX_RANK];
	const char *p = buf;
	int rc;

	uint64_t row = 1;

	rc = io_spy_trials_slab(m, trial0, ntrials, chan0, nchan, start, count, cause);
	if (rc != 0)
		return rc;
	/* Trials' rows back to back in buf (spectral data: each trial's time × taper × freq ×
	 * channel block). */
	for (int i = 1; i < f->rank; i++)
		row *= count[i];
	for (size_t t = trial0; t < trial0 + ntrials && rc == 0; t++) {
		start[0] = (uint64_t)m->trl[t * m->trl_cols];
		count[0] = (uint64_t)m->trl[t * m->trl_cols + 1] - start[0];
		rc = io_spy_write_slab(f, start, count, p, cause);
		p += count[0] * row * io_spy_dtype_size(m->dtype);
	}
	return rc;
}

int
io_spy_add_dataset(struct io_spy_file *f, const char *name, int rank, const uint64_t *shape,
		   const float *data, char **cause)
{
	hsize_t dims[IO_SPY_MAX_RANK];
	hid_t space, dcpl, d;
	herr_t err;

	if (f->part || rank < 1 || rank > IO_SPY_MAX_RANK || strcmp(name, "data") == 0)
		return error_set(cause, -EINVAL, "%s: cannot add dataset '%s'", f->path, name);
	for (int i = 0; i < rank; i++)
		dims[i] = shape[i];
	space = H5Screate_simple(rank, dims, NULL);
	dcpl = H5Pcreate(H5P_DATASET_CREATE);
	H5Pset_obj_track_times(dcpl, 0);
	d = H5Dcreate2(f->file, name, H5T_IEEE_F32LE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
	err = d < 0 ? -1 : H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, data);
	if (d >= 0)
		H5Dclose(d);
	H5Pclose(dcpl);
	H5Sclose(space);
	if (err < 0)
		return error_set(cause, -EIO, "%s: cannot write dataset '%s'", f->path, name);
	f->extra = xreallocarray(f->extra, f->nextra + 1, sizeof *f->extra);
	f->extra[f->nextra++] = xstrdup(name);
	return 0;
}

const struct io_spy_meta *
io_spy_file_meta(const struct io_spy_file *f)
{
	return &f->meta;
}

int
io_spy_close(struct io_spy_file *f, char **cause)
{
	char sha1[41];
	int64_t offset = -1;
	haddr_t addr;
	int rc = 0;

	if (!f->part) {
		addr = H5Dget_offset(f->data);
		if (addr != HADDR_UNDEF)
			offset = (int64_t)addr;
	}
	H5Dclose(f->data);
	f->data = H5I_INVALID_HID;
	if (H5Fclose(f->file) < 0)
		rc = error_set(cause, -EIO, "cannot close HDF5 file %s", f->path);
	f->file = H5I_INVALID_HID;
	if (rc == 0 && !f->part)
		rc = io_spy_info_sha1(f->path, sha1, cause);
	if (rc == 0 && !f->part)
		rc = io_spy_info_write(f->path, &f->meta, offset, sha1,
				       (const char *const *)f->extra, f->nextra, cause);
	io_spy_discard(f);
	return rc;
}

int
io_spy_close_unsealed(struct io_spy_file *f, int64_t *offset, char **cause)
{
	haddr_t addr = f->part ? HADDR_UNDEF : H5Dget_offset(f->data);
	int rc = 0;

	*offset = addr != HADDR_UNDEF ? (int64_t)addr : -1;
	if (*offset < 0)
		rc = error_set(cause, -EINVAL, "%s: 'data' has no storage of its own to write into",
			       f->path);
	H5Dclose(f->data);
	f->data = H5I_INVALID_HID;
	if (H5Fclose(f->file) < 0 && rc == 0)
		rc = error_set(cause, -EIO, "cannot close HDF5 file %s", f->path);
	f->file = H5I_INVALID_HID;
	io_spy_discard(f);
	return rc;
}

int
io_spy_seal(const char *path, const struct io_spy_meta *meta, int64_t offset, char **cause)
{
	struct io_spy_file *f = io_spy_file_new(path, meta);
	char sha1[41];
	int rc = io_spy_info_sha1(path, sha1, cause);

	if (rc == 0)
		rc = io_spy_info_write(path, &f->meta, offset, sha1, NULL, 0, cause);
	io_spy_discard(f);
	return rc;
}

int
io_spy_write(const char *path, const struct io_spy_meta *meta, const void *data, char **cause)
{
	struct io_spy_file *f;
	uint64_t start[IO_SPY_MAX_RANK] = {0};
	int rc;

	rc = io_spy_create(&f, path, meta, cause);
	if (rc != 0)
		return rc;
	rc = io_spy_write_slab(f, start, meta->shape, data, cause);
	if (rc != 0) {
		io_spy_discard(f);
		return rc;
	}
	return io_spy_close(f, cause);
}
