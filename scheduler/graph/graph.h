/* Pipelines as task graphs. A pipeline (JSON) is validated and cut into stages: global steps are
 * single tasks, consecutive unit steps fuse into one task per channel/trial group (or one stage
 * per step in staged mode), run-once steps are one task feeding every unit task, reductions
 * combine groups. Edges are implied by each stage's pattern on the stage before it, so the graph
 * costs a few words per stage, not per edge. */
#ifndef ND_GRAPH_H
#define ND_GRAPH_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "worker/ops/op-registry.h"

enum graph_dep {
	GRAPH_DEP_NONE,  /* first stage */
	GRAPH_DEP_ALL,   /* every task of the previous stage */
	GRAPH_DEP_ONE,   /* task i of the previous stage */
	GRAPH_DEP_GROUP, /* tasks [i·group, (i+1)·group) of the previous stage */
};

/* A job's tasks are numbered in 32 bits. */
#define GRAPH_MAX_TASKS UINT32_MAX
/* Steps a pipeline may have (the shipped ones have at most 15): bounds the work one submit
 * costs the scheduler's loop. */
#define GRAPH_MAX_STEPS 1000

struct graph_stage {
	enum op_kind kind;
	enum graph_dep dep;
	uint32_t first; /* global index of its first task */
	uint32_t count;
	uint32_t group;
	char *label; /* "highpass+upsample+aas" */
	char *spec;  /* the stage's constant part of every task spec (JSON text) */
	size_t spec_len;
};

struct graph {
	json_t *pipeline; /* validated, with the CLI's overrides applied */
	char *name;
	int32_t priority;
	uint32_t min_workers;
	bool staged;
	uint32_t nchan, ntrial; /* units */
	uint32_t cpt, tpt;      /* channels and trials per task */
	char *ref_channel;      /* the run-once steps' reference channel, or NULL: the first EEG */
	bool overwrite;         /* output.overwrite: an existing output may be replaced */
	double task_timeout_s;  /* execution.task_timeout: give a task up after this (0: default) */
	uint32_t nstages;
	struct graph_stage *stages;
	uint32_t ntasks;
	/* While the graph is built, for a recording: its channels (graph-input-rates.c). */
	struct graph_rec_chan *rec_chans;
	size_t n_rec_chans;
};

/* Parse and validate `text`; `input`/`output` (or NULL) replace input.path / output.path;
 * `workdir` is where the job's bulk intermediates go. Errors name the JSON path and the line and
 * column in `text`. */
int graph_build(const char *text, const char *input, const char *output, const char *workdir,
		struct graph **out, char **cause);
void graph_free(struct graph *g);

uint32_t graph_stage_of(const struct graph *g, uint32_t task);
/* How many tasks `task` waits for. */
uint32_t graph_deps_count(const struct graph *g, uint32_t task);
/* Call cb for every task that waits for `task`. */
typedef void (*graph_task_cb)(uint32_t task, void *arg);
void graph_dependents(const struct graph *g, uint32_t task, graph_task_cb cb, void *arg);
/* The spec a worker gets for `task` (JSON text, caller frees). */
char *graph_task_spec(const struct graph *g, uint32_t job, uint32_t task);
/* Whether the task's inline result is kept for later tasks (single-task stages). */
bool graph_keeps_result(const struct graph *g, uint32_t task);

/* graph-output.c: take output.overwrite out of the pipeline (into g->overwrite). */
int graph_output_take_overwrite(struct graph *g, json_t *root, char **cause);
/* The job's final output and input paths (NULL when it has none). */
const char *graph_output_path(const struct graph *g);
const char *graph_input_path(const struct graph *g);
/* The canonical name of a path that may not exist yet: its directory resolved, its name kept
 * (caller frees). */
char *graph_output_canonical(const char *path);
/* Whether two paths name the same file (by inode when both exist, else by canonical name). */
bool graph_output_same_file(const char *a, const char *b);
/* For a new job (not when a job is rebuilt after a restart): the output is not the input, and
 * replaces an existing file only with `overwrite` or the pipeline's own "overwrite". */
int graph_check_output(const struct graph *g, bool overwrite, char **cause);

/* pipeline-locate.c: line and column (1-based) of the value at a JSON path such as
 * "steps[3].freq" inside `text`; 0 when not found. */
int pipeline_locate(const char *text, const char *path, int *line, int *column);

#endif
