/* test_control_topology.c - the workers' topology (control/topology.c,
 * topology_json.c, topology_store.c): forwarding counters to strengths and
 * types, the decay, when the version moves, unused rings at the floor and
 * routes over them, a new worker count, restarted counters, the JSON of
 * the topology and route commands, and network_graph.json written when
 * due. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "topology.h"
#include "topology_json.h"
#include "topology_store.h"

#define T0 1800000000.0 /* wall seconds of the first sample */

static void init(struct topology *t)
{
	assert_int_equal(topology_init(t, TOPOLOGY_DECAY), 0);
}

/* fwd of n workers, every count 0 but the ones given as (i, j, count). */
static void sample(struct topology *t, uint32_t n, double when, int k, ...)
{
	uint64_t fwd[16 * 16] = {0};
	va_list ap;

	va_start(ap, k);
	for (int x = 0; x < k; x++) {
		uint32_t i = va_arg(ap, uint32_t), j = va_arg(ap, uint32_t);

		fwd[i * n + j] = va_arg(ap, uint64_t);
	}
	va_end(ap);
	assert_int_equal(topology_sample(t, n, fwd, 1.0, when), 0);
}

static const struct topology_link *L(const struct topology *t, uint32_t i, uint32_t j)
{
	return topology_link_at(t, i, j);
}

/* Counts become usage, rates, shares and strengths relative to the
 * busiest connection; the rest sits at the floor. */
static void test_counters_to_strengths(void **state)
{
	struct topology t;

	(void)state;
	init(&t);
	assert_int_equal(t.workers, 0);
	sample(&t, 3, T0, 0);
	assert_int_equal(t.workers, 3);
	assert_int_equal(t.version, 1); /* the graph built */
	for (uint32_t i = 0; i < 3; i++)
		for (uint32_t j = 0; j < 3; j++)
			if (i != j) {
				assert_true(L(&t, i, j)->published == TOPOLOGY_FLOOR);
				assert_true(L(&t, i, j)->last_accessed == 0);
				assert_true(isnan(L(&t, i, j)->rate)); /* one sample: no rate */
			}
	sample(&t, 3, T0 + 1, 2, 0u, 1u, (uint64_t)100, 1u, 2u, (uint64_t)50);
	assert_int_equal(t.version, 2);
	assert_true(t.measured);
	assert_int_equal(L(&t, 0, 1)->count, 100);
	assert_true(L(&t, 0, 1)->rate == 100.0);
	assert_true(L(&t, 0, 1)->published == 1.0);
	assert_true(L(&t, 1, 2)->published == 0.5);
	assert_true(fabs(L(&t, 0, 1)->share - 100.0 / 150) < 1e-12);
	assert_true(L(&t, 2, 0)->published == TOPOLOGY_FLOOR);
	assert_true(L(&t, 0, 1)->last_accessed == T0 + 1);
	assert_true(L(&t, 2, 0)->last_accessed == 0);
	assert_string_equal(topology_type(L(&t, 0, 1)->published), "fast_lane");
	assert_string_equal(topology_type(L(&t, 1, 2)->published), "fast_lane");
	assert_string_equal(topology_type(0.2), "standard");
	assert_string_equal(topology_type(L(&t, 2, 0)->published), "experimental");
	topology_free(&t);
}

/* Without new traffic every decayed count shrinks alike: strengths and the
 * version stay. Traffic on another connection only: the old one decays by
 * decay_rate per sample, relative to the new busiest. */
static void test_decay(void **state)
{
	struct topology t;
	double want;

	(void)state;
	init(&t);
	sample(&t, 2, T0, 1, 0u, 1u, (uint64_t)1000);
	uint64_t v = t.version;

	for (int k = 1; k <= 5; k++)
		sample(&t, 2, T0 + k, 1, 0u, 1u, (uint64_t)1000);
	assert_int_equal(t.version, v);
	assert_true(L(&t, 0, 1)->published == 1.0);
	assert_true(fabs(L(&t, 0, 1)->recent - 1000 * pow(0.99, 5)) < 1e-9);
	assert_true(L(&t, 0, 1)->rate == 0);
	assert_true(L(&t, 0, 1)->last_accessed == 0); /* never seen growing */
	/* 1 -> 0 carries 20 per sample from now on, and ends the busier */
	for (int k = 1; k <= 50; k++)
		sample(&t, 2, T0 + 5 + k, 2, 0u, 1u, (uint64_t)1000, 1u, 0u, (uint64_t)(20 * k));
	double old = 1000 * pow(0.99, 55), recent = 0;

	for (int k = 0; k < 50; k++)
		recent = 0.99 * recent + 20;
	assert_true(recent > old);
	want = old / recent;
	assert_true(fabs(L(&t, 0, 1)->strength - fmax(want, TOPOLOGY_FLOOR)) < 1e-9);
	assert_true(L(&t, 1, 0)->last_accessed == T0 + 55);
	topology_free(&t);
}

