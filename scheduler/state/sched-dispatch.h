/* Dispatch: ready tasks to the workers whose task requests are parked (sched-dispatch.c). */
#ifndef ND_SCHED_DISPATCH_H
#define ND_SCHED_DISPATCH_H

#include "scheduler/state/sched-state.h"

void sched_dispatch(struct sched *s);
/* Answer IDLE to the requests held longer than the long-poll hold. */
void sched_dispatch_release_held(struct sched *s, double now);

#endif
