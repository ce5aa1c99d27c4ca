/* Realignment parameters (SPM rp_*.txt) to a framewise displacement per volume, for the
 * motion-informed AAS weighting (Moosmann et al. 2009). */
#include "worker/ops/rec/data/rec-motion.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/xmalloc.h"

char *
rec_motion_path(const char *input, const char *path)
{
	const char *slash = strrchr(input, '/');

	if (path[0] == '/' || slash == NULL)
		return xstrdup(path);
	return xasprintf("%.*s/%s", (int)(slash - input), input, path);
}

/* Six numbers from one line into v; 0, or -EINVAL. */
static int
rec_motion_line(const char *line, double v[6])
{
	const char *p = line;

	for (int j = 0; j < 6; j++) {
		char *end;

		v[j] = strtod(p, &end);
		if (end == p || !isfinite(v[j]))
			return -EINVAL;
		p = end;
	}
	while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
		p++;
	return *p == '\0' ? 0 : -EINVAL;
}

int
rec_motion_read(const char *path, double **motion, size_t *n, char **cause)
{
	FILE *f = fopen(path, "r");
	char line[1024];
	double prev[6] = {0}, *m = NULL;
	size_t count = 0, cap = 0, lineno = 0;
	int rc = 0;

	*motion = NULL;
	*n = 0;
	if (f == NULL)
		return error_set(cause, -errno, "%s: cannot open: %s", path, strerror(errno));
	while (fgets(line, sizeof line, f) != NULL) {
		const char *p = line;
		double v[6], fd = 0;

		lineno++;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0' || *p == '\n' || *p == '\r' || *p == '#')
			continue;
		if (rec_motion_line(p, v) != 0) {
			rc = error_set(cause, -EINVAL,
				       "%s:%zu: expected six numbers (x y z pitch roll yaw)", path,
				       lineno);
			break;
		}
		for (int j = 0; count > 0 && j < 6; j++)
			fd += (j < 3 ? 1.0 : 50.0) * fabs(v[j] - prev[j]);
		memcpy(prev, v, sizeof prev);
		if (count == cap)
			m = xrealloc(m, (cap = cap ? 2 * cap : 256) * sizeof *m);
		m[count++] = fd;
	}
	fclose(f);
	if (rc == 0 && count == 0)
		rc = error_set(cause, -EINVAL, "%s: no volumes", path);
	if (rc != 0) {
		free(m);
		return rc;
	}
	*motion = m;
	*n = count;
	return 0;
}
