/* test_route_tree.c - shortest-path trees per source (lib/route_tree.c):
 * every answer of a tree equal to route_find's (status, cost, hops, the
 * nodes) on the random graphs of test_route_graph and on a larger one, the
 * tree cache's hits, rebuilds on every graph change, its bound and
 * replacement, and the route cache answering its misses from trees. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "route_cache.h"
#include "route_graph.h"
#include "route_path.h"
#include "route_tree.h"
#include "we_test.h"

#define PATH_CAP 64

/* The tree's answer for (src, dst) is route_find's, to the last bit. */
static void same_as_find(const struct route_graph *g, struct route_scratch *s,
			 const struct route_tree *t, uint32_t src, uint32_t dst, uint32_t lim,
			 uint64_t seed)
{
	uint32_t want[PATH_CAP], got[PATH_CAP];
	struct route_result a = route_find(g, s, src, dst, lim, want, PATH_CAP);
	struct route_result b = route_tree_path(t, dst, got, PATH_CAP);

	WE_TEST_CHECK(a.status == b.status, seed);
	if (a.status != ROUTE_OK)
		return;
	WE_TEST_CHECK(a.hops == b.hops, seed);
	WE_TEST_CHECK(a.cost == b.cost, seed);
	WE_TEST_CHECK(memcmp(want, got, (a.hops + 1) * sizeof(uint32_t)) == 0, seed);
}

/* The 200 random graphs of test_route_graph (few distinct strengths, so
 * ties happen; directed and undirected arcs): every pair, limits 0..6 and
 * one of at least n - 1, both ways a tree can be built (plain and bounded). */
static void test_random_vs_find(void **state)
{
	uint64_t seed = we_test_seed("route_tree_random", 7), seed0 = seed;
	struct route_scratch s;
	struct route_tree t = {0};
	unsigned plain = 0, bounded = 0;

	(void)state;
	assert_int_equal(route_scratch_init(&s, 16), 0);
	for (int round = 0; round < 200; round++) {
		struct route_graph g;
		uint32_t n = 2 + (uint32_t)(we_test_rand(&seed) % 14);
		uint32_t m = (uint32_t)(we_test_rand(&seed) % (3 * n));

		assert_int_equal(route_graph_init(&g, n), 0);
		for (uint32_t e = 0; e < m; e++) {
			uint32_t a = (uint32_t)(we_test_rand(&seed) % n), b = (uint32_t)(we_test_rand(&seed) % n);
			double st = (double)(1 + we_test_rand(&seed) % 4);

			if (a != b)
				assert_int_equal(route_graph_set(&g, a, b, st, we_test_rand(&seed) & 1), 0);
		}
		for (uint32_t lim = 0; lim <= 7; lim++) {
			uint32_t l = lim == 7 ? n - 1 + (uint32_t)(we_test_rand(&seed) % 3) : lim;

			for (uint32_t src = 0; src < n; src++) {
				assert_int_equal(route_tree_build(&t, &g, &s, src, l), 0);
				plain += t.plain;
				bounded += !t.plain;
				for (uint32_t dst = 0; dst < n; dst++)
					same_as_find(&g, &s, &t, src, dst, l, seed0);
			}
		}
		route_graph_free(&g);
	}
	/* both kinds of tree were tried */
	assert_true(plain > 0);
	assert_true(bounded > 0);
	route_tree_free(&t);
	route_scratch_free(&s);
}

/* A ring of 300 nodes plus random chords, many distinct strengths: the
 * bound binds for most sources at 3 hops, rarely at 8. */
