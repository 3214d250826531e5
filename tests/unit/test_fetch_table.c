/* test_fetch_table.c - GETs waiting for archived values: tickets, the queue
 * of reads not asked for yet, requeue, and a full table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fetch_table.h"
#include "we_test.h"

static struct fetch_entry entry(uint32_t opaque)
{
	struct fetch_entry e;

	memset(&e, 0, sizeof(e));
	e.opaque = opaque;
	e.ref.offset = (uint64_t)opaque * 64;
	e.key_len = 3;
	memcpy(e.key, "abc", 3);
	return e;
}

/* Entries come back by ticket as added; reads are asked for in FIFO order. */
static void test_add_queue_finish(void **state)
{
	static struct fetch_table t;
	int tickets[3];

	(void)state;
	fetch_table_init(&t);
	assert_int_equal(fetch_count(&t), 0);
	assert_int_equal(fetch_next_queued(&t), -1);
	for (uint32_t i = 0; i < 3; i++) {
		struct fetch_entry e = entry(100 + i);

		tickets[i] = fetch_add(&t, &e);
		assert_true(tickets[i] >= 0);
	}
	assert_int_equal(fetch_count(&t), 3);
	assert_int_equal(fetch_queued(&t), 3);
	for (uint32_t i = 0; i < 3; i++) {
		int k = fetch_next_queued(&t);

		assert_int_equal(k, tickets[i]);
		assert_int_equal(fetch_entry_at(&t, (uint16_t)k)->opaque, 100 + i);
		assert_int_equal(fetch_entry_at(&t, (uint16_t)k)->ref.offset, (100 + i) * 64);
	}
	assert_int_equal(fetch_queued(&t), 0);
	/* Reads complete in any order. */
	fetch_finish(&t, (uint16_t)tickets[1]);
	fetch_finish(&t, (uint16_t)tickets[0]);
	assert_int_equal(fetch_count(&t), 1);
	fetch_finish(&t, (uint16_t)tickets[2]);
	assert_int_equal(fetch_count(&t), 0);
}

/* A ticket put back is the next one out, before later ones. */
static void test_requeue_goes_first(void **state)
{
	static struct fetch_table t;
	struct fetch_entry e1 = entry(1), e2 = entry(2);
	int a, b;

	(void)state;
	fetch_table_init(&t);
	a = fetch_add(&t, &e1);
	b = fetch_add(&t, &e2);
	assert_int_equal(fetch_next_queued(&t), a);
	fetch_requeue(&t, (uint16_t)a);
	assert_int_equal(fetch_queued(&t), 2);
	assert_int_equal(fetch_next_queued(&t), a);
	assert_int_equal(fetch_next_queued(&t), b);
	assert_int_equal(fetch_next_queued(&t), -1);
}

/* FETCH_TABLE_CAP entries at most; a finished one makes room, and tickets
 * stay distinct across many rounds of wrap-around. */
static void test_full_and_reuse(void **state)
{
	static struct fetch_table t;
	static bool used[FETCH_TABLE_CAP];

	(void)state;
	fetch_table_init(&t);
	for (uint32_t i = 0; i < FETCH_TABLE_CAP; i++) {
		struct fetch_entry e = entry(i);
		int k = fetch_add(&t, &e);

		assert_true(k >= 0 && k < FETCH_TABLE_CAP);
		assert_false(used[k]);
		used[k] = true;
	}
	assert_true(fetch_full(&t));
	{
		struct fetch_entry e = entry(9999);

		assert_int_equal(fetch_add(&t, &e), -1);
	}
	/* Drain the queue, then keep one slot cycling through 10 x CAP adds. */
	for (uint32_t i = 0; i < FETCH_TABLE_CAP; i++)
		assert_true(fetch_next_queued(&t) >= 0);
	for (uint32_t round = 0; round < 10 * FETCH_TABLE_CAP; round++) {
		uint16_t victim = (uint16_t)(round % FETCH_TABLE_CAP);
		struct fetch_entry e = entry(round);
		int k;

		fetch_finish(&t, victim);
		k = fetch_add(&t, &e);
		assert_int_equal(k, victim);
		assert_int_equal(fetch_next_queued(&t), k);
		assert_int_equal(fetch_entry_at(&t, (uint16_t)k)->opaque, round);
	}
	assert_true(fetch_full(&t));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_queue_finish),
		cmocka_unit_test(test_requeue_goes_first),
		cmocka_unit_test(test_full_and_reuse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
