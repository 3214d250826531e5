/* test_inflight.c - the in-flight table finds each outstanding request by its
 * opaque (32-bit and 16-bit), never a completed or reused one; a request
 * stuck at the ring's tail moves aside instead of blocking it; the oldest is
 * always found; and it matches a reference model under random completions,
 * across the 32-bit sequence wrap. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "blaster_test.h"
#include "inflight.h"
#include "rng.h"

/* A full ring whose tail is still pending: room comes from moving the tail
 * aside, where it is still found, still the oldest, and completes. */
static void test_inflight_aside(void **state)
{
	struct inflight t;
	struct inflight_entry *e[8], *old;

	(void)state;
	assert_int_equal(inflight_init(&t, 8, 4, UINT32_MAX, 100), 0);
	for (int i = 0; i < 8; i++) {
		e[i] = inflight_alloc(&t);
		assert_non_null(e[i]);
		assert_int_equal(e[i]->seq, 100 + i);
		e[i]->key_lo = 1000 + (uint32_t)i;
	}
	assert_null(inflight_alloc(&t));
	assert_ptr_equal(inflight_oldest(&t), e[0]);
	for (int i = 1; i < 8; i++)
		if (i != 5)
			inflight_complete(&t, inflight_find(&t, 100 + (uint32_t)i));
	/* 100 and 105 pending: moving 100 aside frees 101..104. */
	assert_int_equal(inflight_room(&t), 5);
	old = inflight_find(&t, 100);
	assert_non_null(old);
	assert_int_equal(old->key_lo, 1000);
	assert_ptr_equal(inflight_oldest(&t), old);
	assert_int_equal(t.outstanding, 2);
	for (int i = 0; i < 5; i++)
		assert_non_null(inflight_alloc(&t));
	assert_null(inflight_alloc(&t));
	inflight_complete(&t, old);
	assert_null(inflight_find(&t, 100));
	assert_int_equal(inflight_oldest(&t)->seq, 105);
	assert_int_equal(t.outstanding, 6);
	inflight_fini(&t);
}

/* When the aside FIFO is full too, there is no room: sending must wait. */
static void test_inflight_aside_full(void **state)
{
	struct inflight t;

	(void)state;
	assert_int_equal(inflight_init(&t, 4, 2, UINT32_MAX, 0), 0);
	for (int i = 0; i < 4; i++)
		assert_non_null(inflight_alloc(&t));
	assert_int_equal(inflight_room(&t), 1); /* 0 aside */
	assert_non_null(inflight_alloc(&t));
	assert_int_equal(inflight_room(&t), 1); /* 1 aside */
	assert_non_null(inflight_alloc(&t));
	assert_int_equal(inflight_room(&t), 0); /* aside full: 0, 1; ring: 2..5 */
	assert_null(inflight_alloc(&t));
	for (uint32_t s = 0; s < 6; s++)
		assert_int_equal(inflight_by_seq(&t, s)->seq, s);
	inflight_complete(&t, inflight_by_seq(&t, 0));
	assert_int_equal(inflight_room(&t), 1); /* 2 aside */
	assert_int_equal(inflight_oldest(&t)->seq, 1);
	inflight_fini(&t);
}

/* Lookup: the right entry by opaque; NULL for unknown, stale (slot reused
 * by a later seq) and completed opaques. */
static void test_inflight_find(void **state)
{
	struct inflight t;
	struct inflight_entry *a, *b = NULL;

	(void)state;
	assert_int_equal(inflight_init(&t, 4, 4, UINT32_MAX, 0), 0);
	a = inflight_alloc(&t);
	assert_ptr_equal(inflight_find(&t, 0), a);
	assert_null(inflight_find(&t, 4)); /* same slot, other seq */
	assert_null(inflight_find(&t, 1)); /* never sent */
	inflight_complete(&t, a);
	assert_null(inflight_find(&t, 0));
	for (int i = 0; i < 4; i++)
		b = inflight_alloc(&t);
	assert_int_equal(b->seq, 4);
	assert_ptr_equal(inflight_by_seq(&t, 4), b);
	assert_null(inflight_find(&t, 0)); /* seq 4 reuses slot 0, not opaque 0 */
	inflight_fini(&t);
}

/* 16-bit request ids match seq & 0xffff across the 2^16 wrap. */
static void test_inflight_16bit(void **state)
{
	struct inflight t;
	struct inflight_entry *e;

	(void)state;
	assert_int_equal(inflight_init(&t, 1024, 256, 0xffff, 0xfffe), 0);
	e = inflight_alloc(&t);
	assert_ptr_equal(inflight_find(&t, 0xfffe), e);
	(void)inflight_alloc(&t);
	e = inflight_alloc(&t);
	assert_int_equal(e->seq, 0x10000);
	assert_ptr_equal(inflight_find(&t, 0), e);
	assert_null(inflight_find(&t, 1));
	assert_null(inflight_find(&t, 0x10000)); /* not a 16-bit id */
	inflight_fini(&t);
}

