/* Clocks for the benchmarks: seconds of a POSIX clock as a double. */
#ifndef ND_BENCH_CLOCK_H
#define ND_BENCH_CLOCK_H

#include <time.h>

/* Seconds on clock `id` (CLOCK_MONOTONIC for wall time, CLOCK_THREAD_CPUTIME_ID for CPU). */
static inline double
bench_clock(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Wall-clock seconds from an arbitrary origin. */
static inline double
bench_now(void)
{
	return bench_clock(CLOCK_MONOTONIC);
}

#endif
