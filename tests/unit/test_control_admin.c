/* test_control_admin.c - warp-control's admin commands (control/admin_cmds.c)
 * without a data plane: malformed requests, unknown commands and arguments,
 * roles, the generated list-commands and help, control settings, the
 * "unavailable" answers of commands that need the data plane, and the
 * topology and route commands. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "admin_cmds.h"

static struct control ctl;
static const struct jsonl_peer peer = {.uid = 1000, .gid = 1000, .pid = 42};

static int setup(void **state)
{
	char err[256];

	(void)state;
	memset(&ctl, 0, sizeof(ctl));
	ctl.admin.fd = -1;
	ctl.disk_free_ratio = ctl.data_dir_bytes = -1;
	dp_link_init(&ctl.dp, "/nonexistent/dp.sock", 100);
	assert_int_equal(settings_store_init(&ctl.settings, NULL, err, sizeof(err)), 0);
	assert_int_equal(entropy_watch_init(&ctl.entropy, NULL, true, err, sizeof(err)), 0);
	rebalancer_init(&ctl.demon, control_dp_ask, &ctl, &ctl.entropy);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	dp_link_close(&ctl.dp);
	rebalancer_free(&ctl.demon);
	entropy_watch_free(&ctl.entropy);
	settings_store_free(&ctl.settings);
	return 0;
}

/* Run request text as role; the answer's "code" ("" when ok). */
static const char *run(const char *text, enum role role, json_t **answer)
{
	static char code[32];
	json_t *req = json_loads(text, 0, NULL), *a;

	assert_non_null(req);
	a = admin_cmds_run(&ctl, req, role, &peer);
	json_decref(req);
	assert_non_null(a);
	if (json_is_true(json_object_get(a, "ok"))) {
		code[0] = 0;
	} else {
		assert_non_null(json_string_value(json_object_get(a, "error")));
		snprintf(code, sizeof(code), "%s", json_string_value(json_object_get(a, "code")));
	}
	if (answer != NULL)
		*answer = a;
	else
		json_decref(a);
	return code;
}

static void test_malformed(void **state)
{
	static const char *const bad[] = {
		"{}",
		"{\"command\": 5}",
		"{\"command\": \"nope\"}",
		"{\"command\": \"help\"}",
		"{\"command\": \"help\", \"name\": 3}",
		"{\"command\": \"help\", \"name\": \"nope\"}",
		"{\"command\": \"stats\", \"worker\": \"0\"}",
		"{\"command\": \"stats\", \"worker\": 1.5}",
		"{\"command\": \"ping\", \"extra\": true}",
		"{\"command\": \"config-set\"}",
		"{\"command\": \"config-set\", \"name\": \"entropy_limit\"}",
		"{\"command\": \"config-set\", \"name\": \"entropy_limit\", \"value\": null}",
		"{\"command\": \"config-set\", \"name\": \"entropy_limit\", \"value\": \"x\"}",
		"{\"command\": \"config-set\", \"name\": \"entropy_limit\", \"value\": \"0.5\"}",
		"{\"command\": \"config-set\", \"name\": \"entropy_limit\", \"value\": \"2\", "
		"\"worker\": 1}",
		"{\"command\": \"hotkeys\", \"n\": 0}",
		"{\"command\": \"hotkeys\", \"n\": 257}",
		"{\"command\": \"hotkeys\", \"n\": \"5\"}",
		"{\"command\": \"move-region\", \"region\": 1}",
		"{\"command\": \"move-region\", \"region\": 4096, \"worker\": 1}",
		"{\"command\": \"move-region\", \"region\": 1, \"worker\": 1, \"wait\": 1}",
		"{\"command\": \"rebalance\"}",
		"{\"command\": \"rebalance\", \"mode\": \"fast\"}",
		"{\"command\": \"rebalance\", \"mode\": \"moderate\", \"dry_run\": \"yes\"}",
		"{\"command\": \"config-set\", \"name\": \"rebalance_auto\", \"value\": \"maybe\"}",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *code = run(bad[i], ROLE_ADMIN, NULL);

		if (strcmp(code, "usage") != 0)
			fail_msg("%s: code '%s', expected usage", bad[i], code);
	}
}

