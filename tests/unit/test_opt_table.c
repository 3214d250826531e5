/* test_opt_table.c - the shared option parser: every kind lands in its
 * field, ranges, powers of two and scales are checked, errors name the
 * option and the value, scopes, required options, words and "--" work, and
 * --help and the markdown list every option. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "opt_table.h"
#include "parse_num.h"

struct opts {
	bool verbose;
	bool checksum;
	uint16_t port;
	uint64_t ring_bytes;
	uint8_t small;
	uint64_t hexnum;
	double ratio;
	const char *path;
	uint32_t ip_be;
	unsigned mode;
	uint32_t lo, hi;
	const char *name;
	bool only_put;
	bool hex_flag;
	const char *hex_bytes;
};

/* A range "A-B" of 1..250. */
static int parse_span(const struct opt_spec *spec, const char *arg, void *dest, char *why,
		      size_t why_len)
{
	uint32_t *lohi = dest;
	uint64_t a, b;

	(void)spec;
	if (parse_num_range(arg, 10, 250, &a, &b) != 0 || a == 0) {
		snprintf(why, why_len, "a size B or a range A-B in 1..250 bytes");
		return -EINVAL;
	}
	lohi[0] = (uint32_t)a;
	lohi[1] = (uint32_t)b;
	return 0;
}

#define SCOPE_PUT (1u << 1)
#define SCOPE_GET (1u << 2)
#define SCOPE_RAW (1u << 3)

static const struct opt_spec specs[] = {
	{.name = "verbose", .short_name = 'v', .kind = OPT_FLAG, .def = "off",
	 OPT_AT(struct opts, verbose), .help = "say more"},
	{.name = "checksum", .kind = OPT_ONOFF, .meta = "on|off", .def = "on",
	 OPT_AT(struct opts, checksum), .help = "compute checksums"},
	{.name = "port", .short_name = 'p', .kind = OPT_U64, .meta = "PORT", .def = "9000",
	 .min = 1, .max = 65535, OPT_AT(struct opts, port), .help = "UDP port"},
	{.name = "ring-mb", .kind = OPT_U64, .meta = "MIB", .def = "32", .unit = "MiB", .min = 1,
	 .max = 1024, .scale = 1u << 20, .flags = OPT_POW2, OPT_AT(struct opts, ring_bytes),
	 .help = "ring size"},
	{.name = "small", .kind = OPT_U64, .meta = "N", .def = "7", .min = 0, .max = 1000,
	 OPT_AT(struct opts, small), .help = "a byte-sized field"},
	{.name = "hexnum", .kind = OPT_U64, .meta = "X", .def = "0x10", .min = 0,
	 .max = UINT64_MAX, .flags = OPT_BASE0, OPT_AT(struct opts, hexnum), .help = "any base"},
	{.name = "ratio", .kind = OPT_DOUBLE, .meta = "R", .def = "0.5", .unit = "s", .dmin = 0.001,
	 .dmax = 1e6, OPT_AT(struct opts, ratio), .help = "a real number"},
	{.name = "data-dir", .kind = OPT_STRING, .meta = "DIR", OPT_AT(struct opts, path),
	 .help = "where data lives"},
	{.name = "ip", .kind = OPT_IPV4, .meta = "A.B.C.D", .flags = OPT_REQUIRED,
	 OPT_AT(struct opts, ip_be), .help = "address to answer on"},
	{.name = "mode", .kind = OPT_CHOICE, .meta = "M", .def = "eventual",
	 .choices = "strong|eventual|weak", OPT_AT(struct opts, mode), .help = "consistency"},
	{.name = "key-size", .kind = OPT_CUSTOM, .meta = "B|A-B", .def = "16", .parse = parse_span,
	 OPT_AT(struct opts, lo), .help = "key length"},
	{.name = "label", .kind = OPT_STRING, .meta = "NAME", .def = "auto", .flags = OPT_DEF_TEXT,
	 OPT_AT(struct opts, name), .help = "a name (default derived)"},
	{.name = "only-put", .kind = OPT_FLAG, .scope = SCOPE_PUT, OPT_AT(struct opts, only_put),
	 .help = "put: a put-only flag"},
	{.name = "hex", .kind = OPT_FLAG, .scope = SCOPE_GET, OPT_AT(struct opts, hex_flag),
	 .help = "get: print hex"},
	{.name = "hex", .kind = OPT_STRING, .meta = "BYTES", .scope = SCOPE_RAW,
	 OPT_AT(struct opts, hex_bytes), .help = "raw: payload in hex"},
	{.name = "secret", .kind = OPT_FLAG, .flags = OPT_HIDDEN, OPT_AT(struct opts, verbose),
	 .help = "not listed"},
};
#define N_SPECS (sizeof(specs) / sizeof(specs[0]))

