/* test_route_graph.c - the topology graph (lib/route_graph.c), its routes
 * (lib/route_path.c), the text loader (lib/route_load.c) and the JSON export
 * (lib/route_json.c): known graphs with known answers. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "route_graph.h"
#include "route_json.h"
#include "route_load.h"
#include "route_path.h"
#include "we_test.h"

#define PATH_CAP 64

static struct route_result find(const struct route_graph *g, uint32_t src, uint32_t dst,
				uint32_t max_hops, uint32_t *path)
{
	struct route_scratch s;

	assert_int_equal(route_scratch_init(&s, g->n_nodes), 0);
	struct route_result r = route_find(g, &s, src, dst, max_hops, path, PATH_CAP);

	route_scratch_free(&s);
	return r;
}

/* Add, update, remove; each change bumps the version, usage does not. */
static void test_edit_version(void **state)
{
	struct route_graph g;

	(void)state;
	assert_int_equal(route_graph_init(&g, 4), 0);
	uint64_t v = g.version;

	assert_int_equal(route_graph_set(&g, 0, 1, 2.0, false), 0);
	assert_true(g.version > v);
	assert_int_equal(route_graph_edges(&g), 2);
	assert_non_null(route_graph_find(&g, 1, 0));
	assert_int_equal(route_graph_set(&g, 1, 2, 1.0, true), 0);
	assert_null(route_graph_find(&g, 2, 1));
	assert_int_equal(route_graph_edges(&g), 3);
	v = g.version;
	assert_int_equal(route_graph_set(&g, 0, 1, 5.0, false), 0); /* update */
	assert_true(g.version > v);
	assert_int_equal(route_graph_edges(&g), 3);
	assert_true(route_graph_find(&g, 1, 0)->strength == 5.0);
	v = g.version;
	assert_int_equal(route_graph_add_usage(&g, 0, 1, 7), 0);
	assert_int_equal(g.version, v);
	assert_int_equal(route_graph_add_usage(&g, 0, 3, 7), -ENOENT);
	assert_int_equal(route_graph_remove(&g, 0, 1, false), 0);
	assert_true(g.version > v);
	assert_int_equal(route_graph_edges(&g), 1);
	assert_int_equal(route_graph_remove(&g, 0, 1, false), -ENOENT);
	assert_int_equal(route_graph_remove(&g, 0, 9, false), -EINVAL);
	route_graph_free(&g);
}

/* Zero, negative, infinite and NaN strengths are refused, as are self loops
 * and nodes out of range; the edge-list build names the edge refused. */
static void test_bad_strength(void **state)
{
	struct route_graph g;
	size_t bad = 99;

	(void)state;
	assert_int_equal(route_graph_init(&g, 3), 0);
	assert_int_equal(route_graph_set(&g, 0, 1, 0.0, false), -EINVAL);
	assert_int_equal(route_graph_set(&g, 0, 1, -1.0, false), -EINVAL);
	assert_int_equal(route_graph_set(&g, 0, 1, INFINITY, false), -EINVAL);
	assert_int_equal(route_graph_set(&g, 0, 1, NAN, false), -EINVAL);
	assert_int_equal(route_graph_set(&g, 1, 1, 1.0, false), -EINVAL);
	assert_int_equal(route_graph_set(&g, 0, 3, 1.0, false), -EINVAL);
	assert_int_equal(route_graph_edges(&g), 0);
	route_graph_free(&g);

	struct route_edge e[] = {{0, 1, 1.0, false}, {1, 2, 0.0, false}};

	assert_int_equal(route_graph_build(&g, 3, e, 2, &bad), -EINVAL);
	assert_int_equal(bad, 1);
	assert_int_equal(route_graph_init(&g, 0), -EINVAL);
}