static void test_roles(void **state)
{
	json_t *a;

	(void)state;
	assert_string_equal(run("{\"command\": \"ping\"}", ROLE_NONE, NULL), "denied");
	assert_string_equal(run("{\"command\": \"nope\"}", ROLE_NONE, NULL), "denied");
	assert_string_equal(run("{\"command\": \"checkpoint\"}", ROLE_OBSERVE, NULL), "denied");
	assert_string_equal(run("{\"command\": \"config-set\", \"name\": \"entropy_limit\", "
				"\"value\": \"2\"}", ROLE_OBSERVE, NULL),
			    "denied");
	assert_string_equal(run("{\"command\": \"rebalance\", \"mode\": \"moderate\"}",
				ROLE_OBSERVE, NULL), "denied");
	assert_string_equal(run("{\"command\": \"move-region\", \"region\": 1, \"worker\": 0}",
				ROLE_OBSERVE, NULL), "denied");
	assert_string_equal(run("{\"command\": \"whoami\"}", ROLE_OBSERVE, &a), "");
	assert_string_equal(json_string_value(json_object_get(json_object_get(a, "result"), "role")),
			    "observe");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(a, "result"), "pid")),
			 42);
	json_decref(a);
}

static void test_list_and_help(void **state)
{
	json_t *a;
	size_t i;
	json_t *c;

	(void)state;
	assert_string_equal(run("{\"command\": \"list-commands\"}", ROLE_OBSERVE, &a), "");
	assert_true(json_array_size(json_object_get(a, "result")) >= 19);
	json_array_foreach(json_object_get(a, "result"), i, c) {
		char req[128];
		json_t *h;

		assert_non_null(json_string_value(json_object_get(c, "role")));
		snprintf(req, sizeof(req), "{\"command\":\"help\",\"name\":\"%s\"}",
			 json_string_value(json_object_get(c, "name")));
		assert_string_equal(run(req, ROLE_OBSERVE, &h), "");
		assert_true(json_is_array(json_object_get(json_object_get(h, "result"), "args")));
		json_decref(h);
	}
	json_decref(a);
}

static void test_control_settings(void **state)
{
	json_t *a;

	(void)state;
	assert_string_equal(run("{\"command\": \"config-set\", \"name\": \"entropy_limit\", "
				"\"value\": \"2.5\"}", ROLE_OPERATE, &a), "");
	assert_false(json_is_true(json_object_get(json_object_get(a, "result"), "persisted")));
	json_decref(a);
	assert_true(ctl.settings.limits.entropy_limit == 2.5);
	assert_string_equal(run("{\"command\": \"config-get\", \"name\": \"entropy_limit\"}",
				ROLE_OBSERVE, &a), "");
	assert_true(json_number_value(json_object_get(
			    json_array_get(json_object_get(json_object_get(a, "result"), "settings"),
					   0),
			    "value")) == 2.5);
	json_decref(a);
	/* a number is taken as typed */
	assert_string_equal(run("{\"command\": \"config-set\", \"name\": \"memory_used_threshold\", "
				"\"value\": 0.5}", ROLE_OPERATE, NULL), "");
	assert_true(ctl.settings.limits.memory_used_ratio == 0.5);
}

