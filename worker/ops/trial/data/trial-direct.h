/* Unit tasks writing their rows straight into the output container (trial-direct.c), instead of
 * a part file the final task copies in: the first task of the stage creates the container in a
 * hidden temporary directory beside the output, every task writes its trials' bytes at their
 * place in the contiguous `data`, and the final task hashes the file, writes the .info and
 * renames the directory into place. */
#ifndef ND_TRIAL_DIRECT_H
#define ND_TRIAL_DIRECT_H

#include <jansson.h>
#include <stdbool.h>

#include "worker/io/io-spy-writer.h"
#include "worker/io/io-spy.h"
#include "worker/ops/trial/data/trial-run.h"

/* Whether task t can write its block of the container `m` directly: it holds every channel, so
 * each of its trials is one run of bytes (float32 or complex64 on a little-endian host). */
bool trial_direct_fits(const struct trial_run *t, const struct io_spy_meta *m);

/* Write t's trials (buf: their rows back to back, the container's dtype) into the container of
 * `output` (the pipeline's output object) that stage `stage` fills, creating it if this is the
 * stage's first task. Safe against the other tasks of the stage in any process. */
int trial_direct_unit(const struct trial_run *t, const struct io_spy_meta *m, const char *workdir,
		      int stage, const json_t *output, const void *buf, char **cause);

/* The final task: when the tasks of `stage` wrote the container of `output` directly, check
 * that every non-empty part did and seal it (checksum, .info) in its temporary directory, which
 * *c then names, for the caller to publish (io_spy_container_publish); else leave *c cleared
 * (the parts are stitched). On failure *c is cleared and the directory stays for another
 * attempt (the scheduler removes it when the job ends). */
int trial_direct_final(const char *workdir, int stage, uint32_t nparts, const struct io_spy_meta *m,
		       const char *output, struct io_spy_container *c, char **cause);

#endif
