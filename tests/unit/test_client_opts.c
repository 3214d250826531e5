/* test_client_opts.c - warp-client's command line: defaults, every option's
 * parsing and range, per-command checks, the two roles of --hex, --help. */
#include <setjmp.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "client_opts.h"
#include "proto.h"

static char err[256];

/* Parse a NULL-terminated list of words after "warp-client". */
static int parse_words(struct client_args *a, const char *first, ...)
{
	char *argv[32] = { "warp-client" };
	int argc = 1;
	va_list ap;

	va_start(ap, first);
	for (const char *w = first; w; w = va_arg(ap, const char *)) {
		assert_true(argc < 31);
		argv[argc++] = (char *)w;
	}
	va_end(ap);
	return client_opts_parse(a, argc, argv, err, sizeof(err));
}

#define PARSE(a, ...) parse_words(a, __VA_ARGS__, (const char *)NULL)

/* A bare command gets every documented default. */
static void test_defaults(void **state)
{
	struct client_args a;

	(void)state;
	assert_int_equal(PARSE(&a, "get", "k"), 0);
	assert_int_equal(a.cmd, CLIENT_CMD_GET);
	assert_string_equal(a.key, "k");
	assert_string_equal(a.server, "127.0.0.1");
	assert_int_equal(a.port, 9000);
	assert_int_equal(a.n_workers, 1);
	assert_int_equal(a.timeout_ms, 300);
	assert_int_equal(a.retries, 3);
	assert_int_equal(a.deadline_s, 120);
	assert_int_equal(a.batch, 32);
	assert_int_equal(a.window, 16);
	assert_false(a.hex);
	assert_false(a.misdirect);
	assert_false(a.no_token); /* the address-token handshake is on */
	assert_int_equal(a.durability, PROTO_DUR_DEFAULT);
}

/* Options parse in all spellings and on either side of the command. */
static void test_spellings(void **state)
{
	struct client_args a;

	(void)state;
	assert_int_equal(PARSE(&a, "--server", "10.0.0.1", "put", "k", "v", "-p", "7000",
			       "--workers=4", "-t50", "--retries", "0", "--misdirect",
			       "--durability", "weak", "--no-token"),
			 0);
	assert_int_equal(a.cmd, CLIENT_CMD_PUT);
	assert_string_equal(a.server, "10.0.0.1");
	assert_string_equal(a.key, "k");
	assert_string_equal(a.value, "v");
	assert_int_equal(a.port, 7000);
	assert_int_equal(a.n_workers, 4);
	assert_int_equal(a.timeout_ms, 50);
	assert_int_equal(a.retries, 0);
	assert_true(a.misdirect);
	assert_true(a.no_token);
	assert_int_equal(a.durability, PROTO_DUR_WEAK);
	/* "--" lets a value start with a dash. */
	assert_int_equal(PARSE(&a, "put", "k", "--", "-5"), 0);
	assert_string_equal(a.value, "-5");
	/* A key may be named like a command. */
	assert_int_equal(PARSE(&a, "get", "put"), 0);
	assert_int_equal(a.cmd, CLIENT_CMD_GET);
	assert_string_equal(a.key, "put");
	assert_int_equal(PARSE(&a, "delete", "k"), 0);
	assert_int_equal(a.cmd, CLIENT_CMD_DEL);
}

/* Each numeric option rejects values outside its range and names itself. */
static void test_ranges(void **state)
{
	static const struct {
		const char *opt, *bad, *good;
	} cases[] = {
		{ "--port", "0", "65535" },      { "--port", "65536", "1" },
		{ "--workers", "0", "1024" },    { "--workers", "1025", "1" },
		{ "--timeout", "0", "1" },       { "--timeout", "600001", "600000" },
		{ "--retries", "101", "100" },   { "--deadline", "86401", "0" },
		{ "--batch", "0", "64" },        { "--batch", "65", "1" },
		{ "--window", "0", "256" },      { "--window", "257", "1" },
		{ "--timeout", "-1", "5" },      { "--timeout", "5ms", "5" },
		{ "--timeout", "", "5" },
	};
	struct client_args a;

	(void)state;
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(PARSE(&a, "batch", cases[i].opt, cases[i].bad), -EINVAL);
		assert_non_null(strstr(err, cases[i].opt));
		assert_int_equal(PARSE(&a, "batch", cases[i].opt, cases[i].good), 0);
	}
	assert_int_equal(PARSE(&a, "batch", "--durability", "fast"), -EINVAL);
	assert_non_null(strstr(err, "--durability"));
}