/* The version moves when a type changes or a strength moves by
 * TOPOLOGY_REPUBLISH or more; not for smaller drifts. */
static void test_versioning(void **state)
{
	struct topology t;
	uint64_t v;

	(void)state;
	init(&t);
	sample(&t, 2, T0, 2, 0u, 1u, (uint64_t)1000, 1u, 0u, (uint64_t)300);
	v = t.version;
	assert_true(L(&t, 1, 0)->published == 0.3);
	/* 1 -> 0 a little busier: 0.3 -> about 0.32, standard still */
	sample(&t, 2, T0 + 1, 2, 0u, 1u, (uint64_t)1010, 1u, 0u, (uint64_t)330);
	assert_int_equal(t.version, v);
	assert_true(L(&t, 1, 0)->published == 0.3);
	assert_true(L(&t, 1, 0)->strength > 0.3 && L(&t, 1, 0)->strength < 0.35);
	/* much busier: republished, every connection at its live strength */
	sample(&t, 2, T0 + 2, 2, 0u, 1u, (uint64_t)1020, 1u, 0u, (uint64_t)600);
	assert_int_equal(t.version, v + 1);
	assert_true(L(&t, 1, 0)->published == L(&t, 1, 0)->strength);
	assert_true(L(&t, 1, 0)->published > 0.5);
	/* the route graph carries what routes use */
	assert_true(route_graph_find(&t.graph, 1, 0)->strength == L(&t, 1, 0)->published);
	topology_free(&t);
}

/* Every ordered pair is a connection; unused ones at the floor still route.
 * A strong two-hop detour beats a weak direct ring when hops allow. */
static void test_floor_routes(void **state)
{
	struct topology t;
	uint32_t path[TOPOLOGY_PATH_MAX];
	bool cached;

	(void)state;
	init(&t);
	sample(&t, 4, T0, 0);
	assert_int_equal(route_graph_edges(&t.graph), 12);
	struct route_result r = topology_route(&t, 0, 3, 4, path, TOPOLOGY_PATH_MAX, &cached);

	assert_int_equal(r.status, ROUTE_OK);
	assert_int_equal(r.hops, 1);
	assert_true(fabs(r.cost - 1 / TOPOLOGY_FLOOR) < 1e-9);
	assert_false(cached);
	r = topology_route(&t, 0, 3, 4, path, TOPOLOGY_PATH_MAX, &cached);
	assert_true(cached);
	/* 0 -> 1 -> 3 busy, 0 -> 3 not */
	sample(&t, 4, T0 + 1, 2, 0u, 1u, (uint64_t)500, 1u, 3u, (uint64_t)500);
	r = topology_route(&t, 0, 3, 4, path, TOPOLOGY_PATH_MAX, &cached);
	assert_false(cached); /* the version moved */
	assert_int_equal(r.hops, 2);
	assert_int_equal(path[1], 1);
	assert_true(fabs(r.cost - 2.0) < 1e-9);
	r = topology_route(&t, 0, 3, 1, path, TOPOLOGY_PATH_MAX, &cached);
	assert_int_equal(r.hops, 1); /* one hop allowed: the weak ring */
	assert_int_equal(topology_route(&t, 0, 4, 4, path, TOPOLOGY_PATH_MAX, &cached).status,
			 ROUTE_BAD_NODE);
	topology_free(&t);
}

/* A sample without fwd_to keeps the floor (measured false); a new worker
 * count rebuilds the graph; a counter that went down counts from 0. */
