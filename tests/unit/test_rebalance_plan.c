/* test_rebalance_plan.c - the rebalance planner (control/rebalance_plan.c)
 * on synthetic loads: uniform, one hot worker, one hot region (the floor),
 * two workers with Zipf-like regions, idle workers, the move budget, and on
 * random loads the invariants: the predicted max/mean never rises, no move
 * goes to its own worker, no region moves twice, the plan is deterministic. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "rebalance_plan.h"
#include "we_test.h"

static uint16_t owner[PLAN_REGIONS];
static double load[PLAN_REGIONS];
static struct plan_result res;

/* Regions dealt round-robin over n workers. */
static void deal(unsigned n)
{
	for (unsigned r = 0; r < PLAN_REGIONS; r++)
		owner[r] = (uint16_t)(r % n);
}

static void plan(unsigned n, enum rebalance_mode mode, unsigned max_moves)
{
	struct plan_input in = {.n_workers = n, .n_regions = PLAN_REGIONS, .owner = owner,
				.load = load, .mode = mode, .max_moves = max_moves};

	assert_int_equal(rebalance_plan(&in, &res), 0);
}

/* The invariants every plan keeps. */
static void check_plan(unsigned n, uint64_t seed)
{
	bool seen[PLAN_REGIONS] = {false};
	double after[PLAN_WORKERS_MAX] = {0};
	uint16_t own[PLAN_REGIONS];

	memcpy(own, owner, sizeof(own));
	WE_TEST_CHECK(res.imbalance_after <= res.imbalance_before + 1e-9, seed);
	for (unsigned i = 0; i < res.n_moves; i++) {
		const struct plan_move *m = &res.moves[i];

		WE_TEST_CHECK(m->from != m->to, seed);
		WE_TEST_CHECK(m->to < n, seed);
		WE_TEST_CHECK(own[m->region] == m->from, seed);
		WE_TEST_CHECK(!seen[m->region], seed);
		seen[m->region] = true;
		own[m->region] = m->to;
	}
	for (unsigned r = 0; r < PLAN_REGIONS; r++)
		after[own[r]] += load[r];
	for (unsigned w = 0; w < n; w++)
		WE_TEST_CHECK(fabs(after[w] - res.after[w]) <= 1e-6 * (1 + after[w]), seed);
	WE_TEST_CHECK(res.imbalance_after >= res.floor - 1e-9, seed);
	WE_TEST_CHECK(res.why != NULL, seed);
}

static void test_uniform(void **state)
{
	(void)state;
	deal(4);
	for (unsigned r = 0; r < PLAN_REGIONS; r++)
		load[r] = 10;
	for (int m = REBALANCE_MINIMAL; m <= REBALANCE_AGGRESSIVE; m++) {
		plan(4, (enum rebalance_mode)m, 0);
		assert_int_equal(res.n_moves, 0);
		assert_true(fabs(res.imbalance_before - 1) < 1e-9);
		assert_true(fabs(res.entropy_before - 1) < 1e-9);
	}
}

/* 64 regions in use, worker 0's with 4x the others' load: every mode
 * moves load off it. */
static void test_hot_worker(void **state)
{
	(void)state;
	deal(4);
	for (unsigned r = 0; r < PLAN_REGIONS; r++)
		load[r] = r >= 64 ? 0 : owner[r] == 0 ? 4 : 1;
	for (int m = REBALANCE_MINIMAL; m <= REBALANCE_AGGRESSIVE; m++) {
		plan(4, (enum rebalance_mode)m, 0);
		check_plan(4, 0);
		assert_true(res.n_moves > 0);
		assert_true(res.imbalance_before > 2.2);
		assert_true(res.imbalance_after <= res.target + 1e-9);
		assert_true(res.entropy_after > res.entropy_before);
		for (unsigned i = 0; i < res.n_moves; i++)
			assert_int_equal(res.moves[i].from, 0);
	}
	/* minimal needs fewer moves than moderate, which aims lower */
	plan(4, REBALANCE_MINIMAL, 0);
	unsigned minimal = res.n_moves;
	double minimal_after = res.imbalance_after;

	plan(4, REBALANCE_MODERATE, 0);
	assert_true(minimal <= res.n_moves);
	assert_true(res.imbalance_after <= minimal_after + 1e-9);
}

/* One region holds most of the load: no assignment gets below its share,
 * and the plan says so instead of shuffling. */
static void test_hot_region(void **state)
{
	(void)state;
	deal(4);
	for (unsigned r = 0; r < PLAN_REGIONS; r++)
		load[r] = 0;
	load[5] = 1000;
	load[6] = 10;
	load[7] = 10;
	for (int m = REBALANCE_MINIMAL; m <= REBALANCE_AGGRESSIVE; m++) {
		plan(4, (enum rebalance_mode)m, 0);
		check_plan(4, 0);
		assert_true(res.floor > 3.8);
		assert_true(res.n_moves <= 2);
		assert_non_null(strstr(res.why, "floor"));
	}
}

