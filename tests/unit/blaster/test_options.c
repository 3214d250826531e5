/* test_options.c - warp-blaster's command line: the documented example parses
 * into the right configuration, defaults depend on the protocol, and every
 * bad argument is refused with a message naming the option. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "options.h"

#define ARGC(a) ((int)(sizeof(a) / sizeof((a)[0])) - 1)

/* The example from docs/blaster.md. */
static void test_options_full_example(void **state)
{
	char *argv[] = {"warp-blaster", "--engine", "kernel", "--server", "10.0.0.2", "--port",
			"9100", "--workers", "4", "--keys", "1000000", "--key-size", "16",
			"--value-size", "32-64", "--mix", "get=90,put=8,delete=2", "--dist",
			"zipf:0.99", "--rate", "250000", "--arrival", "constant", "--batch", "8",
			"--duration", "2.5", "--seed", "7", "--verify", "--preload", "--json",
			"out.json", "--timeout-ms", "250", "--durability", "strong", NULL};
	struct options o;
	char err[256];
	json_t *j;

	(void)state;
	assert_int_equal(options_parse(&o, ARGC(argv), argv, err, sizeof(err)), OPTIONS_OK);
	assert_string_equal(o.server, "10.0.0.2");
	assert_int_equal(o.port, 9100);
	assert_int_equal(o.bc.workers, 4);
	assert_int_equal(o.bc.workload.keys, 1000000);
	assert_int_equal(o.bc.workload.key_size_min, 16);
	assert_int_equal(o.bc.workload.value_size_min, 32);
	assert_int_equal(o.bc.workload.value_size_max, 64);
	assert_true(o.bc.workload.mix_get == 90 && o.bc.workload.mix_put == 8 &&
		    o.bc.workload.mix_delete == 2);
	assert_int_equal(o.bc.workload.dist, WORKLOAD_DIST_ZIPF);
	assert_true(o.bc.workload.zipf_theta == 0.99);
	assert_int_equal(o.bc.load, BLASTER_LOAD_OPEN);
	assert_true(o.bc.rate_per_s == 250000);
	assert_int_equal(o.bc.arrival, PACER_CONSTANT);
	assert_int_equal(o.bc.batch, 8);
	assert_int_equal(o.bc.duration_ns, 2500000000ull);
	assert_int_equal(o.bc.timeout_ns, 250000000ull);
	assert_int_equal(o.bc.workload.seed, 7);
	assert_true(o.bc.verify);
	assert_true(o.preload);
	assert_int_equal(o.bc.durability, PROTO_DUR_STRONG);
	assert_string_equal(o.json_path, "out.json");
	j = options_json(&o);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "load")), "open");
	assert_int_equal(json_integer_value(json_object_get(j, "workers")), 4);
	assert_true(json_is_true(json_object_get(j, "token")));
	json_decref(j);
}

/* Defaults: native on 9000 closed loop window 64; memcached on 11211. */
static void test_options_defaults(void **state)
{
	char *native[] = {"warp-blaster", "--workers", "2", NULL};
	char *mc[] = {"warp-blaster", "--proto", "memcached", "--window", "8", NULL};
	char *no_token[] = {"warp-blaster", "--workers", "2", "--no-token", NULL};
	struct options o;
	char err[256];

	(void)state;
	assert_int_equal(options_parse(&o, ARGC(native), native, err, sizeof(err)), OPTIONS_OK);
	assert_int_equal(o.port, 9000);
	assert_int_equal(o.bc.load, BLASTER_LOAD_CLOSED);
	assert_int_equal(o.bc.window, 64);
	assert_int_equal(o.bc.batch, 1);
	assert_false(o.bc.verify);
	assert_true(o.bc.token); /* native: the address-token handshake is on */
	assert_string_equal(o.engine, "kernel");
	assert_int_equal(o.bc.workload.value_kind, WORKLOAD_VALUE_RANDOM);
	assert_int_equal(options_parse(&o, ARGC(no_token), no_token, err, sizeof(err)),
			 OPTIONS_OK);
	assert_false(o.bc.token);
	assert_int_equal(options_parse(&o, ARGC(mc), mc, err, sizeof(err)), OPTIONS_OK);
	assert_false(o.bc.token); /* memcached has no tokens */
	assert_int_equal(o.bc.proto, BLASTER_PROTO_MEMCACHED);
	assert_int_equal(o.port, 11211);
	assert_int_equal(o.bc.workers, 1);
	assert_int_equal(o.bc.window, 8);
}