static void test_rebuild_and_restart(void **state)
{
	struct topology t;
	uint32_t path[TOPOLOGY_PATH_MAX];
	bool cached;

	(void)state;
	init(&t);
	assert_int_equal(topology_sample(&t, 3, NULL, 1, T0), 0);
	assert_false(t.measured);
	assert_true(L(&t, 0, 1)->published == TOPOLOGY_FLOOR);
	sample(&t, 3, T0 + 1, 1, 0u, 2u, (uint64_t)400);
	assert_true(t.measured);
	topology_route(&t, 0, 2, 4, path, TOPOLOGY_PATH_MAX, &cached);
	uint64_t v = t.version;

	sample(&t, 2, T0 + 2, 1, 1u, 0u, (uint64_t)7);
	assert_int_equal(t.workers, 2);
	assert_true(t.version > v);
	assert_int_equal(L(&t, 1, 0)->count, 7);
	struct route_result r = topology_route(&t, 0, 1, 4, path, TOPOLOGY_PATH_MAX, &cached);

	assert_false(cached); /* no answer of the old graph */
	assert_int_equal(r.hops, 1);
	assert_int_equal(topology_route(&t, 0, 2, 4, path, TOPOLOGY_PATH_MAX, &cached).status,
			 ROUTE_BAD_NODE);
	/* the data plane restarted: 7 -> 3 is 3 new requests */
	sample(&t, 2, T0 + 3, 1, 1u, 0u, (uint64_t)3);
	assert_int_equal(L(&t, 1, 0)->count, 3);
	assert_true(L(&t, 1, 0)->rate == 3.0);
	assert_int_equal(topology_sample(&t, 0, NULL, 1, T0), -EINVAL);
	assert_int_equal(topology_sample(&t, TOPOLOGY_WORKERS_MAX + 1, NULL, 1, T0), -EINVAL);
	topology_free(&t);
}

/* per_worker[i].fwd_to[j] read out of a stats sample. */
static void test_fwd_from_stats(void **state)
{
	json_t *stats = json_loads("{\"per_worker\": [{\"fwd_to\": [0, 5]}, {\"fwd_to\": [9, 0]}]}",
				   0, NULL);
	json_t *old = json_loads("{\"per_worker\": [{\"req_get\": 1}, {\"req_get\": 2}]}", 0, NULL);
	uint64_t *fwd;
	uint32_t n;

	(void)state;
	assert_int_equal(topology_fwd_from_stats(stats, &n, &fwd), 0);
	assert_int_equal(n, 2);
	assert_non_null(fwd);
	assert_int_equal(fwd[1], 5);
	assert_int_equal(fwd[2], 9);
	free(fwd);
	assert_int_equal(topology_fwd_from_stats(old, &n, &fwd), 0);
	assert_int_equal(n, 2);
	assert_null(fwd);
	assert_int_equal(topology_fwd_from_stats(json_object_get(old, "nothing"), &n, &fwd), -EINVAL);
	json_decref(stats);
	json_decref(old);
}