#define ARGC(v) ((int)(sizeof(v) / sizeof((v)[0])))

static int parse_scope(struct opts *o, struct opt_result *r, char *err, uint32_t scope,
		       bool stop, int argc, char **argv)
{
	memset(o, 0, sizeof(*o));
	return opt_parse(specs, N_SPECS, o, argc, argv, scope, stop, r, err, 256);
}

/* argv is {"prog", words..., NULL}: the NULL is not counted. */
#define PARSE(o, r, err, ...)                                                                  \
	({                                                                                     \
		char *argv_[] = {"prog", __VA_ARGS__, NULL};                                   \
		parse_scope(o, r, err, 0, false, ARGC(argv_) - 1, argv_);                     \
	})

static void test_defaults(void **state)
{
	struct opts o;
	struct opt_result r;
	char err[256];

	(void)state;
	assert_int_equal(PARSE(&o, &r, err, "--ip", "10.1.2.3"), 0);
	assert_false(o.verbose);
	assert_true(o.checksum);
	assert_int_equal(o.port, 9000);
	assert_int_equal(o.ring_bytes, 32u << 20);
	assert_int_equal(o.small, 7);
	assert_int_equal(o.hexnum, 16);
	assert_true(o.ratio == 0.5);
	assert_null(o.path);
	assert_int_equal(o.ip_be, inet_addr("10.1.2.3"));
	assert_int_equal(o.mode, 1);
	assert_int_equal(o.lo, 16);
	assert_int_equal(o.hi, 16);
	assert_null(o.name); /* OPT_DEF_TEXT: shown, not applied */
	assert_true(r.seen[opt_find(specs, N_SPECS, "ip")]);
	assert_false(r.seen[opt_find(specs, N_SPECS, "port")]);
	assert_false(r.help);
	assert_int_equal(r.first_arg, 3);

	/* opt_defaults alone. */
	memset(&o, 0, sizeof(o));
	o.verbose = true;
	assert_int_equal(opt_defaults(specs, N_SPECS, &o, err, sizeof(err)), 0);
	assert_false(o.verbose);
	assert_int_equal(o.port, 9000);
}

static void test_every_kind(void **state)
{
	struct opts o;
	struct opt_result r;
	char err[256];

	(void)state;
	assert_int_equal(PARSE(&o, &r, err, "--ip=1.2.3.4", "-v", "--checksum", "off", "-p",
			       "7000", "--ring-mb=64", "--small", "255", "--hexnum", "0x20",
			       "--ratio=2.5", "--data-dir", "/d", "--mode", "weak", "--key-size",
			       "3-9", "--label", "x"),
			 0);
	assert_true(o.verbose);
	assert_false(o.checksum);
	assert_int_equal(o.port, 7000);
	assert_int_equal(o.ring_bytes, 64u << 20);
	assert_int_equal(o.small, 255);
	assert_int_equal(o.hexnum, 32);
	assert_true(o.ratio == 2.5);
	assert_string_equal(o.path, "/d");
	assert_int_equal(o.ip_be, inet_addr("1.2.3.4"));
	assert_int_equal(o.mode, 2);
	assert_int_equal(o.lo, 3);
	assert_int_equal(o.hi, 9);
	assert_string_equal(o.name, "x");
	/* A short option with its value attached. */
	assert_int_equal(PARSE(&o, &r, err, "--ip=1.2.3.4", "-p9001"), 0);
	assert_int_equal(o.port, 9001);
}

static void expect_error(const char *what, int rc, const char *err, const char *mention)
{
	if (rc != -EINVAL)
		fail_msg("%s: accepted (rc %d)", what, rc);
	if (strstr(err, mention) == NULL)
		fail_msg("%s: error '%s' does not mention '%s'", what, err, mention);
}