/* Without a data plane: unavailable, or answered from what is known. */
static void test_no_data_plane(void **state)
{
	json_t *a;

	(void)state;
	assert_string_equal(run("{\"command\": \"stats\"}", ROLE_OBSERVE, NULL), "unavailable");
	assert_string_equal(run("{\"command\": \"shards\"}", ROLE_OBSERVE, NULL), "unavailable");
	assert_string_equal(run("{\"command\": \"regions\"}", ROLE_OBSERVE, NULL), "unavailable");
	assert_string_equal(run("{\"command\": \"checkpoint\"}", ROLE_OPERATE, NULL), "unavailable");
	assert_string_equal(run("{\"command\": \"hotkeys\"}", ROLE_OBSERVE, NULL), "unavailable");
	assert_string_equal(run("{\"command\": \"move-status\"}", ROLE_OBSERVE, NULL), "unavailable");
	assert_string_equal(run("{\"command\": \"move-region\", \"region\": 3, \"worker\": 1, "
				"\"wait\": true}", ROLE_OPERATE, NULL), "unavailable");
	/* no region loads measured: the rebalance says so */
	assert_string_equal(run("{\"command\": \"rebalance\", \"mode\": \"moderate\", "
				"\"dry_run\": true}", ROLE_OPERATE, &a), "unavailable");
	assert_non_null(strstr(json_string_value(json_object_get(a, "error")), "two region-load"));
	json_decref(a);
	assert_string_equal(run("{\"command\": \"entropy\"}", ROLE_OBSERVE, &a), "");
	assert_false(json_is_true(json_object_get(json_object_get(a, "result"), "measured")));
	assert_true(json_is_null(json_object_get(json_object_get(a, "result"), "state")));
	json_decref(a);
	assert_string_equal(run("{\"command\": \"rebalance-status\"}", ROLE_OBSERVE, &a), "");
	assert_string_equal(json_string_value(json_object_get(json_object_get(a, "result"), "state")),
			    "idle");
	json_decref(a);
	assert_string_equal(run("{\"command\": \"config-set\", \"name\": \"idle_sleep_us\", "
				"\"value\": \"5\"}", ROLE_ADMIN, NULL),
			    "unavailable");
	assert_string_equal(run("{\"command\": \"status\"}", ROLE_OBSERVE, &a), "");
	assert_string_equal(json_string_value(json_object_get(json_object_get(a, "result"), "state")),
			    "unreachable");
	json_decref(a);
	assert_string_equal(run("{\"command\": \"health\"}", ROLE_OBSERVE, &a), "");
	assert_string_equal(json_string_value(json_object_get(json_object_get(a, "result"),
							      "overall")),
			    "critical");
	json_decref(a);
	assert_string_equal(run("{\"command\": \"ping\"}", ROLE_OBSERVE, &a), "");
	assert_false(json_is_true(json_object_get(
		json_object_get(json_object_get(a, "result"), "data_plane"), "connected")));
	json_decref(a);
	assert_string_equal(run("{\"command\": \"config-get\"}", ROLE_OBSERVE, &a), "");
	assert_int_equal(json_array_size(json_object_get(json_object_get(a, "result"), "settings")),
			 9);
	json_decref(a);
}

/* topology and route: unavailable before a sample, then answered from the
 * topology; their arguments checked like every command's. */
static void test_topology_commands(void **state)
{
	uint64_t fwd[4] = {0, 30, 0, 0};
	json_t *a;

	(void)state;
	assert_string_equal(run("{\"command\": \"topology\"}", ROLE_OBSERVE, NULL), "unavailable");
	assert_string_equal(run("{\"command\": \"route\", \"from\": 0, \"to\": 1}", ROLE_OBSERVE,
				NULL), "unavailable");
	assert_string_equal(run("{\"command\": \"route\", \"from\": 0}", ROLE_OBSERVE, NULL), "usage");
	assert_string_equal(run("{\"command\": \"topology\"}", ROLE_NONE, NULL), "denied");
	assert_int_equal(topology_init(&ctl.topo, 0.99), 0);
	assert_int_equal(topology_sample(&ctl.topo, 2, fwd, 1, 1.8e9), 0);
	assert_string_equal(run("{\"command\": \"topology\"}", ROLE_OBSERVE, &a), "");
	assert_int_equal(json_array_size(json_object_get(json_object_get(a, "result"), "connections")),
			 2);
	json_decref(a);
	assert_string_equal(run("{\"command\": \"route\", \"from\": \"worker0\", \"to\": \"1\"}",
				ROLE_OBSERVE, &a), "");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(a, "result"), "hops")), 1);
	json_decref(a);
	assert_string_equal(run("{\"command\": \"route\", \"from\": 0, \"to\": \"worker5\"}",
				ROLE_OBSERVE, NULL), "usage");
	assert_string_equal(run("{\"command\": \"route\", \"from\": 0, \"to\": 1, \"max_hops\": "
				"\"2\"}", ROLE_OBSERVE, NULL), "usage");
	topology_free(&ctl.topo);
	memset(&ctl.topo, 0, sizeof(ctl.topo));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_roles),
		cmocka_unit_test(test_list_and_help),
		cmocka_unit_test(test_control_settings),
		cmocka_unit_test(test_no_data_plane),
		cmocka_unit_test(test_topology_commands),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
