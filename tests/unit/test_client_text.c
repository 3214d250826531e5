/* test_client_text.c - hex and escape round trips, the batch line grammar and
 * the result lines; random round trips take their seed from WE_TEST_SEED. */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "client_text.h"
#include "we_status.h"
#include "we_test.h"

static uint64_t seed;

static int setup_seed(void **state)
{
	(void)state;
	seed = we_test_seed_random("test_client_text");
	return 0;
}

/* Hex decoding accepts separators between bytes and "0x", and rejects odd
 * digit counts, stray characters and overflow. */
static void test_hex_decode(void **state)
{
	uint8_t out[8];
	size_t len;

	(void)state;
	assert_int_equal(client_hex_decode("57 45:01-00\n0a", out, sizeof(out), &len), 0);
	assert_int_equal(len, 5);
	assert_memory_equal(out, "\x57\x45\x01\x00\x0a", 5);
	assert_int_equal(client_hex_decode("0xFFee", out, sizeof(out), &len), 0);
	assert_int_equal(len, 2);
	assert_int_equal(out[0], 0xff);
	assert_int_equal(out[1], 0xee);
	assert_int_equal(client_hex_decode("", out, sizeof(out), &len), 0);
	assert_int_equal(len, 0);
	assert_int_equal(client_hex_decode("123", out, sizeof(out), &len), -EINVAL);
	assert_int_equal(client_hex_decode("12zz", out, sizeof(out), &len), -EINVAL);
	assert_int_equal(len, 2);
	assert_int_equal(client_hex_decode("1 2", out, sizeof(out), &len), -EINVAL);
	assert_int_equal(client_hex_decode("000102030405060708", out, sizeof(out), &len), -E2BIG);
}

/* Every byte string survives escape then unescape, and escaped text holds
 * no control characters or newlines. */
static void test_escape_round_trip(void **state)
{
	uint8_t in[256], back[256];
	char esc[4 * 256 + 1];
	size_t n, back_len;

	(void)state;
	for (unsigned i = 0; i < 256; i++)
		in[i] = (uint8_t)i;
	n = client_escape(in, 256, esc);
	assert_int_equal(strlen(esc), n);
	for (size_t i = 0; i < n; i++)
		assert_true(esc[i] >= 0x20 && esc[i] < 0x7f);
	assert_int_equal(client_unescape(esc, n, back, sizeof(back), &back_len), 0);
	assert_int_equal(back_len, 256);
	assert_memory_equal(back, in, 256);
	for (unsigned round = 0; round < 2000; round++) {
		size_t len = (size_t)random() % 64;

		for (size_t i = 0; i < len; i++)
			in[i] = (uint8_t)random();
		n = client_escape(in, len, esc);
		if (client_unescape(esc, n, back, sizeof(back), &back_len) != 0 ||
		    back_len != len || memcmp(back, in, len) != 0)
			fail_msg("escape round trip failed, WE_TEST_SEED=%" PRIu64, seed);
	}
	assert_string_equal((client_escape((const uint8_t *)"a\\b\n", 4, esc), esc), "a\\\\b\\n");
}

/* Unescaping rejects broken escapes and output past its capacity. */
static void test_unescape_errors(void **state)
{
	uint8_t out[4];
	size_t len;

	(void)state;
	assert_int_equal(client_unescape("\\", 1, out, sizeof(out), &len), -EINVAL);
	assert_int_equal(client_unescape("\\q", 2, out, sizeof(out), &len), -EINVAL);
	assert_int_equal(client_unescape("\\x4", 3, out, sizeof(out), &len), -EINVAL);
	assert_int_equal(client_unescape("\\xg0", 4, out, sizeof(out), &len), -EINVAL);
	assert_int_equal(client_unescape("abcde", 5, out, sizeof(out), &len), -E2BIG);
	assert_int_equal(client_unescape("\\x41\\t", 6, out, sizeof(out), &len), 0);
	assert_int_equal(len, 2);
	assert_memory_equal(out, "A\t", 2);
}

static int parse(const char *s, struct client_line *l, char *err)
{
	return client_line_parse(s, strlen(s), l, err, 64);
}