static void test_larger_graph(void **state)
{
	uint64_t seed = we_test_seed("route_tree_larger", 11), seed0 = seed;
	const uint32_t n = 300;
	struct route_graph g;
	struct route_scratch s;
	struct route_tree t = {0};

	(void)state;
	assert_int_equal(route_graph_init(&g, n), 0);
	for (uint32_t i = 0; i < n; i++)
		assert_int_equal(route_graph_set(&g, i, (i + 1) % n, 1 + (double)(we_test_rand(&seed) % 100), false), 0);
	for (uint32_t e = 0; e < 3 * n; e++) {
		uint32_t a = (uint32_t)(we_test_rand(&seed) % n), b = (uint32_t)(we_test_rand(&seed) % n);

		if (a != b)
			assert_int_equal(route_graph_set(&g, a, b, 1 + (double)(we_test_rand(&seed) % 100), false), 0);
	}
	assert_int_equal(route_scratch_init(&s, n), 0);
	static const uint32_t limits[] = {0, 3, 8};

	for (unsigned k = 0; k < 3; k++)
		for (uint32_t src = 0; src < n; src += 7) {
			assert_int_equal(route_tree_build(&t, &g, &s, src, limits[k]), 0);
			for (uint32_t dst = 0; dst < n; dst++)
				same_as_find(&g, &s, &t, src, dst, limits[k], seed0);
		}
	route_tree_free(&t);
	route_scratch_free(&s);
	route_graph_free(&g);
}

struct fix {
	struct route_graph g;
	struct route_scratch s;
	struct route_tree_cache tc;
};

/* A line 0 - 1 - ... - n-1 of strength 1. */
static void setup_line(struct fix *f, uint32_t n, uint32_t trees)
{
	assert_int_equal(route_graph_init(&f->g, n), 0);
	for (uint32_t i = 0; i + 1 < n; i++)
		assert_int_equal(route_graph_set(&f->g, i, i + 1, 1.0, false), 0);
	assert_int_equal(route_scratch_init(&f->s, n), 0);
	assert_int_equal(route_tree_cache_init(&f->tc, trees), 0);
}

static void teardown(struct fix *f)
{
	route_tree_cache_free(&f->tc);
	route_scratch_free(&f->s);
	route_graph_free(&f->g);
}

static struct route_result q(struct fix *f, uint32_t src, uint32_t dst, uint32_t hops,
			     uint32_t *path)
{
	return route_tree_cache_route(&f->tc, &f->g, &f->s, src, dst, hops, path, PATH_CAP);
}

/* One build answers every destination of its source; another max_hops is
 * another tree; any graph change rebuilds, and the new answer is the new
 * graph's. */
static void test_cache_invalidation(void **state)
{
	struct fix f;
	uint32_t p[PATH_CAP];

	(void)state;
	setup_line(&f, 6, 8);
	for (uint32_t dst = 0; dst < 6; dst++)
		assert_int_equal(q(&f, 0, dst, 0, p).status, ROUTE_OK);
	assert_int_equal(f.tc.builds, 1);
	assert_int_equal(f.tc.hits, 5);
	assert_int_equal(q(&f, 0, 5, 3, p).status, ROUTE_UNREACHABLE);
	assert_int_equal(f.tc.builds, 2);
	assert_int_equal(f.tc.bounded_builds, 1);

	/* a shortcut 0 - 5: the next query rebuilds and takes it */
	assert_int_equal(route_graph_set(&f.g, 0, 5, 1.0, false), 0);
	struct route_result r = q(&f, 0, 5, 0, p);

	assert_int_equal(f.tc.builds, 3);
	assert_int_equal(r.hops, 1);
	assert_int_equal(p[1], 5);
	/* a strength change, then a removal: each rebuilds */
	assert_int_equal(route_graph_set(&f.g, 0, 5, 0.1, false), 0);
	assert_int_equal(q(&f, 0, 5, 0, p).hops, 5);
	assert_int_equal(route_graph_remove(&f.g, 2, 3, false), 0);
	assert_int_equal(q(&f, 0, 5, 0, p).hops, 1);
	assert_int_equal(q(&f, 0, 3, 0, p).hops, 3); /* 0 5 4 3: 2 - 3 is gone */
	assert_int_equal(f.tc.builds, 5);
	/* usage counts change no route: no rebuild */
	assert_int_equal(route_graph_add_usage(&f.g, 0, 1, 9), 0);
	q(&f, 0, 4, 0, p);
	assert_int_equal(f.tc.builds, 5);
	/* bad nodes, and clear */
	assert_int_equal(q(&f, 6, 0, 0, p).status, ROUTE_BAD_NODE);
	assert_int_equal(q(&f, 0, 6, 0, p).status, ROUTE_BAD_NODE);
	route_tree_cache_clear(&f.tc);
	q(&f, 0, 4, 0, p);
	assert_int_equal(f.tc.builds, 1);
	teardown(&f);
}

