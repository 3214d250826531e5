/* test_client_keyset.c - the in-flight key set agrees with a reference model
 * under random inserts and removes, including colliding home slots and the
 * hash 0; the random sequence takes its seed from WE_TEST_SEED. */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "client_keyset.h"
#include "we_test.h"

#define CAP 512

static uint64_t seed;

static int setup_seed(void **state)
{
	(void)state;
	seed = we_test_seed_random("test_client_keyset");
	return 0;
}

/* Hashes drawn from a small pool whose high bits collide often, so probe
 * runs wrap and backward shifts happen. */
static uint64_t pool_hash(unsigned i)
{
	if (i == 0)
		return 0;
	return (uint64_t)(i % 7) << 32 | (uint64_t)i << 48 | i;
}

/* After every operation, membership matches the model for the whole pool. */
static void test_model(void **state)
{
	enum { POOL = 2 * CAP };
	static bool in[POOL];
	struct client_keyset s;
	unsigned count = 0;

	(void)state;
	memset(in, 0, sizeof(in));
	assert_int_equal(client_keyset_init(&s, CAP), 0);
	for (unsigned step = 0; step < 20000; step++) {
		unsigned i = (unsigned)random() % POOL;

		if (in[i]) {
			client_keyset_remove(&s, pool_hash(i));
			in[i] = false;
			count--;
		} else if (count < CAP) {
			client_keyset_insert(&s, pool_hash(i));
			in[i] = true;
			count++;
		}
		assert_int_equal(s.count, count);
		if (step % 64 == 0 || step > 19900) {
			for (unsigned j = 0; j < POOL; j++)
				if (client_keyset_contains(&s, pool_hash(j)) != in[j])
					fail_msg("hash %u wrong after step %u, "
						 "WE_TEST_SEED=%" PRIu64, j, step, seed);
		}
	}
	client_keyset_clear(&s);
	assert_int_equal(s.count, 0);
	for (unsigned j = 0; j < POOL; j++)
		assert_false(client_keyset_contains(&s, pool_hash(j)));
	client_keyset_fini(&s);
}

/* The set holds exactly its capacity and hash 0 is a member like any other. */
static void test_full_and_zero(void **state)
{
	struct client_keyset s;

	(void)state;
	assert_int_equal(client_keyset_init(&s, 3), 0);
	assert_false(client_keyset_contains(&s, 0));
	client_keyset_insert(&s, 0);
	client_keyset_insert(&s, 5);
	client_keyset_insert(&s, UINT64_MAX);
	assert_true(client_keyset_contains(&s, 0));
	assert_true(client_keyset_contains(&s, UINT64_MAX));
	client_keyset_remove(&s, 0);
	assert_false(client_keyset_contains(&s, 0));
	assert_true(client_keyset_contains(&s, 5));
	client_keyset_fini(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_model),
		cmocka_unit_test(test_full_and_zero),
	};

	return cmocka_run_group_tests(tests, setup_seed, NULL);
}
