/* route_tree.h - every route from one source, from one search, and a
 * bounded cache of such trees (no DPDK).
 *
 *   route_tree_build         route_tree.c  one search from src: the route to every node
 *   route_tree_path          route_tree.c  the route src -> dst out of a built tree
 *   route_tree_free          route_tree.c  release a tree's arrays
 *   route_tree_cache_init    route_tree.c  room for a bounded number of trees
 *   route_tree_cache_free    route_tree.c  release them
 *   route_tree_cache_clear   route_tree.c  forget every tree (and the counts)
 *   route_tree_cache_route   route_tree.c  as route_find, answered from the source's tree
 *
 * WHY: route_find stops when dst leaves the heap, so a cold query costs a
 * search over much of the graph for one answer. The search does not depend
 * on dst until it stops, so running it to the end (route_search_all)
 * settles the same labels in the same order and answers every destination
 * at once: the route to dst is the first label of dst settled, walked back
 * through its predecessors. The answers are route_find's exactly, ties
 * included.
 *
 * NO HOP BOUND THAT BINDS: with max_hops 0, or max_hops >= nodes - 1, the
 * tree is a plain Dijkstra tree (each node settled once). Otherwise a plain
 * tree is built first and kept when none of its routes has more than
 * max_hops arcs: the hop limit then changes no route, since the labels it
 * adds are all dearer than the plain routes. Only when a plain route is too
 * long does the hop-bounded search (up to max_hops + 1 labels per node) run.
 *
 * THE CACHE: trees keyed by (src, max_hops), four to a set (set chosen by a
 * hash of the key), the least recently used of the set replaced. A tree
 * records the graph version it was built at; another version is a miss, so
 * every graph change invalidates all trees at once, as in route_cache. A
 * tree holds per node 16 bytes and per settled label 8 (at most n labels
 * without a limit, n * (max_hops + 1) with one), so the cache holds at most
 * n_trees of them. One cache per thread; it uses the caller's scratch.
 */
#ifndef ROUTE_TREE_H
#define ROUTE_TREE_H

#include <stdbool.h>
#include <stdint.h>

#include "route_graph.h"
#include "route_path.h"
#include "we_compiler.h"

#define ROUTE_TREE_WAYS 4

/* The route to one node: the label it ends at, ROUTE_NO_LABEL if none. */
struct route_tree_node {
	double cost;
	uint32_t label, hops;
};

struct route_tree {
	uint64_t version;  /* graph version + 1 when built; 0: empty */
	uint64_t used;     /* cache clock at the last use */
	uint32_t src, max_hops;
	bool plain;        /* built by a plain Dijkstra (no hop bound binds) */
	uint32_t n_nodes, nodes_cap;
	struct route_tree_node *node;  /* [n_nodes] */
	struct route_label *labels;    /* the search's settled labels */
	uint32_t labels_n, labels_cap;
};

struct route_tree_cache {
	struct route_tree *trees; /* [sets * ROUTE_TREE_WAYS] */
	uint32_t set_mask;
	uint64_t clock;
	uint64_t hits, builds, bounded_builds; /* bounded: the plain tree was too deep */
};

/* 0, -EINVAL (src not a node, scratch too small), -ENOMEM (the tree is then
 * empty). The scratch is used for the search. */
int route_tree_build(struct route_tree *t, const struct route_graph *g, struct route_scratch *s,
		     uint32_t src, uint32_t max_hops) we_must_check;
/* The route from the tree's src to dst: as route_find would answer it. */
struct route_result route_tree_path(const struct route_tree *t, uint32_t dst, uint32_t *path,
				    uint32_t path_cap);
void route_tree_free(struct route_tree *t);

/* Room for n_trees trees (rounded up to a power of two, at least
 * ROUTE_TREE_WAYS). 0, -EINVAL (0 or above 2^20), -ENOMEM. */
int route_tree_cache_init(struct route_tree_cache *tc, uint32_t n_trees) we_must_check;
void route_tree_cache_free(struct route_tree_cache *tc);
void route_tree_cache_clear(struct route_tree_cache *tc);
/* As route_find, from the tree of (src, max_hops), built on a miss. */
struct route_result route_tree_cache_route(struct route_tree_cache *tc,
					   const struct route_graph *g, struct route_scratch *s,
					   uint32_t src, uint32_t dst, uint32_t max_hops,
					   uint32_t *path, uint32_t path_cap);

#endif
