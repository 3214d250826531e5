/* test_addr_token.c - address tokens: bound to the address and the epoch,
 * accepted for the current and the previous epoch only, unforgeable without
 * the key, and the per-worker cache gives the same answers as recomputing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "addr_token.h"
#include "we_test.h"

static struct addr_token_key key_of(uint8_t fill)
{
	struct addr_token_key k;

	memset(k.bytes, fill, sizeof(k.bytes));
	return k;
}

/* Tokens differ by address, by epoch and by key; the same inputs give the
 * same token. */
static void test_token_bound_to_inputs(void **state)
{
	struct addr_token_key k1 = key_of(1), k2 = key_of(2);
	uint8_t a[PROTO_TOKEN_SIZE], b[PROTO_TOKEN_SIZE];

	(void)state;
	addr_token_make(&k1, 0x0100000a, 5, a);
	addr_token_make(&k1, 0x0100000a, 5, b);
	assert_memory_equal(a, b, PROTO_TOKEN_SIZE);
	addr_token_make(&k1, 0x0200000a, 5, b);
	assert_memory_not_equal(a, b, PROTO_TOKEN_SIZE);
	addr_token_make(&k1, 0x0100000a, 6, b);
	assert_memory_not_equal(a, b, PROTO_TOKEN_SIZE);
	addr_token_make(&k2, 0x0100000a, 5, b);
	assert_memory_not_equal(a, b, PROTO_TOKEN_SIZE);
}

/* A token is accepted in its epoch and the next, refused after, and never
 * for another address; a token with one bit changed is refused. */
static void test_check_epochs(void **state)
{
	struct addr_token_key k = key_of(9);
	struct addr_token_cache *c = malloc(sizeof(*c));
	uint8_t t[PROTO_TOKEN_SIZE];

	(void)state;
	assert_non_null(c);
	addr_token_cache_init(c, &k);
	addr_token_make(&k, 0x0100000a, 100, t);
	assert_true(addr_token_check(c, 0x0100000a, 100, t));
	assert_true(addr_token_check(c, 0x0100000a, 101, t));
	assert_false(addr_token_check(c, 0x0100000a, 102, t));
	assert_false(addr_token_check(c, 0x0100000a, 99, t));
	assert_false(addr_token_check(c, 0x0200000a, 100, t));
	for (unsigned bit = 0; bit < 8 * PROTO_TOKEN_SIZE; bit++) {
		t[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		assert_false(addr_token_check(c, 0x0100000a, 100, t));
		t[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	assert_true(addr_token_check(c, 0x0100000a, 100, t));
	free(c);
}

/* Many addresses sharing cache lines (a spoofed flood) never make the cache
 * accept a wrong token or refuse a right one: each answer equals a fresh
 * computation. */
static void test_cache_matches_recompute(void **state)
{
	struct addr_token_key k = key_of(3);
	struct addr_token_cache *c = malloc(sizeof(*c));
	uint64_t seed = we_test_seed(__func__, 17);

	(void)state;
	assert_non_null(c);
	addr_token_cache_init(c, &k);
	for (unsigned i = 0; i < 20000; i++) {
		uint32_t ip = (uint32_t)we_test_rand(&seed);
		uint32_t epoch = 1000 + (uint32_t)(we_test_rand(&seed) % 3);
		uint8_t t[PROTO_TOKEN_SIZE];
		bool good = we_test_rand(&seed) & 1;

		addr_token_make(&k, good ? ip : ip ^ 1, epoch - (uint32_t)(we_test_rand(&seed) & 1), t);
		assert_int_equal(addr_token_check(c, ip, epoch, t), good);
		addr_token_make(&k, ip, epoch, t);
		assert_memory_equal(addr_token_current(c, ip, epoch), t, PROTO_TOKEN_SIZE);
	}
	assert_true(c->computed > 0);
	free(c);
}

/* Two keys drawn from the kernel differ (the key is fresh at each start). */
static void test_key_init_random(void **state)
{
	struct addr_token_key a, b;

	(void)state;
	assert_int_equal(addr_token_key_init(&a), 0);
	assert_int_equal(addr_token_key_init(&b), 0);
	assert_memory_not_equal(a.bytes, b.bytes, sizeof(a.bytes));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_token_bound_to_inputs),
		cmocka_unit_test(test_check_epochs),
		cmocka_unit_test(test_cache_matches_recompute),
		cmocka_unit_test(test_key_init_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
