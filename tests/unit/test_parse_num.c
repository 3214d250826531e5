/* test_parse_num.c - strict unsigned parsing: a number is accepted exactly
 * when it is all digits (in the base asked for), fits 64 bits and lies in
 * range; a range is "B" or "A-B" with A <= B <= max; a refusal leaves the
 * outputs untouched. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "parse_num.h"

#define UNTOUCHED 0xabcdef

/* Refused by parse_num_u64(s, base, 0, UINT64_MAX), output untouched. */
static void assert_u64_refused(const char *s, int base)
{
	uint64_t v = UNTOUCHED;

	if (parse_num_u64(s, base, 0, UINT64_MAX, &v) != -EINVAL)
		fail_msg("'%s' (base %d) accepted", s, base);
	assert_int_equal(v, UNTOUCHED);
}

static uint64_t u64_ok(const char *s, int base, uint64_t min, uint64_t max)
{
	uint64_t v = UNTOUCHED;

	if (parse_num_u64(s, base, min, max, &v) != 0)
		fail_msg("'%s' (base %d) refused in [%ju, %ju]", s, base, (uintmax_t)min,
			 (uintmax_t)max);
	return v;
}

/* Decimal numbers in range come back exactly, bounds included. */
static void test_u64_accepts(void **state)
{
	(void)state;
	assert_int_equal(u64_ok("0", 10, 0, 0), 0);
	assert_int_equal(u64_ok("1", 10, 1, 65535), 1);
	assert_int_equal(u64_ok("65535", 10, 1, 65535), 65535);
	assert_int_equal(u64_ok("0009000", 10, 1, 65535), 9000);
	assert_true(u64_ok("18446744073709551615", 10, 0, UINT64_MAX) == UINT64_MAX);
}

/* Just outside either bound is refused, and the output is left alone. */
static void test_u64_range(void **state)
{
	uint64_t v = UNTOUCHED;

	(void)state;
	assert_int_equal(parse_num_u64("0", 10, 1, 65535, &v), -EINVAL);
	assert_int_equal(parse_num_u64("65536", 10, 1, 65535, &v), -EINVAL);
	assert_int_equal(parse_num_u64("9", 10, 10, 3600000, &v), -EINVAL);
	assert_int_equal(v, UNTOUCHED);
}

/* Anything but bare digits is refused: empty, signs, blanks on either side,
 * trailing junk, and numbers past 64 bits. */
static void test_u64_strict(void **state)
{
	static const char *const bad[] = {
		"", "-1", "+1", " 1", "\t1", "1 ", "1\n", "1x", "1.0", "1e3", "x", "-",
		"18446744073709551616", "99999999999999999999999",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_u64_refused(bad[i], 10);
		assert_u64_refused(bad[i], 0);
	}
}

/* Base 10 reads a leading 0 as decimal and refuses 0x; base 0 takes
 * strtoull's C prefixes: 0x hex and a leading 0 octal. */
static void test_u64_bases(void **state)
{
	(void)state;
	assert_int_equal(u64_ok("010", 10, 0, 100), 10);
	assert_u64_refused("0x10", 10);
	assert_int_equal(u64_ok("0x10", 0, 0, 100), 16);
	assert_int_equal(u64_ok("0XfF", 0, 0, 1000), 255);
	assert_int_equal(u64_ok("010", 0, 0, 100), 8);
	assert_true(u64_ok("0xffffffffffffffff", 0, 0, UINT64_MAX) == UINT64_MAX);
	assert_u64_refused("0x", 0);
	assert_u64_refused("08", 0);
	assert_u64_refused("0x1g", 0);
	assert_u64_refused("0x10000000000000000", 0);
}

static void assert_range(const char *s, int base, uint64_t lo_want, uint64_t hi_want)
{
	uint64_t lo = UNTOUCHED, hi = UNTOUCHED;

	if (parse_num_range(s, base, 1400, &lo, &hi) != 0)
		fail_msg("range '%s' (base %d) refused", s, base);
	assert_int_equal(lo, lo_want);
	assert_int_equal(hi, hi_want);
}

/* "B" gives [B, B], "A-B" gives [A, B]; both ends may reach 0 and max. */
static void test_range_accepts(void **state)
{
	(void)state;
	assert_range("32", 10, 32, 32);
	assert_range("0-1400", 10, 0, 1400);
	assert_range("7-7", 10, 7, 7);
	assert_range("0", 10, 0, 0);
	assert_range("1400", 10, 1400, 1400);
	assert_range("0x10-0x20", 0, 16, 32);
	assert_range("010-0x20", 0, 8, 32);
}

/* Reversed ends, ends past max, missing or extra parts, blanks and signs are
 * refused, and the outputs are left alone. */
static void test_range_refuses(void **state)
{
	static const char *const bad[] = {
		"", "-", "-5", "5-", "5--3", "1-2-3", "8-7", "1401", "0-1401", "1401-1402",
		" 1-2", "1 -2", "1- 2", "1-2 ", "1 2", "1,2", "1x2", "+1-2", "1-+2", "a-b", "1-x",
		"0x10-0x20",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint64_t lo = UNTOUCHED, hi = UNTOUCHED;

		if (parse_num_range(bad[i], 10, 1400, &lo, &hi) != -EINVAL)
			fail_msg("range '%s' accepted", bad[i]);
		assert_int_equal(lo, UNTOUCHED);
		assert_int_equal(hi, UNTOUCHED);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_u64_accepts),   cmocka_unit_test(test_u64_range),
		cmocka_unit_test(test_u64_strict),    cmocka_unit_test(test_u64_bases),
		cmocka_unit_test(test_range_accepts), cmocka_unit_test(test_range_refuses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