/* A line 0-1-2-3-4: the only route, its cost the sum of 1/strength. */
static void test_line(void **state)
{
	struct route_graph g;
	struct route_edge e[] = {{0, 1, 1.0, false}, {1, 2, 2.0, false}, {2, 3, 4.0, false},
				 {3, 4, 0.5, false}};
	uint32_t path[PATH_CAP];

	(void)state;
	assert_int_equal(route_graph_build(&g, 5, e, 4, NULL), 0);
	struct route_result r = find(&g, 0, 4, 0, path);

	assert_int_equal(r.status, ROUTE_OK);
	assert_int_equal(r.hops, 4);
	assert_true(fabs(r.cost - (1 + 0.5 + 0.25 + 2)) < 1e-12);
	for (uint32_t i = 0; i < 5; i++)
		assert_int_equal(path[i], i);
	r = find(&g, 4, 0, 0, path); /* undirected: the way back too */
	assert_int_equal(r.status, ROUTE_OK);
	assert_int_equal(path[0], 4);
	assert_int_equal(path[4], 0);
	r = find(&g, 2, 2, 0, path);
	assert_int_equal(r.status, ROUTE_OK);
	assert_int_equal(r.hops, 0);
	assert_int_equal(path[0], 2);
	r = find(&g, 0, 5, 0, path);
	assert_int_equal(r.status, ROUTE_BAD_NODE);
	/* a buffer too short for the route */
	struct route_scratch s;

	assert_int_equal(route_scratch_init(&s, 5), 0);
	r = route_find(&g, &s, 0, 4, 0, path, 3);
	assert_int_equal(r.status, ROUTE_TOO_LONG);
	assert_int_equal(r.hops, 4);
	route_scratch_free(&s);
	route_graph_free(&g);
}

/* A diamond 0->1->3, 0->2->3 of equal cost: the route through the lower id
 * wins, whatever the order the connections were added in. */
static void test_diamond_tie(void **state)
{
	struct route_edge e1[] = {{0, 2, 1.0, true}, {2, 3, 1.0, true}, {0, 1, 1.0, true},
				  {1, 3, 1.0, true}};
	struct route_edge e2[] = {{1, 3, 1.0, true}, {0, 1, 1.0, true}, {0, 2, 1.0, true},
				  {2, 3, 1.0, true}};
	const struct route_edge *lists[] = {e1, e2};
	uint32_t path[PATH_CAP];

	(void)state;
	for (int k = 0; k < 2; k++) {
		struct route_graph g;

		assert_int_equal(route_graph_build(&g, 4, lists[k], 4, NULL), 0);
		struct route_result r = find(&g, 0, 3, 0, path);

		assert_int_equal(r.status, ROUTE_OK);
		assert_int_equal(r.hops, 2);
		assert_int_equal(path[1], 1);
		r = find(&g, 0, 3, 2, path);
		assert_int_equal(r.status, ROUTE_OK);
		assert_int_equal(path[1], 1);
		/* directed: no way back */
		r = find(&g, 3, 0, 0, path);
		assert_int_equal(r.status, ROUTE_UNREACHABLE);
		route_graph_free(&g);
	}
}

/* Two components: unreachable, with and without a hop limit. */
static void test_unreachable(void **state)
{
	struct route_graph g;
	struct route_edge e[] = {{0, 1, 1.0, false}, {2, 3, 1.0, false}};
	uint32_t path[PATH_CAP];

	(void)state;
	assert_int_equal(route_graph_build(&g, 4, e, 2, NULL), 0);
	assert_int_equal(find(&g, 0, 3, 0, path).status, ROUTE_UNREACHABLE);
	assert_int_equal(find(&g, 0, 3, 5, path).status, ROUTE_UNREACHABLE);
	assert_true(isinf(find(&g, 1, 2, 0, path).cost));
	assert_string_equal(route_status_name(ROUTE_UNREACHABLE), "unreachable");
	route_graph_free(&g);
}

/* The cheapest route 0-1-2-3-4 (4 hops, cost 4 * 0.1) against a direct but
 * dear 0-4 (1 hop, cost 10) and 0-5-4 (2 hops, cost 2): the limit decides. */
