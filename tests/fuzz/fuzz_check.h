/* fuzz_check.h - the one assertion the fuzz harnesses use.
 *
 * FUZZ_CHECK(cond, fmt, ...) states an invariant of the specification. When
 * it does not hold, it prints which one, where, and the details given, then
 * aborts: libFuzzer saves the input as a crash, and the plain replay driver
 * reports the file it was reading. It is on in every build, like WE_ASSERT,
 * but it is the harness's check of the code under test, not the code's own.
 */
#ifndef FUZZ_CHECK_H
#define FUZZ_CHECK_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define FUZZ_CHECK(cond, ...)                                                              \
	do {                                                                               \
		if (!(cond)) {                                                             \
			fprintf(stderr, "fuzz invariant violated: %s (%s:%d)\n  ", #cond,  \
				__FILE__, __LINE__);                                       \
			fprintf(stderr, __VA_ARGS__);                                      \
			fputc('\n', stderr);                                               \
			fflush(stderr);                                                    \
			abort();                                                           \
		}                                                                          \
	} while (0)

/* The libFuzzer entry point every harness defines. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
