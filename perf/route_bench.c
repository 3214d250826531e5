/* route_bench.c - routes per second of the topology graph's route lookup,
 * against the specification's figure of 366 k routes/s, four ways:
 *
 *   pair   route_find for each query: one hop-bounded search per pair
 *   tree   the tree cache alone (route_tree.h), cold: one search per
 *          source answers all its destinations
 *   stack  the route cache with the tree cache behind it, both cold
 *   warm   the route cache, a small set of pairs asked again and again
 *
 * pair, tree and stack sweep all pairs, each source asked for every
 * destination in turn, so every pair is new (cold) and every source's tree
 * is built once; warm asks --pairs pairs in a loop.
 *
 * The graph: --graph FILE (the text format of docs/topology.md), or one
 * generated from --seed: a ring through all --nodes nodes (so every pair is
 * reachable) plus random connections up to --edges in all, strengths drawn
 * from 1..100. Each phase runs for --seconds. --write-graph FILE writes the
 * graph in that format and stops, so a benchmark graph can be kept as a file
 * and loaded with --graph.
 *
 * usage: route_bench [--nodes N] [--edges E] [--seed S] [--graph FILE]
 *                    [--max-hops H] [--seconds S] [--pairs P] [--cache-order K]
 *                    [--trees T] [--write-graph FILE]
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
#include "route_tree.h"
#include "we_time.h"

#define SPEC_ROUTES_PER_S 366000.0
#define PATH_CAP 4096

struct opts {
	uint32_t nodes, edges, max_hops, pairs, trees;
	unsigned cache_order;
	uint64_t seed;
	double seconds;
	const char *graph, *write_graph;
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
	uint64_t queries, ok, unreachable, hits, trees, bounded, ns;
};

enum mode {
	PAIR,  /* route_find per query: one search per pair (no cache) */
	TREE,  /* the tree cache alone, cold: one search per source */
	STACK, /* the route cache with the tree cache behind it, both cold */
	WARM,  /* the route cache, a fixed set of pairs asked again and again */
};

static const char *const mode_names[] = {"pair", "tree", "stack", "warm"};

/* A multiplier coprime to n near 0.618 n: i -> (a i + b) mod n visits every
 * node once, in an order far from 0, 1, 2, ... */
static uint64_t coprime_step(uint64_t n)
{
	uint64_t a = n * 618 / 1000 | 1;

	for (;; a++) {
		uint64_t x = a, y = n;

		while (y != 0) {
			uint64_t t = x % y;

			x = y;
			y = t;
		}
		if (x == 1)
			return a % n ? a % n : 1;
	}
}

/* Queries until `seconds` pass (the clock read every 64 queries).
 * pair, tree, stack: an all-pairs sweep from a random start, each source
 * in turn asked for every destination, sources and destinations in a
 * scrambled order (a graph so small that the run wraps around the n * n
 * pairs shows hits: the "hits" column says so). warm: pair i % pairs of a
 * fixed random set. */
static struct phase run(const struct route_graph *g, struct route_scratch *s,
			struct route_cache *c, struct route_tree_cache *tc, const struct opts *o,
			enum mode mode)
{
	static uint32_t path[PATH_CAP];
	struct phase p = {0};
	uint64_t n = g->n_nodes, step = coprime_step(n);
	uint64_t rng = o->seed ^ 0x5eed, start = splitmix64(&rng) % (n * n);
	uint64_t hits0 = c->hits, thits0 = tc->hits, trees0 = tc->builds, bounded0 = tc->bounded_builds;
	uint64_t t0 = we_monotonic_ns(), end = t0 + (uint64_t)(o->seconds * 1e9);
	uint64_t now = t0;

	for (uint64_t i = 0;; i++) {
		uint32_t src, dst;
		struct route_result r;

		if (mode == WARM) {
			uint64_t k = o->seed + i % o->pairs;

			src = (uint32_t)(splitmix64(&k) % n);
			dst = (uint32_t)(splitmix64(&k) % n);
		} else {
			uint64_t pair = (i + start) % (n * n);

			src = (uint32_t)((pair / n * step + 7) % n);
			dst = (uint32_t)((pair % n * step + src) % n);
		}
		if (mode == PAIR)
			r = route_find(g, s, src, dst, o->max_hops, path, PATH_CAP);
		else if (mode == TREE)
			r = route_tree_cache_route(tc, g, s, src, dst, o->max_hops, path, PATH_CAP);
		else
			r = route_cache_route(c, g, s, src, dst, o->max_hops, path, PATH_CAP);
		p.queries++;
		p.ok += r.status == ROUTE_OK;
		p.unreachable += r.status == ROUTE_UNREACHABLE;
		if ((i & 63) == 63 && (now = we_monotonic_ns()) >= end)
			break;
	}
	p.ns = now - t0;
	p.hits = mode == TREE ? tc->hits - thits0 : c->hits - hits0;
	p.trees = tc->builds - trees0;
	p.bounded = tc->bounded_builds - bounded0;
	return p;
}