static void test_max_hops(void **state)
{
	struct route_graph g;
	struct route_edge e[] = {{0, 1, 10, false}, {1, 2, 10, false}, {2, 3, 10, false},
				 {3, 4, 10, false}, {0, 4, 0.1, false}, {0, 5, 1, false},
				 {5, 4, 1, false}};
	uint32_t path[PATH_CAP];

	(void)state;
	assert_int_equal(route_graph_build(&g, 6, e, 7, NULL), 0);
	struct route_result r = find(&g, 0, 4, 0, path);

	assert_int_equal(r.hops, 4);
	assert_true(fabs(r.cost - 0.4) < 1e-12);
	r = find(&g, 0, 4, 4, path);
	assert_int_equal(r.hops, 4);
	r = find(&g, 0, 4, 3, path);
	assert_int_equal(r.status, ROUTE_OK);
	assert_int_equal(r.hops, 2);
	assert_int_equal(path[1], 5);
	assert_true(fabs(r.cost - 2.0) < 1e-12);
	r = find(&g, 0, 4, 1, path);
	assert_int_equal(r.hops, 1);
	assert_true(fabs(r.cost - 10.0) < 1e-12);
	/* without the direct connection, one hop is not enough */
	assert_int_equal(route_graph_remove(&g, 0, 4, false), 0);
	assert_int_equal(find(&g, 0, 4, 1, path).status, ROUTE_UNREACHABLE);
	route_graph_free(&g);
}

/* A node first settled cheaply with many hops must still be reachable later
 * with fewer hops at a higher cost, on the way to dst. */
static void test_max_hops_resettle(void **state)
{
	struct route_graph g;
	/* 0-1-2-3 cheap (3 hops to 3, the limit), 0-3 dear (1 hop); then 3-4 */
	struct route_edge e[] = {{0, 1, 10, false}, {1, 2, 10, false}, {2, 3, 10, false},
				 {0, 3, 1, false}, {3, 4, 10, false}};
	uint32_t path[PATH_CAP];

	(void)state;
	assert_int_equal(route_graph_build(&g, 5, e, 5, NULL), 0);
	struct route_result r = find(&g, 0, 4, 3, path);

	assert_int_equal(r.status, ROUTE_OK);
	assert_int_equal(r.hops, 2);
	assert_int_equal(path[1], 3);
	assert_true(fabs(r.cost - 1.1) < 1e-12);
	route_graph_free(&g);
}

/* The cheapest cost src -> dst in at most `hops` arcs, by Bellman-Ford
 * layers: d_k(v) = min(d_{k-1}(v), min over arcs u->v of d_{k-1}(u) + cost). */
static double layered(const struct route_graph *g, uint32_t src, uint32_t dst, uint32_t hops)
{
	double d[16], nd[16];

	for (uint32_t v = 0; v < g->n_nodes; v++)
		d[v] = v == src ? 0 : INFINITY;
	for (uint32_t k = 0; k < hops; k++) {
		memcpy(nd, d, sizeof(d));
		for (uint32_t u = 0; u < g->n_nodes; u++)
			for (uint32_t i = 0; i < g->adj[u].n; i++) {
				const struct route_arc *a = &g->adj[u].arcs[i];
				double c = d[u] + route_cost(a->strength);

				if (c < nd[a->to])
					nd[a->to] = c;
			}
		memcpy(d, nd, sizeof(d));
	}
	return d[dst];
}

/* Random small graphs: every answer of route_find is a real route within
 * the limit, and its cost is the layered minimum (up to rounding). */
