/* route_graph.h - the topology graph of the wormhole network: nodes (workers,
 * later boxes) and weighted connections between them (no DPDK).
 *
 *   route_graph_init       route_graph.c  an empty graph of n nodes
 *   route_graph_free       route_graph.c  release its arrays
 *   route_graph_build      route_graph.c  a graph from an edge list
 *   route_graph_set        route_graph.c  add a connection, or change its strength
 *   route_graph_remove     route_graph.c  remove a connection
 *   route_graph_find       route_graph.c  the arc a -> b, or NULL
 *   route_graph_add_usage  route_graph.c  count traffic over an arc (no version bump)
 *   route_graph_edges      route_graph.c  how many arcs (an undirected connection is two)
 *   route_cost             inline         the cost of crossing an arc: 1 / strength
 *
 * DESIGN: one adjacency list per node (out-arcs, unsorted, growable), so that
 * a connection is added, updated or removed in O(degree) without rebuilding
 * the whole; Dijkstra (route_path.h) only walks out-arcs. An undirected
 * connection is stored as two arcs marked ROUTE_ARC_UNDIRECTED, changed and
 * removed together. Strength comes from measured forwarding traffic: it must
 * be finite and > 0 (a connection with no traffic is removed, not set to 0).
 * `version` grows on every change that can alter a route (set, remove), so a
 * route cache knows when its answers are stale; usage counts do not bump it.
 * Not thread-safe: one writer, and readers only between changes.
 */
#ifndef ROUTE_GRAPH_H
#define ROUTE_GRAPH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "we_compiler.h"

#define ROUTE_ARC_UNDIRECTED 1u

struct route_arc {
	uint32_t to;
	uint32_t flags;  /* ROUTE_ARC_* */
	double strength; /* > 0 */
	double cost;     /* route_cost(strength), kept so a search divides nothing */
	uint64_t usage;  /* forwarded requests counted over this arc */
};

struct route_adj {
	struct route_arc *arcs;
	uint32_t n, cap;
};

struct route_graph {
	uint32_t n_nodes;
	uint64_t n_arcs;
	uint64_t version; /* bumped by every set and remove */
	struct route_adj *adj; /* [n_nodes] */
};

/* One connection of an edge list. */
struct route_edge {
	uint32_t a, b;
	double strength;
	bool directed; /* a -> b only; else both ways */
};

static inline double route_cost(double strength)
{
	return 1.0 / strength;
}

/* 0, -EINVAL (n_nodes 0 or above 2^31), -ENOMEM. */
int route_graph_init(struct route_graph *g, uint32_t n_nodes) we_must_check;
void route_graph_free(struct route_graph *g);
/* init + every edge set in order (a later duplicate updates the earlier). 0,
 * or the first error of route_graph_set (the graph is then freed); *bad, if
 * not NULL, gets the index of the edge refused. */
int route_graph_build(struct route_graph *g, uint32_t n_nodes, const struct route_edge *edges,
		      size_t n_edges, size_t *bad) we_must_check;
/* Add a -> b (and b -> a unless directed) with this strength, or update the
 * strength of the existing arc(s). 0, -EINVAL (node out of range, a == b,
 * strength not finite or <= 0), -ENOMEM. */
int route_graph_set(struct route_graph *g, uint32_t a, uint32_t b, double strength,
		    bool directed) we_must_check;
/* Remove a -> b (and b -> a unless directed). 0, -EINVAL, -ENOENT. */
int route_graph_remove(struct route_graph *g, uint32_t a, uint32_t b, bool directed);
struct route_arc *route_graph_find(const struct route_graph *g, uint32_t a, uint32_t b);
/* usage of a -> b += n. 0, or -ENOENT. */
int route_graph_add_usage(struct route_graph *g, uint32_t a, uint32_t b, uint64_t n);
static inline uint64_t route_graph_edges(const struct route_graph *g)
{
	return g->n_arcs;
}

#endif