/* Each bad argument: OPTIONS_ERROR and a message naming the option. */
static void test_options_errors(void **state)
{
	static const struct {
		const char *args[6];
		const char *mention;
	} cases[] = {
		{{"--workers", "2", "--keys", "abc"}, "--keys"},
		{{"--workers", "2", "--keys", "0"}, "--keys"},
		{{"--workers", "2", "--rate", "-5"}, "--rate"},
		{{"--workers", "2", "--rate", "10", "--window", "4"}, "--window"},
		{{"--workers", "2", "--mix", "get=x"}, "--mix"},
		{{"--workers", "2", "--mix", "foo=1"}, "--mix"},
		{{"--workers", "2", "--mix", "get=1,get=2"}, "--mix"},
		{{"--workers", "2", "--mix", "get=0,put=0"}, "--mix"},
		{{"--workers", "2", "--dist", "zipf:5"}, "--dist"},
		{{"--workers", "2", "--dist", "pareto"}, "--dist"},
		{{"--workers", "2", "--key-size", "0"}, "--key-size"},
		{{"--workers", "2", "--key-size", "10-5"}, "--key-size"},
		{{"--workers", "2", "--key-size", "251"}, "--key-size"},
		{{"--workers", "2", "--batch", "65"}, "--batch"},
		{{"--workers", "2", "--proto", "http"}, "--proto"},
		{{"--workers", "2", "--port", "70000"}, "--port"},
		{{"--workers", "2", "--port", "65535"}, "--port"},
		{{"--workers", "0"}, "--workers"},
		{{"--keys", "10"}, "--workers"},
		{{"--proto", "memcached", "--batch", "4"}, "--batch"},
		{{"--proto", "memcached", "--workers", "3"}, "--workers"},
		{{"--workers", "2", "--engine", "netmap"}, "--engine"},
		{{"--workers", "2", "--duration", "0"}, "--duration"},
		{{"--workers", "2", "--arrival", "bursty"}, "--arrival"},
		{{"--workers", "2", "--durability", "maybe"}, "--durability"},
		{{"--workers", "2", "--value-kind", "binary"}, "--value-kind"},
		{{"--workers", "2", "--seed", "-1"}, "--seed"},
		{{"--workers", "2", "--bogus"}, "--bogus"},
		{{"--workers", "2", "stray"}, "stray"},
		{{"--workers", "2", "--keys"}, "--keys"},
	};
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *argv[8] = {"warp-blaster"};
		int argc = 1;
		struct options o;

		for (int a = 0; a < 6 && cases[i].args[a]; a++)
			argv[argc++] = (char *)cases[i].args[a];
		argv[argc] = NULL;
		err[0] = '\0';
		if (options_parse(&o, argc, argv, err, sizeof(err)) != OPTIONS_ERROR)
			fail_msg("case %zu (%s) was accepted", i, cases[i].mention);
		if (strstr(err, cases[i].mention) == NULL)
			fail_msg("case %zu: message \"%s\" does not name %s", i, err,
				 cases[i].mention);
	}
}

/* --help asks main to exit 0. */
static void test_options_help(void **state)
{
	char *argv[] = {"warp-blaster", "--help", NULL};
	struct options o;
	char *md[] = {"warp-blaster", "--help-markdown", NULL};
	char *bad[] = {"warp-blaster", "--help=x", NULL};
	char err[256];

	(void)state;

	assert_int_equal(options_parse(&o, ARGC(argv), argv, err, sizeof(err)), OPTIONS_HELP);
	assert_int_equal(options_parse(&o, ARGC(md), md, err, sizeof(err)), OPTIONS_HELP);
	assert_int_equal(options_parse(&o, ARGC(bad), bad, err, sizeof(err)), OPTIONS_ERROR);
}

/* Values in hex (0x) are accepted where the old parser took them; the
 * derived fields follow their options. */