/* Two workers, region loads ~ 1/rank: the plan evens them nearly. */
static void test_two_workers_zipf(void **state)
{
	(void)state;
	for (unsigned r = 0; r < PLAN_REGIONS; r++) {
		owner[r] = r < PLAN_REGIONS / 2 ? 0 : 1;
		load[r] = 1000.0 / (1 + r); /* the heavy ranks all on worker 0 */
	}
	plan(2, REBALANCE_MODERATE, 0);
	check_plan(2, 0);
	assert_true(res.imbalance_before > 1.5);
	assert_true(res.imbalance_after <= PLAN_MODERATE_TARGET + 1e-9);
	plan(2, REBALANCE_AGGRESSIVE, 0);
	check_plan(2, 0);
	assert_true(res.imbalance_after < 1.02);
}

/* Workers 2 and 3 own regions nobody asks for: load goes to them. */
static void test_idle_workers(void **state)
{
	(void)state;
	deal(4);
	for (unsigned r = 0; r < PLAN_REGIONS; r++)
		load[r] = owner[r] < 2 && r < 256 ? 5 : 0;
	plan(4, REBALANCE_MODERATE, 0);
	check_plan(4, 0);
	assert_true(fabs(res.imbalance_before - 2) < 1e-9);
	assert_true(res.imbalance_after <= PLAN_MODERATE_TARGET + 1e-9);
	assert_true(res.after[2] > 0 && res.after[3] > 0);
}

static void test_max_moves(void **state)
{
	(void)state;
	deal(4);
	for (unsigned r = 0; r < PLAN_REGIONS; r++)
		load[r] = owner[r] == 0 ? 4 : 1;
	plan(4, REBALANCE_MODERATE, 3);
	check_plan(4, 0);
	assert_int_equal(res.n_moves, 3);
	assert_non_null(strstr(res.why, "budget"));
	plan(4, REBALANCE_AGGRESSIVE, 5);
	check_plan(4, 0);
	assert_true(res.n_moves <= 5);
}

static void test_degenerate(void **state)
{
	struct plan_input in = {.n_workers = 0, .n_regions = PLAN_REGIONS, .owner = owner,
				.load = load};

	(void)state;
	assert_int_equal(rebalance_plan(&in, &res), -EINVAL);
	deal(1);
	for (unsigned r = 0; r < PLAN_REGIONS; r++)
		load[r] = 1;
	plan(1, REBALANCE_AGGRESSIVE, 0);
	assert_int_equal(res.n_moves, 0);
	deal(3);
	memset(load, 0, sizeof(load));
	plan(3, REBALANCE_MODERATE, 0);
	assert_int_equal(res.n_moves, 0);
	load[0] = -1;
	in.n_workers = 3;
	assert_int_equal(rebalance_plan(&in, &res), -EINVAL);
	owner[1] = 7;
	load[0] = 0;
	assert_int_equal(rebalance_plan(&in, &res), -EINVAL);
}

/* Random owners and skewed loads: the invariants, and the same plan twice. */
static void test_random(void **state)
{
	uint64_t seed = we_test_seed("rebalance_plan random", (uint64_t)time(NULL)), rng = seed;
	static struct plan_result first;

	(void)state;
	for (int round = 0; round < 40; round++) {
		unsigned n = 2 + (unsigned)(we_test_rand(&rng) % 16);
		enum rebalance_mode mode = (enum rebalance_mode)(round % 3);

		for (unsigned r = 0; r < PLAN_REGIONS; r++) {
			uint64_t x = we_test_rand(&rng);

			owner[r] = (uint16_t)(x % n);
			load[r] = x % 5 == 0 ? 0 : 1e6 / (double)(1 + (x >> 20) % 4096);
		}
		plan(n, mode, 0);
		check_plan(n, seed);
		first = res;
		plan(n, mode, 0);
		WE_TEST_CHECK(first.n_moves == res.n_moves, seed);
		WE_TEST_CHECK(memcmp(first.moves, res.moves, res.n_moves * sizeof(res.moves[0])) == 0,
			      seed);
	}
}

static void test_mode_names(void **state)
{
	enum rebalance_mode m;

	(void)state;
	assert_int_equal(rebalance_mode_parse("aggressive", &m), 0);
	assert_int_equal(m, REBALANCE_AGGRESSIVE);
	assert_string_equal(rebalance_mode_name(REBALANCE_MINIMAL), "minimal");
	assert_int_equal(rebalance_mode_parse("fast", &m), -EINVAL);
	assert_int_equal(rebalance_mode_parse(NULL, &m), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uniform),	       cmocka_unit_test(test_hot_worker),
		cmocka_unit_test(test_hot_region),     cmocka_unit_test(test_two_workers_zipf),
		cmocka_unit_test(test_idle_workers),   cmocka_unit_test(test_max_moves),
		cmocka_unit_test(test_degenerate),     cmocka_unit_test(test_random),
		cmocka_unit_test(test_mode_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
