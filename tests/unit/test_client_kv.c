/* test_client_kv.c - the load command's keys and values: exact key text,
 * lengths within range, values deterministic in (key, seed) and verified
 * byte for byte (any single changed byte or length is caught). */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "client_kv.h"
#include "client_text.h"
#include "we_test.h"

static uint64_t seed;

static int setup_seed(void **state)
{
	(void)state;
	seed = we_test_seed_random("test_client_kv");
	return 0;
}

/* Key i is the prefix followed by i in decimal. */
static void test_keys(void **state)
{
	uint8_t k[CLIENT_KV_KEY_MAX];
	char prefix[65];
	uint32_t n;

	(void)state;
	n = client_kv_key("key:", 4, 0, k);
	assert_int_equal(n, 5);
	assert_memory_equal(k, "key:0", 5);
	n = client_kv_key("key:", 4, 1234567, k);
	assert_memory_equal(k, "key:1234567", n);
	n = client_kv_key("", 0, UINT64_MAX, k);
	assert_int_equal(n, 20);
	assert_memory_equal(k, "18446744073709551615", 20);
	memset(prefix, 'p', 64);
	n = client_kv_key(prefix, 64, UINT64_MAX, k);
	assert_int_equal(n, CLIENT_KV_KEY_MAX);
}

/* Lengths stay in [min, max], use the whole range, and a fixed size is exact. */
static void test_lengths(void **state)
{
	uint8_t k[CLIENT_KV_KEY_MAX];
	bool seen_min = false, seen_max = false;

	(void)state;
	for (uint64_t i = 0; i < 5000; i++) {
		uint32_t n = client_kv_key("key:", 4, i, k);
		uint32_t len = client_kv_value_len(k, n, seed, 10, 20);

		assert_in_range(len, 10, 20);
		seen_min |= len == 10;
		seen_max |= len == 20;
		assert_int_equal(client_kv_value_len(k, n, seed, 7, 7), 7);
	}
	assert_true(seen_min);
	assert_true(seen_max);
}

/* The same (key, seed) always gives the same bytes; the check accepts
 * exactly them, and rejects a flipped byte, a shorter or longer value,
 * another key's value and another seed's value. */
static void test_values_verify(void **state)
{
	uint8_t k[CLIENT_KV_KEY_MAX], k2[CLIENT_KV_KEY_MAX];
	uint8_t v[CLIENT_KV_MAX + 1], w[CLIENT_KV_MAX + 1];

	(void)state;
	for (unsigned round = 0; round < 500; round++) {
		uint64_t i = (uint64_t)random();
		uint32_t n = client_kv_key("key:", 4, i, k);
		uint32_t n2 = client_kv_key("key:", 4, i + 1, k2);
		uint32_t len = client_kv_value_len(k, n, seed, 0, 1400);
		uint32_t at;

		client_kv_value(k, n, seed, v, len);
		client_kv_value(k, n, seed, w, len);
		assert_memory_equal(v, w, len);
		if (!client_kv_value_check(k, n, seed, 0, 1400, v, len))
			fail_msg("own value rejected, WE_TEST_SEED=%" PRIu64, seed);
		assert_false(client_kv_value_check(k, n, seed, 0, 1400, v, len + 1));
		if (len == 0)
			continue;
		assert_false(client_kv_value_check(k, n, seed, 0, 1400, v, len - 1));
		at = (uint32_t)random() % len;
		v[at] ^= (uint8_t)(1u << (random() % 8));
		if (client_kv_value_check(k, n, seed, 0, 1400, v, len))
			fail_msg("flipped byte %u accepted, WE_TEST_SEED=%" PRIu64, at, seed);
		v[at] = w[at];
		/* The same length under another key or seed differs somewhere. */
		if (len >= 8) {
			client_kv_value(k2, n2, seed, w, len);
			assert_false(memcmp(v, w, len) == 0);
			client_kv_value(k, n, seed + 1, w, len);
			assert_false(memcmp(v, w, len) == 0);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_lengths),
		cmocka_unit_test(test_values_verify),
	};

	return cmocka_run_group_tests(tests, setup_seed, NULL);
}