/* Structural mistakes are reported, not guessed around. */
static void test_errors(void **state)
{
	struct client_args a;

	(void)state;
	assert_int_equal(PARSE(&a, "--bogus", "get", "k"), -EINVAL);
	assert_non_null(strstr(err, "unknown option '--bogus'"));
	assert_int_equal(PARSE(&a, "get", "k", "--timeout"), -EINVAL);
	assert_non_null(strstr(err, "needs a value"));
	assert_int_equal(PARSE(&a, "get", "k", "--misdirect=yes"), -EINVAL);
	assert_non_null(strstr(err, "takes no value"));
	assert_int_equal(PARSE(&a, "--timeout", "5"), -EINVAL);
	assert_non_null(strstr(err, "no command"));
	assert_int_equal(PARSE(&a, "fetch", "k"), -EINVAL);
	assert_non_null(strstr(err, "unknown command 'fetch'"));
	assert_int_equal(PARSE(&a, "get"), -EINVAL);
	assert_non_null(strstr(err, "get KEY"));
	assert_int_equal(PARSE(&a, "put", "k"), -EINVAL);
	assert_non_null(strstr(err, "put KEY VALUE"));
	assert_int_equal(PARSE(&a, "ping", "extra"), -EINVAL);
	assert_int_equal(PARSE(&a, "put", "a", "b", "c"), -EINVAL);
	assert_non_null(strstr(err, "unexpected argument 'c'"));
}

/* Options that do not apply to the command are refused, with both named. */
static void test_applicability(void **state)
{
	struct client_args a;

	(void)state;
	assert_int_equal(PARSE(&a, "get", "k", "--keys", "5"), -EINVAL);
	assert_non_null(strstr(err, "--keys does not apply to 'get'"));
	assert_int_equal(PARSE(&a, "put", "k", "v", "--batch", "4"), -EINVAL);
	assert_int_equal(PARSE(&a, "load", "--keys", "5", "--hex"), -EINVAL);
	assert_int_equal(PARSE(&a, "ping", "--json"), -EINVAL);
	assert_int_equal(PARSE(&a, "get", "k", "--misdirect"), -EINVAL);
	assert_non_null(strstr(err, "--workers 2"));
	assert_int_equal(PARSE(&a, "get", "k", "--misdirect", "-n", "2"), 0);
	assert_int_equal(PARSE(&a, "get", "k", "--port", "65000", "--workers", "600"), -EINVAL);
	assert_non_null(strstr(err, "65535"));
	/* raw sends the user's bytes as they are: no handshake to turn off. */
	assert_int_equal(PARSE(&a, "raw", "--hex", "5745", "--no-token"), -EINVAL);
	assert_non_null(strstr(err, "--no-token does not apply to 'raw'"));
	assert_int_equal(PARSE(&a, "ping", "--no-token"), 0);
	assert_int_equal(PARSE(&a, "load", "--keys", "5", "--no-token=1"), -EINVAL);
}

/* --hex is a flag for get and batch but carries the payload for raw,
 * wherever it stands on the line. */
