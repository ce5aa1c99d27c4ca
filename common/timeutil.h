/* Clocks: monotonic nanoseconds for intervals, wall-clock seconds for records. */
#ifndef ND_TIMEUTIL_H
#define ND_TIMEUTIL_H

#include <stdint.h>

uint64_t time_mono_ns(void);
double time_mono_s(void);
double time_wall_s(void);

#endif
