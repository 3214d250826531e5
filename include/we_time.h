/* we_time.h - the monotonic clock in nanoseconds, for everything that is not
 * a hot loop (hot loops read the TSC). One definition so that times taken by
 * different modules (a blaster engine and its core, say) share an origin. */
#ifndef WE_TIME_H
#define WE_TIME_H

#include <stdint.h>
#include <time.h>

static inline uint64_t we_monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

#endif
