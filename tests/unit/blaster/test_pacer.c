/* test_pacer.c - under a fake clock, the open-loop pacer hands out requests
 * at their intended times (constant: exactly; Poisson: exponential gaps of
 * the right mean), never early, keeps the backlog when the caller falls
 * behind, and the window bounds the closed loop. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "blaster_test.h"
#include "pacer.h"

/* 1000 req/s constant: request i is due at start + i ms, exactly. */
static void test_pacer_constant(void **state)
{
	struct pacer p;
	uint64_t t[16];
	unsigned n;

	(void)state;
	assert_int_equal(pacer_init(&p, PACER_CONSTANT, 1000, 1), 0);
	pacer_start(&p, 5000);
	assert_int_equal(pacer_take(&p, 4999, 16, t), 0);
	n = pacer_take(&p, 5000, 16, t);
	assert_int_equal(n, 1);
	assert_int_equal(t[0], 5000);
	assert_int_equal(pacer_take(&p, 1005000 - 1, 16, t), 0);
	n = pacer_take(&p, 3005000, 16, t);
	assert_int_equal(n, 3);
	assert_int_equal(t[0], 1005000);
	assert_int_equal(t[1], 2005000);
	assert_int_equal(t[2], 3005000);
	assert_int_equal(pacer_next_ns(&p), 4005000);
	/* A million requests later the schedule has not drifted. */
	for (uint64_t i = 0; i < 1000000; i += 16)
		(void)pacer_take(&p, UINT64_MAX / 2, 16, t);
	assert_true(pacer_next_ns(&p) % 1000000 == 5000);
}

/* The caller falls behind: everything due comes out, in order, each with its
 * own intended time, so the wait can be measured (no coordinated omission);
 * max bounds one call and the rest stays due. */
static void test_pacer_backlog(void **state)
{
	struct pacer p;
	uint64_t t[64], prev = 0;
	unsigned n, total = 0;

	(void)state;
	assert_int_equal(pacer_init(&p, PACER_CONSTANT, 1e6, 1), 0); /* 1 per us */
	pacer_start(&p, 0);
	/* 100 us pass without a call: 101 requests are due (t = 0..100 us). */
	assert_int_equal(pacer_backlog(&p, 100000), 101);
	while ((n = pacer_take(&p, 100000, 64, t)) > 0) {
		assert_true(n <= 64);
		for (unsigned i = 0; i < n; i++) {
			assert_true(t[i] >= prev);
			assert_true(t[i] <= 100000);
			prev = t[i];
		}
		total += n;
	}
	assert_int_equal(total, 101);
	assert_int_equal(pacer_backlog(&p, 100000), 0);
}

/* Poisson: gaps have the right mean and a coefficient of variation near 1
 * (exponential), and the count in fixed intervals has variance ~ mean. */
static void test_pacer_poisson(void **state)
{
	struct pacer p;
	uint64_t t[1], prev, now = 0;
	const int n = 200000;
	double sum = 0, sum2 = 0, mean, sd;
	uint64_t seed = blaster_test_seed("test_pacer_poisson");

	(void)state;
	assert_int_equal(pacer_init(&p, PACER_POISSON, 100000, seed), 0); /* mean gap 10 us */
	pacer_start(&p, 1000);
	prev = 1000;
	for (int i = 0; i < n; i++) {
		/* The fake clock jumps straight to the next due time. */
		now = pacer_next_ns(&p);
		assert_int_equal(pacer_take(&p, now - 1, 1, t), 0);
		assert_int_equal(pacer_take(&p, now, 1, t), 1);
		assert_int_equal(t[0], now);
		if (i > 0) {
			double gap = (double)(t[0] - prev);

			sum += gap;
			sum2 += gap * gap;
		}
		prev = t[0];
	}
	mean = sum / (n - 1);
	sd = sqrt(sum2 / (n - 1) - mean * mean);
	assert_true(fabs(mean - 10000) < 10000 * 0.02);
	assert_true(fabs(sd / mean - 1.0) < 0.03);
	/* Same seed, same schedule. */
	{
		struct pacer q;
		uint64_t a[1], b[1];

		assert_int_equal(pacer_init(&p, PACER_POISSON, 1000, 7), 0);
		assert_int_equal(pacer_init(&q, PACER_POISSON, 1000, 7), 0);
		for (int i = 0; i < 100; i++) {
			assert_int_equal(pacer_take(&p, UINT64_MAX / 2, 1, a), 1);
			assert_int_equal(pacer_take(&q, UINT64_MAX / 2, 1, b), 1);
			assert_int_equal(a[0], b[0]);
		}
	}
}

/* pacer_skip counts exactly what was due: for Poisson the same count as
 * taking the requests one by one from an identical pacer. */
static void test_pacer_skip(void **state)
{
	struct pacer a, b;
	uint64_t t[1], taken = 0;
	uint64_t seed = blaster_test_seed("test_pacer_skip");

	(void)state;
	assert_int_equal(pacer_init(&a, PACER_POISSON, 1e6, seed), 0);
	assert_int_equal(pacer_init(&b, PACER_POISSON, 1e6, seed), 0);
	pacer_start(&a, 100);
	pacer_start(&b, 100);
	while (pacer_take(&b, 50000000, 1, t) == 1)
		taken++;
	assert_int_equal(pacer_skip(&a, 50000000), taken);
	assert_int_equal(pacer_next_ns(&a), pacer_next_ns(&b));
	assert_int_equal(pacer_skip(&a, 50000000), 0);

	assert_int_equal(pacer_init(&a, PACER_CONSTANT, 1000, 1), 0);
	pacer_start(&a, 0);
	assert_int_equal(pacer_take(&a, 2000000, 1, t), 1);   /* t = 0 */
	assert_int_equal(pacer_skip(&a, 999999999), 999);     /* 1 ms .. 999 ms */
	assert_int_equal(pacer_next_ns(&a), 1000000000);
}

/* Bad rates are refused. */
static void test_pacer_invalid(void **state)
{
	struct pacer p;

	(void)state;
	assert_int_equal(pacer_init(&p, PACER_CONSTANT, 0, 1), -22);
	assert_int_equal(pacer_init(&p, PACER_CONSTANT, -5, 1), -22);
	assert_int_equal(pacer_init(&p, PACER_POISSON, NAN, 1), -22);
}

/* The window admits at most max outstanding requests. */
static void test_pacer_window(void **state)
{
	struct pacer_window w;

	(void)state;
	pacer_window_init(&w, 8);
	assert_int_equal(pacer_window_room(&w), 8);
	pacer_window_acquire(&w, 5);
	assert_int_equal(pacer_window_room(&w), 3);
	pacer_window_acquire(&w, 3);
	assert_int_equal(pacer_window_room(&w), 0);
	pacer_window_release(&w, 2);
	assert_int_equal(pacer_window_room(&w), 2);
	pacer_window_release(&w, 6);
	assert_int_equal(pacer_window_room(&w), 8);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pacer_constant),
		cmocka_unit_test(test_pacer_backlog),
		cmocka_unit_test(test_pacer_poisson),
		cmocka_unit_test(test_pacer_skip),
		cmocka_unit_test(test_pacer_invalid),
		cmocka_unit_test(test_pacer_window),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
