/* route_bench.c - routes per second of the topology graph's route lookup,
 * through the route cache: cold (every query a different pair, so every one
 * a miss and a Dijkstra run) and warm (a small set of pairs asked again and
 * again, so nearly every one a hit), against the specification's figure of
 * 366 k routes/s.
 *
 * The graph: --graph FILE (the text format of docs/topology.md), or one
 * generated from --seed: a ring through all --nodes nodes (so every pair is
 * reachable) plus random connections up to --edges in all, strengths drawn
 * from 1..100. Each phase runs for --seconds.
 *
 * usage: route_bench [--nodes N] [--edges E] [--seed S] [--graph FILE]
 *                    [--max-hops H] [--seconds S] [--pairs P] [--cache-order K]
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "route_cache.h"
#include "route_graph.h"
#include "route_load.h"
#include "route_path.h"
#include "we_time.h"

#define SPEC_ROUTES_PER_S 366000.0
#define PATH_CAP 4096

struct opts {
	uint32_t nodes, edges, max_hops, pairs;
	unsigned cache_order;
	uint64_t seed;
	double seconds;
	const char *graph;
};

static uint64_t splitmix64(uint64_t *s)
{
	uint64_t x = (*s += 0x9e3779b97f4a7c15ull);

	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static double strength(uint64_t *rng)
{
	return 1.0 + (double)(splitmix64(rng) % 9900) / 100.0;
}

static int generate(struct route_graph *g, const struct opts *o)
{
	uint64_t rng = o->seed;

	if (route_graph_init(g, o->nodes) != 0)
		return -1;
	for (uint32_t i = 0; i < o->nodes && o->nodes > 1; i++)
		if (route_graph_set(g, i, (i + 1) % o->nodes, strength(&rng), false) != 0)
			return -1;
	/* random connections; a pair drawn twice just gets a new strength */
	while (route_graph_edges(g) / 2 < o->edges && o->nodes > 2) {
		uint32_t a = (uint32_t)(splitmix64(&rng) % o->nodes);
		uint32_t b = (uint32_t)(splitmix64(&rng) % o->nodes);

		if (a != b && route_graph_set(g, a, b, strength(&rng), false) != 0)
			return -1;
	}
	return 0;
}

struct phase {
	uint64_t queries, ok, unreachable, hits, ns;
};

/* Queries until `seconds` pass (the clock read every 64 queries). Cold: the
 * n * n pairs in order from a random one, each asked once (a graph so small
 * that the run wraps around them shows hits: the "hits" column says so);
 * warm: pair i % pairs of a fixed random set. */
static struct phase run(const struct route_graph *g, struct route_scratch *s,
			struct route_cache *c, const struct opts *o, bool warm)
{
	static uint32_t path[PATH_CAP];
	struct phase p = {0};
	uint32_t n = g->n_nodes;
	uint64_t rng = o->seed ^ 0x5eed;
	uint64_t hits0 = c->hits;
	uint64_t t0 = we_monotonic_ns(), end = t0 + (uint64_t)(o->seconds * 1e9);
	uint64_t now = t0;

	for (uint64_t i = 0;; i++) {
		uint32_t src, dst;

		if (warm) {
			uint64_t k = o->seed + i % o->pairs;

			src = (uint32_t)(splitmix64(&k) % n);
			dst = (uint32_t)(splitmix64(&k) % n);
		} else {
			uint64_t pair = (i + (rng % n)) % ((uint64_t)n * n);

			src = (uint32_t)(pair / n);
			dst = (uint32_t)(pair % n);
		}
		struct route_result r = route_cache_route(c, g, s, src, dst, o->max_hops, path, PATH_CAP);

		p.queries++;
		p.ok += r.status == ROUTE_OK;
		p.unreachable += r.status == ROUTE_UNREACHABLE;
		if ((i & 63) == 63 && (now = we_monotonic_ns()) >= end)
			break;
	}
	p.ns = now - t0;
	p.hits = c->hits - hits0;
	return p;
}

static void print(const char *name, const struct phase *p)
{
	double rate = (double)p->queries / ((double)p->ns / 1e9);

	printf("%-5s %10" PRIu64 " queries %8.3f s %12.0f routes/s  %.3f of 366 k/s  hits %.3f"
	       "  unreachable %" PRIu64 "\n",
	       name, p->queries, (double)p->ns / 1e9, rate, rate / SPEC_ROUTES_PER_S,
	       p->queries ? (double)p->hits / (double)p->queries : 0.0, p->unreachable);
}

static void usage(void)
{
	fprintf(stderr, "usage: route_bench [--nodes N] [--edges E] [--seed S] [--graph FILE]\n"
			"                   [--max-hops H] [--seconds S] [--pairs P] [--cache-order K]\n");
}

int main(int argc, char **argv)
{
	struct opts o = {.nodes = 1000, .edges = 10000, .max_hops = 6, .pairs = 256,
			 .cache_order = 16, .seed = 42, .seconds = 0.5};
	static const struct option longopts[] = {
		{"nodes", required_argument, NULL, 'n'},   {"edges", required_argument, NULL, 'e'},
		{"seed", required_argument, NULL, 's'},    {"graph", required_argument, NULL, 'g'},
		{"max-hops", required_argument, NULL, 'H'}, {"seconds", required_argument, NULL, 't'},
		{"pairs", required_argument, NULL, 'p'},   {"cache-order", required_argument, NULL, 'c'},
		{"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0},
	};
	int ch;

	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'n': o.nodes = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'e': o.edges = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 's': o.seed = strtoull(optarg, NULL, 0); break;
		case 'g': o.graph = optarg; break;
		case 'H': o.max_hops = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 't': o.seconds = strtod(optarg, NULL); break;
		case 'p': o.pairs = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'c': o.cache_order = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'h': usage(); return 0;
		default: usage(); return 2;
		}
	}
	if (o.pairs == 0 || !(o.seconds > 0) || (o.graph == NULL && o.nodes == 0)) {
		usage();
		return 2;
	}
	struct route_graph g;
	char err[256];

	if (o.graph != NULL) {
		if (route_graph_load_file(o.graph, &g, err, sizeof(err)) != 0) {
			fprintf(stderr, "route_bench: %s\n", err);
			return 1;
		}
	} else if (generate(&g, &o) != 0) {
		fprintf(stderr, "route_bench: out of memory generating the graph\n");
		return 1;
	}
	struct route_scratch s;
	struct route_cache c;

	if (route_scratch_init(&s, g.n_nodes) != 0 || route_cache_init(&c, o.cache_order) != 0) {
		fprintf(stderr, "route_bench: out of memory (or --cache-order above 24)\n");
		return 1;
	}
	printf("graph: %u nodes, %" PRIu64 " arcs (%s), max hops %u%s, cache 2^%u slots\n",
	       g.n_nodes, route_graph_edges(&g), o.graph ? o.graph : "generated", o.max_hops,
	       o.max_hops ? "" : " (no limit)", o.cache_order);
	struct phase cold = run(&g, &s, &c, &o, false);

	print("cold", &cold);
	route_cache_clear(&c);
	struct phase warm = run(&g, &s, &c, &o, true);

	print("warm", &warm);
	printf("warm / cold %.1f\n", ((double)warm.queries / (double)warm.ns) /
					((double)cold.queries / (double)cold.ns));
	route_cache_free(&c);
	route_scratch_free(&s);
	route_graph_free(&g);
	return 0;
}
