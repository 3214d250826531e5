/* test_settings.c - the data plane's settings table (dataplane/settings.c):
 * every setting is found by name and well formed, values parse within their
 * range and format back as typed, bad values and fixed settings are refused
 * with a sentence naming the setting and what is accepted. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "settings.h"

/* Each entry sits at its id, is found by its name, has an effect and a
 * start option, and a live number's range is not empty. */
static void test_table_well_formed(void **state)
{
	(void)state;
	for (unsigned i = 0; i < SETTING_COUNT; i++) {
		const struct setting_spec *s = &settings_table[i];

		assert_int_equal(s->id, i);
		assert_ptr_equal(settings_find(s->name), s);
		assert_non_null(s->effect);
		assert_non_null(s->option);
		assert_non_null(s->unit);
		assert_true(s->min <= s->max);
		if (s->kind == SETTING_CHOICE)
			assert_non_null(s->choices);
	}
	assert_null(settings_find("no_such_setting"));
	assert_null(settings_find(""));
	assert_null(settings_find(NULL));
}

/* Values inside the range parse; the edges are inclusive; format gives back
 * the text. */
static void test_parse_and_format(void **state)
{
	const struct setting_spec *idle = settings_find("idle_sleep_us");
	const struct setting_spec *cons = settings_find("default_consistency");
	const struct setting_spec *poll = settings_find("busy_poll");
	char err[160], buf[32];
	uint64_t v = 0;

	(void)state;
	assert_int_equal(settings_parse(idle, "1", &v, err, sizeof(err)), 0);
	assert_int_equal(v, 1);
	assert_int_equal(settings_parse(idle, "100000", &v, err, sizeof(err)), 0);
	assert_string_equal(settings_format(idle, v, buf, sizeof(buf)), "100000");
	assert_int_equal(settings_parse(cons, "weak", &v, err, sizeof(err)), 0);
	assert_int_equal(v, 2);
	assert_string_equal(settings_format(cons, v, buf, sizeof(buf)), "weak");
	assert_int_equal(settings_parse(cons, "strong", &v, err, sizeof(err)), 0);
	assert_int_equal(v, 0);
	assert_string_equal(settings_format(cons, 1, buf, sizeof(buf)), "eventual");
	assert_int_equal(settings_parse(poll, "on", &v, err, sizeof(err)), 0);
	assert_int_equal(v, 1);
	assert_string_equal(settings_format(poll, 0, buf, sizeof(buf)), "off");
	assert_int_equal(settings_parse(settings_find("checkpoint_interval_s"), "0", &v, err,
					sizeof(err)),
			 0);
	assert_int_equal(v, 0);
}

/* Out of range, not a number, a word not among the choices, a prefix of
 * one: refused, v untouched, the message names the setting and the range. */
static void test_bad_values_refused(void **state)
{
	const struct setting_spec *idle = settings_find("idle_sleep_us");
	const struct setting_spec *cons = settings_find("default_consistency");
	const struct setting_spec *csum = settings_find("udp_checksum");
	const char *bad_idle[] = {"0", "100001", "-1", "", "5x", " 5", "99999999999999999999"};
	const char *bad_cons[] = {"", "str", "strongest", "STRONG", "weak|", "|"};
	char err[160];
	uint64_t v = 77;

	(void)state;
	for (size_t i = 0; i < sizeof(bad_idle) / sizeof(bad_idle[0]); i++) {
		assert_int_equal(settings_parse(idle, bad_idle[i], &v, err, sizeof(err)), -EINVAL);
		assert_non_null(strstr(err, "idle_sleep_us"));
		assert_non_null(strstr(err, "1..100000"));
	}
	for (size_t i = 0; i < sizeof(bad_cons) / sizeof(bad_cons[0]); i++) {
		assert_int_equal(settings_parse(cons, bad_cons[i], &v, err, sizeof(err)), -EINVAL);
		assert_non_null(strstr(err, "strong|eventual|weak"));
	}
	assert_int_equal(settings_parse(csum, "yes", &v, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "on|off"));
	assert_int_equal(settings_parse(csum, NULL, &v, err, sizeof(err)), -EINVAL);
	assert_int_equal(settings_parse(settings_find("checkpoint_interval_s"), "86401", &v, err,
					sizeof(err)),
			 -EINVAL);
	assert_int_equal(v, 77);
}

/* Settings fixed at start refuse any value and say how to change them. */
static void test_fixed_settings_need_restart(void **state)
{
	const char *fixed[] = {"capacity_items", "arena_mb", "park_capacity", "wal_ring_mb"};
	char err[160], buf[32];
	uint64_t v = 5;

	(void)state;
	for (size_t i = 0; i < 4; i++) {
		const struct setting_spec *s = settings_find(fixed[i]);

		assert_non_null(s);
		assert_false(settings_live(s));
		assert_int_equal(settings_parse(s, "1", &v, err, sizeof(err)), -EPERM);
		assert_non_null(strstr(err, "restart"));
		assert_non_null(strstr(err, s->option));
		assert_string_equal(settings_range(s, buf, sizeof(buf)), "restart");
	}
	assert_int_equal(v, 5);
	assert_true(settings_live(settings_find("idle_sleep_us")));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_well_formed),
		cmocka_unit_test(test_parse_and_format),
		cmocka_unit_test(test_bad_values_refused),
		cmocka_unit_test(test_fixed_settings_need_restart),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
