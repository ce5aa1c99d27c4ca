/* Loading custom ops from shared objects given with --plugin: each exports the table described
 * in neurodag-op.h; every op in it is wrapped as a recording op (channel-wise or run-once) and
 * joins the registry. The scheduler loads the same plugins to validate pipelines. */
#include "worker/ops/op-plugin.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/log.h"
#include "common/xmalloc.h"
#include "worker/ops/spec/neurodag-op.h"
#include "worker/ops/op-registry.h"
#include "worker/ops/rec/op-rec.h"

#define OP_PLUGIN_ERRLEN 512

static const struct neurodag_op *
op_plugin_op(const json_t *step)
{
	const struct op_rec *op =
	    (const struct op_rec *)op_registry_find(json_string_value(json_object_get(step, "op")));

	return op != NULL ? op->data : NULL;
}

static int
op_plugin_validate(const json_t *step, const char *path, char **cause)
{
	const struct neurodag_op *op = op_plugin_op(step);
	char err[OP_PLUGIN_ERRLEN] = "", *text;
	int rc;

	if (op == NULL || op->validate == NULL)
		return 0;
	text = json_dumps(step, JSON_COMPACT | JSON_SORT_KEYS);
	rc = op->validate(text, err, sizeof err);
	free(text);
	err[sizeof err - 1] = '\0';
	if (rc != 0)
		return error_set(cause, -EINVAL, "%s: %s", path, *err ? err : "invalid parameters");
	return 0;
}

static int
op_plugin_chan(struct op_run *run, struct rec_chan *c, const json_t *step, char **cause)
{
	const struct neurodag_op *op = op_plugin_op(step);
	struct neurodag_channel ch = {
	    .samples = c->x,
	    .n = c->n,
	    .fs = c->fs,
	    .label = c->label,
	    .triggers = c->epochs.step >= 0 ? c->epochs.t : NULL,
	    .ntriggers = c->epochs.step >= 0 ? c->epochs.n : 0,
	    .artifact_len = c->epochs.step >= 0 ? c->epochs.L : 0,
	};
	char err[OP_PLUGIN_ERRLEN] = "", *text;
	int rc;

	text = json_dumps(step, JSON_COMPACT | JSON_SORT_KEYS);
	rc = op->run(&ch, text, err, sizeof err);
	free(text);
	err[sizeof err - 1] = '\0';
	if (rc != 0)
		return error_set(cause, -EIO, "%s", *err ? err : "plugin op failed");
	return 0;
}

static int
op_plugin_wrap(const char *path, const struct neurodag_op *op, char **cause)
{
	struct op_rec *w;
	int rc;

	if (op->abi != NEURODAG_OP_ABI)
		return error_set(cause, -EINVAL, "--plugin %s: op built for ABI %u, this is ABI %d",
				 path, op->abi, NEURODAG_OP_ABI);
	if (op->name == NULL || op->run == NULL ||
	    !(op->flags & (NEURODAG_OP_CHANNEL_WISE | NEURODAG_OP_RUN_ONCE)))
		return error_set(cause, -EINVAL,
				 "--plugin %s: an op needs a name, a run function and the flag "
				 "channel_wise or run_once",
				 path);
	w = xcalloc(1, sizeof *w); /* lives as long as the registry: never freed */
	w->def.name = op->name;
	w->def.kind = (op->flags & NEURODAG_OP_RUN_ONCE) ? OP_RUN_ONCE : OP_UNIT;
	w->def.summary = op->summary != NULL ? op->summary : "plugin op";
	w->def.validate = op_plugin_validate;
	w->def.run = op_rec_run;
	w->chan = op_plugin_chan;
	w->data = op;
	if ((rc = op_registry_add(&w->def, cause)) != 0) {
		free(w);
		return error_wrap(cause, rc, "--plugin %s: ", path);
	}
	log_info("plugin %s: op '%s'", path, op->name);
	return 0;
}

int
op_plugin_load(char **paths, char **cause)
{
	for (char **p = paths; p != NULL && *p != NULL; p++) {
		void *h = dlopen(*p, RTLD_NOW | RTLD_LOCAL);
		const struct neurodag_op *const *table;
		int rc;

		if (h == NULL)
			return error_set(cause, -ENOENT, "--plugin %s: %s", *p, dlerror());
		table = dlsym(h, "neurodag_op_table");
		if (table == NULL)
			return error_set(cause, -EINVAL,
					 "--plugin %s: no 'neurodag_op_table' exported (see "
					 "neurodag-op.h)",
					 *p);
		for (; *table != NULL; table++)
			if ((rc = op_plugin_wrap(*p, *table, cause)) != 0)
				return rc;
	}
	return 0;
}
