/* Loading custom ops from shared objects given with --plugin: each exports the table described
 * in neurodag-op.h, and every op in it joins the registry. */
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>

#include "common/error.h"
#include "common/log.h"
#include "worker/op-registry.h"
#include "worker/worker-cli.h"

int
worker_plugins_load(char **paths, char **cause)
{
	for (char **p = paths; p != NULL && *p != NULL; p++) {
		void *h = dlopen(*p, RTLD_NOW | RTLD_LOCAL);
		const struct op_def *const *table;

		if (h == NULL)
			return error_set(cause, -ENOENT, "--plugin %s: %s", *p, dlerror());
		table = dlsym(h, "neurodag_ops");
		if (table == NULL)
			return error_set(cause, -EINVAL,
					 "--plugin %s: no 'neurodag_ops' table exported", *p);
		for (; *table != NULL; table++) {
			int rc = op_registry_add(*table, cause);
			if (rc != 0)
				return error_wrap(cause, rc, "--plugin %s: ", *p);
			log_info("plugin %s: op '%s'", *p, (*table)->name);
		}
	}
	return 0;
}
