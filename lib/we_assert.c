/* we_assert.c - the failure path of WE_ASSERT: report and abort. */
#include "we_assert.h"

#include <stdio.h>
#include <stdlib.h>

void we_assert_fail(const char *expr, const char *file, int line, const char *func)
{
	fprintf(stderr, "warpengine: assertion failed: %s (%s:%d, %s)\n", expr, file, line, func);
	fflush(stderr);
	abort();
}