/* A cache of 4 trees (one set) holds 4 sources; a fifth replaces the least
 * recently used, not one just asked. */
static void test_cache_bound(void **state)
{
	struct fix f;
	uint32_t p[PATH_CAP];

	(void)state;
	setup_line(&f, 8, 1);
	assert_int_equal(f.tc.set_mask, 0);
	for (uint32_t src = 0; src < 4; src++)
		q(&f, src, 7, 0, p);
	assert_int_equal(f.tc.builds, 4);
	q(&f, 0, 6, 0, p); /* source 0 used again: 1 is now the oldest */
	assert_int_equal(f.tc.builds, 4);
	q(&f, 4, 0, 0, p); /* replaces source 1 */
	assert_int_equal(f.tc.builds, 5);
	q(&f, 0, 5, 0, p);
	q(&f, 2, 5, 0, p);
	q(&f, 3, 5, 0, p);
	q(&f, 4, 5, 0, p);
	assert_int_equal(f.tc.builds, 5);
	q(&f, 1, 5, 0, p);
	assert_int_equal(f.tc.builds, 6);
	assert_int_equal(route_tree_cache_init(&(struct route_tree_cache){0}, 0), -EINVAL);
	teardown(&f);
}

/* The route cache with trees behind it: the same answers as without, a
 * miss costs a tree lookup, not a search, once the source's tree exists. */
static void test_route_cache_with_trees(void **state)
{
	uint64_t seed = we_test_seed("route_tree_pair_cache", 5), seed0 = seed;
	const uint32_t n = 60;
	struct route_graph g;
	struct route_scratch s;
	struct route_tree_cache tc;
	struct route_cache c, plain;
	uint32_t p1[PATH_CAP], p2[PATH_CAP];

	(void)state;
	assert_int_equal(route_graph_init(&g, n), 0);
	for (uint32_t e = 0; e < 4 * n; e++) {
		uint32_t a = (uint32_t)(we_test_rand(&seed) % n), b = (uint32_t)(we_test_rand(&seed) % n);

		if (a != b)
			assert_int_equal(route_graph_set(&g, a, b, (double)(1 + we_test_rand(&seed) % 5), false), 0);
	}
	assert_int_equal(route_scratch_init(&s, n), 0);
	assert_int_equal(route_tree_cache_init(&tc, 1024), 0);
	assert_int_equal(route_cache_init(&c, 8), 0);
	assert_int_equal(route_cache_init(&plain, 8), 0);
	route_cache_use_trees(&c, &tc);
	for (int k = 0; k < 2000; k++) {
		uint32_t src = (uint32_t)(we_test_rand(&seed) % 10), dst = (uint32_t)(we_test_rand(&seed) % n);
		uint32_t lim = (uint32_t)(we_test_rand(&seed) % 5);
		struct route_result a = route_cache_route(&c, &g, &s, src, dst, lim, p1, PATH_CAP);
		struct route_result b = route_cache_route(&plain, &g, &s, src, dst, lim, p2, PATH_CAP);

		WE_TEST_CHECK(a.status == b.status && a.hops == b.hops, seed0);
		if (a.status == ROUTE_OK)
			WE_TEST_CHECK(a.cost == b.cost &&
				      memcmp(p1, p2, (a.hops + 1) * sizeof(uint32_t)) == 0, seed0);
		if (k == 1000) /* a change halfway: both caches go stale */
			assert_int_equal(route_graph_set(&g, 0, 1, 50.0, false), 0);
	}
	/* every miss of the pair cache went to the trees; 10 sources x 5
	 * limits, twice (the change): at most 100 trees built */
	assert_int_equal(tc.builds + tc.hits, c.misses);
	assert_true(tc.builds <= 100);
	route_cache_free(&plain);
	route_cache_free(&c);
	route_tree_cache_free(&tc);
	route_scratch_free(&s);
	route_graph_free(&g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_vs_find),
		cmocka_unit_test(test_larger_graph),
		cmocka_unit_test(test_cache_invalidation),
		cmocka_unit_test(test_cache_bound),
		cmocka_unit_test(test_route_cache_with_trees),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
