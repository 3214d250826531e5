/* test_config.c - option parsing: defaults, every option, and errors that
 * name the option and the bad value. */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"

static int parse(struct config *cfg, char *err, const char *a1, const char *a2, const char *a3,
		 const char *a4)
{
	char *argv[6] = {"warpengine", (char *)a1, (char *)a2, (char *)a3, (char *)a4, NULL};
	int argc = 1;

	while (argc < 5 && argv[argc] != NULL)
		argc++;
	return config_parse(cfg, argc, argv, err, 256);
}

/* --ip alone gives the documented defaults. */
static void test_defaults(void **state)
{
	struct config cfg;
	char err[256];

	(void)state;
	assert_int_equal(parse(&cfg, err, "--ip", "10.1.2.3", NULL, NULL), 0);
	assert_int_equal(cfg.ip_be, inet_addr("10.1.2.3"));
	assert_int_equal(cfg.port_base, 9000);
	assert_int_equal(cfg.capacity_items, 1000000);
	assert_int_equal(cfg.arena_bytes, 1000000ull * 96);
	assert_true(cfg.udp_checksum);
	assert_false(cfg.busy_poll);
	assert_true(cfg.use_flow);
	assert_null(cfg.stats_file);
}

/* Each option lands in its field. */
static void test_options(void **state)
{
	struct config cfg;
	char err[256];

	(void)state;
	assert_int_equal(parse(&cfg, err, "--ip=1.1.1.1", "--port-base=7000", "--capacity=5000",
			       "--arena-mb=3"),
			 0);
	assert_int_equal(cfg.port_base, 7000);
	assert_int_equal(cfg.capacity_items, 5000);
	assert_int_equal(cfg.arena_bytes, 3u << 20);
	assert_int_equal(parse(&cfg, err, "--ip=1.1.1.1", "--udp-checksum=off", "--busy-poll",
			       "--no-flow"),
			 0);
	assert_false(cfg.udp_checksum);
	assert_true(cfg.busy_poll);
	assert_false(cfg.use_flow);
	assert_false(cfg.reflect);
	assert_int_equal(parse(&cfg, err, "--ip=1.1.1.1", "--reflect", "--stats-file=/x/s.json",
			       "--idle-sleep-us=7"),
			 0);
	assert_true(cfg.reflect);
	assert_string_equal(cfg.stats_file, "/x/s.json");
	assert_int_equal(cfg.idle_sleep_us, 7);
	assert_true(cfg.validate_addresses);
	assert_null(cfg.data_dir);
	assert_int_equal(cfg.wal_ring_bytes, 32u << 20);
	assert_int_equal(cfg.park_capacity, 65536);
	assert_int_equal(parse(&cfg, err, "--ip=1.1.1.1", "--address-validation=off",
			       "--data-dir=/d", "--wal-ring-mb=64"),
			 0);
	assert_false(cfg.validate_addresses);
	assert_string_equal(cfg.data_dir, "/d");
	assert_int_equal(cfg.wal_ring_bytes, 64u << 20);
	assert_int_equal(parse(&cfg, err, "--ip=1.1.1.1", "--park-capacity=1024", NULL, NULL), 0);
	assert_int_equal(cfg.park_capacity, 1024);
}