static void test_random_vs_layers(void **state)
{
	uint64_t seed = we_test_seed("route_random", 7);
	uint32_t path[PATH_CAP];
	struct route_scratch s;

	(void)state;
	assert_int_equal(route_scratch_init(&s, 16), 0);
	for (int round = 0; round < 200; round++) {
		struct route_graph g;
		uint32_t n = 2 + (uint32_t)(we_test_rand(&seed) % 14);
		uint32_t m = (uint32_t)(we_test_rand(&seed) % (3 * n));

		assert_int_equal(route_graph_init(&g, n), 0);
		for (uint32_t e = 0; e < m; e++) {
			uint32_t a = (uint32_t)(we_test_rand(&seed) % n), b = (uint32_t)(we_test_rand(&seed) % n);
			/* strengths of few distinct values, so that ties happen */
			double st = (double)(1 + we_test_rand(&seed) % 4);

			if (a != b)
				assert_int_equal(route_graph_set(&g, a, b, st, we_test_rand(&seed) & 1), 0);
		}
		for (int qn = 0; qn < 20; qn++) {
			uint32_t src = (uint32_t)(we_test_rand(&seed) % n), dst = (uint32_t)(we_test_rand(&seed) % n);
			uint32_t lim = (uint32_t)(we_test_rand(&seed) % 6);
			struct route_result r = route_find(&g, &s, src, dst, lim, path, PATH_CAP);
			double want = layered(&g, src, dst, lim ? lim : n);

			if (isinf(want)) {
				assert_int_equal(r.status, ROUTE_UNREACHABLE);
				continue;
			}
			assert_int_equal(r.status, ROUTE_OK);
			assert_true(fabs(r.cost - want) < 1e-9);
			assert_true(lim == 0 || r.hops <= lim);
			assert_int_equal(path[0], src);
			assert_int_equal(path[r.hops], dst);
			double sum = 0;

			for (uint32_t k = 0; k < r.hops; k++) {
				const struct route_arc *a = route_graph_find(&g, path[k], path[k + 1]);

				assert_non_null(a);
				sum += route_cost(a->strength);
			}
			assert_true(fabs(sum - r.cost) < 1e-9);
			/* the same query, the same route */
			uint32_t again[PATH_CAP];

			assert_int_equal(route_find(&g, &s, src, dst, lim, again, PATH_CAP).hops, r.hops);
			assert_memory_equal(path, again, (r.hops + 1) * sizeof(uint32_t));
		}
		route_graph_free(&g);
	}
	route_scratch_free(&s);
}

static FILE *text(const char *s)
{
	FILE *f = fmemopen((void *)s, strlen(s), "r");

	assert_non_null(f);
	return f;
}

static void load_fails(const char *s, const char *want)
{
	struct route_graph g;
	char err[256] = "";
	FILE *f = text(s);

	assert_int_equal(route_graph_load(f, &g, err, sizeof(err)), -1);
	fclose(f);
	if (strstr(err, want) == NULL)
		fail_msg("error '%s' does not contain '%s'", err, want);
	assert_null(g.adj);
}

/* The loader: comments, directed lines, and an error for each kind of bad
 * line, with its number. */
static void test_load(void **state)
{
	struct route_graph g;
	char err[256] = "";
	FILE *f = text("# a test graph\n\nnodes 3\n0 1 2.5\n  # indented comment\n1 2 1 directed\n");

	(void)state;
	assert_int_equal(route_graph_load(f, &g, err, sizeof(err)), 0);
	fclose(f);
	assert_int_equal(g.n_nodes, 3);
	assert_int_equal(route_graph_edges(&g), 3);
	assert_true(route_graph_find(&g, 1, 0)->strength == 2.5);
	assert_null(route_graph_find(&g, 2, 1));
	route_graph_free(&g);

	load_fails("0 1 1\n", "line 1: expected 'nodes N' first");
	load_fails("nodes 0\n", "line 1: node count '0'");
	load_fails("nodes x\n", "line 1: node count 'x'");
	load_fails("# only\n", "no 'nodes N' line");
	load_fails("nodes 3\n0 1 1\n0 3 1\n", "line 3: node '3' is not a node id in 0..2");
	load_fails("nodes 3\n0 1 1\n-1 2 1\n", "line 3: node '-1'");
	load_fails("nodes 3\n\n0 1 0\n", "line 3: strength '0' is not a number > 0");
	load_fails("nodes 3\n0 1 -2\n", "line 2: strength '-2'");
	load_fails("nodes 3\n0 1 1x\n", "line 2: strength '1x'");
	load_fails("nodes 3\n0 1\n", "line 2: expected 'A B STRENGTH'");
	load_fails("nodes 3\n0 1 1 both\n", "line 2: expected");
	load_fails("nodes 3\n0 1 1 directed extra\n", "line 2: expected");
	load_fails("nodes 3\n2 2 1\n", "line 2: a connection from node 2 to itself");

	assert_int_equal(route_graph_load_file("/nonexistent/graph.txt", &g, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "/nonexistent/graph.txt"));
}

