/* The client-only `neurodag` hands `run`, `scheduler`, `worker` and `synth` to neurodag-engine,
 * the same CLI linked with the scheduler, the workers and their DSP libraries: the one beside
 * this program (a build tree, or both installed in one directory), else the installed one. The
 * process is replaced, so its pid, signals and exit code are the command's own. `run` gets one
 * BLAS thread, as its local workers have. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/xmalloc.h"
#include "scheduler/ctl/ctl.h"

#define CTL_EXEC_NAME "neurodag-engine"

/* neurodag-engine in the directory of this executable, or NULL (caller frees). */
static char *
ctl_exec_beside_self(void)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	char *slash, *path;

	if (n <= 0)
		return NULL;
	self[n] = '\0';
	if ((slash = strrchr(self, '/')) == NULL)
		return NULL;
	*slash = '\0';
	path = xasprintf("%s/%s", self, CTL_EXEC_NAME);
	if (access(path, X_OK) == 0)
		return path;
	free(path);
	return NULL;
}

int
ctl_exec_engine(int argc, char **argv)
{
	char *path = ctl_exec_beside_self();
	char **args = xcalloc((size_t)argc + 2, sizeof *args);

	args[0] = "neurodag";
	/* `run` does no linear algebra of its own but the tasks of --serial, one at a time, and its
	 * local workers run with one BLAS thread each: without this, OpenBLAS starts a server
	 * thread per core when the engine loads, and it spins (sched_yield) for about 0.1 s of
	 * CPU, beside the workers on a small machine. A user's own setting is kept. */
	if (argc > 0 && strcmp(argv[0], "run") == 0)
		setenv("OPENBLAS_NUM_THREADS", "1", 0);
	for (int i = 0; i < argc; i++)
		args[i + 1] = argv[i];
	if (path == NULL)
		path = xstrdup(ND_ENGINE_INSTALLED);
	execv(path, args);
	fprintf(stderr, "neurodag %s: cannot start %s: %s (is neurodag installed completely?)\n",
		argv[0], path, strerror(errno));
	free(path);
	free(args);
	return CTL_EXIT_USAGE;
}
