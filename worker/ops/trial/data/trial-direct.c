/* Unit tasks writing straight into the output container. The stage's record "<workdir>/s<stage>-
 * direct.json" names the container's hidden temporary directory (DIR/.NAME.spy.tmpPID beside the
 * output, which the scheduler removes when the job ends), the data file in it and the byte
 * offset of its `data`;
 * the task that finds no record creates the container (HDF5, every attribute and the trial
 * definition, `data` allocated but not written), closes it and writes the record, all under an
 * exclusive lock on "s<stage>-direct.lock". From then on HDF5 does not touch the file: each
 * task writes its trials with pwrite at their rows, disjoint byte ranges, and a task run again
 * writes the same bytes again. The final task hashes the file, writes the .info beside it and
 * renames the directory into place, so the container's bytes are those an HDF5 write of the same
 * data gives. */
#include "worker/ops/trial/data/trial-direct.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "common/error.h"
#include "common/log.h"
#include "common/paths.h"
#include "common/xmalloc.h"
#include "worker/io/io-spy-writer.h"
#include "worker/ops/trial/data/trial-part.h"

bool
trial_direct_fits(const struct trial_run *t, const struct io_spy_meta *m)
{
	int rank = io_spy_rank(m->dataclass);

	if (__BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__ || m->trl == NULL)
		return false;
	if (m->dtype != IO_SPY_FLOAT32 && m->dtype != IO_SPY_COMPLEX64)
		return false;
	return (m->dataclass == IO_SPY_ANALOG || m->dataclass == IO_SPY_SPECTRAL) &&
	       t->chan0 == 0 && t->nch == m->shape[rank - 1];
}

static char *
trial_direct_record(const char *workdir, int stage)
{
	return xasprintf("%s/s%d-direct", workdir, stage);
}

static json_t *
trial_direct_shape(const struct io_spy_meta *m)
{
	json_t *a = json_array();

	for (int i = 0; i < io_spy_rank(m->dataclass); i++)
		json_array_append_new(a, json_integer((json_int_t)m->shape[i]));
	return a;
}

/* Create the container in its hidden temporary directory and write the stage's record. */
static int
trial_direct_create(const struct io_spy_meta *m, const char *output, const char *record,
		    json_t **rec, char **cause)
{
	struct io_spy_container c;
	struct io_spy_file *f = NULL;
	int64_t offset = -1;
	int rc;

	trial_run_h5_lock();
	rc = io_spy_container_begin(&c, output, m->dataclass, NULL, cause);
	if (rc == 0)
		rc = io_spy_create(&f, c.tmp, m, cause);
	if (rc == 0)
		rc = io_spy_close_unsealed(f, &offset, cause);
	trial_run_h5_unlock();
	if (rc == 0) {
		*rec = json_pack("{s:s, s:s, s:I, s:o}", "dir", c.tmpdir, "tmp", c.tmp, "offset",
				 (json_int_t)offset, "shape", trial_direct_shape(m));
		rc = trial_part_json(*rec, record, cause);
	}
	if (rc != 0 && c.tmpdir != NULL)
		io_spy_container_publish(&c, rc, NULL); /* removes the directory */
	io_spy_container_fini(&c);
	return rc;
}

/* The stage's record, created with the container if no task has made it yet. */
static int
trial_direct_open(const struct io_spy_meta *m, const char *workdir, int stage, const char *output,
		  json_t **rec, char **cause)
{
	char *record = trial_direct_record(workdir, stage), *lock = xasprintf("%s.lock", record);
	int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600), rc = 0;
	json_t *shape;

	*rec = NULL;
	if (fd < 0 || flock(fd, LOCK_EX) != 0)
		rc = error_set(cause, -errno, "cannot lock %s: %s", lock, strerror(errno));
	if (rc == 0 && trial_part_load_json(record, rec, NULL) != 0)
		rc = trial_direct_create(m, output, record, rec, cause);
	if (fd >= 0)
		close(fd); /* releases the lock */
	shape = rc == 0 ? trial_direct_shape(m) : NULL;
	if (rc == 0 && (!json_equal(shape, json_object_get(*rec, "shape")) ||
			json_string_value(json_object_get(*rec, "tmp")) == NULL ||
			json_string_value(json_object_get(*rec, "dir")) == NULL))
		rc = error_set(cause, -EBADMSG, "%s.json describes another container", record);
	json_decref(shape);
	free(lock);
	free(record);
	return rc;
}