static void test_errors(void **state)
{
	struct opts o;
	struct opt_result r;
	char err[256];

	(void)state;
	expect_error("port range", PARSE(&o, &r, err, "--ip=1.1.1.1", "--port=70000"), err,
		     "--port: '70000' is not a number in 1..65535");
	expect_error("port zero", PARSE(&o, &r, err, "--ip=1.1.1.1", "--port=0"), err, "'0'");
	expect_error("port junk", PARSE(&o, &r, err, "--ip=1.1.1.1", "--port=12x"), err, "'12x'");
	expect_error("port sign", PARSE(&o, &r, err, "--ip=1.1.1.1", "--port=-5"), err, "'-5'");
	expect_error("port blank", PARSE(&o, &r, err, "--ip=1.1.1.1", "--port= 5"), err, "' 5'");
	expect_error("port hex without BASE0", PARSE(&o, &r, err, "--ip=1.1.1.1", "--port=0x10"),
		     err, "'0x10'");
	expect_error("pow2", PARSE(&o, &r, err, "--ip=1.1.1.1", "--ring-mb=3"), err,
		     "--ring-mb: '3' is not a power of two in 1..1024 MiB");
	expect_error("pow2 range", PARSE(&o, &r, err, "--ip=1.1.1.1", "--ring-mb=2048"), err,
		     "power of two");
	expect_error("field too small", PARSE(&o, &r, err, "--ip=1.1.1.1", "--small=256"), err,
		     "--small");
	expect_error("double range", PARSE(&o, &r, err, "--ip=1.1.1.1", "--ratio=0"), err,
		     "--ratio: '0' is not a number in 0.001..1e+06 s");
	expect_error("double junk", PARSE(&o, &r, err, "--ip=1.1.1.1", "--ratio=1x"), err, "'1x'");
	expect_error("double inf", PARSE(&o, &r, err, "--ip=1.1.1.1", "--ratio=inf"), err,
		     "'inf'");
	expect_error("double hex", PARSE(&o, &r, err, "--ip=1.1.1.1", "--ratio=0x1p3"), err,
		     "'0x1p3'");
	expect_error("onoff", PARSE(&o, &r, err, "--ip=1.1.1.1", "--checksum=maybe"), err,
		     "--checksum: 'maybe' must be 'on' or 'off'");
	expect_error("ipv4", PARSE(&o, &r, err, "--ip", "10.1.2"), err,
		     "--ip: '10.1.2' is not an IPv4 address");
	expect_error("empty string", PARSE(&o, &r, err, "--ip=1.1.1.1", "--data-dir="), err,
		     "--data-dir: empty value");
	expect_error("choice", PARSE(&o, &r, err, "--ip=1.1.1.1", "--mode=fast"), err,
		     "--mode: 'fast' is not one of strong|eventual|weak");
	expect_error("custom", PARSE(&o, &r, err, "--ip=1.1.1.1", "--key-size=0-3"), err,
		     "--key-size: '0-3' is not a size B or a range A-B in 1..250 bytes");
	expect_error("required", PARSE(&o, &r, err, "--port", "9000"), err,
		     "--ip is required: address to answer on");
	expect_error("unknown", PARSE(&o, &r, err, "--ip=1.1.1.1", "--frobnicate=3"), err,
		     "unknown option '--frobnicate'");
	expect_error("unknown short", PARSE(&o, &r, err, "--ip=1.1.1.1", "-q"), err,
		     "unknown option '-q'");
	expect_error("no abbreviations", PARSE(&o, &r, err, "--ip=1.1.1.1", "--verb"), err,
		     "'--verb'");
	expect_error("missing value", PARSE(&o, &r, err, "--ip"), err, "--ip needs a value");
	expect_error("flag with value", PARSE(&o, &r, err, "--ip=1.1.1.1", "--verbose=on"), err,
		     "--verbose takes no value");
	expect_error("stray", PARSE(&o, &r, err, "--ip=1.1.1.1", "stray"), err,
		     "unexpected argument 'stray'");
	expect_error("hidden is still parsed but not a value", PARSE(&o, &r, err, "--secret=1"),
		     err, "takes no value");
}

