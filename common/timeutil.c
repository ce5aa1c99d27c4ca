/* Clock readings used for timeouts, latencies and timestamps. */
#include "common/timeutil.h"

#include <time.h>

uint64_t
time_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

double
time_mono_s(void)
{
	return (double)time_mono_ns() * 1e-9;
}

double
time_wall_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}
