/* The runners of the trial input formats (.spy, generated trials, EDF epochs) that
 * task-format.c's table lists. */
#ifndef ND_TRIAL_RUNNER_H
#define ND_TRIAL_RUNNER_H

#include "worker/ops/spec/op-run.h"

extern const struct task_format trial_runner_format_spy;
extern const struct task_format trial_runner_format_synth;
extern const struct task_format trial_runner_format_edf;

#endif
