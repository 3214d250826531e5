/* blaster_test.h - the blaster tests' seed: we_test_seed() with the fixed
 * fallback these tests have always used. */
#ifndef BLASTER_TEST_H
#define BLASTER_TEST_H

#include <stdint.h>

#include "we_test.h"

static inline uint64_t blaster_test_seed(const char *test)
{
	return we_test_seed(test, 20240601);
}

#endif
