/* we_assert.h - assertions that stay on in every build.
 *
 * WE_ASSERT: O(1) invariants of our own code; on in release builds too. A
 * failure prints the expression and location and aborts: a bug stops the
 * process instead of corrupting a shard.
 * WE_VERIFY: O(n) checks (check_invariants, per-packet double checks); only in
 * debug, test and sanitizer builds (WE_VERIFY_ENABLED is set by meson).
 *
 * Never assert on input from the network, a disk or a config file: those are
 * operating conditions, handled and counted (see docs/architecture.md).
 */
#ifndef WE_ASSERT_H
#define WE_ASSERT_H

#include "we_compiler.h"

void we_assert_fail(const char *expr, const char *file, int line, const char *func)
	__attribute__((noreturn, cold));

#define WE_ASSERT(x)                                                           \
	do {                                                                   \
		if (we_unlikely(!(x)))                                         \
			we_assert_fail(#x, __FILE__, __LINE__, __func__);      \
	} while (0)

#ifdef WE_VERIFY_ENABLED
#define WE_VERIFY(x) WE_ASSERT(x)
#else
#define WE_VERIFY(x) ((void)0)
#endif

#endif
