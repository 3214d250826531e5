/* route_path.h - the cheapest route between two nodes of a route_graph:
 * Dijkstra over a binary heap, with an optional hop limit (no DPDK).
 *
 *   route_scratch_init  route_path.c  per-thread buffers for one graph size
 *   route_scratch_free  route_path.c  release them
 *   route_find          route_path.c  src -> dst: status, cost, hops, the nodes
 *   route_search_all    route_path.c  the same search from src run to the end, for
 *                                     route_tree (every settled label reported)
 *
 * COST: crossing an arc costs 1 / strength; a route's cost is the sum.
 *
 * HOPS: max_hops 0 means no limit: plain Dijkstra, each node settled once.
 * With a limit the search runs over (node, hops) labels: a label (v, h) is
 * settled unless v already has a settled label with fewer or equal hops
 * (that one is no dearer, since labels leave the heap in cost order), so a
 * node is settled at most max_hops + 1 times, each time with fewer hops than
 * before. The first label of dst to leave the heap is the cheapest route of
 * at most max_hops hops; a cheaper route with more hops is never returned.
 * A label is not even pushed when the node's cheapest pushed label is no
 * dearer and has no more hops (it dominates).
 *
 * TIES: the heap orders labels by (cost, node, hops, predecessor), so among
 * routes of equal cost the one reaching dst from the lowest node id wins,
 * and the same query on the same graph always answers the same route.
 *
 * ALL DESTINATIONS: route_search_all runs the same search to the end for
 * route_tree.h. Without a limit it uses a heap of nodes with decrease-key
 * (each node pushed and popped once, in the same (cost, node) order, with
 * the same predecessor as the first label route_find would settle), which
 * does the same work in fewer heap operations.
 *
 * Buffers: the scratch holds a per-node array stamped with a query number (no
 * clearing per query) and a heap and label array that only grow, so a warm
 * scratch allocates nothing. One scratch per thread; the graph must not
 * change during a query.
 */
#ifndef ROUTE_PATH_H
#define ROUTE_PATH_H

#include <stdint.h>

#include "route_graph.h"
#include "we_compiler.h"

enum route_status {
	ROUTE_OK = 0,
	ROUTE_UNREACHABLE = 1, /* no route at all, or none within max_hops */
	ROUTE_BAD_NODE = 2,    /* src or dst is not a node of the graph */
	ROUTE_TOO_LONG = 3,    /* a route exists but has more nodes than path_cap */
	ROUTE_NOMEM = 4,       /* a scratch buffer could not grow */
};

#define ROUTE_NO_LABEL UINT32_MAX
#define ROUTE_ALL UINT32_MAX /* "no destination": search the whole graph */

struct route_heap_item;
struct route_node_entry;

/* What the search knows of one node; valid when stamp is the query's. */
struct route_node_state {
	double best;        /* cheapest cost pushed for the node (pruning) */
	uint32_t stamp;
	uint32_t min_hops;  /* fewest hops of a settled label of the node */
	uint32_t best_hops; /* the hops of that cheapest label */
	uint32_t best_pred; /* route_search_all without a limit: its predecessor node */
	uint32_t pos;       /* ... and the node's place in the node heap (settled: label) */
};

/* A settled label: its node and the label it was reached from. */
struct route_label {
	uint32_t node;
	uint32_t pred; /* label index, ROUTE_NO_LABEL at src */
};

struct route_scratch {
	uint32_t n_nodes;
	uint32_t query;       /* stamp of the current query */
	struct route_node_state *node; /* [n]: one cache line holds what a relaxation reads */
	struct route_node_entry *node_heap; /* [n]: route_search_all without a limit */
	struct route_heap_item *heap;
	uint32_t heap_n, heap_cap;
	struct route_label *labels; /* settled labels, for walking back the path */
	uint32_t labels_n, labels_cap;
};

struct route_result {
	enum route_status status;
	uint32_t hops;   /* arcs on the route; nodes written: hops + 1 */
	double cost;
};

/* 0, or -ENOMEM. Sized for graphs of up to n_nodes nodes. */
int route_scratch_init(struct route_scratch *s, uint32_t n_nodes) we_must_check;
void route_scratch_free(struct route_scratch *s);
/* The cheapest route src -> dst of at most max_hops arcs (0: no limit).
 * path[0..hops] gets the nodes from src to dst when status is ROUTE_OK;
 * src == dst is a route of 0 hops. */
struct route_result route_find(const struct route_graph *g, struct route_scratch *s, uint32_t src,
			       uint32_t dst, uint32_t max_hops, uint32_t *path, uint32_t path_cap);
const char *route_status_name(enum route_status st);

/* Called for every label the search settles, in the order settled: its
 * index in s->labels, node, hops and cost. */
typedef void route_settle_fn(void *ctx, uint32_t label, uint32_t node, uint32_t hops,
			     double cost);
/* route_find's search from src without a destination: it settles exactly
 * the labels route_find would, in the same order, up to the end of the
 * heap; the first label settled for a node is the route route_find answers
 * for it, and s->labels[0..labels_n) holds every chain. 0, -EINVAL (src not
 * a node, scratch too small), -ENOMEM. */
int route_search_all(const struct route_graph *g, struct route_scratch *s, uint32_t src,
		     uint32_t max_hops, route_settle_fn *on_settle, void *ctx) we_must_check;

#endif