static void test_options_derived(void **state)
{
	char *argv[] = {"warp-blaster", "--workers", "0x2", "--no-spin", "--timeout-ms", "0.5",
			"--interval-ms", "250", "--no-answer-s", "2", "--engine", "dpdk", NULL};
	struct options o;
	char err[256];

	(void)state;
	assert_int_equal(options_parse(&o, ARGC(argv), argv, err, sizeof(err)), OPTIONS_OK);
	assert_int_equal(o.bc.workers, 2);
	assert_false(o.spin);
	assert_int_equal(o.bc.timeout_ns, 500000);
	assert_int_equal(o.bc.progress_interval_ns, 250000000ull);
	assert_int_equal(o.bc.no_answer_ns, 2000000000ull);
	assert_int_equal(o.bc.duration_ns, 10000000000ull);
	assert_string_equal(o.engine, "dpdk");
	assert_int_equal(o.bc.arrival, PACER_POISSON);
	assert_int_equal(o.bc.workload.dist, WORKLOAD_DIST_UNIFORM);
	assert_true(o.bc.workload.mix_get == 95 && o.bc.workload.mix_put == 5 &&
		    o.bc.workload.mix_delete == 0);
}

/* --value-kind picks the kind; the JSON report's config names it. */
static void test_options_value_kind(void **state)
{
	static const char *const kinds[] = {"random", "text", "json"};
	struct options o;
	char err[256];

	(void)state;
	for (int k = 0; k < 3; k++) {
		char *argv[] = {"warp-blaster", "--workers", "1", "--value-kind", (char *)kinds[k],
				NULL};
		json_t *j;

		assert_int_equal(options_parse(&o, ARGC(argv), argv, err, sizeof(err)), OPTIONS_OK);
		assert_int_equal(o.bc.workload.value_kind, k);
		j = options_json(&o);
		assert_non_null(j);
		assert_string_equal(json_string_value(json_object_get(j, "value_kind")), kinds[k]);
		json_decref(j);
	}
}

/* A region map file: 3 workers from port 9400, region r owned by 2 - r % 3. */
static void write_map(const char *path, unsigned workers, const char *owner0)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fprintf(f, "{\"workers\": %u, \"regions\": %u, \"udp_port_base\": 9400, \"owner\": [%s",
		workers, WE_REGIONS, owner0);
	for (unsigned r = 1; r < WE_REGIONS; r++)
		fprintf(f, ",%u", workers - 1 - r % workers);
	fputs("]}\n", f);
	fclose(f);
}

/* --region-map: owners, workers and port from the file; errors name it. */
static void test_options_region_map(void **state)
{
	char path[] = "/tmp/test_blaster_map.XXXXXX";
	char *good[] = {"warp-blaster", "--region-map", path, NULL};
	char *port[] = {"warp-blaster", "--region-map", path, "--port", "7000", NULL};
	char *clash[] = {"warp-blaster", "--region-map", path, "--workers", "2", NULL};
	char *mc[] = {"warp-blaster", "--region-map", path, "--proto", "memcached", NULL};
	struct options o;
	char err[512];
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	write_map(path, 3, "2");
	assert_int_equal(options_parse(&o, ARGC(good), good, err, sizeof(err)), OPTIONS_OK);
	assert_int_equal(o.bc.workers, 3);
	assert_int_equal(o.port, 9400);
	assert_ptr_equal(o.bc.region_map, &o.region_map);
	assert_int_equal(region_map_owner(o.bc.region_map, 4), 1);
	assert_int_equal(options_parse(&o, ARGC(port), port, err, sizeof(err)), OPTIONS_OK);
	assert_int_equal(o.port, 7000);
	assert_int_equal(options_parse(&o, ARGC(clash), clash, err, sizeof(err)), OPTIONS_ERROR);
	assert_non_null(strstr(err, "--workers 2 disagrees with --region-map's 3 workers"));
	assert_int_equal(options_parse(&o, ARGC(mc), mc, err, sizeof(err)), OPTIONS_ERROR);
	assert_non_null(strstr(err, "native protocol only"));
	write_map(path, 3, "3"); /* owner 3 of 3 workers */
	assert_int_equal(options_parse(&o, ARGC(good), good, err, sizeof(err)), OPTIONS_ERROR);
	assert_non_null(strstr(err, "\"owner\"[0] must be a worker index in 0..2"));
	unlink(path);
	assert_int_equal(options_parse(&o, ARGC(good), good, err, sizeof(err)), OPTIONS_ERROR);
	assert_non_null(strstr(err, "--region-map: "));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_options_full_example),
		cmocka_unit_test(test_options_defaults),
		cmocka_unit_test(test_options_errors),
		cmocka_unit_test(test_options_help),
		cmocka_unit_test(test_options_derived),
		cmocka_unit_test(test_options_value_kind),
		cmocka_unit_test(test_options_region_map),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
