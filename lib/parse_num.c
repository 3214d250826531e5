/* parse_num.c - strict unsigned numbers from command lines and config text.
 *
 * DESIGN: strtoull() alone accepts too much for an option value: leading
 * blanks, a sign ("-1" wraps to 2^64 - 1) and trailing junk. One prefix
 * parser requires a leading digit, checks errno and the range, and reports
 * where the number stopped; the whole-string and "A-B" forms differ only in
 * what may follow it. The range form needs no copy: strtoull() stops at the
 * dash.
 */
#include "parse_num.h"

#include <errno.h>
#include <stdlib.h>

/* A number at the start of `s` in [min, max]; *end is where it stopped. */
static int parse_num_prefix(const char *s, int base, uint64_t min, uint64_t max,
			    const char **end, uint64_t *out)
{
	unsigned long long v;
	char *stop;

	if (s[0] < '0' || s[0] > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &stop, base);
	if (errno != 0 || v < min || v > max)
		return -EINVAL;
	*end = stop;
	*out = v;
	return 0;
}

int parse_num_u64(const char *s, int base, uint64_t min, uint64_t max, uint64_t *out)
{
	const char *end;
	uint64_t v;

	if (parse_num_prefix(s, base, min, max, &end, &v) != 0 || *end != '\0')
		return -EINVAL;
	*out = v;
	return 0;
}

int parse_num_range(const char *s, int base, uint64_t max, uint64_t *lo, uint64_t *hi)
{
	const char *end;
	uint64_t a, b;

	if (parse_num_prefix(s, base, 0, max, &end, &a) != 0)
		return -EINVAL;
	if (*end == '\0') {
		*lo = *hi = a;
		return 0;
	}
	if (*end != '-' || parse_num_u64(end + 1, base, a, max, &b) != 0)
		return -EINVAL;
	*lo = a;
	*hi = b;
	return 0;
}