/* The batch grammar: verbs, blanks, values with spaces, escapes, comments. */
static void test_line_parse(void **state)
{
	struct client_line *l = malloc(sizeof(*l));
	char err[64];

	(void)state;
	if (!l)
		abort();
	assert_int_equal(parse("  put key hello world  \r", l, err), 1);
	assert_int_equal(l->op, PROTO_OP_PUT);
	assert_int_equal(l->key_len, 3);
	assert_memory_equal(l->key, "key", 3);
	assert_int_equal(l->value_len, 13);
	assert_memory_equal(l->value, "hello world  ", 13);
	assert_int_equal(parse("put k\t\\x00\\n", l, err), 1);
	assert_int_equal(l->value_len, 2);
	assert_memory_equal(l->value, "\0\n", 2);
	assert_int_equal(parse("put k", l, err), 1);
	assert_int_equal(l->value_len, 0);
	assert_int_equal(parse("get a\\x20b  ", l, err), 1);
	assert_int_equal(l->op, PROTO_OP_GET);
	assert_memory_equal(l->key, "a b", 3);
	assert_int_equal(parse("delete k", l, err), 1);
	assert_int_equal(l->op, PROTO_OP_DELETE);
	assert_int_equal(parse("del k", l, err), 1);
	assert_int_equal(parse("", l, err), 0);
	assert_int_equal(parse("   \t", l, err), 0);
	assert_int_equal(parse("  # comment", l, err), 0);
	assert_int_equal(parse("fetch k", l, err), -EINVAL);
	assert_non_null(strstr(err, "unknown command"));
	assert_int_equal(parse("get", l, err), -EINVAL);
	assert_non_null(strstr(err, "missing KEY"));
	assert_int_equal(parse("get a b", l, err), -EINVAL);
	assert_int_equal(parse("get a\\q", l, err), -EINVAL);
	assert_int_equal(parse("get \\x00", l, err), 1);
	free(l);
}

/* Keys over 250 bytes and key + value over one datagram are refused. */
static void test_line_limits(void **state)
{
	struct client_line *l = malloc(sizeof(*l));
	char *s = malloc(8192);
	char err[64];
	int n;

	(void)state;
	if (!l || !s)
		abort();
	n = sprintf(s, "get ");
	memset(s + n, 'k', 251);
	s[n + 251] = 0;
	assert_int_equal(parse(s, l, err), -EINVAL);
	s[n + 250] = 0;
	assert_int_equal(parse(s, l, err), 1);
	n = sprintf(s, "put kk ");
	memset(s + n, 'v', CLIENT_KV_MAX - 2);
	s[n + CLIENT_KV_MAX - 2] = 0;
	assert_int_equal(parse(s, l, err), 1);
	assert_int_equal(l->value_len, CLIENT_KV_MAX - 2);
	s[n + CLIENT_KV_MAX - 2] = 'v';
	s[n + CLIENT_KV_MAX - 1] = 0;
	assert_int_equal(parse(s, l, err), -EINVAL);
	assert_non_null(strstr(err, "datagram"));
	free(s);
	free(l);
}

/* Result lines name the outcome; GET values are escaped or hex. */
static void test_result_format(void **state)
{
	char *out = malloc(CLIENT_RESULT_LINE_MAX);

	(void)state;
	if (!out)
		abort();
	client_result_format(out, PROTO_OP_PUT, WE_STATUS_OK, NULL, 0, false);
	assert_string_equal(out, "OK\n");
	client_result_format(out, PROTO_OP_GET, WE_STATUS_OK, (const uint8_t *)"a b\n", 4, false);
	assert_string_equal(out, "VALUE a b\\n\n");
	client_result_format(out, PROTO_OP_GET, WE_STATUS_OK, (const uint8_t *)"\x01\xff", 2, true);
	assert_string_equal(out, "VALUE 01ff\n");
	client_result_format(out, PROTO_OP_GET, WE_STATUS_OK, NULL, 0, false);
	assert_string_equal(out, "VALUE \n");
	client_result_format(out, PROTO_OP_GET, WE_STATUS_NOT_FOUND, NULL, 0, false);
	assert_string_equal(out, "NOT_FOUND\n");
	client_result_format(out, PROTO_OP_DELETE, CLIENT_STATUS_TIMEOUT, NULL, 0, false);
	assert_string_equal(out, "TIMEOUT\n");
	client_result_format(out, PROTO_OP_PUT, WE_STATUS_NO_SPACE, NULL, 0, false);
	assert_string_equal(out, "ERROR NO_SPACE\n");
	client_result_format(out, PROTO_OP_PUT, 200, NULL, 0, false);
	assert_string_equal(out, "ERROR ?\n");
	assert_string_equal(client_status_name(CLIENT_STATUS_TIMEOUT), "TIMEOUT");
	assert_string_equal(client_status_name(WE_STATUS_BUSY), "BUSY");
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hex_decode),      cmocka_unit_test(test_escape_round_trip),
		cmocka_unit_test(test_unescape_errors), cmocka_unit_test(test_line_parse),
		cmocka_unit_test(test_line_limits),     cmocka_unit_test(test_result_format),
	};

	return cmocka_run_group_tests(tests, setup_seed, NULL);
}
