/* test_park.c - the park table: answers held until their LSN is durable,
 * released in order, bounded, failed all at once on a disk error. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "park.h"
#include "we_status.h"
#include "we_test.h"

#define CAP 8

static struct park_entry entry(uint64_t lsn, uint64_t echo, uint32_t opaque)
{
	struct park_entry e;

	memset(&e, 0, sizeof(e));
	e.lsn = lsn;
	e.echo = echo;
	e.opaque = opaque;
	e.op = 2;
	e.udp.src_ip_be = 0x0200000a;
	e.udp.src_port = 40000;
	e.udp.dst_port = 9000;
	return e;
}

/* Only power-of-two capacities of at least 2 are accepted. */
static void test_init_rejects_bad_capacity(void **state)
{
	struct park_entry mem[CAP];
	struct park_table t;

	(void)state;
	assert_int_equal(park_table_init(&t, mem, 0), -EINVAL);
	assert_int_equal(park_table_init(&t, mem, 1), -EINVAL);
	assert_int_equal(park_table_init(&t, mem, 6), -EINVAL);
	assert_int_equal(park_table_init(&t, NULL, CAP), -EINVAL);
	assert_int_equal(park_table_init(&t, mem, CAP), 0);
	assert_int_equal(park_count(&t), 0);
}

/* A release takes exactly the answers whose LSN is durable, oldest first,
 * and leaves the others; a later release takes the rest. */
static void test_release_prefix(void **state)
{
	struct park_entry mem[CAP], out[CAP];
	struct park_table t;

	(void)state;
	assert_int_equal(park_table_init(&t, mem, CAP), 0);
	for (uint32_t i = 0; i < 5; i++) {
		struct park_entry e = entry(10 + i, 1, i);

		park_add(&t, &e);
	}
	assert_int_equal(park_release(&t, 9, out, CAP), 0);
	assert_int_equal(park_release(&t, 12, out, CAP), 3);
	for (uint32_t i = 0; i < 3; i++)
		assert_int_equal(out[i].opaque, i);
	assert_int_equal(park_count(&t), 2);
	assert_int_equal(park_release(&t, 100, out, 1), 1); /* bounded by max */
	assert_int_equal(out[0].opaque, 3);
	assert_int_equal(park_release(&t, 100, out, CAP), 1);
	assert_int_equal(out[0].lsn, 14);
	assert_int_equal(park_count(&t), 0);
}

/* The table is bounded and wraps around: filled, drained, filled again. */
static void test_full_and_wrap(void **state)
{
	struct park_entry mem[CAP], out[CAP];
	struct park_table t;
	uint64_t lsn = 1;

	(void)state;
	assert_int_equal(park_table_init(&t, mem, CAP), 0);
	for (int round = 0; round < 5; round++) {
		while (!park_full(&t)) {
			struct park_entry e = entry(lsn, (uint64_t)round, (uint32_t)lsn);

			park_add(&t, &e);
			lsn++;
		}
		assert_int_equal(park_count(&t), CAP);
		assert_int_equal(park_release(&t, lsn - 3, out, CAP), CAP - 2);
		assert_int_equal(out[0].lsn, lsn - CAP);
		assert_int_equal(park_release(&t, lsn, out, CAP), 2);
		assert_int_equal(out[1].lsn, lsn - 1);
	}
}

/* A disk error hands back every held answer with the new status. */
static void test_fail_all(void **state)
{
	struct park_entry mem[CAP], out[CAP];
	struct park_table t;

	(void)state;
	assert_int_equal(park_table_init(&t, mem, CAP), 0);
	for (uint32_t i = 0; i < 6; i++) {
		struct park_entry e = entry(100 + i, 7, i);

		e.status = WE_STATUS_OK;
		park_add(&t, &e);
	}
	assert_int_equal(park_fail_all(&t, WE_STATUS_NOT_DURABLE, out, 4), 4);
	assert_int_equal(park_fail_all(&t, WE_STATUS_NOT_DURABLE, out + 4, 4), 2);
	for (uint32_t i = 0; i < 6; i++) {
		assert_int_equal(out[i].status, WE_STATUS_NOT_DURABLE);
		assert_int_equal(out[i].opaque, i);
	}
	assert_int_equal(park_count(&t), 0);
}

/* Answers of one client datagram share a reply; others do not. */
static void test_same_datagram(void **state)
{
	struct park_entry a = entry(1, 5, 0), b = entry(2, 5, 1), c = entry(3, 6, 2);
	struct park_entry d = entry(4, 5, 3);

	(void)state;
	d.udp.src_port = 40001;
	assert_true(park_same_datagram(&a, &b));
	assert_false(park_same_datagram(&a, &c));
	assert_false(park_same_datagram(&a, &d));
}

/* Answers handed out but not sent (no buffer, NIC queue full) go back to
 * the head, unchanged, and come out again in the same order - also after a
 * failure handed them out with another status, and across the ring's wrap. */
static void test_return_unsent(void **state)
{
	struct park_entry mem[CAP], out[CAP];
	struct park_table t;
	uint64_t lsn = 1;

	(void)state;
	assert_int_equal(park_table_init(&t, mem, CAP), 0);
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < 6; i++) {
			struct park_entry e = entry(lsn, lsn, (uint32_t)lsn);

			park_add(&t, &e);
			lsn++;
		}
		assert_int_equal(park_release(&t, lsn, out, 4), 4);
		park_return(&t, 3); /* the first was sent, three were not */
		assert_int_equal(park_count(&t), 5);
		assert_int_equal(park_fail_all(&t, WE_STATUS_NOT_DURABLE, out, 2), 2);
		assert_int_equal(out[0].status, WE_STATUS_NOT_DURABLE);
		park_return(&t, 2);
		assert_int_equal(park_release(&t, lsn, out, CAP), 5);
		for (int i = 0; i < 5; i++) {
			assert_int_equal(out[i].lsn, lsn - 5 + (uint64_t)i);
			assert_int_equal(out[i].status, 0);
		}
		assert_int_equal(park_count(&t), 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_rejects_bad_capacity),
		cmocka_unit_test(test_release_prefix),
		cmocka_unit_test(test_full_and_wrap),
		cmocka_unit_test(test_fail_all),
		cmocka_unit_test(test_same_datagram),
		cmocka_unit_test(test_return_unsent),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
