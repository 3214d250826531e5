/* test_control_settings.c - warp-control's settings store
 * (control/settings_store.c): control settings checked, both files written
 * and read back, the config-set requests that restore a data plane, and a
 * damaged file reported with the defaults kept. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "settings_store.h"

static char dir[64];

static int make_dir(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/we-settings-XXXXXX");
	return mkdtemp(dir) != NULL ? 0 : -1;
}

static int remove_dir(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_control_values(void **state)
{
	struct settings_store st;
	char err[256];

	(void)state;
	assert_int_equal(settings_store_init(&st, NULL, err, sizeof(err)), 0);
	assert_true(st.limits.entropy_limit == 1.5);
	assert_int_equal(settings_control_set(&st, "entropy_limit", "4", err, sizeof(err)), 0);
	assert_true(st.limits.entropy_limit == 4);
	assert_int_not_equal(settings_control_set(&st, "entropy_limit", "0.9", err, sizeof(err)), 0);
	assert_non_null(strstr(err, "entropy_limit"));
	assert_int_not_equal(settings_control_set(&st, "entropy_limit", "4x", err, sizeof(err)), 0);
	assert_int_not_equal(settings_control_set(&st, "entropy_limit", "", err, sizeof(err)), 0);
	assert_int_not_equal(settings_control_set(&st, "entropy_limit", "nan", err, sizeof(err)), 0);
	assert_int_not_equal(settings_control_set(&st, "nope", "1", err, sizeof(err)), 0);
	assert_true(st.limits.entropy_limit == 4);
	assert_int_equal(settings_save(&st, err, sizeof(err)), 1); /* no data directory */
	settings_store_free(&st);
}

/* The automatic rebalance's settings: defaults, on|off, ranges. */
static void test_rebalance_values(void **state)
{
	struct settings_store st;
	char err[256];
	json_t *a;

	(void)state;
	assert_int_equal(settings_store_init(&st, NULL, err, sizeof(err)), 0);
	assert_true(st.rebalance.auto_on == 0);
	assert_true(st.rebalance.threshold == 1.5);
	assert_true(st.rebalance.cooldown_s == 30);
	assert_int_equal(settings_control_set(&st, "rebalance_auto", "on", err, sizeof(err)), 0);
	assert_true(st.rebalance.auto_on == 1);
	a = settings_control_json(&st, "rebalance_auto");
	assert_string_equal(json_string_value(json_object_get(json_array_get(a, 0), "value")), "on");
	json_decref(a);
	assert_int_equal(settings_control_set(&st, "rebalance_auto", "0", err, sizeof(err)), 0);
	assert_true(st.rebalance.auto_on == 0);
	assert_int_not_equal(settings_control_set(&st, "rebalance_auto", "yes", err, sizeof(err)), 0);
	assert_non_null(strstr(err, "on or off"));
	assert_int_not_equal(settings_control_set(&st, "entropy_rebalance_threshold", "1", err,
						  sizeof(err)), 0);
	assert_int_equal(settings_control_set(&st, "rebalance_cooldown_s", "5", err, sizeof(err)), 0);
	assert_true(st.rebalance.cooldown_s == 5);
	assert_true(st.limits.entropy_limit == 1.5); /* the health threshold is apart */
	settings_store_free(&st);
}

static void test_persist_and_restore(void **state)
{
	struct settings_store st;
	char err[256];
	json_t *reqs, *r;
	size_t i;
	int per_worker = 0, universe = 0;

	(void)state;
	assert_int_equal(settings_store_init(&st, dir, err, sizeof(err)), 0);
	assert_int_equal(settings_control_set(&st, "disk_free_threshold", "0.25", err, sizeof(err)),
			 0);
	assert_int_equal(settings_control_set(&st, "rebalance_auto", "on", err, sizeof(err)), 0);
	assert_int_equal(settings_control_set(&st, "rebalance_cooldown_s", "12", err, sizeof(err)),
			 0);
	settings_remember_dp(&st, "universe", "udp_checksum", "off", -1);
	settings_remember_dp(&st, "worker", "idle_sleep_us", "50", -1);
	settings_remember_dp(&st, "worker", "busy_poll", "on", 1);
	assert_int_equal(settings_save(&st, err, sizeof(err)), 0);
	settings_store_free(&st);

	assert_int_equal(settings_store_init(&st, dir, err, sizeof(err)), 0);
	assert_true(st.limits.disk_free_ratio == 0.25);
	assert_true(st.rebalance.auto_on == 1);
	assert_true(st.rebalance.cooldown_s == 12);
	reqs = settings_dp_requests(&st);
	assert_int_equal(json_array_size(reqs), 3);
	json_array_foreach(reqs, i, r) {
		const char *name = json_string_value(json_object_get(r, "name"));

		assert_string_equal(json_string_value(json_object_get(r, "command")), "config-set");
		if (strcmp(name, "busy_poll") == 0) {
			assert_int_equal(json_integer_value(json_object_get(r, "worker")), 1);
			assert_string_equal(json_string_value(json_object_get(r, "value")), "on");
			per_worker++;
		} else if (strcmp(name, "udp_checksum") == 0) {
			assert_null(json_object_get(r, "worker"));
			universe++;
		}
	}
	assert_int_equal(per_worker, 1);
	assert_int_equal(universe, 1);
	json_decref(reqs);
	settings_store_free(&st);
}

static void test_damaged_file(void **state)
{
	struct settings_store st;
	char err[256] = "", path[128];
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "%s/configuration", dir);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/configuration/physics_constants.json", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("{\"control\": {\"entropy_limit\": ", f); /* cut short */
	fclose(f);
	assert_int_not_equal(settings_store_init(&st, dir, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "physics_constants.json"));
	assert_true(st.limits.entropy_limit == 1.5); /* defaults */
	settings_store_free(&st);
	/* an out-of-range value in the file is named and ignored */
	f = fopen(path, "w");
	fputs("{\"control\": {\"entropy_limit\": 0.1, \"memory_used_threshold\": 0.5}}", f);
	fclose(f);
	assert_int_not_equal(settings_store_init(&st, dir, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "entropy_limit"));
	assert_true(st.limits.entropy_limit == 1.5);
	assert_true(st.limits.memory_used_ratio == 0.5);
	settings_store_free(&st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_control_values),
		cmocka_unit_test(test_rebalance_values),
		cmocka_unit_test_setup_teardown(test_persist_and_restore, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(test_damaged_file, make_dir, remove_dir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