/* "--" ends options; stop_at_arg stops at the first word. */
static void test_first_arg(void **state)
{
	struct opts o;
	struct opt_result r;
	char err[256];
	char *a1[] = {"prog", "--ip=1.1.1.1", "--", "-v", "x"};
	char *a2[] = {"prog", "--ip=1.1.1.1", "status", "--port=1"};
	char *a3[] = {"prog", "--ip=1.1.1.1"};

	(void)state;
	assert_int_equal(parse_scope(&o, &r, err, 0, false, ARGC(a1), a1), 0);
	assert_int_equal(r.first_arg, 3);
	assert_false(o.verbose);
	assert_int_equal(parse_scope(&o, &r, err, 0, true, ARGC(a2), a2), 0);
	assert_int_equal(r.first_arg, 2);
	assert_int_equal(o.port, 9000); /* not parsed: it belongs to the sub-command */
	assert_int_equal(parse_scope(&o, &r, err, 0, true, ARGC(a3), a3), 0);
	assert_int_equal(r.first_arg, ARGC(a3));
}

/* Scopes: an option outside the sub-command's scope is refused; two
 * entries of one name are told apart by scope. */
static void test_scope(void **state)
{
	struct opts o;
	struct opt_result r;
	char err[256];
	char *put[] = {"prog", "--ip=1.1.1.1", "--only-put"};
	char *get_hex[] = {"prog", "--ip=1.1.1.1", "--hex"};
	char *raw_hex[] = {"prog", "--ip=1.1.1.1", "--hex", "5745"};
	const char *words[3];
	unsigned nw;

	(void)state;
	assert_int_equal(parse_scope(&o, &r, err, SCOPE_PUT, false, ARGC(put), put), 0);
	assert_true(o.only_put);
	expect_error("out of scope", parse_scope(&o, &r, err, SCOPE_GET, false, ARGC(put), put),
		     err, "--only-put does not apply to this command");
	assert_int_equal(parse_scope(&o, &r, err, SCOPE_GET, false, ARGC(get_hex), get_hex), 0);
	assert_true(o.hex_flag);
	assert_null(o.hex_bytes);
	assert_int_equal(parse_scope(&o, &r, err, SCOPE_RAW, false, ARGC(raw_hex), raw_hex), 0);
	assert_false(o.hex_flag);
	assert_string_equal(o.hex_bytes, "5745");
	expect_error("hex needs bytes for raw",
		     parse_scope(&o, &r, err, SCOPE_RAW, false, ARGC(get_hex), get_hex), err,
		     "--hex needs a value (BYTES)");
	memset(&o, 0, sizeof(o));
	expect_error("named scope",
		     opt_parse_words(specs, N_SPECS, &o, ARGC(put), put, SCOPE_GET, "get", words,
				     3, &nw, &r, err, sizeof(err)),
		     err, "--only-put does not apply to 'get'");
}

/* opt_parse_words: words anywhere, "--" makes the rest words, a limit. */
static void test_words(void **state)
{
	struct opts o;
	struct opt_result r;
	char err[256];
	char *a1[] = {"prog", "put", "--ip=1.1.1.1", "k", "-v", "--", "-5"};
	char *a2[] = {"prog", "put", "--ip=1.1.1.1", "k", "v", "w"};
	const char *words[3];
	unsigned nw = 99;

	(void)state;
	memset(&o, 0, sizeof(o));
	assert_int_equal(opt_parse_words(specs, N_SPECS, &o, ARGC(a1), a1, 0, NULL, words, 3, &nw,
					 &r, err, sizeof(err)),
			 0);
	assert_int_equal(nw, 3);
	assert_string_equal(words[0], "put");
	assert_string_equal(words[1], "k");
	assert_string_equal(words[2], "-5");
	assert_true(o.verbose);
	expect_error("too many words",
		     opt_parse_words(specs, N_SPECS, &o, ARGC(a2), a2, 0, NULL, words, 3, &nw, &r,
				     err, sizeof(err)),
		     err, "unexpected argument 'w'");
}

/* --help and --help-markdown need no required option. */
static void test_help(void **state)
{
	struct opts o;
	struct opt_result r;
	char err[256];

	(void)state;
	assert_int_equal(PARSE(&o, &r, err, "--help"), 0);
	assert_true(r.help);
	assert_false(r.help_markdown);
	assert_int_equal(PARSE(&o, &r, err, "-h"), 0);
	assert_true(r.help);
	assert_int_equal(PARSE(&o, &r, err, "--help-markdown"), 0);
	assert_true(r.help_markdown);
	assert_false(r.help);
	expect_error("help with value", PARSE(&o, &r, err, "--help=1"), err, "takes no value");
	/* A bad value before --help is still an error. */
	expect_error("bad before help", PARSE(&o, &r, err, "--port=0", "--help"), err, "--port");
}

