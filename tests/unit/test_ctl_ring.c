/* test_ctl_ring.c - the per-worker control ring (lib/ctl_ring.c): order,
 * a full ring refusing posts until the consumer takes, wrap-around, and
 * several producer threads against one consumer losing and duplicating
 * nothing. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ctl_ring.h"
#include "we_test.h"

static struct ctl_msg msg(uint32_t type, uint64_t a)
{
	struct ctl_msg m = {.type = type, .a = a, .b = ~a, .c = a * 3};

	return m;
}

static void test_init_rejects_bad_capacity(void **state)
{
	struct ctl_cell cells[4];
	struct ctl_ring r;

	(void)state;
	assert_int_equal(ctl_ring_init(&r, cells, 0), -EINVAL);
	assert_int_equal(ctl_ring_init(&r, cells, 1), -EINVAL);
	assert_int_equal(ctl_ring_init(&r, cells, 3), -EINVAL);
	assert_int_equal(ctl_ring_init(&r, NULL, 4), -EINVAL);
	assert_int_equal(ctl_ring_init(&r, cells, 4), 0);
}

/* FIFO; full at capacity (refused and counted); taking frees room; many
 * laps around the ring keep every field of every message. */
static void test_order_full_wrap(void **state)
{
	struct ctl_cell cells[8];
	struct ctl_ring r;
	struct ctl_msg out[8];
	uint64_t next_post = 1, next_take = 1;

	(void)state;
	assert_int_equal(ctl_ring_init(&r, cells, 8), 0);
	assert_int_equal(ctl_ring_take(&r, out, 8), 0);
	for (int lap = 0; lap < 50; lap++) {
		unsigned want = 1 + (unsigned)lap % 8, got;

		for (;;) {
			struct ctl_msg m = msg(CTL_MSG_FENCE, next_post);

			if (ctl_ring_post(&r, &m) != 0)
				break;
			next_post++;
		}
		assert_int_equal(next_post - next_take, 8); /* exactly full */
		got = ctl_ring_take(&r, out, want);
		assert_int_equal(got, want);
		for (unsigned i = 0; i < got; i++) {
			assert_int_equal(out[i].type, CTL_MSG_FENCE);
			assert_int_equal(out[i].a, next_take);
			assert_int_equal(out[i].b, ~next_take);
			assert_int_equal(out[i].c, next_take * 3);
			next_take++;
		}
	}
	assert_true(atomic_load(&r.refused) >= 50);
}

#define PRODUCERS 3
#define PER_PRODUCER 200000

struct producer {
	struct ctl_ring *r;
	uint32_t id;
};

static void *produce(void *arg)
{
	struct producer *p = arg;

	for (uint64_t i = 1; i <= PER_PRODUCER; i++) {
		struct ctl_msg m = msg(CTL_MSG_DURABLE, i);

		m.i32 = (int32_t)p->id;
		while (ctl_ring_post(p->r, &m) != 0)
			sched_yield();
	}
	return NULL;
}

/* Three producers, one consumer, a small ring: every message arrives once,
 * and each producer's messages arrive in the order it posted them. */
static void test_producers_threads(void **state)
{
	static struct ctl_cell cells[64];
	struct ctl_ring r;
	struct producer p[PRODUCERS];
	pthread_t t[PRODUCERS];
	uint64_t last[PRODUCERS] = {0};
	uint64_t total = 0;

	(void)state;
	assert_int_equal(ctl_ring_init(&r, cells, 64), 0);
	for (uint32_t i = 0; i < PRODUCERS; i++) {
		p[i] = (struct producer){.r = &r, .id = i};
		assert_int_equal(pthread_create(&t[i], NULL, produce, &p[i]), 0);
	}
	while (total < (uint64_t)PRODUCERS * PER_PRODUCER) {
		struct ctl_msg out[16];
		unsigned n = ctl_ring_take(&r, out, 16);

		for (unsigned i = 0; i < n; i++) {
			assert_int_equal(out[i].type, CTL_MSG_DURABLE);
			assert_true(out[i].i32 >= 0 && out[i].i32 < PRODUCERS);
			assert_int_equal(out[i].a, last[out[i].i32] + 1);
			assert_int_equal(out[i].b, ~out[i].a);
			last[out[i].i32] = out[i].a;
		}
		total += n;
		if (n == 0)
			sched_yield();
	}
	for (uint32_t i = 0; i < PRODUCERS; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(last[i], PER_PRODUCER);
	}
	{
		struct ctl_msg out[1];

		assert_int_equal(ctl_ring_take(&r, out, 1), 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_rejects_bad_capacity),
		cmocka_unit_test(test_order_full_wrap),
		cmocka_unit_test(test_producers_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
