/* Task state inside a job: state counters, the ready FIFO, kept results and the release of
 * dependents (sched-tasks.c). */
#ifndef ND_SCHED_TASKS_H
#define ND_SCHED_TASKS_H

#include "scheduler/state/sched-state.h"

const char *sched_tasks_state_name(enum sched_task_state st);
void sched_tasks_set_state(struct sched_job *j, uint32_t idx, enum sched_task_state st);
void sched_tasks_push_ready(struct sched_job *j, uint32_t idx);
/* Task idx is done: its dependents whose last dependency it was become ready. */
void sched_tasks_done(struct sched_job *j, uint32_t idx);
/* Keep a finished task's inline result (JSON text) when later tasks receive it. */
void sched_tasks_keep_result(struct sched_job *j, uint32_t idx, const char *text);

#endif
