/* The report input files in a job's work dir: one JSON document per name under report/. */
#include "worker/ops/rec/data/rec-report.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/error.h"
#include "common/paths.h"
#include "common/xmalloc.h"

int
rec_report_put(const char *workdir, const char *name, json_t *v, char **cause)
{
	char *dir = xasprintf("%s/report", workdir), *path;
	int rc = paths_mkdirs(dir, 0755, cause);

	if (rc == 0) {
		path = xasprintf("%s/%s.json", dir, name);
		rc = paths_publish_json(v, path, JSON_COMPACT, PATHS_WORK_FILE, cause);
		free(path);
	}
	free(dir);
	json_decref(v);
	return rc;
}

json_t *
rec_report_get(const char *workdir, const char *name)
{
	char *path = xasprintf("%s/report/%s.json", workdir, name);
	json_t *v = json_load_file(path, 0, NULL);

	free(path);
	return v;
}
