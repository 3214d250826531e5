/* test_control_roles.c - warp-control's allow-list (control/roles.c):
 * parsing, malformed entries, and who gets which role. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "roles.h"

static void test_parse_and_check(void **state)
{
	struct roles r;
	char err[256];
	gid_t g_wheel[] = {1000, 10};
	gid_t g_none[] = {1000};

	(void)state;
	assert_int_equal(roles_parse(&r, "0:admin,1000:operate,@10:observe,2000:admin", 4242, err,
				     sizeof(err)),
			 0);
	assert_int_equal(r.n, 4);
	assert_int_equal(roles_of(&r, 0, NULL, 0), ROLE_ADMIN);
	assert_int_equal(roles_of(&r, 1000, g_wheel, 2), ROLE_OPERATE); /* uid entry decides */
	assert_int_equal(roles_of(&r, 1001, g_wheel, 2), ROLE_OBSERVE); /* by group */
	assert_int_equal(roles_of(&r, 1001, g_none, 1), ROLE_NONE);     /* not listed */
	assert_int_equal(roles_of(&r, 2000, NULL, 0), ROLE_ADMIN);
	assert_int_equal(roles_of(&r, 4242, NULL, 0), ROLE_ADMIN); /* the process's own uid */
}

/* A uid entry overrides the default for root and the process's uid. */
static void test_self_and_root_listed(void **state)
{
	struct roles r;
	char err[256];

	(void)state;
	assert_int_equal(roles_parse(&r, "0:observe,4242:operate", 4242, err, sizeof(err)), 0);
	assert_int_equal(roles_of(&r, 0, NULL, 0), ROLE_OBSERVE);
	assert_int_equal(roles_of(&r, 4242, NULL, 0), ROLE_OPERATE);
	assert_int_equal(roles_parse(&r, NULL, 4242, err, sizeof(err)), 0);
	assert_int_equal(roles_of(&r, 0, NULL, 0), ROLE_ADMIN);
	assert_int_equal(roles_of(&r, 1, NULL, 0), ROLE_NONE);
}

/* The highest of several matching groups counts. */
static void test_highest_group(void **state)
{
	struct roles r;
	char err[256];
	gid_t g[] = {5, 6, 7};

	(void)state;
	assert_int_equal(roles_parse(&r, "@5:observe, @7:operate,@6:observe", 0, err, sizeof(err)),
			 0);
	assert_int_equal(roles_of(&r, 99, g, 3), ROLE_OPERATE);
}

static void test_names(void **state)
{
	struct roles r;
	char err[256];
	gid_t g[] = {0};

	(void)state;
	assert_int_equal(roles_parse(&r, "root:observe,@root:operate", 1, err, sizeof(err)), 0);
	assert_int_equal(roles_of(&r, 0, NULL, 0), ROLE_OBSERVE);
	assert_int_equal(roles_of(&r, 5, g, 1), ROLE_OPERATE);
	assert_string_equal(role_name(ROLE_OPERATE), "operate");
	assert_int_equal(role_from_name("admin"), ROLE_ADMIN);
	assert_int_equal(role_from_name("root"), ROLE_NONE);
}

static void test_malformed(void **state)
{
	static const char *const bad[] = {
		"1000",         "1000:",           ":admin",      "1000:superuser",
		"@:observe",    "x y:observe",     "99999999999:admin",
		"no-such-user-xyz:observe",        "@no-such-group-xyz:observe",
		"1000:operate,,:admin",
	};
	struct roles r;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char err[256] = "";

		assert_int_not_equal(roles_parse(&r, bad[i], 0, err, sizeof(err)), 0);
		assert_non_null(strstr(err, "--allow"));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_and_check),
		cmocka_unit_test(test_self_and_root_listed),
		cmocka_unit_test(test_highest_group),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_malformed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
