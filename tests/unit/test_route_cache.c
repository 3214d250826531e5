/* test_route_cache.c - the route cache (lib/route_cache.c): a miss then a
 * hit, answers equal to route_find's, staleness on every graph change,
 * cached unreachable answers, two keys of one set and a third, long routes
 * not kept. */
#include <errno.h>
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

#define PATH_CAP 64

struct fix {
	struct route_graph g;
	struct route_scratch s;
	struct route_cache c;
};

/* A line of n nodes, strength 1. */
static void setup_line(struct fix *f, uint32_t n, unsigned order)
{
	assert_int_equal(route_graph_init(&f->g, n), 0);
	for (uint32_t i = 0; i + 1 < n; i++)
		assert_int_equal(route_graph_set(&f->g, i, i + 1, 1.0, false), 0);
	assert_int_equal(route_scratch_init(&f->s, n), 0);
	assert_int_equal(route_cache_init(&f->c, order), 0);
}

static void teardown(struct fix *f)
{
	route_cache_free(&f->c);
	route_scratch_free(&f->s);
	route_graph_free(&f->g);
}

static struct route_result q(struct fix *f, uint32_t src, uint32_t dst, uint32_t hops,
			     uint32_t *path)
{
	return route_cache_route(&f->c, &f->g, &f->s, src, dst, hops, path, PATH_CAP);
}

/* The second query is a hit with the same answer; another max_hops is
 * another key. */
static void test_hit_miss(void **state)
{
	struct fix f;
	uint32_t p1[PATH_CAP], p2[PATH_CAP];

	(void)state;
	setup_line(&f, 6, 4);
	struct route_result r1 = q(&f, 0, 5, 0, p1);

	assert_int_equal(f.c.misses, 1);
	assert_int_equal(f.c.hits, 0);
	struct route_result r2 = q(&f, 0, 5, 0, p2);

	assert_int_equal(f.c.hits, 1);
	assert_int_equal(r1.status, ROUTE_OK);
	assert_int_equal(r2.status, ROUTE_OK);
	assert_int_equal(r1.hops, r2.hops);
	assert_true(r1.cost == r2.cost);
	assert_memory_equal(p1, p2, (r1.hops + 1) * sizeof(uint32_t));
	/* a hop limit too small: unreachable, and that answer is cached too */
	assert_int_equal(q(&f, 0, 5, 3, p1).status, ROUTE_UNREACHABLE);
	assert_int_equal(f.c.misses, 2);
	assert_int_equal(q(&f, 0, 5, 3, p1).status, ROUTE_UNREACHABLE);
	assert_int_equal(f.c.hits, 2);
	/* a hit into a buffer too short */
	assert_int_equal(route_cache_route(&f.c, &f.g, &f.s, 0, 5, 0, p1, 2).status,
			 ROUTE_TOO_LONG);
	route_cache_clear(&f.c);
	assert_int_equal(f.c.hits, 0);
	q(&f, 0, 5, 0, p1);
	assert_int_equal(f.c.misses, 1);
	teardown(&f);
}

/* Any change of the graph makes every cached answer stale: the next query
 * is a miss and sees the new graph. */
static void test_invalidation(void **state)
{
	struct fix f;
	uint32_t p[PATH_CAP];

	(void)state;
	setup_line(&f, 6, 4);
	assert_int_equal(q(&f, 0, 5, 0, p).hops, 5);
	assert_int_equal(q(&f, 1, 2, 0, p).hops, 1);
	/* a shortcut */
	assert_int_equal(route_graph_set(&f.g, 0, 5, 2.0, false), 0);
	uint64_t m = f.c.misses;
	struct route_result r = q(&f, 0, 5, 0, p);

	assert_int_equal(f.c.misses, m + 1);
	assert_int_equal(r.hops, 1);
	assert_int_equal(q(&f, 1, 2, 0, p).hops, 1); /* unrelated, still stale */
	assert_int_equal(f.c.misses, m + 2);
	/* a strength change */
	assert_int_equal(route_graph_set(&f.g, 0, 5, 0.01, false), 0);
	assert_int_equal(q(&f, 0, 5, 0, p).hops, 5);
	assert_int_equal(f.c.misses, m + 3);
	/* a removal cuts the line: unreachable once the shortcut goes too */
	assert_int_equal(route_graph_remove(&f.g, 2, 3, false), 0);
	assert_int_equal(q(&f, 0, 5, 0, p).hops, 1);
	assert_int_equal(route_graph_remove(&f.g, 0, 5, false), 0);
	assert_int_equal(q(&f, 0, 5, 0, p).status, ROUTE_UNREACHABLE);
	assert_int_equal(f.c.misses, m + 5);
	/* usage counts do not invalidate */
	assert_int_equal(route_graph_add_usage(&f.g, 0, 1, 10), 0);
	uint64_t h = f.c.hits;

	assert_int_equal(q(&f, 0, 5, 0, p).status, ROUTE_UNREACHABLE);
	assert_int_equal(f.c.hits, h + 1);
	teardown(&f);
}

/* One set of two ways: two keys live side by side; a third evicts the one
 * not used last; keys never answer for each other. */
static void test_collision(void **state)
{
	struct fix f;
	uint32_t p[PATH_CAP];

	(void)state;
	setup_line(&f, 6, 1);
	assert_int_equal(q(&f, 0, 3, 0, p).hops, 3); /* A: miss */
	assert_int_equal(q(&f, 0, 4, 0, p).hops, 4); /* B: miss */
	assert_int_equal(q(&f, 0, 3, 0, p).hops, 3); /* A: hit */
	assert_int_equal(q(&f, 0, 4, 0, p).hops, 4); /* B: hit, used last */
	assert_int_equal(f.c.hits, 2);
	assert_int_equal(f.c.misses, 2);
	assert_int_equal(q(&f, 0, 5, 0, p).hops, 5); /* C: miss, evicts A */
	assert_int_equal(q(&f, 0, 4, 0, p).hops, 4); /* B: hit */
	assert_int_equal(f.c.hits, 3);
	assert_int_equal(q(&f, 0, 3, 0, p).hops, 3); /* A: miss, evicts C */
	assert_int_equal(f.c.misses, 4);
	assert_int_equal(q(&f, 0, 5, 0, p).hops, 5); /* C: miss */
	assert_int_equal(f.c.misses, 5);
	teardown(&f);
	struct route_cache bad;

	assert_int_equal(route_cache_init(&bad, 30), -EINVAL);
	assert_int_equal(route_cache_init(&bad, 0), -EINVAL);
}

/* Routes longer than the cache's path room are answered, not kept. */
static void test_long_route(void **state)
{
	struct fix f;
	uint32_t p[PATH_CAP];

	(void)state;
	setup_line(&f, ROUTE_CACHE_PATH_MAX + 4, 4);
	uint32_t last = ROUTE_CACHE_PATH_MAX + 3;

	assert_int_equal(q(&f, 0, last, 0, p).hops, last);
	assert_int_equal(q(&f, 0, last, 0, p).hops, last);
	assert_int_equal(f.c.hits, 0);
	assert_int_equal(p[last], last);
	teardown(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hit_miss),
		cmocka_unit_test(test_invalidation),
		cmocka_unit_test(test_collision),
		cmocka_unit_test(test_long_route),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