/* The topology command's object and the route command's answers. */
static void test_json_shape(void **state)
{
	struct topology t;
	char err[256];
	const char *code = NULL;
	json_t *j, *c, *r, *req;

	(void)state;
	init(&t);
	req = json_pack("{s:s, s:i}", "from", "worker0", "to", 2);
	assert_null(topology_route_json(&t, req, err, sizeof(err), &code));
	assert_string_equal(code, "unavailable");
	sample(&t, 3, T0, 0);
	sample(&t, 3, T0 + 1, 1, 0u, 2u, (uint64_t)10);
	j = topology_to_json(&t);
	assert_int_equal(json_integer_value(json_object_get(j, "version")), t.version);
	assert_string_equal(json_string_value(json_object_get(j, "updated_at")),
			    "2027-01-15T08:00:01Z");
	assert_int_equal(json_array_size(json_object_get(j, "nodes")), 3);
	assert_string_equal(json_string_value(json_object_get(
				    json_array_get(json_object_get(j, "nodes"), 2), "id")),
			    "worker2");
	assert_int_equal(json_integer_value(json_object_get(
				 json_array_get(json_object_get(j, "nodes"), 2), "forwarded_in")),
			 10);
	assert_int_equal(json_array_size(json_object_get(j, "connections")), 6);
	c = json_array_get(json_object_get(j, "connections"), 1); /* worker0 -> worker2 */
	assert_string_equal(json_string_value(json_object_get(c, "connection_id")),
			    "worker0->worker2");
	assert_string_equal(json_string_value(json_object_get(c, "source")), "worker0");
	assert_string_equal(json_string_value(json_object_get(c, "destination")), "worker2");
	assert_string_equal(json_string_value(json_object_get(c, "connection_type")), "fast_lane");
	assert_true(json_real_value(json_object_get(c, "strength")) == 1.0);
	assert_int_equal(json_integer_value(json_object_get(c, "usage_count")), 10);
	assert_true(json_real_value(json_object_get(c, "decay_rate")) == 0.99);
	assert_string_equal(json_string_value(json_object_get(c, "last_accessed")),
			    "2027-01-15T08:00:01Z");
	assert_true(json_is_null(json_object_get(json_array_get(json_object_get(j, "connections"), 0),
						 "last_accessed")));
	json_decref(j);

	r = topology_route_json(&t, req, err, sizeof(err), &code);
	assert_non_null(r);
	assert_int_equal(json_array_size(json_object_get(r, "path")), 2);
	assert_string_equal(json_string_value(json_array_get(json_object_get(r, "path"), 1)), "worker2");
	assert_int_equal(json_integer_value(json_object_get(r, "hops")), 1);
	assert_int_equal(json_integer_value(json_object_get(r, "max_hops")), 4);
	assert_true(json_real_value(json_object_get(r, "cost")) == 1.0);
	assert_false(json_is_true(json_object_get(r, "cached")));
	json_decref(r);
	r = topology_route_json(&t, req, err, sizeof(err), &code);
	assert_true(json_is_true(json_object_get(r, "cached")));
	json_decref(r);
	json_decref(req);

	req = json_pack("{s:s, s:s}", "from", "worker0", "to", "worker9");
	assert_null(topology_route_json(&t, req, err, sizeof(err), &code));
	assert_string_equal(code, "usage");
	assert_string_equal(err, "no node \"worker9\": the topology has worker0..worker2");
	json_decref(req);
	req = json_pack("{s:s, s:s, s:i}", "from", "1", "to", "worker0", "max_hops", -1);
	assert_null(topology_route_json(&t, req, err, sizeof(err), &code));
	assert_string_equal(code, "usage");
	json_decref(req);
	req = json_pack("{s:s, s:s, s:i}", "from", "1", "to", "worker0", "max_hops", 0);
	r = topology_route_json(&t, req, err, sizeof(err), &code);
	assert_non_null(r);
	json_decref(r);
	json_decref(req);
	uint32_t node;
	json_t *name = json_string("workerx"), *num = json_integer(2), *num3 = json_integer(3);

	assert_false(topology_node_parse(name, 3, &node));
	assert_true(topology_node_parse(num, 3, &node) && node == 2);
	assert_false(topology_node_parse(num3, 3, &node));
	json_decref(name);
	json_decref(num);
	json_decref(num3);
	topology_free(&t);
}

/* Written when due: at the first sample, on a version change, after the
 * period; not again for the same sample. */
static void test_store(void **state)
{
	char dir[64], path[256], err[256], cmd[128];
	struct topology_store st;
	struct topology t;
	json_t *j;

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/we-topology-XXXXXX");
	assert_non_null(mkdtemp(dir));
	init(&t);
	topology_store_init(&st, NULL);
	sample(&t, 2, T0, 0);
	assert_int_equal(topology_store_tick(&st, &t, 100, err, sizeof(err)), 1); /* no directory */
	topology_store_init(&st, dir);
	assert_int_equal(topology_store_tick(&st, &t, 100, err, sizeof(err)), 0);
	snprintf(path, sizeof(path), "%s/wormholes/topology/network_graph.json", dir);
	j = json_load_file(path, 0, NULL);
	assert_non_null(j);
	assert_int_equal(json_array_size(json_object_get(j, "connections")), 2);
	json_decref(j);
	assert_int_equal(topology_store_tick(&st, &t, 200, err, sizeof(err)), 1); /* same sample */
	sample(&t, 2, T0 + 1, 0);
	assert_int_equal(topology_store_tick(&st, &t, 105, err, sizeof(err)), 1); /* too soon */
	assert_int_equal(topology_store_tick(&st, &t, 110, err, sizeof(err)), 0); /* the period */
	sample(&t, 2, T0 + 2, 1, 0u, 1u, (uint64_t)5);
	assert_int_equal(topology_store_tick(&st, &t, 111, err, sizeof(err)), 0); /* a new version */
	snprintf(path, sizeof(path), "%s/wormholes/topology/network_graph.json.tmp", dir);
	assert_int_not_equal(access(path, F_OK), 0);
	topology_free(&t);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counters_to_strengths),
		cmocka_unit_test(test_decay),
		cmocka_unit_test(test_versioning),
		cmocka_unit_test(test_floor_routes),
		cmocka_unit_test(test_rebuild_and_restart),
		cmocka_unit_test(test_fwd_from_stats),
		cmocka_unit_test(test_json_shape),
		cmocka_unit_test(test_store),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