static void test_hex_roles(void **state)
{
	struct client_args a;

	(void)state;
	assert_int_equal(PARSE(&a, "get", "--hex", "k"), 0);
	assert_true(a.hex);
	assert_string_equal(a.key, "k");
	assert_int_equal(PARSE(&a, "raw", "--hex", "5745"), 0);
	assert_false(a.hex);
	assert_string_equal(a.raw_hex, "5745");
	assert_int_equal(PARSE(&a, "--hex", "5745", "raw", "-p", "9001"), 0);
	assert_int_equal(a.cmd, CLIENT_CMD_RAW);
	assert_string_equal(a.raw_hex, "5745");
	assert_int_equal(a.port, 9001);
	assert_int_equal(PARSE(&a, "raw", "-x", ""), 0);
	assert_string_equal(a.raw_hex, "");
	assert_int_equal(PARSE(&a, "raw"), -EINVAL);
	assert_non_null(strstr(err, "raw --hex"));
}

/* load needs --keys; value sizes and key lengths must fit one datagram. */
static void test_load_checks(void **state)
{
	struct client_args a;

	(void)state;
	assert_int_equal(PARSE(&a, "load"), -EINVAL);
	assert_non_null(strstr(err, "--keys"));
	assert_int_equal(PARSE(&a, "load", "--keys", "100", "--value-size", "1-1400", "--seed",
			       "0x10", "--key-prefix", "p/", "--json"),
			 0);
	assert_int_equal(a.keys, 100);
	assert_int_equal(a.value_size_min, 1);
	assert_int_equal(a.value_size_max, 1400);
	assert_int_equal(a.seed, 16);
	assert_string_equal(a.key_prefix, "p/");
	assert_true(a.json);
	assert_int_equal(PARSE(&a, "load", "--keys", "10", "--value-size", "9-3"), -EINVAL);
	assert_int_equal(PARSE(&a, "load", "--keys", "10", "--value-size", "x"), -EINVAL);
	assert_int_equal(PARSE(&a, "load", "--keys", "0"), -EINVAL);
	/* "key:" + 1 digit = 5 bytes: the largest value is 1444 - 5. */
	assert_int_equal(PARSE(&a, "load", "--keys", "10", "--value-size", "1439"), 0);
	assert_int_equal(PARSE(&a, "load", "--keys", "10", "--value-size", "1440"), -EINVAL);
	assert_non_null(strstr(err, "max value 1439"));
	assert_int_equal(PARSE(&a, "load", "--keys", "11", "--value-size", "1439"), -EINVAL);
}

/* KEY and VALUE of put/get/del are checked against the protocol. */
static void test_key_value_limits(void **state)
{
	struct client_args a;
	char key[PROTO_KEY_MAX + 2];
	char *value = malloc(PROTO_PAYLOAD_MAX);

	(void)state;
	if (!value)
		abort();
	memset(key, 'k', sizeof(key) - 1);
	key[sizeof(key) - 1] = 0;
	assert_int_equal(PARSE(&a, "get", key), -EINVAL);
	key[PROTO_KEY_MAX] = 0;
	assert_int_equal(PARSE(&a, "get", key), 0);
	assert_int_equal(PARSE(&a, "get", ""), -EINVAL);
	memset(value, 'v', PROTO_PAYLOAD_MAX - 1);
	value[PROTO_PAYLOAD_MAX - PROTO_HDR_SIZE - PROTO_ENTRY_HDR_SIZE - PROTO_KEY_MAX] = 0;
	assert_int_equal(PARSE(&a, "put", key, value), 0);
	value[PROTO_PAYLOAD_MAX - PROTO_HDR_SIZE - PROTO_ENTRY_HDR_SIZE - PROTO_KEY_MAX] = 'v';
	value[PROTO_PAYLOAD_MAX - PROTO_HDR_SIZE - PROTO_ENTRY_HDR_SIZE - PROTO_KEY_MAX + 1] = 0;
	assert_int_equal(PARSE(&a, "put", key, value), -EINVAL);
	assert_non_null(strstr(err, "fit one datagram"));
	free(value);
}

/* Write a region map file: `workers` workers from `port`, region r owned by
 * worker (workers - 1 - r % workers). */
static void write_map(const char *path, unsigned workers, unsigned port)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fprintf(f, "{\"workers\": %u, \"regions\": %u, \"udp_port_base\": %u, \"owner\": [",
		workers, WE_REGIONS, port);
	for (unsigned r = 0; r < WE_REGIONS; r++)
		fprintf(f, "%s%u", r ? "," : "", workers - 1 - r % workers);
	fputs("]}\n", f);
	fclose(f);
}