/* Bad values and unknown options are refused with a message naming them. */
static void test_errors_name_the_problem(void **state)
{
	struct config cfg;
	char err[256];

	(void)state;
	assert_int_equal(parse(&cfg, err, "--port-base", "9000", NULL, NULL), -22);
	assert_non_null(strstr(err, "--ip is required"));
	assert_int_equal(parse(&cfg, err, "--ip", "10.1.2", NULL, NULL), -22);
	assert_non_null(strstr(err, "'10.1.2'"));
	assert_int_equal(parse(&cfg, err, "--ip=1.1.1.1", "--port-base=70000", NULL, NULL), -22);
	assert_non_null(strstr(err, "--port-base"));
	assert_int_equal(parse(&cfg, err, "--ip=1.1.1.1", "--capacity=12x", NULL, NULL), -22);
	assert_non_null(strstr(err, "'12x'"));
	assert_int_equal(parse(&cfg, err, "--ip=1.1.1.1", "--capacity=-5", NULL, NULL), -22);
	assert_int_equal(parse(&cfg, err, "--ip=1.1.1.1", "--capacity= 5", NULL, NULL), -22);
	assert_non_null(strstr(err, "' 5'"));
	assert_int_equal(parse(&cfg, err, "--ip=1.1.1.1", "--udp-checksum=maybe", NULL, NULL), -22);
	assert_non_null(strstr(err, "'on' or 'off'"));
	assert_int_equal(parse(&cfg, err, "--ip=1.1.1.1", "--address-validation=maybe", NULL, NULL),
			 -22);
	assert_non_null(strstr(err, "--address-validation"));
	assert_int_equal(parse(&cfg, err, "--ip=1.1.1.1", "--wal-ring-mb=3", NULL, NULL), -22);
	assert_non_null(strstr(err, "power of two"));
	assert_int_equal(parse(&cfg, err, "--ip=1.1.1.1", "--park-capacity=1000", NULL, NULL), -22);
	assert_non_null(strstr(err, "--park-capacity"));
	assert_int_equal(parse(&cfg, err, "--ip=1.1.1.1", "--data-dir=", NULL, NULL), -22);
	assert_non_null(strstr(err, "--data-dir"));
	assert_int_equal(parse(&cfg, err, "--ip=1.1.1.1", "--frobnicate", NULL, NULL), -22);
	assert_non_null(strstr(err, "--frobnicate"));
	assert_int_equal(parse(&cfg, err, "--ip=1.1.1.1", "stray", NULL, NULL), -22);
	assert_non_null(strstr(err, "'stray'"));
	assert_int_equal(parse(&cfg, err, "--ip", NULL, NULL, NULL), -22);
	assert_non_null(strstr(err, "needs a value"));
	/* a shard's arena is at most 32 GiB (the index's 32-bit offsets) */
	assert_int_equal(parse(&cfg, err, "--ip=1.1.1.1", "--arena-mb=32769", NULL, NULL), -22);
	assert_non_null(strstr(err, "1..32768"));
	assert_int_equal(parse(&cfg, err, "--ip=1.1.1.1", "--capacity=400000000", NULL, NULL), -22);
	assert_non_null(strstr(err, "--arena-mb"));
	assert_int_equal(parse(&cfg, err, "--ip=1.1.1.1", "--capacity=400000000", "--arena-mb=32768",
			       NULL),
			 0);
}

/* --help needs no other option. */
static void test_help(void **state)
{
	struct config cfg;
	char err[256];

	(void)state;
	assert_int_equal(parse(&cfg, err, "--help", NULL, NULL, NULL), 0);
	assert_true(cfg.help);
	assert_int_equal(parse(&cfg, err, "--help-markdown", NULL, NULL, NULL), 0);
	assert_true(cfg.help_markdown);
	assert_false(cfg.help);
}

/* Every option of the table has a help line and a default or a reason for
 * none; the derived fields follow their options. */
static void test_table(void **state)
{
	struct config cfg;
	char err[256];

	(void)state;
	assert_true(config_n_specs >= 19);
	for (size_t i = 0; i < config_n_specs; i++) {
		assert_non_null(config_specs[i].help);
		assert_true(config_specs[i].def != NULL || config_specs[i].kind == OPT_STRING ||
			    (config_specs[i].flags & OPT_REQUIRED));
	}
	assert_int_equal(parse(&cfg, err, "--ip=1.1.1.1", "--capacity=10", NULL, NULL), 0);
	assert_int_equal(cfg.arena_bytes, 960);
	assert_true(cfg.use_flow);
	assert_int_equal(parse(&cfg, err, "--ip=1.1.1.1", "--stats-interval-ms=9", NULL, NULL),
			 -22);
	assert_non_null(strstr(err, "'9' is not a number in 10..3600000 ms"));
	assert_int_equal(parse(&cfg, err, "--ip=1.1.1.1", "--checkpoint-interval-s=86401", NULL,
			       NULL),
			 -22);
	assert_non_null(strstr(err, "--checkpoint-interval-s"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_options),
		cmocka_unit_test(test_errors_name_the_problem),
		cmocka_unit_test(test_help),
		cmocka_unit_test(test_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