static int
trial_direct_pwrite(int fd, const char *p, size_t n, off_t at, const char *path, char **cause)
{
	while (n > 0) {
		ssize_t w = pwrite(fd, p, n, at);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return error_set(cause, w < 0 ? -errno : -EIO, "cannot write %s: %s", path,
					 w < 0 ? strerror(errno) : "no progress");
		p += w;
		n -= (size_t)w;
		at += w;
	}
	return 0;
}

int
trial_direct_unit(const struct trial_run *t, const struct io_spy_meta *m, const char *workdir,
		  int stage, const json_t *output, const void *buf, char **cause)
{
	const char *out = json_string_value(json_object_get(output, "path")), *tmp, *p = buf;
	size_t row = io_spy_dtype_size(m->dtype);
	json_t *rec = NULL;
	int64_t offset;
	int fd = -1, rc;

	if (out == NULL)
		return error_set(cause, -EINVAL,
				 "output.path: required, where the .spy container goes");
	rc = trial_direct_open(m, workdir, stage, out, &rec, cause);
	tmp = json_string_value(json_object_get(rec, "tmp"));
	offset = json_integer_value(json_object_get(rec, "offset"));
	if (rc == 0 && (fd = open(tmp, O_WRONLY | O_CLOEXEC)) < 0)
		rc = error_set(cause, -errno, "cannot open %s: %s", tmp, strerror(errno));
	for (int i = 1; i < io_spy_rank(m->dataclass); i++)
		row *= (size_t)m->shape[i];
	for (size_t i = t->trial0; rc == 0 && i < t->trial0 + t->ntr; i++) {
		uint64_t r0 = (uint64_t)m->trl[i * m->trl_cols];
		uint64_t r1 = (uint64_t)m->trl[i * m->trl_cols + 1];
		if (r1 < r0 || r1 > m->shape[0]) {
			rc = error_set(cause, -EINVAL,
				       "trial %zu: rows [%llu, %llu) outside [0, %llu)", i,
				       (unsigned long long)r0, (unsigned long long)r1,
				       (unsigned long long)m->shape[0]);
			break;
		}
		rc = trial_direct_pwrite(fd, p, (r1 - r0) * row,
					 (off_t)(offset + (int64_t)(r0 * row)), tmp, cause);
		p += (r1 - r0) * row;
	}
	if (fd >= 0 && close(fd) != 0 && rc == 0)
		rc = error_set(cause, -errno, "cannot write %s: %s", tmp, strerror(errno));
	json_decref(rec);
	return rc;
}

int
trial_direct_final(const char *workdir, int stage, uint32_t nparts, const struct io_spy_meta *m,
		   const char *output, struct io_spy_container *c, char **cause)
{
	char *record = trial_direct_record(workdir, stage);
	const char *dir, *tmp;
	json_t *rec = NULL;
	int rc = 0;

	if (trial_part_load_json(record, &rec, NULL) != 0) {
		free(record);
		return 0; /* no task wrote directly */
	}
	for (uint32_t u = 0; u < nparts && rc == 0; u++) {
		char *base = trial_part_base(workdir, stage, u);
		json_t *d = NULL;
		rc = trial_part_load_json(base, &d, cause);
		if (rc == 0 && !json_is_true(json_object_get(d, "direct")) &&
		    !json_is_true(json_object_get(d, "empty")))
			rc = error_set(cause, -EBADMSG,
				       "%s: a part file, where the stage wrote the container "
				       "directly",
				       base);
		json_decref(d);
		free(base);
	}
	dir = json_string_value(json_object_get(rec, "dir"));
	tmp = json_string_value(json_object_get(rec, "tmp"));
	if (rc == 0 && (dir == NULL || tmp == NULL))
		rc = error_set(cause, -EBADMSG, "%s.json names no container", record);
	if (rc == 0)
		rc = io_spy_container_begin(c, output, m->dataclass, dir, cause);
	if (rc == 0 && strcmp(c->tmp, tmp) != 0)
		rc = error_set(cause, -EBADMSG, "%s.json describes another container", record);
	if (rc == 0)
		rc = io_spy_seal(c->tmp, m, json_integer_value(json_object_get(rec, "offset")),
				 cause);
	if (rc == 0)
		log_info("%s: written by the unit tasks in place, sealed", c->path);
	else
		io_spy_container_fini(c); /* the directory stays for another attempt */
	json_decref(rec);
	free(record);
	return rc;
}
