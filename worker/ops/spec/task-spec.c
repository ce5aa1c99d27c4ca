/* The task spec's JSON form, written by the graph builder once per stage and read back by
 * workers into the same typed struct. */
#include "worker/ops/spec/task-spec.h"

#include <errno.h>
#include <string.h>

#include "common/error.h"
#include "common/log.h"

static const char *const task_spec_kinds[] = {
    [OP_GLOBAL] = "global",
    [OP_UNIT] = "unit",
    [OP_RUN_ONCE] = "run_once",
    [OP_REDUCE] = "reduce",
};

const char *
task_spec_kind_name(enum op_kind kind)
{
	return task_spec_kinds[kind];
}

json_t *
task_spec_stage_json(const struct task_stage *st)
{
	const struct task_grid *g = &st->grid;
	json_t *j = json_pack(
	    "{s:s, s:i, s:O, s:O, s:O, s:s, s:s, s:{s:i, s:i, s:i, s:i, s:[i, i]}}", "kind",
	    task_spec_kind_name(st->kind), "stage", st->index, "steps", st->steps, "input",
	    st->input, "output", st->output != NULL ? st->output : json_null(), "workdir",
	    st->workdir != NULL ? st->workdir : "", "mode", st->staged ? "staged" : "fused", "grid",
	    "channels", (int)g->channels, "trials", (int)g->trials, "chan_per_task",
	    (int)g->chan_per_task, "trials_per_task", (int)g->trials_per_task, "shape",
	    (int)g->shape_c, (int)g->shape_t);

	if (j == NULL)
		fatal("task spec: cannot build a stage");
	if (st->ref_channel != NULL)
		json_object_set_new(j, "ref_channel", json_string(st->ref_channel));
	return j;
}

static int
task_spec_u32(const json_t *obj, const char *key, uint32_t *out)
{
	json_t *v = json_object_get(obj, key);

	if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > UINT32_MAX)
		return -EINVAL;
	*out = (uint32_t)json_integer_value(v);
	return 0;
}

static int
task_spec_grid(const json_t *grid, struct task_grid *g)
{
	json_t *shape = json_object_get(grid, "shape");

	if (task_spec_u32(grid, "channels", &g->channels) != 0 ||
	    task_spec_u32(grid, "trials", &g->trials) != 0 ||
	    task_spec_u32(grid, "chan_per_task", &g->chan_per_task) != 0 ||
	    task_spec_u32(grid, "trials_per_task", &g->trials_per_task) != 0 ||
	    json_array_size(shape) != 2)
		return -EINVAL;
	g->shape_c = (uint32_t)json_integer_value(json_array_get(shape, 0));
	g->shape_t = (uint32_t)json_integer_value(json_array_get(shape, 1));
	return 0;
}

static int
task_spec_kind(const char *name, enum op_kind *kind)
{
	for (size_t k = 0; k < sizeof task_spec_kinds / sizeof task_spec_kinds[0]; k++)
		if (name != NULL && strcmp(name, task_spec_kinds[k]) == 0) {
			*kind = (enum op_kind)k;
			return 0;
		}
	return -EINVAL;
}

static int
task_spec_stage_read(const json_t *j, struct task_stage *st, char **cause)
{
	const char *mode = json_string_value(json_object_get(j, "mode"));
	json_t *stage = json_object_get(j, "stage");

	memset(st, 0, sizeof *st);
	if (!json_is_object(j) ||
	    task_spec_kind(json_string_value(json_object_get(j, "kind")), &st->kind) != 0)
		return error_set(cause, -EINVAL, "task spec: stage.kind missing or unknown");
	if (!json_is_integer(stage) || json_integer_value(stage) < 0)
		return error_set(cause, -EINVAL, "task spec: stage.stage missing");
	st->index = (int)json_integer_value(stage);
	st->staged = mode != NULL && strcmp(mode, "staged") == 0;
	if (task_spec_grid(json_object_get(j, "grid"), &st->grid) != 0)
		return error_set(cause, -EINVAL, "task spec: stage.grid missing or malformed");
	st->workdir = json_string_value(json_object_get(j, "workdir"));
	st->ref_channel = json_string_value(json_object_get(j, "ref_channel"));
	st->steps = json_object_get(j, "steps");
	st->input = json_object_get(j, "input");
	st->output = json_object_get(j, "output");
	if (!json_is_array(st->steps))
		return error_set(cause, -EINVAL, "task spec has no steps");
	return 0;
}

int
task_spec_read(const json_t *spec, struct task_spec *out, char **cause)
{
	if (task_spec_u32(spec, "job", &out->job) != 0 ||
	    task_spec_u32(spec, "task", &out->task) != 0 ||
	    task_spec_u32(spec, "index", &out->index) != 0)
		return error_set(cause, -EINVAL, "task spec: job, task or index missing");
	return task_spec_stage_read(json_object_get(spec, "stage"), &out->stage, cause);
}