static double rate_of(const struct phase *p)
{
	return (double)p->queries / ((double)p->ns / 1e9);
}

static void print(enum mode mode, const struct phase *p)
{
	double rate = rate_of(p);

	printf("%-5s %10" PRIu64 " queries %7.3f s %12.0f routes/s %8.2f x 366 k/s  hits %.3f"
	       "  trees %" PRIu64 " (bounded %" PRIu64 ")  unreachable %" PRIu64 "\n",
	       mode_names[mode], p->queries, (double)p->ns / 1e9, rate, rate / SPEC_ROUTES_PER_S,
	       p->queries ? (double)p->hits / (double)p->queries : 0.0, p->trees, p->bounded,
	       p->unreachable);
}

/* The graph in the text format, to path: 0, or 1 with a message. */
static int write_graph(struct route_graph *g, const char *path)
{
	FILE *f = fopen(path, "w");
	int rc = f != NULL ? route_graph_write(f, g) : -1;

	if (f != NULL && fclose(f) != 0)
		rc = -1;
	if (rc != 0)
		fprintf(stderr, "route_bench: cannot write %s\n", path);
	else
		printf("wrote %s: %u nodes, %" PRIu64 " arcs\n", path, g->n_nodes,
		       route_graph_edges(g));
	route_graph_free(g);
	return rc != 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: route_bench [--nodes N] [--edges E] [--seed S] [--graph FILE]\n"
			"                   [--max-hops H] [--seconds S] [--pairs P] [--cache-order K]\n"
			"                   [--trees T] [--write-graph FILE]\n");
}

int main(int argc, char **argv)
{
	struct opts o = {.nodes = 1000, .edges = 10000, .max_hops = 6, .pairs = 256,
			 .cache_order = 16, .trees = 64, .seed = 42, .seconds = 0.5};
	static const struct option longopts[] = {
		{"nodes", required_argument, NULL, 'n'},   {"edges", required_argument, NULL, 'e'},
		{"seed", required_argument, NULL, 's'},    {"graph", required_argument, NULL, 'g'},
		{"max-hops", required_argument, NULL, 'H'}, {"seconds", required_argument, NULL, 't'},
		{"pairs", required_argument, NULL, 'p'},   {"cache-order", required_argument, NULL, 'c'},
		{"trees", required_argument, NULL, 'T'},   {"help", no_argument, NULL, 'h'},
		{"write-graph", required_argument, NULL, 'w'}, {NULL, 0, NULL, 0},
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
		case 'T': o.trees = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'w': o.write_graph = optarg; break;
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
	if (o.write_graph != NULL)
		return write_graph(&g, o.write_graph);
	struct route_scratch s;
	struct route_cache c;
	struct route_tree_cache tc;

	if (route_scratch_init(&s, g.n_nodes) != 0 || route_cache_init(&c, o.cache_order) != 0 ||
	    route_tree_cache_init(&tc, o.trees) != 0) {
		fprintf(stderr, "route_bench: out of memory (or --cache-order above 24, --trees "
				"0 or above 2^20)\n");
		return 1;
	}
	printf("graph: %u nodes, %" PRIu64 " arcs (%s), max hops %u%s, route cache 2^%u slots, "
	       "tree cache %u trees\n",
	       g.n_nodes, route_graph_edges(&g), o.graph ? o.graph : "generated", o.max_hops,
	       o.max_hops ? "" : " (no limit)", o.cache_order, (tc.set_mask + 1) * ROUTE_TREE_WAYS);
	struct phase ph[4];

	for (enum mode m = PAIR; m <= WARM; m++) {
		route_cache_clear(&c);
		route_tree_cache_clear(&tc);
		route_cache_use_trees(&c, m == STACK || m == WARM ? &tc : NULL);
		ph[m] = run(&g, &s, &c, &tc, &o, m);
		print(m, &ph[m]);
	}
	printf("tree / pair %.1f, stack / pair %.1f, warm / pair %.1f\n",
	       rate_of(&ph[TREE]) / rate_of(&ph[PAIR]), rate_of(&ph[STACK]) / rate_of(&ph[PAIR]),
	       rate_of(&ph[WARM]) / rate_of(&ph[PAIR]));
	route_cache_free(&c);
	route_tree_cache_free(&tc);
	route_scratch_free(&s);
	route_graph_free(&g);
	return 0;
}