/* Written and loaded again: the same arcs, strengths bit for bit, and a
 * direction kept; an undirected connection is one line. */
static void test_write_load(void **state)
{
	struct route_graph g, h;
	char *buf = NULL, err[256];
	size_t len = 0;
	FILE *f;

	(void)state;
	assert_int_equal(route_graph_init(&g, 4), 0);
	assert_int_equal(route_graph_set(&g, 0, 1, 1.0 / 3.0, false), 0);
	assert_int_equal(route_graph_set(&g, 2, 1, 7.25, true), 0);
	assert_int_equal(route_graph_set(&g, 3, 0, 1e-300, false), 0);
	f = open_memstream(&buf, &len);
	assert_int_equal(route_graph_write(f, &g), 0);
	fclose(f);
	assert_string_equal(buf, "nodes 4\n0 1 0.33333333333333331\n0 3 1e-300\n"
				 "2 1 7.25 directed\n");
	f = text(buf);
	assert_int_equal(route_graph_load(f, &h, err, sizeof(err)), 0);
	fclose(f);
	assert_int_equal(route_graph_edges(&h), route_graph_edges(&g));
	for (uint32_t v = 0; v < 4; v++)
		for (uint32_t i = 0; i < g.adj[v].n; i++) {
			const struct route_arc *a = &g.adj[v].arcs[i], *b = route_graph_find(&h, v, a->to);

			assert_non_null(b);
			assert_true(a->strength == b->strength);
			assert_int_equal(a->flags, b->flags);
		}
	free(buf);
	route_graph_free(&h);
	route_graph_free(&g);
}

/* JSON: every node, an undirected connection once with both arcs' usage, a
 * directed one as such. */
static void test_json(void **state)
{
	struct route_graph g;
	struct route_edge e[] = {{0, 1, 2.0, false}, {2, 1, 4.0, true}};

	(void)state;
	assert_int_equal(route_graph_build(&g, 3, e, 2, NULL), 0);
	assert_int_equal(route_graph_add_usage(&g, 0, 1, 3), 0);
	assert_int_equal(route_graph_add_usage(&g, 1, 0, 4), 0);
	json_t *j = route_graph_to_json(&g);

	assert_non_null(j);
	assert_int_equal(json_array_size(json_object_get(j, "nodes")), 3);
	json_t *c = json_object_get(j, "connections");

	assert_int_equal(json_array_size(c), 2);
	json_t *c0 = json_array_get(c, 0), *c1 = json_array_get(c, 1);

	assert_int_equal(json_integer_value(json_object_get(c0, "from")), 0);
	assert_int_equal(json_integer_value(json_object_get(c0, "to")), 1);
	assert_int_equal(json_integer_value(json_object_get(c0, "usage")), 7);
	assert_true(json_real_value(json_object_get(c0, "cost")) == 0.5);
	assert_false(json_is_true(json_object_get(c0, "directed")));
	assert_int_equal(json_integer_value(json_object_get(c1, "from")), 2);
	assert_true(json_is_true(json_object_get(c1, "directed")));
	assert_true(json_real_value(json_object_get(c1, "strength")) == 4.0);
	json_decref(j);
	route_graph_free(&g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_edit_version),
		cmocka_unit_test(test_bad_strength),
		cmocka_unit_test(test_line),
		cmocka_unit_test(test_diamond_tie),
		cmocka_unit_test(test_unreachable),
		cmocka_unit_test(test_max_hops),
		cmocka_unit_test(test_max_hops_resettle),
		cmocka_unit_test(test_random_vs_layers),
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_write_load),
		cmocka_unit_test(test_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