/* opt_apply then opt_format gives back what was typed, for every kind. */
static void test_apply_format(void **state)
{
	static const struct {
		const char *name;
		const char *typed;
		const char *shown;
	} cases[] = {
		{"verbose", "on", "on"},     {"verbose", "off", "off"},
		{"checksum", "off", "off"},  {"port", "1234", "1234"},
		{"ring-mb", "128", "128"},   {"small", "200", "200"},
		{"hexnum", "0x20", "32"},    {"ratio", "0.25", "0.25"},
		{"data-dir", "/x", "/x"},    {"ip", "10.0.0.1", "10.0.0.1"},
		{"mode", "strong", "strong"}, {"mode", "weak", "weak"},
		{"key-size", "3", "?"},
	};
	struct opts o;
	char err[256], buf[64];

	(void)state;
	memset(&o, 0, sizeof(o));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int id = opt_find(specs, N_SPECS, cases[i].name);

		assert_true(id >= 0);
		if (opt_apply(&specs[id], cases[i].typed, &o, err, sizeof(err)) != 0)
			fail_msg("%s=%s: %s", cases[i].name, cases[i].typed, err);
		assert_string_equal(opt_format(&specs[id], &o, buf, sizeof(buf)), cases[i].shown);
	}
	assert_int_equal(o.ring_bytes, 128u << 20);
	assert_int_equal(opt_find(specs, N_SPECS, "nope"), -1);
	/* A refused value leaves the field as it was. */
	assert_int_equal(opt_apply(&specs[opt_find(specs, N_SPECS, "port")], "0", &o, err,
				   sizeof(err)),
			 -EINVAL);
	assert_int_equal(o.port, 1234);
}

static char *capture(void (*print)(FILE *))
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	print(f);
	fclose(f);
	return text;
}

static void print_help_all(FILE *f)
{
	opt_print_help(f, specs, N_SPECS, 0, "usage: prog [options]");
}

static void print_help_get(FILE *f)
{
	opt_print_help(f, specs, N_SPECS, SCOPE_GET, NULL);
}

static void print_md(FILE *f)
{
	opt_print_markdown(f, specs, N_SPECS);
}

/* --help and the markdown list every option (not the hidden one), with
 * defaults and ranges. */
static void test_help_and_markdown_list_everything(void **state)
{
	char *help = capture(print_help_all);
	char *get = capture(print_help_get);
	char *md = capture(print_md);

	(void)state;
	assert_non_null(strstr(help, "usage: prog [options]\n"));
	for (size_t i = 0; i < N_SPECS; i++) {
		char want[64];

		snprintf(want, sizeof(want), "--%s", specs[i].name);
		if (specs[i].flags & OPT_HIDDEN) {
			assert_null(strstr(help, want));
			assert_null(strstr(md, want));
			continue;
		}
		if (strstr(help, want) == NULL)
			fail_msg("--help lacks %s", want);
		snprintf(want, sizeof(want), "| `--%s`", specs[i].name);
		if (strstr(md, want) == NULL)
			fail_msg("markdown lacks %s", want);
		if (specs[i].help && strstr(md, specs[i].help) == NULL)
			fail_msg("markdown lacks the help of --%s", specs[i].name);
	}
	assert_non_null(strstr(help, "--help"));
	assert_non_null(strstr(help, "[default: 32]"));
	assert_non_null(strstr(help, "(power of two in 1..1024 MiB)"));
	assert_non_null(strstr(help, "-p, --port PORT"));
	assert_non_null(strstr(md, "| `--help`, `-h`"));
	assert_non_null(strstr(md, "| `--ring-mb` | `MIB` | `32` | power of two in 1..1024 MiB |"));
	assert_non_null(strstr(md, "strong\\|eventual\\|weak")); /* '|' escaped in a cell */
	/* Scoped help leaves out what does not apply. */
	assert_null(strstr(get, "--only-put"));
	assert_non_null(strstr(get, "get: print hex"));
	assert_null(strstr(get, "raw: payload in hex"));
	free(help);
	free(get);
	free(md);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_every_kind),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_first_arg),
		cmocka_unit_test(test_scope),
		cmocka_unit_test(test_words),
		cmocka_unit_test(test_help),
		cmocka_unit_test(test_apply_format),
		cmocka_unit_test(test_help_and_markdown_list_everything),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