/* A small id space (3 bits): room stops where the next id would name an
 * outstanding request, and the oldest is then reported exhausted. */
static void test_inflight_id_space(void **state)
{
	struct inflight t;
	struct inflight_entry *first;

	(void)state;
	assert_int_equal(inflight_init(&t, 4, 4, 7, 0), 0);
	first = inflight_alloc(&t);
	assert_false(inflight_id_exhausted(&t, first, 0));
	for (int i = 1; i < 4; i++)
		inflight_complete(&t, inflight_alloc(&t));
	assert_int_equal(inflight_room(&t), 4);  /* ids 4..7 free; 0 is taken */
	for (int i = 0; i < 4; i++)
		assert_non_null(inflight_alloc(&t));
	assert_int_equal(inflight_room(&t), 0);
	assert_null(inflight_alloc(&t));
	first = inflight_oldest(&t);
	assert_int_equal(first->seq, 0);
	assert_true(inflight_id_exhausted(&t, first, 0));
	assert_ptr_equal(inflight_find(&t, 0), first);
	assert_int_equal(inflight_find(&t, 5)->seq, 5);
	inflight_complete(&t, first);
	assert_int_equal(inflight_room(&t), 1);
	assert_int_equal(inflight_alloc(&t)->seq, 8);
	assert_int_equal(inflight_find(&t, 0)->seq, 8);
	inflight_fini(&t);
}

/* Random alloc/complete against a reference set, starting just below the
 * 32-bit wrap; after every step: lookups agree, the count is right and the
 * oldest is the smallest live seq. */
static void test_inflight_random(void **state)
{
	enum { CAP = 64, ASIDE = 16, MAXSEQ = 20000 };
	struct inflight t;
	static bool live[MAXSEQ];
	uint32_t first = UINT32_MAX - 1000, issued = 0, outstanding = 0, low = 0;
	struct rng r;

	(void)state;
	memset(live, 0, sizeof(live));
	rng_seed(&r, blaster_test_seed("test_inflight_random"), 9);
	assert_int_equal(inflight_init(&t, CAP, ASIDE, UINT32_MAX, first), 0);
	while (issued < MAXSEQ) {
		uint64_t dice = rng_below(&r, 100);

		if (dice < 50) {
			struct inflight_entry *e;

			if (inflight_room(&t) == 0) {
				/* Stuck: retire the oldest, as a timeout would. */
				e = inflight_oldest(&t);
				assert_non_null(e);
				live[e->seq - first] = false;
				outstanding--;
				inflight_complete(&t, e);
				continue;
			}
			e = inflight_alloc(&t);
			assert_non_null(e);
			assert_int_equal(e->seq, first + issued);
			live[issued++] = true;
			outstanding++;
		} else if (issued > 0) {
			/* Mostly recent requests complete; old ones are "lost". */
			uint32_t back = (uint32_t)rng_below(&r, dice < 98 ? 48 : issued);
			uint32_t i = issued - 1 - (back < issued ? back : issued - 1);
			struct inflight_entry *e = inflight_find(&t, first + i);

			assert_int_equal(e != NULL, live[i]);
			if (e) {
				assert_int_equal(e->seq, first + i);
				live[i] = false;
				outstanding--;
				inflight_complete(&t, e);
			}
		}
		assert_int_equal(t.outstanding, outstanding);
		while (low < issued && !live[low])
			low++;
		if (outstanding)
			assert_int_equal(inflight_oldest(&t)->seq, first + low);
		else
			assert_null(inflight_oldest(&t));
	}
	assert_true(t.aside_head > 0); /* the aside FIFO was used */
	inflight_fini(&t);
}

/* Capacities that are not powers of two, out of range, or larger than the
 * opaque space are refused. */
static void test_inflight_invalid(void **state)
{
	struct inflight t;

	(void)state;
	assert_int_equal(inflight_init(&t, 0, 4, UINT32_MAX, 0), -22);
	assert_int_equal(inflight_init(&t, 1, 4, UINT32_MAX, 0), -22);
	assert_int_equal(inflight_init(&t, 100, 4, UINT32_MAX, 0), -22);
	assert_int_equal(inflight_init(&t, INFLIGHT_CAPACITY_MAX * 2, 4, UINT32_MAX, 0), -22);
	assert_int_equal(inflight_init(&t, 1 << 17, 4, 0xffff, 0), -22);
	assert_int_equal(inflight_init(&t, 64, 3, UINT32_MAX, 0), -22);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_inflight_aside),
		cmocka_unit_test(test_inflight_aside_full),
		cmocka_unit_test(test_inflight_find),
		cmocka_unit_test(test_inflight_16bit),
		cmocka_unit_test(test_inflight_id_space),
		cmocka_unit_test(test_inflight_random),
		cmocka_unit_test(test_inflight_invalid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
