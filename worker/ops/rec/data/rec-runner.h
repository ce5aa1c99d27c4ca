/* The recording input runners ("edf", "bdf", "brainvision", "eeglab") for the task-format
 * table. */
#ifndef ND_REC_RUNNER_H
#define ND_REC_RUNNER_H

#include "worker/ops/spec/op-run.h"

extern const struct task_format rec_runner_format;
extern const struct task_format rec_runner_format_bdf;
extern const struct task_format rec_runner_format_brainvision;
extern const struct task_format rec_runner_format_eeglab;

#endif