/* --region-map: the owners, the worker count and the base port come from
 * the file; a disagreeing --workers or a bad file is an error. */
static void test_region_map(void **state)
{
	char path[] = "/tmp/test_client_opts_map.XXXXXX";
	struct client_args a;
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	write_map(path, 3, 9300);
	assert_int_equal(PARSE(&a, "get", "k", "--region-map", path), 0);
	assert_int_equal(a.n_workers, 3);
	assert_int_equal(a.port, 9300);
	assert_int_equal(region_map_owner(&a.region_map, 0), 2);
	assert_int_equal(region_map_owner(&a.region_map, 4), 1);
	assert_int_equal(PARSE(&a, "ping", "--region-map", path, "-p", "7000", "-n", "3"), 0);
	assert_int_equal(a.port, 7000);
	assert_int_equal(PARSE(&a, "get", "k", "--region-map", path, "-n", "2"), -EINVAL);
	assert_non_null(strstr(err, "--workers 2 disagrees with --region-map's 3 workers"));
	assert_int_equal(PARSE(&a, "raw", "--hex", "00", "--region-map", path), -EINVAL);
	assert_non_null(strstr(err, "--region-map does not apply to 'raw'"));
	write_map(path, 3, 65534);
	assert_int_equal(PARSE(&a, "get", "k", "--region-map", path), -EINVAL);
	assert_non_null(strstr(err, "--region-map: "));
	assert_non_null(strstr(err, "runs past port 65535"));
	unlink(path);
	assert_int_equal(PARSE(&a, "get", "k", "--region-map", path), -EINVAL);
	assert_non_null(strstr(err, path));
}

/* --help and --version stop parsing without needing a command; --help
 * lists every option and every command. */
static void test_help(void **state)
{
	static const char *const names[] = {
		"--server", "--port", "--workers", "--timeout", "--retries", "--deadline",
		"--batch", "--window", "--misdirect", "--no-token", "--durability", "--hex", "--keys",
		"--value-size", "--seed", "--key-prefix", "--json", "--help", "--version",
		"put KEY VALUE", "get KEY", "del KEY", "ping", "batch", "load --keys N",
		"raw --hex",
	};
	struct client_args a;
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	assert_int_equal(PARSE(&a, "--help"), 0);
	assert_true(a.help);
	assert_int_equal(PARSE(&a, "-V"), 0);
	assert_true(a.version);
	f = open_memstream(&text, &len);
	assert_non_null(f);
	client_opts_usage(f, "warp-client");
	fclose(f);
	for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!strstr(text, names[i]))
			fail_msg("--help does not mention %s", names[i]);
	}
	/* Which commands take which options, from the table's scopes. */
	assert_non_null(strstr(text, "  raw     --server --port --timeout --deadline --hex\n"));
	free(text);

	/* --help-markdown: every option (the first 19 names) in the docs' table. */
	assert_int_equal(PARSE(&a, "--help-markdown"), 0);
	assert_true(a.help_markdown);
	f = open_memstream(&text, &len);
	assert_non_null(f);
	client_opts_markdown(f);
	fclose(f);
	for (unsigned i = 0; i < 19; i++) {
		char cell[40];

		snprintf(cell, sizeof(cell), "| `%s`", names[i]);
		if (!strstr(text, cell))
			fail_msg("the markdown does not list %s", names[i]);
	}
	assert_non_null(strstr(text, "| `ping` | --server --port --workers --region-map --timeout --retries "
				     "--deadline --no-token |"));
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),      cmocka_unit_test(test_spellings),
		cmocka_unit_test(test_ranges),        cmocka_unit_test(test_errors),
		cmocka_unit_test(test_applicability), cmocka_unit_test(test_hex_roles),
		cmocka_unit_test(test_load_checks),   cmocka_unit_test(test_key_value_limits),
		cmocka_unit_test(test_help),          cmocka_unit_test(test_region_map),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
