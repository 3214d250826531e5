/* test_inflight.c - the in-flight table finds each outstanding request by its
 * opaque (32-bit and 16-bit), never a completed or reused one, frees slots in
 * order, and matches a reference model under random completions, across the
 * 32-bit sequence wrap. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "blaster_test.h"
#include "inflight.h"
#include "rng.h"

/* Alloc until full, complete out of order: the tail (and so the room) moves
 * only past completed entries, oldest first. */
static void test_inflight_order(void **state)
{
	struct inflight t;
	struct inflight_entry *e[8];

	(void)state;
	assert_int_equal(inflight_init(&t, 8, 100), 0);
	for (int i = 0; i < 8; i++) {
		e[i] = inflight_alloc(&t);
		assert_non_null(e[i]);
		assert_int_equal(e[i]->seq, 100 + i);
	}
	assert_null(inflight_alloc(&t));
	assert_ptr_equal(inflight_oldest(&t), e[0]);
	inflight_complete(&t, e[3]);
	assert_int_equal(inflight_room(&t), 0); /* e[0] still holds the tail */
	assert_null(inflight_find(&t, 103, UINT32_MAX));
	inflight_complete(&t, e[0]);
	assert_int_equal(inflight_room(&t), 1);
	assert_ptr_equal(inflight_oldest(&t), e[1]);
	inflight_complete(&t, e[1]);
	inflight_complete(&t, e[2]);
	assert_int_equal(inflight_room(&t), 4); /* 0..3 freed */
	assert_ptr_equal(inflight_oldest(&t), e[4]);
	assert_int_equal(t.outstanding, 4);
	inflight_fini(&t);
}

/* Lookup: the right entry by opaque; NULL for unknown, stale (slot reused
 * by a later seq) and completed opaques. */
static void test_inflight_find(void **state)
{
	struct inflight t;
	struct inflight_entry *a, *b;

	(void)state;
	assert_int_equal(inflight_init(&t, 4, 0), 0);
	a = inflight_alloc(&t);
	assert_ptr_equal(inflight_find(&t, 0, UINT32_MAX), a);
	assert_null(inflight_find(&t, 4, UINT32_MAX)); /* same slot, other seq */
	assert_null(inflight_find(&t, 1, UINT32_MAX)); /* never sent */
	inflight_complete(&t, a);
	assert_null(inflight_find(&t, 0, UINT32_MAX));
	for (int i = 0; i < 4; i++)
		b = inflight_alloc(&t);
	assert_int_equal(b->seq, 4);
	/* seq 4 reuses slot 0: the old opaque 0 must not match it. */
	b = inflight_by_seq(&t, 4);
	assert_non_null(b);
	assert_null(inflight_find(&t, 0, UINT32_MAX));
	inflight_fini(&t);
}

/* memcached: 16-bit request ids match seq & 0xffff, across the 2^16 wrap. */
static void test_inflight_16bit(void **state)
{
	struct inflight t;
	struct inflight_entry *e;

	(void)state;
	assert_int_equal(inflight_init(&t, 1024, 0xfffe), 0);
	e = inflight_alloc(&t);
	assert_ptr_equal(inflight_find(&t, 0xfffe, 0xffff), e);
	e = inflight_alloc(&t);
	e = inflight_alloc(&t);
	assert_int_equal(e->seq, 0x10000);
	assert_ptr_equal(inflight_find(&t, 0, 0xffff), e);
	assert_null(inflight_find(&t, 1, 0xffff));
	inflight_fini(&t);
}

/* Random alloc/complete against a reference set, starting just below the
 * 32-bit wrap; invariants checked after every step. */
static void test_inflight_random(void **state)
{
	enum { CAP = 64, MAXSEQ = 4096 };
	struct inflight t;
	static bool live[MAXSEQ];
	uint32_t first = UINT32_MAX - 1000, issued = 0, outstanding = 0;
	struct rng r;

	(void)state;
	memset(live, 0, sizeof(live));
	rng_seed(&r, blaster_test_seed("test_inflight_random"), 9);
	assert_int_equal(inflight_init(&t, CAP, first), 0);
	while (issued < MAXSEQ) {
		if (rng_below(&r, 2) == 0) {
			struct inflight_entry *e = inflight_alloc(&t);

			if (e == NULL) {
				assert_int_equal(inflight_room(&t), 0);
				/* Full: complete the oldest to make progress. */
				e = inflight_oldest(&t);
				assert_non_null(e);
				live[e->seq - first] = false;
				outstanding--;
				inflight_complete(&t, e);
				continue;
			}
			assert_int_equal(e->seq, first + issued);
			live[issued++] = true;
			outstanding++;
		} else if (issued > 0) {
			uint32_t i = (uint32_t)rng_below(&r, issued);
			struct inflight_entry *e = inflight_find(&t, first + i, UINT32_MAX);

			assert_int_equal(e != NULL, live[i]);
			if (e) {
				live[i] = false;
				outstanding--;
				inflight_complete(&t, e);
			}
		}
		assert_int_equal(t.outstanding, outstanding);
		assert_true(t.head - t.tail <= CAP);
		if (outstanding) {
			struct inflight_entry *o = inflight_oldest(&t);

			assert_true(live[o->seq - first]);
			assert_int_equal(o->seq, t.tail);
			for (uint32_t s = first; s != o->seq; s++)
				assert_false(live[s - first]);
		} else {
			assert_null(inflight_oldest(&t));
		}
	}
	inflight_fini(&t);
}

/* Capacities that are not powers of two, or out of range, are refused. */
static void test_inflight_invalid(void **state)
{
	struct inflight t;

	(void)state;
	assert_int_equal(inflight_init(&t, 0, 0), -22);
	assert_int_equal(inflight_init(&t, 1, 0), -22);
	assert_int_equal(inflight_init(&t, 100, 0), -22);
	assert_int_equal(inflight_init(&t, INFLIGHT_CAPACITY_MAX * 2, 0), -22);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_inflight_order),
		cmocka_unit_test(test_inflight_find),
		cmocka_unit_test(test_inflight_16bit),
		cmocka_unit_test(test_inflight_random),
		cmocka_unit_test(test_inflight_invalid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
