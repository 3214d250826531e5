/* parse_num.h - strict unsigned numbers from command lines and config text.
 *
 * Shared by the data plane's options (dataplane/config.c), warp-client
 * (tools/client/client_opts.c) and warp-blaster (tools/blaster/options.c).
 * Each caller writes its own error message; these only say yes or no.
 *
 *   parse_num_u64()    "N"            -> N in [min, max]
 *   parse_num_range()  "B" or "A-B"   -> [A, B] with A <= B <= max ("B": A = B)
 *
 * Strict: the text starts with a decimal digit (no sign, no blank), has
 * nothing after the number, and does not overflow. `base` is 10, or 0 for
 * strtoull()'s C prefixes (0x hex, a leading 0 octal).
 */
#ifndef PARSE_NUM_H
#define PARSE_NUM_H

#include <stdint.h>

/* 0 and *out = the number if `s` is one in [min, max]; -EINVAL otherwise
 * (*out untouched). */
int parse_num_u64(const char *s, int base, uint64_t min, uint64_t max, uint64_t *out);

/* 0 and *lo, *hi if `s` is "B" (lo = hi = B) or "A-B" with A <= B <= max;
 * -EINVAL otherwise (*lo, *hi untouched). */
int parse_num_range(const char *s, int base, uint64_t max, uint64_t *lo, uint64_t *hi);

#endif
